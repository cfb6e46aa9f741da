"""The catalogue generation is read once per request (``launch.targets._generation``).

Everything a request keeps (its placement, the tool's access to the course, line items) is
compared with the same generation, read at the request's first kept value: one cache read per
request instead of one per kept value. A change the request makes itself is seen at once, and
outside a request (commands, tasks) every kept value reads the cache.
"""

from __future__ import annotations

import pytest
from django.core.signals import request_finished, request_started

from tests.services.test_score_statements import ags  # noqa: F401 - fixture
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


def test_an_ags_score_post_reads_it_once(counting, ags):  # noqa: F811
    """The door: a score post keeps three answers (the tool's access to the course, the line item,
    the automatic line item) and compares them with one generation read."""
    from datetime import UTC, datetime, timedelta

    from tests.services.test_score_statements import grade

    service, _placement, _item, (learner, _other) = ags
    start = datetime.now(UTC)
    service.put_grade(grade(learner, 5, start + timedelta(milliseconds=1)))  # the answers kept
    counting.generation_reads = 0
    service.put_grade(grade(learner, 6, start + timedelta(milliseconds=2)))
    assert counting.generation_reads == 1
