"""Fifty scores posted at once, through AGS and LTI 1.1 Basic Outcomes, for one learner and for
fifty learners: nothing lost, the AGS timestamp rule kept, never a 500.

Two gunicorn servers of the example site (2 workers x 8 threads each) share the test database;
50 client threads released together by a barrier post to both, as tools behind a load balancer
would. Scores are written under row locks and unique constraints (``wagtail_lti.services.results``), so
the outcome does not depend on timing:

* AGS §3.4.9: a score is applied only if its ``timestamp`` is later than the one on record; the
  others get 409 and change nothing. Among concurrent posts, the applied ones form a strictly
  increasing sequence and the latest timestamp always wins.
* Basic Outcomes has no timestamps: every ``replaceResult`` is applied, one after the other.

On PostgreSQL the servers use the test database; on SQLite a file copy of it (SQLite serialises
writers; ``select_for_update`` is a no-op there, transactions and constraints still hold).
"""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.contrib.auth import get_user_model
from lti import OutcomeRequest
from pylti1p3.service_connector import ServiceConnector

from tests.support.app_servers import app_servers, database_env, shared_sqlite
from tests.support.factories import make_course, make_link, make_provider
from tests.support.lti11 import TOOL_KEY, TOOL_SECRET, sign_outcome
from tests.support.lti13 import make_tool
from wagtail_lti.models import Enrollment, LearnerActivity, Placement, Result, ScoreEvent


pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POSTS = 50
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


@pytest.fixture
def world(orgs, settings):
    settings.ALLOWED_HOSTS = ["*"]
    acme = orgs["acme"]
    tool = make_tool(acme, name="Concurrent AGS tool")
    link13 = make_link(tool.provider, name="Quiz", requires_score=True, score_maximum=100)
    provider11 = make_provider(acme, name="Concurrent 1.1 tool", key=TOOL_KEY, secret=TOOL_SECRET)
    link11 = make_link(provider11, name="Drill", requires_score=True, score_maximum=100)
    course = make_course(acme, [link13, link11], title="Concurrency")
    # Fifty learners, without hashing fifty passwords.
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"learner{i:02d}", password="!") for i in range(POSTS)]  # noqa: S106
    )
    learners = list(User.objects.filter(username__startswith="learner").order_by("username"))
    Enrollment.objects.bulk_create([Enrollment(course=course, user=u) for u in learners])
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    return {
        "tool": tool,
        "course": course,
        "placement13": placements[link13.pk],
        "placement11": placements[link11.pk],
        "learners": learners,
    }


@contextmanager
def serving():
    """Two servers (2 workers x 8 threads) on the test database; on SQLite the copy is read
    back when the block ends, so assert after it."""
    with shared_sqlite() as sqlite_path:
        with app_servers(2, env=database_env(sqlite_path), workers=2, threads=8) as servers:
            try:
                yield servers
            except BaseException:
                for server in servers:  # shown by pytest with the failure
                    print(f"--- {server.name} log ---\n{server.error_log}")
                raise
            errors = "".join(server.error_log for server in servers)
            assert "Traceback" not in errors, errors


def all_at_once(jobs) -> list:
    """Run the callables in ``jobs`` in as many threads, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait(timeout=60)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


# --- AGS -------------------------------------------------------------------------------------


def access_token(world, server) -> str:
    """A token obtained as PyLTI1p3 obtains one, from ``server``'s token endpoint."""
    tool = world["tool"]
    conf = tool.conf
    registration = conf.find_registration_by_params("http://testserver", tool.provider.client_id)
    registration.set_auth_token_url(server.url("/lti/1.3/token/"))
    connector = ServiceConnector(registration, requests_session=requests.Session())
    return connector.get_access_token([AGS + "score", AGS + "result.readonly"])


def scores_path(world) -> str:
    from wagtail_lti.services.results import line_item_for

    item = line_item_for(world["placement13"])
    return (
        f"/lti/1.3/ags/{world['course'].pk}/{world['tool'].provider.pk}/lineitems/{item.pk}/scores"
    )


def ags_job(server, path: str, token: str, score: dict):
    def post():
        return requests.post(
            server.url(path),
            json=score,
            headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_MEDIA_TYPE},
            timeout=120,
        )

    return post


def score(user, given: float, timestamp: datetime, comment: str) -> dict:
    from wagtail_lti.security.identifiers import opaque_user_id

    return {
        "userId": opaque_user_id(user),
        "scoreGiven": given,
        "scoreMaximum": 100,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": timestamp.isoformat(),
        "comment": comment,
    }


def test_fifty_concurrent_ags_scores_for_one_learner(world):
    """AGS §3.4.9 under concurrency: 45 distinct timestamps plus 5 posts sharing the latest one.

    The applied scores have strictly increasing timestamps in the order they were applied, every
    other post got 409, and the result is one of the five latest-timestamp scores: the latest
    always wins, and only one of the five equal timestamps can be applied.
    """
    learner = world["learners"][0]
    start = datetime.now(UTC).replace(microsecond=0)
    posts = [(float(i), start + timedelta(milliseconds=i), f"post {i}") for i in range(45)]
    latest = start + timedelta(seconds=1)
    posts += [(float(90 + i), latest, f"latest {i}") for i in range(5)]
    random.Random(6).shuffle(posts)

    with serving() as (a, b):
        token = access_token(world, a)
        path = scores_path(world)
        jobs = [
            ags_job((a, b)[n % 2], path, token, score(learner, given, ts, comment))
            for n, (given, ts, comment) in enumerate(posts)
        ]
        answers = all_at_once(jobs)

    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 409}, [(r.status_code, r.text[:300]) for r in answers]
    accepted = [post for post, r in zip(posts, answers, strict=True) if r.status_code == 200]
    refused = [r for r in answers if r.status_code == 409]
    assert all(r.json()["error"] == "conflict" for r in refused)

    result = Result.objects.get(user=learner)
    events = list(ScoreEvent.objects.filter(result=result).order_by("pk"))
    # Nothing lost, nothing extra: one event per accepted post, and only those.
    assert sorted(e.comment for e in events) == sorted(c for _, _, c in accepted)
    # Applied in strictly increasing timestamp order.
    stamps = [e.timestamp for e in events]
    assert all(earlier < later for earlier, later in zip(stamps, stamps[1:], strict=False))
    # Exactly one of the five latest posts applied, and it is the final result.
    latest_applied = [c for _, ts, c in accepted if ts == latest]
    assert len(latest_applied) == 1
    assert result.timestamp == latest
    assert result.comment == latest_applied[0] == events[-1].comment
    assert result.score_given == 90 + int(latest_applied[0].split()[-1])
    activity = LearnerActivity.objects.get(placement=world["placement13"], user=learner)
    assert activity.status == LearnerActivity.Status.COMPLETED
    assert activity.score == pytest.approx(result.score_given / 100)


def test_fifty_concurrent_ags_scores_for_fifty_learners(world):
    """One score per learner, all at once: fifty results, each the learner's own."""
    stamp = datetime.now(UTC)
    with serving() as (a, b):
        token = access_token(world, b)
        path = scores_path(world)
        jobs = [
            ags_job(
                (a, b)[n % 2], path, token, score(user, float(n), stamp, f"for {user.username}")
            )
            for n, user in enumerate(world["learners"])
        ]
        answers = all_at_once(jobs)

    assert [r.status_code for r in answers] == [200] * POSTS, [r.text[:300] for r in answers]
    for n, user in enumerate(world["learners"]):
        result = Result.objects.get(user=user)
        assert (result.score_given, result.comment) == (n, f"for {user.username}")
        assert ScoreEvent.objects.filter(result=result).count() == 1
        activity = LearnerActivity.objects.get(placement=world["placement13"], user=user)
        assert activity.status == LearnerActivity.Status.COMPLETED
        assert activity.score == pytest.approx(n / 100)


# --- LTI 1.1 Basic Outcomes ------------------------------------------------------------------


def outcome_job(a, server, sourcedid: str, value: str):
    """A replaceResult signed for A's URL (the public one) and sent to ``server`` with A's Host,
    as through a load balancer; a fresh nonce each."""
    body = OutcomeRequest(
        {
            "operation": "replaceResult",
            "score": value,
            "message_identifier": uuid.uuid4().hex,
            "lis_result_sourcedid": sourcedid,
        }
    ).generate_request_xml()
    prepared = sign_outcome(body, key=TOOL_KEY, secret=TOOL_SECRET, url=a.url("/lti/1.1/outcomes/"))
    headers = dict(prepared.headers)
    headers["Host"] = f"127.0.0.1:{a.port}"

    def post():
        return requests.post(
            server.url("/lti/1.1/outcomes/"), data=prepared.body, headers=headers, timeout=120
        )

    return post


def assert_pox_success(answers):
    problems = [
        (r.status_code, r.text[:300])
        for r in answers
        if r.status_code != 200 or "<imsx_codeMajor>success</imsx_codeMajor>" not in r.text
    ]
    assert not problems, problems


def test_fifty_concurrent_outcomes_for_one_learner(world):
    """Basic Outcomes replaceResult x 50 for one learner: all applied, in some order, none lost;
    the result and the course page's activity show the last one applied."""
    from wagtail_lti.security.sourcedid import make_sourcedid

    learner = world["learners"][0]
    sourcedid = make_sourcedid(world["placement11"], learner)
    values = [f"0.{i:02d}" for i in range(POSTS)]
    with serving() as (a, b):
        jobs = [outcome_job(a, (a, b)[n % 2], sourcedid, v) for n, v in enumerate(values)]
        answers = all_at_once(jobs)

    assert_pox_success(answers)
    result = Result.objects.get(user=learner)
    events = list(ScoreEvent.objects.filter(result=result).order_by("pk"))
    assert sorted(e.score_given for e in events) == sorted(float(v) for v in values)
    assert result.score_given == events[-1].score_given
    activity = LearnerActivity.objects.get(placement=world["placement11"], user=learner)
    assert activity.status == LearnerActivity.Status.COMPLETED
    assert activity.score == pytest.approx(result.score_given)


def test_fifty_concurrent_outcomes_for_fifty_learners(world):
    from wagtail_lti.security.sourcedid import make_sourcedid

    learners = world["learners"]
    with serving() as (a, b):
        jobs = [
            outcome_job(a, (a, b)[n % 2], make_sourcedid(world["placement11"], user), f"0.{n:02d}")
            for n, user in enumerate(learners)
        ]
        answers = all_at_once(jobs)

    assert_pox_success(answers)
    for n, user in enumerate(learners):
        result = Result.objects.get(user=user)
        assert result.score_given == pytest.approx(n / 100)
        assert ScoreEvent.objects.filter(result=result).count() == 1
        activity = LearnerActivity.objects.get(placement=world["placement11"], user=user)
        assert activity.score == pytest.approx(n / 100)
