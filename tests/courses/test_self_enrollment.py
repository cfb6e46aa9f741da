"""Self-enrollment (issue 13.6): a course page setting, off by default.

The rule is ``wagtail_lti.courses.enrollments`` (``may_self_enroll``, ``self_enroll``); the door is
the course page's "Enroll in this course" form, posted to ``wagtail_lti:self_enroll``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.admin import text
from tests.support.factories import enroll, make_course
from wagtail_lti.courses import enrollments
from wagtail_lti.models import Enrollment


pytestmark = pytest.mark.django_db


@pytest.fixture
def open_course(orgs, link):
    page = make_course(orgs["engineering"], [link], title="Open course")
    page.allow_self_enrollment = True
    page.save_revision().publish()
    return page


def _enroll_url(page):
    return reverse("wagtail_lti:self_enroll", args=[page.pk])


def test_rule_off_by_default(course, learner):
    assert course.allow_self_enrollment is False
    assert not enrollments.may_self_enroll(course, learner)
    assert enrollments.self_enroll(course, learner) is None
    assert not Enrollment.objects.exists()


def test_rule_open_course(open_course, learner):
    from django.contrib.auth.models import AnonymousUser

    assert enrollments.may_self_enroll(open_course, learner)
    assert not enrollments.may_self_enroll(open_course, AnonymousUser())
    enrollment = enrollments.self_enroll(open_course, learner)
    assert (enrollment.role, enrollment.via) == ("learner", "self")
    assert not enrollments.may_self_enroll(open_course, learner)  # once
    assert enrollments.self_enroll(open_course, learner) is None
    assert Enrollment.objects.count() == 1


def test_rule_removed_learner_cannot_come_back_alone(open_course, learner):
    enrollment = enroll(learner, open_course)
    enrollment.is_active = False
    enrollment.save()
    assert not enrollments.may_self_enroll(open_course, learner)


def test_rule_unpublished_course(open_course, learner):
    open_course.unpublish()
    assert not enrollments.may_self_enroll(open_course, learner)


def test_page_offers_enroll_and_post_enrolls(client, open_course, learner):
    client.force_login(learner)
    page = client.get(open_course.url)
    assert "Enroll in this course" in text(page)
    assert _enroll_url(open_course) in page.content.decode()
    response = client.post(_enroll_url(open_course))
    assert response.status_code == 302 and response["Location"] == open_course.url
    assert Enrollment.objects.get(user=learner, course=open_course).via == "self"
    page = client.get(open_course.url)
    assert "Enroll in this course" not in text(page)
    assert "You are enrolled in “Open course”" in text(page)
    assert "You are enrolled in this course as a learner" in text(page)


def test_closed_course_offers_nothing_and_refuses(client, course, learner):
    client.force_login(learner)
    assert "Enroll in this course" not in text(client.get(course.url))
    response = client.post(_enroll_url(course), follow=True)
    assert "does not take enrollments from learners" in text(response)
    assert not Enrollment.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(client, open_course):
    assert "Enroll in this course" not in text(client.get(open_course.url))
    response = client.post(_enroll_url(open_course))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Enrollment.objects.exists()


def test_get_unknown_page_and_csrf(client, open_course, learner, orgs):
    client.force_login(learner)
    assert client.get(_enroll_url(open_course)).status_code == 405
    assert client.post(reverse("wagtail_lti:self_enroll", args=[999999])).status_code == 404
    from tests.support.factories import site_root

    assert client.post(reverse("wagtail_lti:self_enroll", args=[site_root().pk])).status_code == 404
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert strict.post(_enroll_url(open_course)).status_code == 403
    assert not Enrollment.objects.exists()


def test_editor_turns_it_on_in_the_page_editor(client, open_course, superuser):
    client.force_login(superuser)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[open_course.pk]))
    assert response.status_code == 200
    assert 'name="allow_self_enrollment"' in response.content.decode()
    assert "learners may enroll themselves" in text(response).lower()
