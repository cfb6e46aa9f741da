"""What recording a score costs, pinned: the statements of an AGS score post and of a Basic
Outcomes ``replaceResult`` (docs/benchmarks.md, section 5), and the rules that let them be few.

* The tool's access to the course, the AGS line item and the placement's automatic line item are
  kept between requests (``launch.targets.kept``) and dropped at once by a catalogue change; Basic
  Outcomes keeps its placement's access the same way (``services.access.placement_access``).
* The learner's ``LearnerActivity`` is written with one ``UPDATE`` computed by the database
  (``services.results._update_activity``), inserted the first time.

Scores are posted by PyLTI1p3 (AGS) and signed by requests-oauthlib (Basic Outcomes), as tools do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from pylti1p3.grade import Grade

from tests.services.test_score_overrides import tool_score
from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from tests.support.hardening import pox_request
from tests.support.lti11 import make_course_setup, send, sign_outcome
from tests.support.lti13 import make_tool
from tests.support.queries import data_statements
from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.security.sourcedid import make_sourcedid
from wagtail_lti.services import results
from wagtail_lti.services import urls as ags_urls


pytestmark = pytest.mark.django_db
Status = LearnerActivity.Status

#: What a later score of a learner costs, after the first request kept the catalogue's answers.
RECORDING = [
    "SELECT wagtail_lti_result",  # locked
    "UPDATE wagtail_lti_result",
    "INSERT wagtail_lti_scoreevent",
    "UPDATE wagtail_lti_learneractivity",
]


# --- AGS ---------------------------------------------------------------------------------------


@pytest.fixture
def ags(orgs):
    tool = make_tool(orgs["acme"])
    link = make_link(tool.provider, requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    (placement,) = placements_of(course)
    learners = [make_learner(f"learner{n}") for n in range(2)]
    for learner in learners:
        enroll(learner, course)
    item = results.line_item_for(placement)
    request = RequestFactory().get("/")
    service = tool.ags(
        lineitems=ags_urls.ags_lineitems_url(request, course, tool.provider),
        lineitem=ags_urls.ags_lineitem_url(request, item),
    )
    return service, placement, item, learners


def grade(user, given, when) -> Grade:
    return (
        Grade()
        .set_score_given(given)
        .set_score_maximum(10)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(when.isoformat())
        .set_user_id(opaque_user_id(user))
    )


def test_an_ags_score_runs_seven_statements(ags):
    """The token, the learner (a member now), the result locked and written with its history, the
    learner's activity in one statement, the launch log. Nothing of the course or catalogue."""
    service, placement, item, (first, second) = ags
    now = datetime.now(UTC)
    service.put_grade(grade(first, 5, now))  # the token is obtained, the catalogue's answers kept
    service.put_grade(grade(second, 5, now))  # the second learner's rows exist
    with CaptureQueriesContext(connection) as queries:
        service.put_grade(grade(second, 8, now + timedelta(seconds=1)))
    assert data_statements(queries) == [
        "SELECT wagtail_lti_accesstoken",
        "SELECT auth_user",
        *RECORDING,
        "INSERT wagtail_lti_launchlogentry",
    ]
    activity = LearnerActivity.objects.get(placement=placement, user=second)
    assert (activity.score, activity.status) == (0.8, Status.COMPLETED)
    assert Result.objects.get(line_item=item, user=second).score_given == 8
    assert ScoreEvent.objects.filter(result__user=second).count() == 2


def test_the_first_ags_score_of_a_launched_learner_inserts_only_the_result(ags):
    """The learner launched (the activity row exists): the result is inserted as it is."""
    service, placement, item, (first, second) = ags
    now = datetime.now(UTC)
    service.put_grade(grade(first, 5, now))
    results.record_launch(placement, second)
    with CaptureQueriesContext(connection) as queries:
        service.put_grade(grade(second, 7, now))
    statements = data_statements(queries)
    assert statements == [
        "SELECT wagtail_lti_accesstoken",
        "SELECT auth_user",
        "SELECT wagtail_lti_result",
        "INSERT wagtail_lti_result",
        "INSERT wagtail_lti_scoreevent",
        "UPDATE wagtail_lti_learneractivity",
        "INSERT wagtail_lti_launchlogentry",
    ], statements
    activity = LearnerActivity.objects.get(placement=placement, user=second)
    assert (activity.score, activity.status, activity.launch_count) == (0.7, Status.COMPLETED, 1)


def test_a_stale_ags_score_is_still_refused_and_changes_nothing(ags):
    service, placement, item, (learner, _second) = ags
    now = datetime.now(UTC)
    service.put_grade(grade(learner, 5, now))
    with pytest.raises(Exception, match="409"):
        service.put_grade(grade(learner, 9, now))
    assert Result.objects.get(line_item=item, user=learner).score_given == 5
    assert LearnerActivity.objects.get(placement=placement, user=learner).score == 0.5
    assert ScoreEvent.objects.filter(result__user=learner).count() == 1


# --- Basic Outcomes ----------------------------------------------------------------------------


@pytest.fixture
def outcomes(orgs):
    setup = make_course_setup(orgs)
    second = make_learner("second")
    enroll(second, setup.course)
    return setup, second


def replace_result(client, placement, user, score: str):
    body = pox_request("replaceResult", make_sourcedid(placement, user), score)
    response = send(client, sign_outcome(body))
    assert response.status_code == 200, response.content
    return response


def test_a_replace_result_runs_nine_statements(outcomes, client):
    """The provider (enabled now, its secret), the nonce, the learner and their enrollment, the
    result locked and written with its history, the learner's activity in one statement, the
    launch log. The placement and the course's access are kept (no page, no organization read)."""
    setup, second = outcomes
    replace_result(client, setup.placement, setup.learner, "0.5")
    replace_result(client, setup.placement, second, "0.5")
    with CaptureQueriesContext(connection) as queries:
        response = replace_result(client, setup.placement, second, "0.9")
    assert b"<imsx_codeMajor>success</imsx_codeMajor>" in response.content
    assert data_statements(queries) == [
        "SELECT wagtail_lti_ltiprovider",
        "INSERT wagtail_lti_singleusevalue",
        "SELECT auth_user",
        "SELECT wagtail_lti_enrollment",
        *RECORDING,
        "INSERT wagtail_lti_launchlogentry",
    ]
    activity = LearnerActivity.objects.get(placement=setup.placement, user=second)
    assert (activity.score, activity.status) == (0.9, Status.COMPLETED)
    assert ScoreEvent.objects.filter(result__user=second).count() == 2


def test_unpublishing_the_course_refuses_the_next_replace_result_at_once(outcomes, client):
    setup, _second = outcomes
    replace_result(client, setup.placement, setup.learner, "0.5")  # the access is kept
    setup.course.unpublish()
    response = replace_result(client, setup.placement, setup.learner, "0.9")
    assert b"<imsx_codeMajor>failure</imsx_codeMajor>" in response.content
    assert b"The course page is not published." in response.content
    assert Result.objects.get(user=setup.learner).score_given == 0.5


def test_withdrawn_availability_refuses_the_next_replace_result_at_once(outcomes, client, orgs):
    setup, _second = outcomes
    replace_result(client, setup.placement, setup.learner, "0.5")
    setup.link.organization = orgs["partner"]  # no longer available to the course's organization
    setup.link.save()
    response = replace_result(client, setup.placement, setup.learner, "0.9")
    assert b"<imsx_codeMajor>failure</imsx_codeMajor>" in response.content
    assert b"no longer available" in response.content
    assert Result.objects.get(user=setup.learner).score_given == 0.5


def test_a_removed_activity_refuses_the_next_replace_result_at_once(outcomes, client):
    setup, _second = outcomes
    replace_result(client, setup.placement, setup.learner, "0.5")
    setup.placement.is_active = False
    setup.placement.save()
    response = replace_result(client, setup.placement, setup.learner, "0.9")
    assert b"This activity is no longer on its course page." in response.content
    assert Result.objects.get(user=setup.learner).score_given == 0.5


def test_a_link_moved_to_another_tool_refuses_the_next_replace_result_at_once(
    outcomes, client, orgs
):
    """The sourcedid's placement is kept; moving its link to another tool drops it."""
    setup, _second = outcomes
    sourcedid = make_sourcedid(setup.placement, setup.learner)  # what the tool holds
    replace_result(client, setup.placement, setup.learner, "0.5")
    setup.link.provider = make_provider(orgs["acme"], name="Other", key="other", secret="s")
    setup.link.save()
    response = send(client, sign_outcome(pox_request("replaceResult", sourcedid, "0.9")))
    assert b"The activity of this sourcedId now uses another tool." in response.content
    assert Result.objects.get(user=setup.learner).score_given == 0.5


# --- The learner's activity, written in one statement ------------------------------------------


def test_a_score_keeps_what_launches_recorded(orgs):
    setup = make_course_setup(orgs)
    results.record_launch(setup.placement, setup.learner)
    results.record_launch(setup.placement, setup.learner)
    launched = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    tool_score(setup, 80)
    activity = LearnerActivity.objects.get(pk=launched.pk)
    assert activity.launch_count == 2
    assert activity.first_launched_at == launched.first_launched_at
    assert (activity.status, activity.score, activity.score_source) == (
        Status.COMPLETED,
        0.8,
        "ags",
    )
    completed_at = activity.completed_at
    tool_score(setup, 90)  # still completed, since the first graded score
    activity.refresh_from_db()
    assert (activity.completed_at, activity.score) == (completed_at, 0.9)
    tool_score(setup, None)  # cleared: launched again
    activity.refresh_from_db()
    assert (activity.status, activity.completed_at, activity.score) == (Status.LAUNCHED, None, None)


def test_a_pending_score_on_a_new_row_does_not_complete(orgs):
    setup = make_course_setup(orgs)
    tool_score(setup, 30, progress="PendingManual")
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert (activity.status, activity.score, activity.completed_at) == (
        Status.NOT_STARTED,
        0.3,
        None,
    )


def test_a_launch_inserting_the_row_at_the_same_moment_is_kept(orgs, monkeypatch):
    """The row does not exist when the score's ``UPDATE`` runs, and a launch inserts it before the
    score's ``INSERT``: the score updates the launch's row (nothing lost, no error)."""
    setup = make_course_setup(orgs)
    update = QuerySet.update
    raced = []

    def racing_update(queryset, **kwargs):
        if queryset.model is LearnerActivity and not raced:
            raced.append(True)
            changed = update(queryset, **kwargs)
            assert changed == 0
            results.record_launch(setup.placement, setup.learner)  # the launch wins the insert
            return changed
        return update(queryset, **kwargs)

    monkeypatch.setattr(QuerySet, "update", racing_update)
    tool_score(setup, 70)
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert raced
    assert (activity.launch_count, activity.score, activity.status) == (1, 0.7, Status.COMPLETED)
