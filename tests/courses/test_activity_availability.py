"""Whether an activity can be launched now: one rule (``launch.rules.availability_refusal``) for
the course page (no launch button, the reason instead) and the launch (refused with the same
reason). Also the launch button's accessible name."""

from __future__ import annotations

import re

import pytest

from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of
from wagtail_lti.launch.rules import availability_refusal
from wagtail_lti.models import LearnerActivity, LtiProvider


pytestmark = pytest.mark.django_db

DISABLED = "The tool behind this activity has been disabled"
WAITING = "a new registration is waiting for review"
INCOMPLETE = "not fully set up"


def activity_html(client, page) -> str:
    response = client.get(page.url)
    assert response.status_code == 200
    match = re.search(r'<section class="lti-activity.*?</section>', response.content.decode(), re.S)
    assert match
    return match.group(0)


def launch_refusal(client, placement) -> str:
    response = client.post(f"/lti/launch/{placement.lti_id}/")
    html = response.content.decode()
    assert response.status_code == 403, html
    assert "oauth_signature" not in html
    assert not LearnerActivity.objects.filter(placement=placement).exists()
    return html


# --- The rule -----------------------------------------------------------------------------------


def refusal_code(provider, *, link_usable=True, provider_usable=True):
    refusal = availability_refusal(
        "Quiz",
        "Engineering",
        link_usable=link_usable,
        provider_usable=provider_usable,
        provider=provider,
    )
    return refusal.code if refusal is not None else None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, None),
        ({"is_enabled": False}, "provider_disabled"),
        ({"is_enabled": False, "awaiting_review": True}, "provider_awaiting_review"),
        ({"consumer_key": ""}, "provider_incomplete"),
        ({"secret_encrypted": ""}, "provider_incomplete"),
        ({"lti_version": "1.3", "consumer_key": ""}, None),
    ],
)
def test_rule_for_each_provider_state(orgs, fields, code):
    provider = make_provider(orgs["acme"])
    for name, value in fields.items():
        setattr(provider, name, value)
    assert refusal_code(provider) == code


def test_rule_checks_availability_before_the_provider(orgs):
    provider = make_provider(orgs["acme"], is_enabled=False)
    assert refusal_code(provider, link_usable=False) == "link_unavailable"
    assert refusal_code(provider, provider_usable=False) == "provider_unavailable"


# --- The doors: the course page and the launch ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"is_enabled": False}, DISABLED),
        ({"is_enabled": False, "awaiting_review": True}, WAITING),
        ({"secret": None}, INCOMPLETE),
    ],
)
def test_course_page_shows_the_launch_refusal_instead_of_a_launch(
    client, orgs, learner, fields, reason
):
    provider = make_provider(orgs["engineering"], **fields)
    page = make_course(orgs["engineering"], [make_link(provider)])
    enroll(learner, page)
    client.force_login(learner)

    html = activity_html(client, page)

    assert "lti-activity--unavailable" in html
    assert reason in html
    assert "/lti/launch/" not in html and "<button" not in html
    # The launch says the same, from the same rule, and records nothing.
    assert reason in launch_refusal(client, placements_of(page)[0])


def test_switching_the_provider_back_on_offers_the_launch_again(client, orgs, learner):
    provider = make_provider(orgs["engineering"], is_enabled=False)
    page = make_course(orgs["engineering"], [make_link(provider)])
    enroll(learner, page)
    client.force_login(learner)
    assert DISABLED in activity_html(client, page)

    provider.is_enabled = True
    provider.save()
    html = activity_html(client, page)
    assert "lti-activity--ready" in html and DISABLED not in html


def test_a_started_activity_of_a_disabled_tool_keeps_its_status(client, orgs, learner):
    provider = make_provider(orgs["engineering"])
    page = make_course(orgs["engineering"], [make_link(provider)])
    enroll(learner, page)
    LearnerActivity.objects.create(
        placement=placements_of(page)[0], user=learner, status="completed", score=0.5
    )
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)
    client.force_login(learner)
    html = activity_html(client, page)
    assert "Completed" in html and "50%" in html and DISABLED in html


# --- The launch button's accessible name ----------------------------------------------------------


@pytest.mark.parametrize("open_in", ["embed", "window"])
def test_launch_button_names_its_activity(client, orgs, learner, open_in):
    provider = make_provider(orgs["engineering"])
    link = make_link(provider, name="Fire <safety> quiz", open_in=open_in)
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page)
    client.force_login(learner)

    html = activity_html(client, page)
    # The launch button (an embedded activity's frame has its own control buttons too).
    (button,) = [b for b in re.findall(r"<button.*?</button>", html, re.S) if "Start activity" in b]
    visible = re.sub(r'<span class="lti-visually-hidden">.*?</span>', "", button)
    assert "Start activity" in visible and "Fire" not in visible
    assert '<span class="lti-visually-hidden">: Fire &lt;safety&gt; quiz' in button
