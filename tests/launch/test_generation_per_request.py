"""The catalogue generation is read once per request (``launch.targets._generation``).

Everything a request keeps (its placement, the tool's access to the course, line items) is
compared with the same generation, read at the request's first kept value: one cache read per
request instead of one per kept value. A change the request makes itself is seen at once, and
outside a request (commands, tasks) every kept value reads the cache.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started

from wagtail_lti.launch import targets


pytestmark = pytest.mark.django_db


class CountingCache:
    """The shared cache, counting the reads of the generation."""

    def __init__(self, cache):
        self.cache = cache
        self.generation_reads = 0

    def get(self, key, *args, **kwargs):
        if key == targets.GENERATION_KEY:
            self.generation_reads += 1
        return self.cache.get(key, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.cache, name)


@pytest.fixture
def counting(monkeypatch):
    targets._generation()  # the cache has a generation
    counting = CountingCache(targets._cache())
    monkeypatch.setattr(targets, "_cache", lambda: counting)
    yield counting
    request_finished.send(sender=None)


def test_a_request_reads_the_generation_once(counting):
    loads = []
    request_started.send(sender=None)
    for key in ("a", "b", "c", "a"):
        targets.kept(("test", key), lambda key=key: loads.append(key) or key)
    assert counting.generation_reads == 1
    assert loads == ["a", "b", "c"]


def test_a_change_made_by_the_request_is_seen_by_its_next_kept_value(counting):
    loads = []
    request_started.send(sender=None)
    targets.kept(("test", "a"), lambda: loads.append("a") or 1)
    targets.catalogue_changed()
    targets.kept(("test", "a"), lambda: loads.append("a") or 2)
    assert loads == ["a", "a"]


def test_each_request_reads_it_again(counting):
    for _ in range(3):
        request_started.send(sender=None)
        targets.kept(("test", "a"), lambda: 1)
        request_finished.send(sender=None)
    assert counting.generation_reads == 3


def test_outside_a_request_every_kept_value_reads_it(counting):
    request_finished.send(sender=None)
    for _ in range(3):
        targets.kept(("test", "a"), lambda: 1)
    assert counting.generation_reads == 3


def test_an_ags_score_post_reads_it_once(counting, orgs, settings):
    """The door: a score post keeps three answers (the tool's access to the course, the line item,
    the automatic line item) and compares them with one generation read."""
    from datetime import UTC, datetime, timedelta

    from django.test import RequestFactory
    from pylti1p3.grade import Grade

    from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
    from tests.support.lti13 import make_tool
    from wagtail_lti.security.identifiers import opaque_user_id
    from wagtail_lti.services import results
    from wagtail_lti.services import urls as ags_urls

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    tool = make_tool(orgs["acme"])
    link = make_link(tool.provider, requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    (placement,) = placements_of(course)
    learner = make_learner("lee")
    enroll(learner, course)
    request = RequestFactory().get("/")
    service = tool.ags(
        lineitems=ags_urls.ags_lineitems_url(request, course, tool.provider),
        lineitem=ags_urls.ags_lineitem_url(request, results.line_item_for(placement)),
    )

    start = datetime.now(UTC)

    def grade(given, second):
        return (
            Grade()
            .set_score_given(given)
            .set_score_maximum(10)
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_timestamp((start + timedelta(milliseconds=second)).isoformat())
            .set_user_id(opaque_user_id(learner))
        )

    service.put_grade(grade(5, 1))  # the token obtained, the answers kept
    counting.generation_reads = 0
    service.put_grade(grade(6, 2))
    assert counting.generation_reads == 1
