"""``manage.py load_demo_data``: the demo organizations, users and LTI records, idempotently."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command


def load(url: str = "http://127.0.0.1:8000/") -> str:
    out = StringIO()
    call_command("load_demo_data", "--url", url, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Every row the command may create or change, as plain values."""
    from django.contrib.auth.models import Group
    from wagtail.models import GroupPagePermission, Page, Site

    from wagtail_lti.models import (
        Enrollment,
        LtiProvider,
        LtiResourceLink,
        Organization,
        OrganizationMembership,
        Placement,
    )

    User = get_user_model()
    data = {
        "orgs": list(Organization.objects.values_list("path", "name").order_by("path")),
        "users": list(
            User.objects.values_list(
                "username", "password", "is_superuser", "is_staff", "email", "last_login"
            ).order_by("username")
        ),
        "user_groups": list(
            User.groups.through.objects.values_list("user_id", "group_id").order_by("pk")
        ),
        "groups": list(Group.objects.values_list("name").order_by("name")),
        "group_perms": sorted(
            Group.permissions.through.objects.values_list("group_id", "permission_id")
        ),
        "page_perms": list(
            GroupPagePermission.objects.values_list("group_id", "page_id", "permission_id")
        ),
        "memberships": list(
            OrganizationMembership.objects.values_list(
                "user__username", "organization__name", "role"
            )
        ),
        "pages": list(
            Page.objects.values_list(
                "path", "title", "slug", "live", "latest_revision_id"
            ).order_by("path")
        ),
        "sites": list(Site.objects.values_list("hostname", "root_page_id", "is_default_site")),
        "providers": list(
            LtiProvider.objects.values_list(
                "name",
                "organization_id",
                "lti_version",
                "client_id",
                "deployment_id",
                "secret_encrypted",
            ).order_by("pk")
        ),
        "links": list(
            LtiResourceLink.objects.values_list(
                "name", "provider_id", "url", "requires_score", "open_in"
            ).order_by("pk")
        ),
        "enrollments": list(
            Enrollment.objects.values_list("course_id", "user_id", "role").order_by("pk")
        ),
        "placements": list(
            Placement.objects.values_list("page_id", "block_id", "lti_id").order_by("pk")
        ),
    }
    if apps.is_installed("demo_tool"):
        try:
            ToolRegistration = apps.get_model("demo_tool", "ToolRegistration")
        except LookupError:
            pass
        else:
            from django.db import connection

            if ToolRegistration._meta.db_table in connection.introspection.table_names():
                data["tool_registrations"] = list(
                    ToolRegistration.objects.values_list(
                        "slug", "client_id", "private_key_pem"
                    ).order_by("slug")
                )
    return data


@pytest.mark.django_db
def test_demo_data_is_created_and_a_second_run_changes_nothing():
    from wagtail_lti.models import Organization, OrganizationMembership

    first_output = load()
    first = snapshot()
    second_output = load()
    assert snapshot() == first
    assert "nothing changed" in second_output

    # The organization tree.
    acme = Organization.objects.get(name="Acme Learning", depth=1)
    assert sorted(acme.get_children().values_list("name", flat=True)) == ["Engineering", "Sales"]
    assert Organization.objects.filter(name="Partner University", depth=1).exists()

    # The logins printed work, with the roles described.
    User = get_user_model()
    for username in ("admin", "editor", "instructor", "learner1", "learner2"):
        assert f"{username} / {username}" in first_output
        assert User.objects.get(username=username).check_password(username)
    assert User.objects.get(username="admin").is_superuser
    editor = User.objects.get(username="editor")
    assert not editor.is_superuser
    assert editor.has_perm("wagtailadmin.access_admin")
    assert editor.has_perm("wagtail_lti.add_ltiprovider")
    assert editor.has_perm("wagtail_lti.change_ltiresourcelink")
    assert list(
        OrganizationMembership.objects.filter(user=editor).values_list("organization__name", "role")
    ) == [("Engineering", OrganizationMembership.Role.MANAGER)]

    from wagtail_lti.scoping import managed_organizations

    assert [o.name for o in managed_organizations(editor)] == ["Engineering"]
    assert "http://127.0.0.1:8000/" in first_output
    assert "http://127.0.0.1:8000/admin/" in first_output


@pytest.mark.django_db
def test_demo_site_serves_home_page_admin_login_and_editor_logs_in(client):
    load()
    response = client.get("/")
    assert response.status_code == 200
    assert b"Wagtail LTI example" in response.content
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert client.login(username="editor", password="editor")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_demo_course_with_activities_and_enrollments_when_the_parts_exist(client):
    """Course page, providers, links and enrollments (they need the course and demo tool apps)."""
    try:
        CoursePage = apps.get_model("courses", "CoursePage")
    except LookupError:
        pytest.skip("no CoursePage model in the example site")
    from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink, Placement

    output = load()
    course = CoursePage.objects.get(slug="getting-started-with-lti")
    assert course.live
    assert course.course_organization.name == "Engineering"
    assert {p.lti_version for p in LtiProvider.objects.all()} == {"1.1", "1.3"}
    links = list(LtiResourceLink.objects.all())
    assert len(links) == 4
    assert {link.requires_score for link in links} == {True, False}
    assert {link.open_in for link in links} == {"embed", "window"}
    assert Placement.objects.filter(page=course).count() == 4
    assert set(Enrollment.objects.filter(course=course).values_list("user__username", "role")) == {
        ("instructor", "instructor"),
        ("learner1", "learner"),
        ("learner2", "learner"),
    }
    assert f"http://127.0.0.1:8000{course.url}" in output

    assert client.login(username="learner1", password="learner1")
    response = client.get(course.url)
    assert response.status_code == 200
    for link in links:
        assert link.name.encode() in response.content


@pytest.mark.django_db
def test_bad_url_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="absolute"):
        load("127.0.0.1:8000")
