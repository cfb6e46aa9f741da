"""Scores outside a resource link's submission window (Deep Linking 2.0 §3.4.1 ``submission``):
recorded marked late, or refused when the link says so; one rule
(``services.results.submission_rule``) for AGS and Basic Outcomes alike. And the Basic Outcomes
``resultData`` extension, which is not supported: answered ``unsupported``, nothing recorded.

The AGS tool is PyLTI1p3's ``AssignmentsGradesService`` with its own token; the LTI 1.1 tool is
the ``lti`` package's ``OutcomeRequest`` (its XML, signed by requests-oauthlib as tools sign it).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from lti import OutcomeRequest as ToolOutcomeRequest
from pylti1p3.exception import LtiServiceException

from tests.services.test_ags import grade, setup, tool_ags  # noqa: F401 - the AGS world
from tests.services.test_basic_outcomes import read
from tests.support.lti11 import make_course_setup, send, sign_outcome
from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
from wagtail_lti.security.sourcedid import make_sourcedid
from wagtail_lti.services import results


pytestmark = pytest.mark.django_db


def _set_window(link, *, start=None, end=None, refuse=False):
    link.submission_start = start
    link.submission_end = end
    link.late_submissions = "refuse" if refuse else "accept"
    link.save()


def _past():
    return timezone.now() - timedelta(hours=1)


# --- The rule -----------------------------------------------------------------------------------


def test_submission_rule(orgs):
    s = make_course_setup(orgs)
    item, link = s.line_item, s.link
    assert results.submission_rule(item) is False  # no dates
    now = timezone.now()
    _set_window(link, start=now - timedelta(days=1), end=now + timedelta(days=1))
    assert results.submission_rule(item, now=now) is False
    assert results.submission_rule(item, now=now + timedelta(days=2)) is True
    assert results.submission_rule(item, now=now - timedelta(days=2)) is True  # too early
    _set_window(link, end=now, refuse=True)
    item.placement.refresh_from_db()
    with pytest.raises(results.LateScoreRefused, match="closed"):
        results.submission_rule(item, now=now + timedelta(seconds=1))
    assert results.submission_rule(item, now=now) is False  # the due moment itself is on time


def test_a_line_item_of_no_placement_is_never_late(orgs):
    from wagtail_lti.models import LineItem

    s = make_course_setup(orgs)
    _set_window(s.link, end=_past(), refuse=True)
    own = LineItem.objects.create(provider=s.provider, course=s.course, label="Tool's own")
    assert results.submission_rule(own) is False


# --- AGS (PyLTI1p3) -----------------------------------------------------------------------------


def test_a_late_ags_score_is_recorded_marked_late(setup):  # noqa: F811
    _set_window(setup["placement"].resource_link, end=_past())
    tool_ags(setup).put_grade(grade(setup["learner"], 7, 10))
    result = Result.objects.get()
    assert (result.score_given, result.late) == (7, True)
    assert ScoreEvent.objects.get().late is True
    activity = LearnerActivity.objects.get(placement=setup["placement"], user=setup["learner"])
    assert activity.status == LearnerActivity.Status.COMPLETED  # late, but graded


def test_an_on_time_ags_score_is_not_late(setup):  # noqa: F811
    _set_window(setup["placement"].resource_link, end=timezone.now() + timedelta(days=1))
    tool_ags(setup).put_grade(grade(setup["learner"], 7, 10))
    assert Result.objects.get().late is False


def test_a_late_ags_score_is_refused_when_the_link_says_so(setup):  # noqa: F811
    _set_window(setup["placement"].resource_link, end=_past(), refuse=True)
    with pytest.raises(LtiServiceException) as refused:
        tool_ags(setup).put_grade(grade(setup["learner"], 7, 10))
    assert refused.value.response.status_code == 403
    body = refused.value.response.json()
    assert body["error"] == "late_submission" and "closed" in body["error_description"]
    assert not Result.objects.exists() and not ScoreEvent.objects.exists()
    assert not LearnerActivity.objects.filter(status=LearnerActivity.Status.COMPLETED).exists()


# --- Basic Outcomes (the lti package) -----------------------------------------------------------


def _replace_result(client, course_setup, score="0.8", result_data=None):
    request = ToolOutcomeRequest(
        {"lis_result_sourcedid": make_sourcedid(course_setup.placement, course_setup.learner)}
    )
    request.operation = "replaceResult"
    request.score = score
    request.message_identifier = "msg-7"
    request.result_data = result_data
    return send(client, sign_outcome(request.generate_request_xml()))


def test_a_late_outcome_is_recorded_marked_late(client, orgs):
    s = make_course_setup(orgs)
    _set_window(s.link, end=_past())
    parsed = read(_replace_result(client, s))
    assert parsed.is_success()
    assert "late" in str(parsed.description)
    result = Result.objects.get()
    assert (result.score_given, result.late) == (0.8, True)
    assert ScoreEvent.objects.get().late is True


def test_a_late_outcome_is_refused_when_the_link_says_so(client, orgs):
    s = make_course_setup(orgs)
    _set_window(s.link, end=_past(), refuse=True)
    parsed = read(_replace_result(client, s))
    assert parsed.is_failure()
    assert "late scores are not accepted" in str(parsed.description)
    assert not Result.objects.exists() and not ScoreEvent.objects.exists()


def test_result_data_is_answered_unsupported_and_nothing_is_recorded(client, orgs):
    """The outcome data extension (resultData text/url) is not advertised
    (no ext_outcome_data_values_accepted) and not silently dropped: ``unsupported``."""
    s = make_course_setup(orgs)
    for data in ({"text": "Well argued."}, {"url": "https://tool.example.com/essay/1"}):
        response = _replace_result(client, s, result_data=data)
        assert response.status_code == 200
        parsed = read(response)
        assert parsed.code_major == "unsupported"
        assert "resultData" in str(parsed.description)
    assert not Result.objects.exists() and not ScoreEvent.objects.exists()
    # Without resultData the same score is recorded.
    assert read(_replace_result(client, s)).is_success()
    assert Result.objects.get().score_given == 0.8
