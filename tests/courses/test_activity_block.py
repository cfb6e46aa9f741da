"""The course-activity block as each visitor sees it, and what a page of many blocks costs."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from wagtail_lti.models import LearnerActivity


pytestmark = pytest.mark.django_db


def activity_html(html: str) -> str:
    match = re.search(r'<section class="lti-activity.*?</section>', html, re.S)
    assert match, html
    return match.group(0)


def get(client, page):
    response = client.get(page.url)
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_visitor_sees_the_activity_and_a_login_prompt_never_a_launch(client, course):
    html = activity_html(get(client, course))
    assert "Quiz 1" in html
    assert "lti-activity--anonymous" in html
    assert f'href="/accounts/login/?next=%2F{course.slug}%2F"' in html
    assert "/lti/launch/" not in html
    assert "<iframe" not in html


def test_unenrolled_visitor_sees_a_prompt_to_enroll_never_a_launch(client, course, learner):
    client.force_login(learner)
    html = activity_html(get(client, course))
    assert "lti-activity--unenrolled" in html
    assert "not enrolled in this course" in html
    assert "/lti/launch/" not in html
    assert "<iframe" not in html


def test_inactive_enrollment_counts_as_not_enrolled(client, course, learner):
    enrollment = enroll(learner, course)
    enrollment.is_active = False
    enrollment.save()
    client.force_login(learner)
    assert "lti-activity--unenrolled" in activity_html(get(client, course))


def test_enrolled_learner_gets_an_iframe_launch_for_an_embedded_link(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    html = activity_html(get(client, course))
    (placement,) = placements_of(course)
    launch_url = f"/lti/launch/{placement.lti_id}/"
    assert "lti-activity--ready" in html
    assert 'lti-badge--not_started">Not started<' in html
    frame = f"lti-frame-{placement.block_id}"
    assert f'action="{launch_url}" target="{frame}"' in html
    assert f'<iframe name="{frame}" title="Quiz 1"' in html
    assert "Start activity" in html


def test_window_link_gets_a_button_opening_a_new_window(client, orgs, provider, learner):
    window_link = make_link(provider, name="Simulator", open_in="window")
    page = make_course(orgs["engineering"], [window_link])
    enroll(learner, page)
    client.force_login(learner)
    html = activity_html(get(client, page))
    (placement,) = placements_of(page)
    assert f'action="/lti/launch/{placement.lti_id}/" target="_blank"' in html
    assert "(opens in a new window)" in html
    assert "<iframe" not in html


def test_block_title_overrides_the_link_name(client, orgs, link, learner):
    page = make_course(orgs["engineering"], [(link, "Final exam")])
    html = activity_html(get(client, page))
    assert ">Final exam</h2>" in html
    assert placements_of(page)[0].title == "Final exam"


def test_launched_and_completed_with_score_are_shown(client, course, learner):
    enroll(learner, course)
    (placement,) = placements_of(course)
    client.force_login(learner)
    activity = LearnerActivity.objects.create(
        placement=placement, user=learner, status="launched", launch_count=1
    )
    html = activity_html(get(client, course))
    assert 'lti-badge--launched">Launched<' in html
    assert "Open activity again" in html
    assert "Score:" not in html

    activity.status = "completed"
    activity.score = 0.85
    activity.completed_at = timezone.now()
    activity.save()
    html = activity_html(get(client, course))
    assert 'lti-badge--completed">Completed<' in html
    assert "Score: 85%" in html


def test_another_learners_progress_is_not_shown(client, course, learner):
    other = make_learner("other")
    enroll(learner, course)
    enroll(other, course)
    (placement,) = placements_of(course)
    LearnerActivity.objects.create(placement=placement, user=other, status="completed", score=1.0)
    client.force_login(learner)
    html = activity_html(get(client, course))
    assert "Not started" in html
    assert "Score:" not in html


def test_withdrawn_availability_is_explained_instead_of_a_launch(client, orgs, learner):
    """The course's organization loses the link after publishing: no launch button."""
    provider = make_provider(orgs["acme"])
    shared = make_link(provider, organization=orgs["partner"], available_to=[orgs["engineering"]])
    page = make_course(orgs["engineering"], [shared])
    enroll(learner, page)
    client.force_login(learner)
    assert "lti-activity--ready" in activity_html(get(client, page))

    shared.available_to.set([])
    shared.save()
    html = activity_html(get(client, page))
    assert "lti-activity--unavailable" in html
    assert "no longer available" in html
    assert "/lti/launch/" not in html


def test_withdrawn_provider_is_explained_instead_of_a_launch(client, orgs, learner):
    """The link stays the course's, but the tool behind it is no longer available to it."""
    provider = make_provider(orgs["partner"], available_to=[orgs["engineering"]])
    link = make_link(provider, organization=orgs["engineering"])
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page)
    client.force_login(learner)
    assert "lti-activity--ready" in activity_html(get(client, page))

    provider.available_to.set([])
    provider.save()
    html = activity_html(get(client, page))
    assert "lti-activity--unavailable" in html
    assert "The tool behind this activity is no longer available" in html
    assert "/lti/launch/" not in html


def test_unpublished_block_in_a_draft_is_not_launchable(client, course, link, learner):
    """A block added in a draft has no placement until the page is published."""
    enroll(learner, course)
    client.force_login(learner)
    from courses.models import CoursePage

    draft = CoursePage.objects.get(pk=course.pk)
    draft.body.append(("lti_activity", {"resource_link": link, "title": "Draft quiz"}))
    revision = draft.save_revision()
    page = revision.as_object()
    from django.test import RequestFactory

    request = RequestFactory().get(course.url)
    request.user = learner
    response = page.serve(request)
    html = response.rendered_content
    assert html.count('class="lti-activity ') == 2
    assert "lti-activity--unpublished" in html
    assert "once the page is published" in html


def _queries_for(client, page) -> int:
    client.get(page.url)  # warm per-process caches (site root paths ...)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("completed", [False, True])
def test_a_page_of_20_activities_costs_the_same_queries_as_a_page_of_1(
    client, orgs, provider, learner, completed
):
    links = [
        make_link(provider, name=f"Quiz {n}", available_to=[orgs["engineering"]]) for n in range(20)
    ]
    one = make_course(orgs["engineering"], links[:1])
    twenty = make_course(orgs["engineering"], links)
    for page in (one, twenty):
        enroll(learner, page)
        if completed:
            for placement in placements_of(page):
                LearnerActivity.objects.create(
                    placement=placement, user=learner, status="completed", score=0.5
                )
    client.force_login(learner)
    assert get(client, twenty).count("lti-activity--ready") == 20
    assert _queries_for(client, one) == _queries_for(client, twenty)
