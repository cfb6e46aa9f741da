"""Security review: course pages and their organization, and what editors see of other
organizations.

Editors have Wagtail's add/change/publish/bulk-delete permissions on the whole site (as in the
demo data), so Wagtail lets each of them open every course page. Alice manages Engineering, Sam
manages Sales, Bob manages both. The rule (``wagtail_lti.courses.lti_changes``): changing the LTI
part of a course (organization, activity blocks) takes managing its current and its new
organization; copying a course creates one of its organization, deleting one removes its roster.
"""

from __future__ import annotations

import pytest
from courses.models import CoursePage
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import GroupPagePermission, Page
from wagtail.test.utils.form_data import nested_form_data

from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    site_root,
)
from wagtail_lti import scoping
from wagtail_lti.courses.lti_changes import (
    copy_refusal,
    course_lti_state,
    delete_refusal,
    lti_change_refusal,
    may_change_course_lti,
)
from wagtail_lti.models import Enrollment, LineItem, LtiProvider, LtiResourceLink, Placement


pytestmark = pytest.mark.django_db

RESULTS = "wagtail_lti_results_report"
ENROLLMENTS = "wagtail_lti_enrollments:index"


@pytest.fixture
def people(make_editor, orgs):
    alice = make_editor("alice", orgs["engineering"])
    sam = make_editor("sam", orgs["sales"])
    bob = make_editor("bob", orgs["engineering"], orgs["sales"])
    group = Group.objects.get(name="LTI editors")
    for permission_type in ("add", "change", "publish", "bulk_delete"):
        GroupPagePermission.objects.create(
            group=group, page=site_root(), permission_type=permission_type
        )
    return {"alice": alice, "sam": sam, "bob": bob}


@pytest.fixture
def sales(orgs):
    """A published Sales course with one learner, and an Engineering link of Alice's own."""
    sales_tool = make_provider(orgs["sales"], name="Sales tool", key="sales-key")
    link = make_link(sales_tool, name="Pitch practice", requires_score=True)
    course = make_course(orgs["sales"], [(link, "Week 1")], title="Sales onboarding")
    learner = make_learner("kim", first_name="Kim", email="kim@sales.example.com")
    enroll(learner, course)
    eng_tool = make_provider(orgs["engineering"], name="Eng tool", key="eng-key")
    eng_link = make_link(eng_tool, name="Eng quiz")
    return {"course": course, "link": link, "learner": learner, "eng_link": eng_link}


def _messages(response) -> list[str]:
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


def edit_data(page, *, organization=None, blocks=None, title=None, publish=True) -> dict:
    """The edit form as the admin submits it: each kept block with its id."""
    if blocks is None:
        blocks = [
            (child.id, child.value["resource_link"].pk, child.value["title"]) for child in page.body
        ]
    body = {
        str(index): {
            "type": "lti_activity",
            "id": block_id or "",
            "value": {"resource_link": link_id, "title": block_title},
            "deleted": "",
            "order": str(index),
        }
        for index, (block_id, link_id, block_title) in enumerate(blocks)
    }
    body["count"] = str(len(blocks))
    organization = organization if organization is not None else page.course_organization
    data = nested_form_data(
        {
            "title": title or page.title,
            "slug": page.slug,
            "course_organization": organization.pk,
            "course_code": page.course_code,
            "body": body,
        }
    )
    if publish:
        data["action-publish"] = "publish"
    return data


def edit(client, page, **kwargs):
    return client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]), edit_data(page, **kwargs)
    )


def sees_learner(client, learner) -> bool:
    report = client.get(reverse(RESULTS)).content.decode()
    listing = client.get(reverse(ENROLLMENTS)).content.decode()
    return learner.email in report or learner.username in listing


# --- The rule --------------------------------------------------------------------------------------


def test_rule_unchanged_lti_part_is_anyones_page_edit(people, sales, orgs):
    state = course_lti_state(sales["course"])
    assert state.organization_id == orgs["sales"].pk and len(state.activities) == 1
    assert may_change_course_lti(people["alice"], state, state)


def test_rule_changing_the_organization_takes_managing_both(people, sales, orgs, superuser):
    course = sales["course"]
    old = course_lti_state(course)
    new = course_lti_state(course, {"course_organization": orgs["engineering"], "body": []})
    assert not may_change_course_lti(people["alice"], old, new)  # manages only the new one
    assert not may_change_course_lti(people["sam"], old, new)  # manages only the old one
    assert may_change_course_lti(people["bob"], old, new)
    assert may_change_course_lti(superuser, old, new)
    assert lti_change_refusal(people["alice"], old, new) == (
        "This course belongs to “Sales”, which you don't manage: you can't change its "
        "organization or its LTI activities."
    )
    assert lti_change_refusal(people["sam"], old, new) == (
        "You don't manage “Engineering”; choose an organization you manage."
    )


def test_rule_changing_activities_takes_managing_the_course_organization(people, sales):
    course = sales["course"]
    old = course_lti_state(course)
    assert not may_change_course_lti(people["alice"], old, course_lti_state(course, {"body": []}))
    assert may_change_course_lti(people["sam"], old, course_lti_state(course, {"body": []}))


def test_rule_creating_copying_and_deleting_courses(people, sales):
    course = sales["course"]
    state = course_lti_state(course)
    assert not may_change_course_lti(people["alice"], None, state)  # a new course of Sales
    assert not may_change_course_lti(people["alice"], state, None)  # deleting it
    assert may_change_course_lti(people["sam"], None, state)
    assert may_change_course_lti(people["sam"], state, None)
    assert copy_refusal(people["alice"], course, with_descendants=False)
    assert copy_refusal(people["sam"], course, with_descendants=False) is None
    assert delete_refusal(people["alice"], course)
    assert delete_refusal(people["alice"], site_root())  # the course is below it
    assert delete_refusal(people["sam"], course) is None


# --- Doors: page edit, revert, copy, move, delete ----------------------------------------------------


def test_editor_cannot_pull_another_organizations_course_into_their_own(
    client, people, sales, orgs
):
    """The finding: Alice removes the activities, sets Engineering and publishes."""
    client.force_login(people["alice"])
    course = sales["course"]
    response = edit(client, course, organization=orgs["engineering"], blocks=[])
    assert response.status_code == 200
    assert response.context["form"].errors["course_organization"] == [
        "This course belongs to “Sales”, which you don't manage: you can't change its "
        "organization or its LTI activities."
    ]
    course.refresh_from_db()
    assert course.course_organization == orgs["sales"]
    assert course.revisions.count() == 1  # nothing recorded, not even a draft
    assert len(course.body) == 1
    assert Placement.objects.filter(page=course, is_active=True).count() == 1
    assert not sees_learner(client, sales["learner"])


def test_editor_cannot_change_another_organizations_activities(client, people, sales):
    client.force_login(people["alice"])
    course = sales["course"]
    (block,) = course.body
    for blocks in (
        [],
        [(block.id, sales["eng_link"].pk, "Week 1")],
        [(block.id, sales["link"].pk, "Renamed")],
    ):
        response = edit(client, course, blocks=blocks)
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [
            "This course belongs to “Sales”, which you don't manage: you can't change its "
            "organization or its LTI activities."
        ]
    course.refresh_from_db()
    assert course.revisions.count() == 1


def test_editor_may_still_edit_the_rest_of_another_organizations_course(client, people, sales):
    """Wagtail's page permissions govern the page content; the LTI part is submitted unchanged."""
    client.force_login(people["alice"])
    response = edit(client, sales["course"], title="Sales onboarding (2027)")
    assert response.status_code == 302
    course = CoursePage.objects.get(pk=sales["course"].pk)
    assert course.title == "Sales onboarding (2027)"
    assert course.course_organization.name == "Sales"


def test_managers_of_the_course_organization_change_it(client, people, sales, orgs):
    client.force_login(people["sam"])
    assert edit(client, sales["course"], blocks=[]).status_code == 302
    client.force_login(people["bob"])
    course = CoursePage.objects.get(pk=sales["course"].pk)
    assert edit(client, course, organization=orgs["engineering"]).status_code == 302
    course.refresh_from_db()
    assert course.course_organization == orgs["engineering"]


def test_revert_to_a_revision_of_the_editors_organization_is_refused(client, people, sales, orgs):
    """The course was Engineering's; Bob moved it to Sales. Alice reverts to the old revision:
    the form shows that revision, but the change is judged against the course as it is now."""
    course = sales["course"]
    client.force_login(people["bob"])
    assert edit(client, course, organization=orgs["engineering"], blocks=[]).status_code == 302
    old_revision = CoursePage.objects.get(pk=course.pk).latest_revision
    course = CoursePage.objects.get(pk=course.pk)
    assert edit(client, course, organization=orgs["sales"]).status_code == 302

    client.force_login(people["alice"])
    revert = reverse("wagtailadmin_pages:revisions_revert", args=[course.pk, old_revision.pk])
    assert client.get(revert).status_code == 200
    data = edit_data(old_revision.as_object())
    response = client.post(revert, data)
    assert response.status_code == 200
    assert "which you don't manage" in response.context["form"].errors["course_organization"][0]
    course = CoursePage.objects.get(pk=course.pk)
    assert course.course_organization == orgs["sales"]
    assert course.get_latest_revision_as_object().course_organization == orgs["sales"]
    assert not sees_learner(client, sales["learner"])


def test_copy_of_another_organizations_course_is_refused(client, people, sales):
    client.force_login(people["alice"])
    course = sales["course"]
    url = reverse("wagtailadmin_pages:copy", args=[course.pk])
    data = {
        "new_title": "My onboarding",
        "new_slug": "my-onboarding",
        "new_parent_page": site_root().pk,
        "publish_copies": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert _messages(response) == [
        "“Sales onboarding” can't be copied: the course “Sales onboarding” belongs to an "
        "organization you don't manage."
    ]
    assert not Page.objects.filter(slug="my-onboarding").exists()
    assert client.get(url).status_code == 302  # the form isn't offered either

    client.force_login(people["sam"])
    assert client.post(url, data).status_code == 302
    copy = CoursePage.objects.get(slug="my-onboarding")
    assert copy.course_organization.name == "Sales"


def test_copy_of_a_page_with_foreign_courses_below_is_refused_with_its_subpages(
    client, people, sales, orgs
):
    from courses.models import HomePage

    section = site_root().add_child(instance=HomePage(title="Section", slug="section"))
    make_course(orgs["sales"], [sales["link"]], title="Sales 2", parent=section)
    client.force_login(people["alice"])
    url = reverse("wagtailadmin_pages:copy", args=[section.pk])
    data = {"new_title": "Mine", "new_slug": "mine", "new_parent_page": site_root().pk}
    response = client.post(url, {**data, "copy_subpages": "on"})
    assert response.status_code == 302
    assert "can't be copied" in _messages(response)[0]
    assert not Page.objects.filter(slug="mine").exists()
    # Without its subpages the copy creates no course: Wagtail's permissions decide.
    assert client.post(url, data).status_code == 302
    assert Page.objects.filter(slug="mine").exists()


def test_moving_a_course_changes_nothing_of_its_lti_part(client, people, sales, orgs):
    """Moving is Wagtail's business: the organization is a field, not a place in the tree."""
    from courses.models import HomePage

    section = site_root().add_child(instance=HomePage(title="Engineering area", slug="eng"))
    client.force_login(people["alice"])
    course = sales["course"]
    url = reverse("wagtailadmin_pages:move_confirm", args=[course.pk, section.pk])
    assert client.post(url).status_code == 302
    course = CoursePage.objects.get(pk=course.pk)
    assert course.get_parent().pk == section.pk
    assert course.course_organization == orgs["sales"]
    assert Placement.objects.filter(page=course, is_active=True).count() == 1
    assert not sees_learner(client, sales["learner"])


def test_deleting_another_organizations_course_is_refused(client, people, sales):
    client.force_login(people["alice"])
    course = sales["course"]
    url = reverse("wagtailadmin_pages:delete", args=[course.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert _messages(response) == [
        "“Sales onboarding” can't be deleted: the course “Sales onboarding” belongs to an "
        "organization you don't manage."
    ]
    assert Page.objects.filter(pk=course.pk).exists()
    assert Enrollment.objects.filter(course=course).count() == 1

    bulk = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "delete"))
    response = client.post(f"{bulk}?id={course.pk}")
    assert response.status_code == 302
    assert "can't be deleted" in _messages(response)[-1]
    assert Page.objects.filter(pk=course.pk).exists()

    client.force_login(people["sam"])
    assert client.post(url).status_code == 302
    assert not Page.objects.filter(pk=course.pk).exists()


# --- What editors see of other organizations -------------------------------------------------------


def test_rule_may_name(people, sales, orgs, superuser):
    alice = people["alice"]
    assert not scoping.may_name(alice, sales["link"])
    assert not scoping.may_name(alice, sales["link"].provider)
    assert not scoping.may_name(alice, sales["course"])
    assert not scoping.may_name(alice, Placement.objects.get(page=sales["course"]))
    assert not scoping.may_name(alice, orgs["sales"])
    assert scoping.may_name(alice, sales["eng_link"])
    assert scoping.may_name(alice, site_root())  # no course: no organization
    assert scoping.may_name(people["sam"], sales["course"])
    assert scoping.may_name(superuser, sales["link"])


def test_course_form_does_not_name_a_link_by_its_id(client, people, sales, orgs):
    client.force_login(people["alice"])
    add = reverse("wagtailadmin_pages:add", args=["courses", "coursepage", site_root().pk])
    data = nested_form_data(
        {
            "title": "Probe",
            "slug": "probe",
            "course_organization": orgs["engineering"].pk,
            "course_code": "",
            "body": {
                "0": {
                    "type": "lti_activity",
                    "value": {"resource_link": sales["link"].pk, "title": ""},
                    "deleted": "",
                    "order": "0",
                },
                "count": "1",
            },
        }
    )
    response = client.post(add, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Activity block 1: The chosen resource link is not available to Engineering."
    ]
    assert "Pitch practice" not in response.content.decode()
    assert not Page.objects.filter(slug="probe").exists()


def test_delete_refusal_counts_other_organizations_courses(client, people, sales, orgs):
    """Alice's link, shared with Sales and used on the Sales course; Alice's provider with a
    gradebook column in it: the Sales course is counted, never named."""
    client.force_login(people["alice"])
    shared = make_link(sales["eng_link"].provider, name="Shared quiz", available_to=[orgs["sales"]])
    Placement.objects.create(page=sales["course"], block_id="shared", resource_link=shared)
    LineItem.objects.create(provider=shared.provider, course=sales["course"], label="Final exam")
    for model, record in ((LtiResourceLink, shared), (LtiProvider, shared.provider)):
        url = reverse(model.snippet_viewset.get_url_name("delete"), args=[record.pk])
        page = client.get(url).content.decode()
        assert "Sales onboarding" not in page and "Final exam" not in page
        assert "of an organization you do not manage" in page or (
            "of organizations you do not manage" in page
        )
        response = client.post(url)
        assert response.status_code == 200
        (message,) = _messages(response)
        assert "Sales onboarding" not in message and "Final exam" not in message
        assert model.objects.filter(pk=record.pk).exists()
