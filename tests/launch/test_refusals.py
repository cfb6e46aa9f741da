"""Launches that must not happen: each answered with a clear page (403/404), nothing recorded."""

from __future__ import annotations

import pytest

from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of
from wagtail_lti.models import LearnerActivity


pytestmark = pytest.mark.django_db


def refused(client, placement, status: int, fragment: str):
    response = client.post(f"/lti/launch/{placement.lti_id}/")
    html = response.content.decode()
    assert response.status_code == status, html
    assert "This activity cannot be opened" in html
    assert fragment in html, html
    assert "oauth_signature" not in html
    assert not LearnerActivity.objects.filter(placement=placement).exists()
    return html


def test_anonymous_visitor_is_asked_to_log_in(client, course):
    (placement,) = placements_of(course)
    html = refused(client, placement, 403, "Log in to start this activity.")
    assert f'href="/accounts/login/?next=/{course.slug}/" target="_top"' in html


def test_learner_not_enrolled_is_refused(client, course, learner):
    client.force_login(learner)
    (placement,) = placements_of(course)
    html = refused(client, placement, 403, "You are not enrolled in “Engineering basics”")
    assert f'href="{course.url}"' in html  # back to the course


def test_inactive_enrollment_is_refused(client, course, learner):
    enrollment = enroll(learner, course)
    enrollment.is_active = False
    enrollment.save()
    client.force_login(learner)
    refused(client, placements_of(course)[0], 403, "You are not enrolled")


def test_enrolled_elsewhere_is_not_enrolled_here(client, orgs, course, link, learner):
    other = make_course(orgs["engineering"], [link])
    enroll(learner, other)
    client.force_login(learner)
    refused(client, placements_of(course)[0], 403, "You are not enrolled")


def test_link_availability_withdrawn_after_publishing(client, orgs, learner):
    """The page was saved with a usable link; the owner then stopped sharing it."""
    provider = make_provider(orgs["acme"])
    link = make_link(
        provider, name="Partner quiz", organization=orgs["partner"], available_to=[orgs["acme"]]
    )
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page)
    client.force_login(learner)
    (placement,) = placements_of(page)
    assert client.post(f"/lti/launch/{placement.lti_id}/").status_code == 200
    LearnerActivity.objects.all().delete()

    link.available_to.set([orgs["sales"]])
    link.save()
    refused(client, placement, 403, "“Partner quiz” is no longer available to Engineering.")


def test_provider_no_longer_usable_by_the_course_organization(client, orgs, learner):
    provider = make_provider(orgs["partner"], available_to=[orgs["engineering"]])
    link = make_link(provider, organization=orgs["engineering"])
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page)
    client.force_login(learner)
    provider.available_to.set([])
    provider.save()
    refused(client, placements_of(page)[0], 403, "The tool behind “Quiz 1” is no longer available")


def test_provider_without_secret_is_explained(client, orgs, learner):
    provider = make_provider(orgs["acme"])
    provider.secret_encrypted = ""
    provider.save()
    page = make_course(orgs["engineering"], [make_link(provider)])
    enroll(learner, page)
    client.force_login(learner)
    refused(client, placements_of(page)[0], 403, "not fully set up")


def test_broken_custom_parameters_are_explained_not_a_500(client, orgs, provider, learner):
    link = make_link(provider)
    page = make_course(orgs["engineering"], [link])
    type(link).objects.filter(pk=link.pk).update(custom_parameters="not a parameter")
    enroll(learner, page)
    client.force_login(learner)
    refused(client, placements_of(page)[0], 403, "custom parameters of this activity are not valid")


def test_unknown_placement_is_404(client, learner):
    client.force_login(learner)
    response = client.get("/lti/launch/no-such-activity/")
    assert response.status_code == 404
    assert "does not exist" in response.content.decode()


def test_block_removed_from_the_page_is_404(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    page = course.specific
    del page.body[0]
    page.save_revision().publish()
    refused(client, placement, 404, "removed from the course")


def test_unpublished_course_is_404(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    course.specific.unpublish()
    refused(client, placement, 404, "This course is not published.")


def test_launch_only_answers_get_and_post(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    assert client.put(f"/lti/launch/{placement.lti_id}/").status_code == 405
