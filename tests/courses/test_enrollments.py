"""The Enrollment admin: rosters managed from the course, limited to the editor's organizations."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import GroupPagePermission

from tests.support.factories import enroll, make_course, make_learner, site_root
from wagtail_lti.models import Enrollment


pytestmark = pytest.mark.django_db

INDEX = "wagtail_lti_enrollments:index"


@pytest.fixture
def setup(orgs, link, make_editor):
    eng = make_course(orgs["engineering"], [link], title="Engineering basics")
    sales = make_course(orgs["sales"], [link], title="Selling 101")
    lee, kim = make_learner("lee"), make_learner("kim", first_name="Kim")
    return {
        "eng": eng,
        "sales": sales,
        "lee": lee,
        "kim": kim,
        "lee_eng": enroll(lee, eng),
        "kim_sales": enroll(kim, sales, via="self_paced"),
        "alice": make_editor("alice", orgs["engineering"]),
    }


def test_listing_shows_only_courses_the_editor_manages(client, setup):
    client.force_login(setup["alice"])
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lee Learner (lee)" in html and "Engineering basics" in html
    assert "kim" not in html and "Selling 101" not in html


def test_listing_filtered_by_course(client, setup, superuser):
    enroll(setup["kim"], setup["eng"], role="instructor")
    client.force_login(superuser)
    html = client.get(reverse(INDEX), {"course": setup["sales"].pk}).content.decode()
    assert "Kim Learner (kim)" in html and "Lee Learner (lee)" not in html
    html = client.get(reverse(INDEX), {"course": setup["eng"].pk}).content.decode()
    assert "Lee Learner (lee)" in html and "Instructor" in html


def test_course_filter_cannot_reach_another_organizations_course(client, setup):
    client.force_login(setup["alice"])
    html = client.get(reverse(INDEX), {"course": setup["sales"].pk}).content.decode()
    assert "kim" not in html


def test_add_offers_only_managed_courses_and_is_prefilled_from_the_course(client, setup):
    client.force_login(setup["alice"])
    url = reverse("wagtail_lti_enrollments:add")
    response = client.get(url, {"course": setup["eng"].pk})
    assert response.status_code == 200
    course_field = response.context["form"]["course"]
    assert list(course_field.field.queryset) == [setup["eng"].page_ptr]
    assert course_field.value() == setup["eng"].pk


def test_add_enrollment_learner_or_instructor_class_or_self_paced(client, setup):
    client.force_login(setup["alice"])
    url = reverse("wagtail_lti_enrollments:add")
    response = client.post(
        url,
        {
            "course": setup["eng"].pk,
            "user": setup["kim"].pk,
            "role": "instructor",
            "via": "self_paced",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(course=setup["eng"], user=setup["kim"])
    assert (enrollment.role, enrollment.via, enrollment.is_active) == (
        "instructor",
        "self_paced",
        True,
    )


def test_add_to_a_course_the_editor_does_not_manage_is_refused(client, setup):
    client.force_login(setup["alice"])
    response = client.post(
        reverse("wagtail_lti_enrollments:add"),
        {"course": setup["sales"].pk, "user": setup["lee"].pk, "role": "learner", "via": "class"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["course"] == [
        "Choose a course of an organization you manage."
    ]
    assert not Enrollment.objects.filter(course=setup["sales"], user=setup["lee"]).exists()


def test_enrolling_twice_is_refused(client, setup):
    client.force_login(setup["alice"])
    response = client.post(
        reverse("wagtail_lti_enrollments:add"),
        {"course": setup["eng"].pk, "user": setup["lee"].pk, "role": "learner", "via": "class"},
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors)


@pytest.mark.parametrize("view", ["edit", "delete", "history", "usage"])
def test_other_organizations_enrollments_are_404(client, setup, view):
    client.force_login(setup["alice"])
    url = reverse(f"wagtail_lti_enrollments:{view}", args=[setup["kim_sales"].pk])
    assert client.get(url).status_code == 404
    if view in {"edit", "delete"}:
        assert client.post(url, {"role": "learner"}).status_code == 404
    assert Enrollment.objects.filter(pk=setup["kim_sales"].pk).exists()


def test_edit_and_delete_own_enrollment(client, setup):
    client.force_login(setup["alice"])
    edit = reverse("wagtail_lti_enrollments:edit", args=[setup["lee_eng"].pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {"course": setup["eng"].pk, "user": setup["lee"].pk, "role": "learner", "via": "class"},
    )
    assert response.status_code == 302
    setup["lee_eng"].refresh_from_db()
    assert setup["lee_eng"].is_active is False
    delete = reverse("wagtail_lti_enrollments:delete", args=[setup["lee_eng"].pk])
    assert client.post(delete).status_code == 302
    assert not Enrollment.objects.filter(pk=setup["lee_eng"].pk).exists()


def test_enrollments_are_reachable_from_the_course_page_in_the_admin(client, setup):
    alice = setup["alice"]
    group = Group.objects.get(name="LTI editors")
    GroupPagePermission.objects.create(group=group, page=site_root(), permission_type="change")
    client.force_login(alice)
    page = setup["eng"]
    html = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert f"{reverse(INDEX)}?course={page.pk}" in html
    assert f"{reverse('wagtail_lti_results_report')}?course={page.pk}" in html
    explorer = client.get(reverse("wagtailadmin_explore", args=[site_root().pk])).content.decode()
    assert f"{reverse(INDEX)}?course={page.pk}" in explorer


def test_without_enrollment_permissions_there_is_no_access(client, setup, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="password")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.get(reverse(INDEX))
    assert response.status_code in {302, 403}
    assert "Lee Learner" not in response.content.decode()
