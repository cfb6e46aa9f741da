"""Launch log rows of a Basic Outcomes score say the score (``launch_log.score_action``): the
``lti`` package's replaceResult XML signed with requests-oauthlib. Also what the log's detail
page says about a launch the platform signed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from lti import OutcomeRequest as ToolOutcomeRequest

from tests.support.lti11 import make_course_setup, send, sign_outcome
from wagtail_lti import launch_log
from wagtail_lti.models import LaunchLogEntry
from wagtail_lti.security.sourcedid import make_sourcedid


pytestmark = pytest.mark.django_db


# --- The rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "maximum", "text"),
    [
        (0.85, 1, "replaceResult: 0.85 (85%)"),
        (0, 1, "replaceResult: 0 (0%)"),
        (8, 10, "replaceResult: 8 / 10 (80%)"),
        (None, 10, "replaceResult: cleared"),
        (3, 0, "replaceResult: 3 / 0"),
    ],
)
def test_score_action(given, maximum, text):
    assert launch_log.score_action("replaceResult", given, maximum) == text


# --- The doors ----------------------------------------------------------------------------------


def last_entry(kind: str) -> LaunchLogEntry:
    return LaunchLogEntry.objects.filter(kind=kind).order_by("-pk").first()


def test_basic_outcomes_entry_shows_the_score(client, orgs):
    setup = make_course_setup(orgs)
    xml = ToolOutcomeRequest(
        {
            "operation": "replaceResult",
            "score": 0.75,
            "message_identifier": "msg-1",
            "lis_result_sourcedid": make_sourcedid(setup.placement, setup.learner),
        }
    ).generate_request_xml()

    response = send(client, sign_outcome(xml))

    assert response.status_code == 200 and b"success" in response.content
    entry = last_entry("outcomes")
    assert entry.outcome == "ok"
    assert entry.action == "replaceResult: 0.75 (75%)"


def test_a_refused_bad_score_is_logged_without_one(client, orgs):
    setup = make_course_setup(orgs)
    xml = ToolOutcomeRequest(
        {
            "operation": "replaceResult",
            "score": "7",
            "message_identifier": "msg-2",
            "lis_result_sourcedid": make_sourcedid(setup.placement, setup.learner),
        }
    ).generate_request_xml()
    response = send(client, sign_outcome(xml))
    assert b"failure" in response.content
    entry = last_entry("outcomes")
    assert entry.outcome == "error" and entry.action == "replaceResult"


def test_launch_entry_says_the_platform_signed_it(client, superuser, orgs):
    entry = launch_log.record("launch", ok=True, action="LTI 1.1 launch form signed")
    client.force_login(superuser)
    html = client.get(reverse("wagtail_lti_launch_log_entry", args=[entry.pk])).content.decode()
    assert "What the platform signed" in html and "What was sent" not in html
    assert "whether the tool received it is not known here" in html
