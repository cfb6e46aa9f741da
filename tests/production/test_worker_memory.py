"""What a worker keeps between requests is bounded, and serving a request leaves nothing behind.

``benchmarks/memory.py`` prints a worker's resident memory over 10,000 launches and 10,000 scores
(docs/benchmarks.md, section 5). These tests pin the structures behind "no growth beyond the
bounded caches": their sizes, never a timing or a resident set size.
"""

from __future__ import annotations

import weakref

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from tests.support.factories import enroll, make_course, make_link, placements_of
from wagtail_lti.launch import targets as launch_targets
from wagtail_lti.security import platform_keys


def test_kept_launch_targets_never_exceed_max_targets():
    """The oldest kept target goes first once ``MAX_TARGETS`` are kept."""
    limit = launch_targets.MAX_TARGETS
    for n in range(limit + 50):
        assert launch_targets.kept(("memory-test", n), lambda n=n: n) == n
    assert len(launch_targets._targets) == limit
    assert ("memory-test", 49) not in launch_targets._targets
    assert ("memory-test", 50) in launch_targets._targets
    assert launch_targets.kept(("memory-test", 50), lambda: "reloaded") == 50  # still kept
    launch_targets.kept(("memory-test", "new"), lambda: "new")
    assert len(launch_targets._targets) == limit


def test_parsed_platform_keys_are_bounded():
    """However often keys rotate, a process keeps at most ``_CACHE_LIMIT`` parsed keys."""
    cache: dict = {}
    for n in range(3 * platform_keys._CACHE_LIMIT):
        platform_keys._remember(cache, f"kid-{n}", object())
        assert len(cache) <= platform_keys._CACHE_LIMIT
    assert f"kid-{3 * platform_keys._CACHE_LIMIT - 1}" in cache


def _serve(handler, environ) -> tuple[str, bytes]:
    status = []
    result = handler(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        return status[0], b"".join(result)
    finally:
        result.close()


def _finalizers() -> int:
    return len(weakref.finalize._registry)


@pytest.fixture
def connection_kept_across_requests():
    """The test's database connection kept open across the requests it serves, as Django's test
    client keeps it: a server closes old connections when a request starts and ends
    (``close_old_connections``), which on PostgreSQL would close the connection holding the
    test's transaction. Disconnected once for the whole test, so no request adds a receiver."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_launches_through_the_wsgi_handler_keep_only_the_bounded_targets(
    orgs, provider, learner, client, monkeypatch, connection_kept_across_requests
):
    """Launch after launch of more placements than are kept, as a server calls Django: the kept
    targets stay within ``MAX_TARGETS`` and no request leaves a signal receiver's finalizer
    behind (what Django's test client does on every request, so the benchmark does not use it)."""
    monkeypatch.setattr(launch_targets, "MAX_TARGETS", 2)
    links = [make_link(provider, name=f"Quiz {n}") for n in range(4)]
    course = make_course(orgs["engineering"], links, title="Many quizzes")
    enroll(learner, course)
    client.force_login(learner)
    factory = RequestFactory(HTTP_HOST="testserver")
    factory.cookies["sessionid"] = client.cookies["sessionid"].value
    handler = WSGIHandler()
    placements = placements_of(course)
    assert len(placements) == 4

    def launch(placement):
        environ = factory.get(
            f"/lti/launch/{placement.lti_id}/", headers={"Sec-Fetch-Site": "same-origin"}
        ).environ
        status, body = _serve(handler, environ)
        assert status.startswith("200"), (status, body[:300])
        assert b"oauth_signature" in body

    launch(placements[0])  # the first request loads what a worker loads once
    before = _finalizers()
    for _round in range(3):
        for placement in placements:
            launch(placement)
            assert len(launch_targets._targets) <= 2
    assert _finalizers() == before
