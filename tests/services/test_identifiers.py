"""Opaque user ids (``wagtail_lti.security.identifiers``): finding the user of an AGS ``userId``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from wagtail_lti.security import identifiers


pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(db):
    User = get_user_model()
    return [User.objects.create_user(f"member{n}", password="pw") for n in range(30)]


@pytest.fixture
def hmac_calls(monkeypatch):
    calls = []
    original = identifiers.opaque_id_for_pk

    def counted(pk):
        calls.append(pk)
        return original(pk)

    monkeypatch.setattr(identifiers, "opaque_id_for_pk", counted)
    return calls


def members(roster):
    return get_user_model().objects.filter(pk__in=[u.pk for u in roster])


def test_the_roster_is_scanned_once_per_user(roster, hmac_calls):
    cache.clear()
    last = roster[-1]
    value = identifiers.opaque_user_id(last)
    hmac_calls.clear()
    assert identifiers.user_for_opaque_id(value, members(roster)) == last
    assert len(hmac_calls) == len(roster)  # computed for each member until the last one
    hmac_calls.clear()
    assert identifiers.user_for_opaque_id(value, members(roster)) == last
    assert hmac_calls == [last.pk]  # only checked, not searched


def test_a_remembered_user_who_left_the_candidates_is_not_found(roster):
    cache.clear()
    leaver = roster[0]
    value = identifiers.opaque_user_id(leaver)
    assert identifiers.user_for_opaque_id(value, members(roster)) == leaver
    assert identifiers.user_for_opaque_id(value, members(roster[1:])) is None


def test_a_wrong_cache_entry_is_not_trusted(roster, settings):
    cache.clear()
    wanted, other = roster[3], roster[4]
    value = identifiers.opaque_user_id(wanted)
    cache.set(f"wagtail_lti:opaque-user:{identifiers._key_for_cache()}:{value}", other.pk)
    assert identifiers.user_for_opaque_id(value, members(roster)) == wanted


def test_unknown_and_malformed_ids(roster):
    assert identifiers.user_for_opaque_id("0" * 32, members(roster)) is None
    assert identifiers.user_for_opaque_id("short", members(roster)) is None
    assert identifiers.user_for_opaque_id(None, members(roster)) is None


def test_one_scan_keeps_the_whole_roster(roster, hmac_calls):
    """A tool sending the scores of a whole class: the first learner's lookup scans the roster,
    every other learner is then found by the kept answer (one check each, no second scan)."""
    cache.clear()
    ids = {user.pk: identifiers.opaque_user_id(user) for user in roster}
    hmac_calls.clear()
    assert identifiers.user_for_opaque_id(ids[roster[0].pk], members(roster)) == roster[0]
    assert sorted(hmac_calls) == sorted(ids)  # one scan of everyone
    for user in roster[1:]:
        hmac_calls.clear()
        assert identifiers.user_for_opaque_id(ids[user.pk], members(roster)) == user
        assert hmac_calls == [user.pk]


def test_a_scan_keeps_at_most_its_bound(roster, hmac_calls, monkeypatch):
    monkeypatch.setattr(identifiers, "OPAQUE_IDS_KEPT_PER_SCAN", 5)
    cache.clear()
    ordered = sorted(roster, key=lambda user: user.pk)
    wanted = ordered[2]
    assert identifiers.user_for_opaque_id(identifiers.opaque_user_id(wanted), members(roster))
    # Stopped once found with the bound reached: at most 5 kept, the wanted one among them.
    prefix = f"wagtail_lti:opaque-user:{identifiers._key_for_cache()}:"
    kept = [u for u in ordered if cache.get(prefix + identifiers.opaque_user_id(u)) is not None]
    assert wanted in kept and len(kept) <= 5
