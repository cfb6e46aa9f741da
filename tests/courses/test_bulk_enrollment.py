"""Enrollment at scale (issue 13.6): bulk enrollment and the person picker.

The rule is ``wagtail_lti.courses.enrollments`` (``read_upload``, ``read_people``, ``plan``,
``enroll``, ``organization_members``); the doors are the admin's "Enroll many" form
(``wagtail_lti_enrollments:bulk``) and the person chooser of the enrollment form.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.support.admin import text
from tests.support.factories import enroll, make_course, make_learner
from wagtail_lti.courses import enrollments
from wagtail_lti.models import Enrollment, OrganizationMembership


pytestmark = pytest.mark.django_db

BULK = "wagtail_lti_enrollments:bulk"


@pytest.fixture
def setup(orgs, link, make_editor):
    eng = make_course(orgs["engineering"], [link], title="Engineering basics")
    sales = make_course(orgs["sales"], [link], title="Selling 101")
    people = {name: make_learner(name, first_name=name.title()) for name in ("lee", "kim", "max")}
    return {
        "eng": eng,
        "sales": sales,
        **people,
        "alice": make_editor("alice", orgs["engineering"]),
    }


@pytest.fixture
def lti_settings(settings):
    """``lti_settings(NAME=value)``: override WAGTAIL_LTI settings for the rest of the test."""

    def override(**values):
        settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, **values}

    return override


@pytest.fixture
def client_alice(client, setup):
    client.force_login(setup["alice"])
    return client


def _post(client, course, **data):
    body = {"course": course.pk, "role": "learner", "via": "class", "people": "", **data}
    return client.post(reverse(BULK), body)


# --- The rule -------------------------------------------------------------------------------------


def test_rule_reads_lines_csv_and_header():
    text_ = "username\nlee\n\n  kim  \nmax@example.com,Max\n"
    assert enrollments.read_people(text_) == [(2, "lee"), (4, "kim"), (5, "max@example.com")]


def test_rule_plan_reports_each_line(setup):
    enroll(setup["kim"], setup["eng"])
    entries = [(1, "lee"), (2, "KIM@example.com"), (3, "lee"), (4, "nobody"), (5, "x@y.z")]
    plan = enrollments.plan(setup["eng"], entries, role="learner", via="class")
    assert [(line.number, line.status) for line in plan.lines] == [
        (1, "new"),
        (2, "already"),
        (3, "duplicate"),
        (4, "unknown"),
        (5, "unknown"),
    ]
    with pytest.raises(enrollments.BulkRefused):
        enrollments.enroll(plan)
    assert Enrollment.objects.filter(course=setup["eng"]).count() == 1  # nothing half recorded


def test_rule_email_shared_by_two_people_is_ambiguous(setup):
    make_learner("lee2", email="lee@example.com")
    plan = enrollments.plan(setup["eng"], [(1, "lee@example.com")], role="learner", via="class")
    assert plan.lines[0].status == "ambiguous"


def test_rule_superusers_and_inactive_people_are_unknown(setup, superuser):
    make_learner("gone", is_active=False)
    plan = enrollments.plan(setup["eng"], [(1, "admin"), (2, "gone")], role="learner", via="class")
    assert {line.status for line in plan.lines} == {"unknown"}


def test_rule_bounds(setup, lti_settings):
    lti_settings(BULK_ENROLLMENT_MAX_ROWS=2, BULK_ENROLLMENT_MAX_BYTES=10)
    with pytest.raises(enrollments.BulkRefused, match="at most 2"):
        enrollments.read_people("a\nb\nc\n")
    with pytest.raises(enrollments.BulkRefused, match="too large"):
        enrollments.read_upload(SimpleUploadedFile("x.csv", b"a" * 11))
    with pytest.raises(enrollments.BulkRefused, match="UTF-8"):
        enrollments.read_upload(SimpleUploadedFile("x.csv", b"\xff\xfe\x00"))


def test_rule_organization_members_include_sub_organizations(setup, orgs):
    OrganizationMembership.objects.create(user=setup["lee"], organization=orgs["engineering"])
    OrganizationMembership.objects.create(user=setup["kim"], organization=orgs["platform"])
    OrganizationMembership.objects.create(user=setup["max"], organization=orgs["sales"])
    members = {u.username for u in enrollments.organization_members(orgs["engineering"])}
    assert members == {"lee", "kim", "alice"}


# --- The door: "Enroll many" ----------------------------------------------------------------------


def test_pasted_list_enrolls_everyone_and_reports_skipped(client_alice, setup):
    enroll(setup["kim"], setup["eng"])
    response = _post(client_alice, setup["eng"], people="lee\nkim\nmax@example.com\nlee\n")
    assert response.status_code == 200
    page = text(response)
    assert "2 people enrolled in “Engineering basics”" in page
    assert "Line 2: “kim”: already enrolled, skipped" in page
    assert "Line 4: “lee”: named more than once" in page
    assert set(
        Enrollment.objects.filter(course=setup["eng"]).values_list("user__username", "via")
    ) == {("lee", "class"), ("kim", "class"), ("max", "class")}


def test_csv_upload_enrolls_as_instructors(client_alice, setup):
    upload = SimpleUploadedFile("people.csv", b"\xef\xbb\xbfemail,name\nlee@example.com,Lee\n")
    response = _post(client_alice, setup["eng"], csv_file=upload, role="instructor")
    assert response.status_code == 200
    assert Enrollment.objects.get(course=setup["eng"], user=setup["lee"]).role == "instructor"


def test_unknown_lines_enroll_nobody_and_are_listed(client_alice, setup):
    response = _post(client_alice, setup["eng"], people="lee\nnobody\nkim\nghost@example.com")
    assert response.status_code == 200
    page = text(response)
    assert "Nobody was enrolled: 2 lines do not name one person" in page
    assert "Line 2: “nobody”: no person with this username or email address" in page
    assert "Line 4: “ghost@example.com”" in page
    assert not Enrollment.objects.filter(course=setup["eng"]).exists()


def test_bad_files_give_a_clear_message(client_alice, setup, lti_settings):
    response = _post(
        client_alice, setup["eng"], csv_file=SimpleUploadedFile("x.xlsx", b"PK\x03\x04\x00\xff")
    )
    assert response.status_code == 200
    assert "not a CSV text file" in text(response)
    lti_settings(BULK_ENROLLMENT_MAX_BYTES=16)
    response = _post(
        client_alice, setup["eng"], csv_file=SimpleUploadedFile("x.csv", b"lee\n" * 10)
    )
    assert "too large" in text(response)
    lti_settings(BULK_ENROLLMENT_MAX_BYTES=1024, BULK_ENROLLMENT_MAX_ROWS=2)
    response = _post(client_alice, setup["eng"], people="lee\nkim\nmax")
    assert "Too many people at once: at most 2" in text(response)
    assert not Enrollment.objects.exists()


def test_nothing_given_is_a_clear_message(client_alice, setup):
    response = _post(client_alice, setup["eng"])
    assert response.status_code == 200
    assert "Nobody to enroll" in text(response)


def test_all_members_of_a_managed_organization(client_alice, setup, orgs):
    OrganizationMembership.objects.create(user=setup["kim"], organization=orgs["platform"])
    response = _post(client_alice, setup["eng"], organization=orgs["engineering"].pk)
    assert response.status_code == 200
    enrolled = set(
        Enrollment.objects.filter(course=setup["eng"]).values_list("user__username", flat=True)
    )
    assert enrolled == {"kim", "alice"}


def test_organization_and_course_must_be_managed(client_alice, setup, orgs):
    OrganizationMembership.objects.create(user=setup["max"], organization=orgs["sales"])
    response = _post(client_alice, setup["eng"], organization=orgs["sales"].pk)
    assert response.context["form"].errors["organization"] == ["Choose an organization you manage."]
    response = _post(client_alice, setup["sales"], people="lee")
    assert response.context["form"].errors["course"]
    assert not Enrollment.objects.exists()


def test_bulk_needs_the_add_permission(client, setup, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    from django.contrib.auth.models import Permission

    nobody.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(nobody)
    assert client.get(reverse(BULK)).status_code in (302, 403)
    assert client.post(reverse(BULK), {"people": "lee"}).status_code in (302, 403)
    assert not Enrollment.objects.exists()


def test_index_offers_enroll_many_for_the_course(client_alice, setup):
    response = client_alice.get(
        reverse("wagtail_lti_enrollments:index"), {"course": setup["eng"].pk}
    )
    assert f"{reverse(BULK)}?course={setup['eng'].pk}" in response.content.decode()
    response = client_alice.get(reverse(BULK), {"course": setup["eng"].pk})
    assert response.status_code == 200
    assert response.context["form"]["course"].value() == setup["eng"].pk


# --- The person picker ----------------------------------------------------------------------------


def test_enrollment_form_uses_the_person_chooser(client_alice, setup):
    response = client_alice.get(reverse("wagtail_lti_enrollments:add"))
    assert "Choose a person" in response.content.decode()


def test_person_chooser_searches_offerable_people_only(client_alice, setup, superuser):
    url = reverse("wagtail_lti_person_chooser:choose_results")
    html = client_alice.get(url, {"q": "ki"}).content.decode()
    assert "Kim Learner (kim)" in html and "lee" not in html
    assert "kim@example.com" not in html
    response = client_alice.get(url, {"q": "admin"})  # the superuser is not offered
    assert list(response.context["results"]) == []
    chosen = reverse("wagtail_lti_person_chooser:chosen", args=(setup["kim"].pk,))
    assert json.loads(client_alice.get(chosen).content)["result"]["title"] == "Kim Learner (kim)"
    chosen = reverse("wagtail_lti_person_chooser:chosen", args=(superuser.pk,))
    assert client_alice.get(chosen).status_code == 404
