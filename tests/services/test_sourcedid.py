"""``lis_result_sourcedid``: opaque, unforgeable, bound to placement + learner + provider."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.fernet import Fernet

from tests.support.factories import make_provider
from tests.support.lti11 import TOOL_SECRET, make_course_setup
from wagtail_lti.security.sourcedid import (
    InvalidSourcedId,
    make_sourcedid,
    read_sourcedid,
    resolve_sourcedid,
)


def test_round_trip(orgs):
    setup = make_course_setup(orgs)
    value = make_sourcedid(setup.placement, setup.learner)
    assert resolve_sourcedid(value, setup.provider) == (setup.placement, setup.learner)
    ref = read_sourcedid(value)
    assert (ref.placement_id, ref.user_id, ref.provider_id) == (
        setup.placement.pk,
        setup.learner.pk,
        setup.provider.pk,
    )


def test_opaque(orgs):
    """Nothing readable inside: not JSON, not the ids, not the username."""
    setup = make_course_setup(orgs)
    value = make_sourcedid(setup.placement, setup.learner)
    decoded = base64.urlsafe_b64decode(value + "==")
    assert b'"p"' not in decoded and b"learner" not in decoded
    with pytest.raises(ValueError):
        json.loads(decoded)


def test_another_provider_cannot_use_it(orgs):
    setup = make_course_setup(orgs)
    other = make_provider(orgs["acme"], name="Other", key="other", secret=TOOL_SECRET)
    value = make_sourcedid(setup.placement, setup.learner)
    with pytest.raises(InvalidSourcedId, match="another tool"):
        resolve_sourcedid(value, other)


def test_placement_moved_to_another_provider(orgs):
    setup = make_course_setup(orgs)
    value = make_sourcedid(setup.placement, setup.learner)
    setup.link.provider = make_provider(orgs["acme"], name="Other", key="other", secret=TOOL_SECRET)
    setup.link.save()
    with pytest.raises(InvalidSourcedId, match="another tool"):
        resolve_sourcedid(value, setup.provider)


def test_placement_without_link(orgs):
    setup = make_course_setup(orgs)
    value = make_sourcedid(setup.placement, setup.learner)
    setup.placement.resource_link = None
    setup.placement.save()
    with pytest.raises(InvalidSourcedId):
        resolve_sourcedid(value, setup.provider)
    with pytest.raises(ValueError):
        make_sourcedid(setup.placement, setup.learner)


@pytest.mark.parametrize(
    "value",
    ["", "x", "gAAAAA" + "A" * 100, "é" * 10, "a" * 5000],
)
def test_garbage_is_refused(db, value):
    with pytest.raises(InvalidSourcedId):
        read_sourcedid(value)


def test_well_formed_token_under_another_key_is_refused(orgs):
    """A token with the right shape and payload, encrypted with a key the tool made up."""
    setup = make_course_setup(orgs)
    payload = json.dumps({"p": setup.placement.pk, "u": setup.learner.pk, "t": setup.provider.pk})
    forged = Fernet(Fernet.generate_key()).encrypt(payload.encode()).decode()
    with pytest.raises(InvalidSourcedId):
        resolve_sourcedid(forged, setup.provider)


def test_each_learner_and_placement_gets_its_own(orgs):
    setup = make_course_setup(orgs)
    other = make_course_setup(
        orgs, provider=setup.provider, course=setup.course, username="bob", block_id="b2"
    )
    values = {
        make_sourcedid(setup.placement, setup.learner),
        make_sourcedid(setup.placement, other.learner),
        make_sourcedid(other.placement, setup.learner),
    }
    assert len(values) == 3
    assert resolve_sourcedid(make_sourcedid(other.placement, setup.learner), setup.provider) == (
        other.placement,
        setup.learner,
    )
