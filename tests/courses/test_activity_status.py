"""The course page's status endpoint (``wagtail_lti:course_status``): the learner's own status and
score on each activity, for the page to refresh without a reload.

The rule (``courses/status.py: activity_status``) on requests built here, and the door through
Django's test client; scores reach it through the real LTI 1.1 Basic Outcomes door, signed as a
tool signs them (the ``lti`` package's XML, requests-oauthlib's signature).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lti import OutcomeRequest as ToolOutcomeRequest

from tests.support.factories import (
    KEY,
    SECRET,
    enroll,
    make_course,
    make_learner,
    make_link,
    placements_of,
)
from tests.support.lti11 import send, sign_outcome
from wagtail_lti.courses.status import StatusRefused, activity_status
from wagtail_lti.models import Enrollment, LearnerActivity
from wagtail_lti.security.sourcedid import make_sourcedid


SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}


def status_url(page) -> str:
    return reverse("wagtail_lti:course_status", args=[page.pk])


def request_for(user, page, **headers):
    request = RequestFactory().get(status_url(page), **{**SAME_ORIGIN, **headers})
    request.user = user
    request.session = SessionStore()
    return request


def post_score(client, placement, user, score: float):
    """The tool's Basic Outcomes ``replaceResult`` for ``user`` on ``placement``."""
    xml = ToolOutcomeRequest(
        {
            "operation": "replaceResult",
            "score": score,
            "message_identifier": f"msg-{user.pk}",
            "lis_result_sourcedid": make_sourcedid(placement, user),
        }
    ).generate_request_xml()
    response = send(client, sign_outcome(xml, key=KEY, secret=SECRET))
    assert response.status_code == 200
    assert b"<imsx_codeMajor>success</imsx_codeMajor>" in response.content, response.content


@pytest.fixture
def two_learners(course, learner):
    other = make_learner("olga")
    enroll(learner, course)
    enroll(other, course)
    return learner, other


# --- The rule -------------------------------------------------------------------------------------


def test_only_the_learners_own_status_and_score(client, course, two_learners):
    learner, other = two_learners
    placement = placements_of(course)[0]
    post_score(client, placement, learner, 0.8)

    mine = activity_status(request_for(learner, course), course.pk)
    assert mine == {
        "activities": {
            placement.block_id: {
                "status": "completed",
                "status_label": "Completed",
                "score": pytest.approx(0.8),
                "score_text": "Score: 80%",
                "launch_label": "Open activity again",
            }
        }
    }
    theirs = activity_status(request_for(other, course), course.pk)
    assert theirs["activities"][placement.block_id] == {
        "status": "not_started",
        "status_label": "Not started",
        "score": None,
        "score_text": "",
        "launch_label": "Start activity",
    }


def test_a_learner_of_another_course_is_refused(orgs, course, link, learner):
    elsewhere = make_course(orgs["engineering"], [link], title="Another course")
    enroll(learner, elsewhere)
    with pytest.raises(StatusRefused) as refused:
        activity_status(request_for(learner, course), course.pk)
    assert (refused.value.status, refused.value.code) == (403, "not_enrolled")
    # An enrollment that ended is no enrollment.
    enrollment = enroll(learner, course)
    Enrollment.objects.filter(pk=enrollment.pk).update(is_active=False)
    with pytest.raises(StatusRefused) as refused:
        activity_status(request_for(learner, course), course.pk)
    assert refused.value.code == "not_enrolled"


def test_anonymous_and_inactive_visitors_are_refused(course, learner):
    enroll(learner, course)
    with pytest.raises(StatusRefused) as refused:
        activity_status(request_for(AnonymousUser(), course), course.pk)
    assert (refused.value.status, refused.value.code) == (401, "login_required")
    learner.is_active = False
    with pytest.raises(StatusRefused) as refused:
        activity_status(request_for(learner, course), course.pk)
    assert refused.value.code == "login_required"


@pytest.mark.parametrize("fetch_site", [None, "cross-site", "same-site", "none"])
def test_only_this_sites_own_pages_may_ask(course, learner, fetch_site):
    enroll(learner, course)
    request = RequestFactory().get(status_url(course))
    if fetch_site:
        request.META["HTTP_SEC_FETCH_SITE"] = fetch_site
    request.user = learner
    with pytest.raises(StatusRefused) as refused:
        activity_status(request, course.pk)
    assert (refused.value.status, refused.value.code) == (403, "cross_site")


def test_no_status_of_a_page_that_is_not_a_live_course(orgs, link, course, learner):
    from tests.support.factories import site_root

    enroll(learner, course)
    for page_id in (site_root().pk, 987654):
        with pytest.raises(StatusRefused) as refused:
            activity_status(request_for(learner, course), page_id)
        assert (refused.value.status, refused.value.code) == (404, "not_found")
    course.unpublish()
    with pytest.raises(StatusRefused) as refused:
        activity_status(request_for(learner, course), course.pk)
    assert refused.value.code == "not_found"


def test_a_restricted_course_needs_its_password_first(course, learner):
    from wagtail.models import PageViewRestriction

    enroll(learner, course)
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    request = request_for(learner, course)
    with pytest.raises(StatusRefused) as refused:
        activity_status(request, course.pk)
    assert (refused.value.status, refused.value.code) == (403, "page_restricted")
    restriction.mark_as_passed(request)
    assert "activities" in activity_status(request, course.pk)


def test_bounded_queries_whatever_the_number_of_activities(orgs, provider, learner):
    def count(links) -> int:
        page = make_course(orgs["engineering"], links)
        enroll(learner, page)
        request = request_for(learner, page)
        with CaptureQueriesContext(connection) as queries:
            answer = activity_status(request, page.pk)
        assert len(answer["activities"]) == len(links)
        return len(queries)

    one = count([make_link(provider, name="One")])
    many = count([make_link(provider, name=f"Quiz {n}") for n in range(6)])
    assert one == many <= 7  # page, specific page, ancestors, restrictions, enrollment, org, rows


# --- The door ---------------------------------------------------------------------------------


def test_door_answers_the_learner_never_cached(client, course, two_learners):
    learner, _other = two_learners
    placement = placements_of(course)[0]
    post_score(client, placement, learner, 0.5)
    client.force_login(learner)
    response = client.get(status_url(course), **SAME_ORIGIN)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    assert "Access-Control-Allow-Origin" not in response
    answer = response.json()["activities"][placement.block_id]
    assert answer["status"] == "completed"
    assert answer["score_text"] == "Score: 50%"


def test_door_refuses_clearly(client, orgs, course, link, two_learners):
    learner, _other = two_learners
    url = status_url(course)

    anonymous = client.get(url, **SAME_ORIGIN)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "login_required"
    assert anonymous.json()["error_description"] == "Log in to see your progress."

    stranger = make_learner("sam")
    enroll(stranger, make_course(orgs["engineering"], [link], title="Other"))
    client.force_login(stranger)
    refused = client.get(url, **SAME_ORIGIN)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "not_enrolled",
        "error_description": f"You are not enrolled in “{course.title}”.",
    }

    client.force_login(learner)
    assert client.get(url, HTTP_SEC_FETCH_SITE="cross-site").json()["error"] == "cross_site"
    assert client.get(url).status_code == 403  # a browser that does not say where it comes from
    missing = client.get(reverse("wagtail_lti:course_status", args=[987654]), **SAME_ORIGIN)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert client.post(url, **SAME_ORIGIN).status_code == 405


def test_door_leaves_the_tools_messages_for_the_page(client, course, learner):
    """A message from the tool (``lti_msg`` on the return URL) is shown on the course page, even
    when the page's script asked for the status in between."""
    enroll(learner, course)
    client.force_login(learner)
    placement = placements_of(course)[0]
    back = client.get(
        reverse("wagtail_lti:launch_return", args=[placement.lti_id]), {"lti_msg": "Well done"}
    )
    assert back.status_code in (200, 302)
    assert client.get(status_url(course), **SAME_ORIGIN).status_code == 200
    page = client.get(course.url)
    assert "Well done" in page.content.decode()


def test_door_status_follows_a_launch(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    placement = placements_of(course)[0]
    before = client.get(status_url(course), **SAME_ORIGIN).json()
    assert before["activities"][placement.block_id]["status"] == "not_started"
    launched = client.post(reverse("wagtail_lti:launch", args=[placement.lti_id]), **SAME_ORIGIN)
    assert launched.status_code == 200, launched.content
    LearnerActivity.objects.get(user=learner, placement=placement)
    after = client.get(status_url(course), **SAME_ORIGIN).json()
    assert after["activities"][placement.block_id] == {
        "status": "launched",
        "status_label": "Launched",
        "score": None,
        "score_text": "",
        "launch_label": "Open activity again",
    }
