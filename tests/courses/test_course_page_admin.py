"""Editing course pages in the admin: the page form's server-side checks.

The resource-link chooser is a convenience; a crafted POST can name any link. The course page
form refuses, on save, a link (or its provider) the course's organization may not use, naming the
block, and an organization the editor does not manage.
"""

from __future__ import annotations

import pytest
from courses.models import CoursePage
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import GroupPagePermission
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.support.factories import make_link, make_provider, site_root
from wagtail_lti.models import Placement


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_editor, orgs):
    """Manages Engineering (and its Platform team); may add and publish pages under the root."""
    user = make_editor("alice", orgs["engineering"])
    group = Group.objects.get(name="LTI editors")
    for permission_type in ("add", "change", "publish"):
        GroupPagePermission.objects.create(
            group=group, page=site_root(), permission_type=permission_type
        )
    return user


@pytest.fixture
def catalogue(orgs):
    acme_tool = make_provider(orgs["acme"], name="Acme tool")
    partner_tool = make_provider(orgs["partner"], name="Partner tool")
    return {
        # Owned by Acme: usable by Engineering (a sub-organization).
        "usable": make_link(acme_tool, name="Acme quiz"),
        # Owned by Partner Co, not shared: not usable by Engineering.
        "foreign": make_link(partner_tool, name="Partner quiz"),
        # Shared with Engineering, but its provider is not.
        "foreign_provider": make_link(
            partner_tool,
            name="Shared quiz",
            organization=orgs["partner"],
            available_to=[orgs["engineering"]],
        ),
    }


def add_url():
    return reverse("wagtailadmin_pages:add", args=["courses", "coursepage", site_root().pk])


def post_course(client, organization, blocks, *, title="Safety", publish=True):
    body = []
    for block in blocks:
        if isinstance(block, str):
            body.append(("paragraph", rich_text(block)))
        else:
            link, title_override = block if isinstance(block, tuple) else (block, "")
            body.append(("lti_activity", {"resource_link": link.pk, "title": title_override}))
    data = nested_form_data(
        {
            "title": title,
            "slug": "safety",
            "course_organization": organization.pk if organization else "",
            "course_code": "SAF-1",
            "body": streamfield(body),
        }
    )
    if publish:
        data["action-publish"] = "publish"
    return client.post(add_url(), data)


def test_add_form_renders_with_the_link_chooser_filtered_by_the_course_organization(
    client, alice, catalogue
):
    client.force_login(alice)
    response = client.get(add_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="course_organization"' in html
    # The chooser of the activity block asks for the links the chosen organization may use.
    assert "linkedFields" in html and "#id_course_organization" in html


def test_usable_link_is_saved_and_placed_on_publish(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(client, orgs["engineering"], ["Intro", catalogue["usable"]])
    assert response.status_code == 302, response.context["form"].errors
    page = CoursePage.objects.get(slug="safety")
    assert page.course_organization == orgs["engineering"]
    (placement,) = Placement.objects.filter(page=page)
    assert placement.resource_link == catalogue["usable"]


def test_unusable_link_is_refused_and_the_error_names_the_block(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(
        client,
        orgs["engineering"],
        ["Intro", catalogue["usable"], (catalogue["foreign"], "Week 2 quiz")],
    )
    assert response.status_code == 200
    form = response.context["form"]
    messages = form.non_field_errors()
    # Partner quiz is another organization's link Alice cannot see: it is not named.
    assert messages == [
        "Activity block 3 (“Week 2 quiz”): The chosen resource link is not available to "
        "Engineering."
    ]
    body_error = form.errors["body"].as_data()[0]
    assert set(body_error.block_errors) == {2}  # only the third block is marked
    assert "resource_link" in body_error.block_errors[2].block_errors
    assert "Partner quiz" not in response.content.decode()
    assert not CoursePage.objects.filter(slug="safety").exists()
    assert not Placement.objects.exists()


def test_link_whose_provider_is_not_usable_is_refused(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(client, orgs["engineering"], [catalogue["foreign_provider"]])
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Activity block 1 (“Shared quiz”): The LTI provider of “Shared quiz” is not available "
        "to Engineering."
    ]
    assert not CoursePage.objects.filter(slug="safety").exists()


def test_draft_save_is_checked_too(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(client, orgs["engineering"], [catalogue["foreign"]], publish=False)
    assert response.status_code == 200
    assert not CoursePage.objects.filter(slug="safety").exists()


def test_organization_the_editor_does_not_manage_is_refused(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(client, orgs["sales"], [catalogue["usable"]])
    assert response.status_code == 200
    assert response.context["form"].errors["course_organization"] == [
        "Choose an organization you manage."
    ]
    assert not CoursePage.objects.filter(slug="safety").exists()


def test_a_sub_organization_of_a_managed_one_is_accepted(client, alice, orgs, catalogue):
    client.force_login(alice)
    response = post_course(client, orgs["platform"], [catalogue["usable"]])
    assert response.status_code == 302


def test_link_usable_elsewhere_is_refused_when_the_organization_changes(
    client, alice, orgs, catalogue, make_editor
):
    """Moving a course to another organization re-checks every block against it."""
    bob = make_editor("bob", orgs["partner"], orgs["engineering"])
    client.force_login(bob)
    assert post_course(client, orgs["engineering"], [catalogue["usable"]]).status_code == 302
    page = CoursePage.objects.get(slug="safety")
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    data = nested_form_data(
        {
            "title": "Safety",
            "slug": "safety",
            "course_organization": orgs["partner"].pk,
            "course_code": "SAF-1",
            "body": streamfield(
                [("lti_activity", {"resource_link": catalogue["usable"].pk, "title": ""})]
            ),
        }
    )
    response = client.post(edit, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Activity block 1 (“Acme quiz”): “Acme quiz” is not available to Partner Co."
    ]
    page.refresh_from_db()
    assert page.course_organization == orgs["engineering"]


def test_superuser_may_use_any_organization(client, superuser, orgs, catalogue):
    client.force_login(superuser)
    response = post_course(client, orgs["partner"], [catalogue["foreign"]])
    assert response.status_code == 302
