"""What a tool says on the return URL (``lti_msg``, ``lti_errormsg``, ``lti_log``,
``lti_errorlog``: LTI 1.1 Implementation Guide §B / §4.4, LTI Core 1.3 §6.1.2) is recorded in the
launch log against the launch; a learner sees the messages, never the logs; an editor's test
launch shows everything to the editor.

The return URLs are built by the ``lti`` package's ``ToolProvider.build_return_url`` from the
launch it verified.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from lti import ToolProvider

from tests.support.factories import KEY, SECRET, enroll, placements_of
from tests.support.forms import the_form
from tests.support.oauth1 import ToolValidator
from wagtail_lti.models import LaunchLogEntry


pytestmark = pytest.mark.django_db

SAME_SITE = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe"}


def launched_tool(response) -> ToolProvider:
    form = the_form(response)
    tool = ToolProvider.from_unpacked_request(SECRET, form["fields"], form["action"], {})
    assert tool.is_valid_request(ToolValidator(key=KEY, secret=SECRET))
    return tool


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def returns():
    return LaunchLogEntry.objects.filter(action="Tool returned")


def test_a_learner_s_return_is_recorded_with_what_the_tool_said(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    tool = launched_tool(client.post(reverse("wagtail_lti:launch", args=[placement.lti_id])))
    tool.lti_errormsg = "Your attempt could not be saved."
    tool.lti_errorlog = "DB timeout on attempt 42"
    tool.lti_log = "attempt started"
    response = client.get(path_of(tool.build_return_url()))
    assert response.status_code == 302

    entry = returns().get()
    assert (entry.kind, entry.outcome, entry.is_test) == ("launch", "error", False)
    assert entry.user == learner and entry.placement == placement
    assert entry.provider == placement.resource_link.provider
    assert entry.error == "Your attempt could not be saved."
    assert entry.tool_messages == {
        "lti_errormsg": "Your attempt could not be saved.",
        "lti_errorlog": "DB timeout on attempt 42",
        "lti_log": "attempt started",
    }
    page = client.get(course.url).content.decode()
    assert "Your attempt could not be saved." in page
    assert "DB timeout" not in page and "attempt started" not in page


def test_a_message_only_return_is_an_ok_row_and_the_frame_hop_records_nothing(
    client, course, learner
):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    url = f"/lti/launch/{placement.lti_id}/return/?{urlencode({'lti_msg': 'Well done'})}"
    assert client.get(url, headers={"Sec-Fetch-Dest": "iframe"}).status_code == 200
    assert not returns().exists()
    client.get(url, headers={"Sec-Fetch-Dest": "document"})
    entry = returns().get()
    assert entry.outcome == "ok" and entry.tool_messages == {"lti_msg": "Well done"}


def test_the_launch_log_entry_shows_what_the_tool_said_to_those_who_see_the_person(
    client, course, learner, superuser
):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    client.get(
        f"/lti/launch/{placement.lti_id}/return/?"
        + urlencode({"lti_errormsg": "<b>bad</b>", "lti_errorlog": "trace 7"})
    )
    admin = Client()
    admin.force_login(superuser)
    html = admin.get(
        reverse("wagtail_lti_launch_log_entry", args=[returns().get().pk])
    ).content.decode()
    assert "data-tool-messages" in html and "trace 7" in html
    assert "&lt;b&gt;bad&lt;/b&gt;" in html and "<b>bad</b>" not in html


def test_an_unknown_placement_s_return_is_a_404_row_without_messages(client):
    assert client.get("/lti/launch/nope/return/?lti_errormsg=x").status_code == 404
    entry = LaunchLogEntry.objects.get()
    assert entry.outcome == "error" and entry.http_status == 404 and entry.tool_messages is None


def test_a_test_launch_s_return_shows_the_editor_everything_and_is_recorded_as_a_test(
    course, make_editor, orgs
):
    editor = make_editor("eddie", orgs["engineering"])
    client = Client()
    client.force_login(editor)
    (placement,) = placements_of(course)
    launch = client.get(
        reverse("wagtail_lti:test_launch") + f"?placement={placement.lti_id}&role=learner",
        headers=SAME_SITE,
    )
    tool = launched_tool(launch)
    tool.lti_errormsg = "Unknown course: please set up the context mapping."
    tool.lti_log = "context 1234 not mapped"
    response = client.get(path_of(tool.build_return_url()))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "Unknown course: please set up" in html
    assert "context 1234 not mapped" in html and "as Test learner" in html
    assert response["X-Frame-Options"] == "SAMEORIGIN"

    entry = returns().get()
    assert entry.is_test and entry.user == editor and entry.placement == placement
    assert entry.outcome == "error" and entry.error.startswith("Unknown course")
    assert entry.tool_messages["lti_log"] == "context 1234 not mapped"

    stranger = Client()
    stranger.force_login(make_editor("sally", orgs["sales"]))
    refused = stranger.get(path_of(tool.build_return_url()))
    assert refused.status_code == 403 and b"context 1234" not in refused.content


def test_a_test_launch_s_return_without_the_session_cookie_loads_itself_again(client, course):
    """The tool navigated the frame from its own site, so the Lax session cookie was not sent:
    the page loads the same URL again from this site (which sends it); still nobody signed in:
    "log in", and nothing is shown or recorded from the first hop."""
    (placement,) = placements_of(course)
    url = (
        reverse("wagtail_lti:test_launch_return")
        + f"?placement={placement.lti_id}&role=learner&lti_errormsg=secret+detail"
    )
    first = client.get(url)
    assert first.status_code == 200
    html = first.content.decode()
    assert "data-lti-follow" in html and "wagtail_lti_followed=1" in html
    assert "secret detail" not in html and not LaunchLogEntry.objects.exists()
    again = client.get(url + "&wagtail_lti_followed=1")
    assert again.status_code == 403 and b"Log in" in again.content
    assert LaunchLogEntry.objects.get().outcome == "error"
