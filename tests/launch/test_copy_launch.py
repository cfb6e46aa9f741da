"""A copied course launches, and its tools find the original's settings through the history.

The course is copied through Wagtail's admin Copy view (the door), a learner is enrolled in the
copy, and launches. LTI 1.3: PyLTI1p3 is the tool (it validates the id_token against our JWKS);
LTI 1.1: the ``lti`` package's ``ToolProvider`` and oauthlib verify the signed form.

LTI Core 1.3, custom property substitution (#customproperty): ``$ResourceLink.id.history`` / ``$Context.id.history`` are the ids of
the copies' ancestors, most recent first, comma-separated; LTI Core 1.3 §5.4.1 and §5.4.2: the
resource link and context claims carry the copy's own (new) ids.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.models import Page

from tests.launch.test_lti11_launch import launched_form, verified_params
from tests.launch.test_lti13_launch import full_launch, tool_keys, world  # noqa: F401
from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
    site_root,
)
from wagtail_lti.lti.lti13 import AGS_ENDPOINT_CLAIM, LTI_CLAIM
from wagtail_lti.models import Enrollment, LineItem
from wagtail_lti.security.identifiers import context_id


pytestmark = pytest.mark.django_db

HISTORY_PARAMETERS = (
    "custom_link_history=$ResourceLink.id.history\ncustom_context_history=$Context.id.history"
)


def admin_copy(course, slug: str):
    """An administrator copies ``course`` with Wagtail's Copy view (published copy)."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(is_superuser=True).first()
    admin = admin or get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("wagtailadmin_pages:copy", args=[course.pk]),
        {
            "new_title": f"{course.title} (next term)",
            "new_slug": slug,
            "new_parent_page": site_root().pk,
            "publish_copies": "on",
        },
    )
    assert response.status_code == 302
    return Page.objects.get(slug=slug).specific


def test_lti13_tool_finds_its_settings_again_in_the_copy(world):  # noqa: F811
    world.link.custom_parameters = "custom_level=beginner\n" + HISTORY_PARAMETERS
    world.link.save()

    # The tool keys its settings by the resource link id it is launched with.
    tool_settings: dict[str, str] = {}
    _init, _form, launch = full_launch(world)
    first = launch.get_launch_data()
    original_link_id = first[LTI_CLAIM + "resource_link"]["id"]
    assert first[LTI_CLAIM + "custom"]["link_history"] == ""  # not a copy: an empty value
    assert first[LTI_CLAIM + "custom"]["context_history"] == ""
    tool_settings[original_link_id] = "quiz #42, 3 attempts"

    copy = admin_copy(world.course, "safety-next-term")
    placement = placements_of(copy)[0]
    enroll(world.learner, copy, role=Enrollment.Role.LEARNER)
    in_copy = dataclasses.replace(world, course=copy, placement=placement)
    _init, _form, launch = full_launch(in_copy)
    data = launch.get_launch_data()

    # New ids (a new context, a new resource link) ...
    assert data[LTI_CLAIM + "resource_link"]["id"] == placement.lti_id != original_link_id
    assert data[LTI_CLAIM + "context"]["id"] == context_id(copy) != context_id(world.course)
    # ... and the history that leads back to the original.
    custom = data[LTI_CLAIM + "custom"]
    assert custom["link_history"] == original_link_id
    assert custom["context_history"] == first[LTI_CLAIM + "context"]["id"]
    found = next(
        tool_settings[link_id]
        for link_id in [data[LTI_CLAIM + "resource_link"]["id"], *custom["link_history"].split(",")]
        if link_id in tool_settings
    )
    assert found == "quiz #42, 3 attempts"
    # Scores of the copy go to the copy's own line item.
    item = LineItem.objects.get(placement=placement)
    assert item.course_id == copy.pk
    assert data[AGS_ENDPOINT_CLAIM]["lineitem"].endswith(f"/{item.pk}")


def test_lti11_launch_in_a_copy_of_a_copy_carries_the_history(client, orgs):
    provider = make_provider(orgs["acme"], custom_parameters=HISTORY_PARAMETERS)
    link = make_link(provider, requires_score=True)
    course = make_course(orgs["engineering"], [link], title="Chemistry")
    second = admin_copy(course, "chemistry-2")
    third = admin_copy(second, "chemistry-3")
    learner = make_learner("lou")
    enroll(learner, third)

    params = verified_params(launched_form(client, learner, placements_of(third)[0]))

    p1, p2, p3 = (placements_of(page)[0] for page in (course, second, third))
    assert params["resource_link_id"] == p3.lti_id
    assert params["context_id"] == context_id(third)
    assert params["custom_link_history"] == f"{p2.lti_id},{p1.lti_id}"
    assert params["custom_context_history"] == f"{context_id(second)},{context_id(course)}"
    # The learner was enrolled in the copy only: the original's roster is untouched.
    assert not course.lti_enrollments.exists() and not second.lti_enrollments.exists()


def test_a_learner_of_the_original_cannot_launch_in_the_copy(client, orgs, course, learner):
    """No enrollment is copied: the copy's roster starts empty."""
    enroll(learner, course)
    copy = admin_copy(course, "copy-without-roster")
    client.force_login(learner)
    response = client.post(f"/lti/launch/{placements_of(copy)[0].lti_id}/")
    assert response.status_code == 403
