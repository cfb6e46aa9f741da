"""LTI platform storage in Chromium (LTI Client Side postMessages ``lti-cs-pm`` and Platform
Storage ``lti-pm-s`` v0.1; checklist pitfall 2).

The platform is the live server under ``127.0.0.1``, the tool the same server under ``localhost``:
two origins and two sites, like a real tool. A learner launches the storage test tool
(``tests/tooling/storage_tool.py``, PyLTI1p3 validating the launch) in the activity's iframe; the
tool's page talks to ``window.parent`` with postMessage and stores and reads values. A page of the
platform's origin in the activity frame, and a tool page in a frame that is not an activity frame,
get no answer and change nothing.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "wagtail-lti-storage|"


def results_of(frame) -> dict:
    expect(frame.locator("#results[data-done='1']")).to_be_attached(timeout=20_000)
    return json.loads(frame.locator("#results").text_content())


def platform_storage(page) -> dict:
    return page.evaluate(
        """prefix => Object.fromEntries(Object.keys(sessionStorage)
            .filter(k => k.startsWith(prefix)).map(k => [k, sessionStorage.getItem(k)]))""",
        PREFIX,
    )


def test_tool_in_the_activity_frame_stores_and_reads_values(
    page, live_server, orgs, storage_tool, learner_login, shot
):
    platform = live_server.url.replace("localhost", "127.0.0.1")
    tool_origin = live_server.url
    assert platform != tool_origin
    provider = make_provider(
        orgs["acme"],
        name="Storage tool",
        version="1.3",
        key="",
        login_url=storage_tool.login_url,
        launch_url=storage_tool.launch_url,
        redirect_uris=storage_tool.launch_url,
        public_key_pem=storage_tool.public_pem,
    )
    link = make_link(provider, name="Stateful quiz", url=storage_tool.launch_url)
    course = make_course(orgs["acme"], [link], title="Storage", code="ST-1")
    learner = make_learner("stella", first_name="Stella", last_name="Store")
    enroll(learner, course)
    state = storage_tool.register(provider, issuer=platform)

    learner_login(page, SimpleNamespace(url=platform), "stella", next=course.url)
    page.goto(platform + course.url)
    iframe = page.locator(".lti-activity__frame iframe")
    assert iframe.get_attribute("data-lti-tool-origins") == tool_origin
    page.locator("[data-lti-activity] form.lti-activity__launch button").click()
    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-launched")).to_be_visible(timeout=20_000)
    results = results_of(frame)
    shot(page, "platform-storage-tool")
    assert state.errors == []

    # The login initiation named the window to talk to.
    assert storage_tool.logins[-1]["lti_storage_target"] == "_parent"

    capabilities = results["capabilities"]
    assert capabilities["subject"] == "lti.capabilities.response"
    assert {m["subject"] for m in capabilities["supported_messages"]} >= {
        "lti.get_data",
        "lti.put_data",
    }
    assert all("frame" not in m for m in capabilities["supported_messages"])
    assert results["put"] == {
        "subject": "lti.put_data.response",
        "message_id": results["put"]["message_id"],
        "key": "state",
        "value": "st-4711",
    }
    assert results["get"]["subject"] == "lti.get_data.response"
    assert results["get"]["value"] == "st-4711"
    assert results["legacy_put"]["subject"] == "org.imsglobal.lti.put_data.response"
    assert results["legacy_get"]["subject"] == "org.imsglobal.lti.get_data.response"
    assert results["legacy_get"]["value"] == "n-42"
    assert results["missing"]["value"] is None
    assert results["unsupported"]["error"]["code"] == "unsupported_subject"
    assert results["unsupported"]["subject"] == "lti.frobnicate.response"
    assert results["too_big"]["error"]["code"] == "storage_exhausted"
    assert results["no_key"]["error"]["code"] == "bad_request"

    # Kept in the course page's sessionStorage, namespaced by the tool's origin.
    assert platform_storage(page) == {
        f"{PREFIX}{tool_origin}|state": "st-4711",
        f"{PREFIX}{tool_origin}|nonce": "n-42",
    }

    # A tool page in a frame that is not an activity frame: no answer, nothing stored.
    page.evaluate(
        """url => { const f = document.createElement("iframe");
                   f.id = "stranger"; f.src = url; document.body.appendChild(f); }""",
        f"{storage_tool.probe_url}?platform={platform}",
    )
    stranger = results_of(page.frame_locator("#stranger"))
    assert stranger == {"put": {"timeout": True}, "get": {"timeout": True}}

    # A page of another origin (the platform's own) in the activity frame: no answer either.
    probe_elsewhere = storage_tool.probe_url.replace("localhost", "127.0.0.1")
    iframe.evaluate("(f, url) => { f.src = url; }", f"{probe_elsewhere}?platform={platform}")
    activity_frame = page.frame_locator(".lti-activity__frame iframe")
    expect(activity_frame.locator("h1")).to_have_text("Storage probe")
    other_origin = results_of(activity_frame)
    assert other_origin == {"put": {"timeout": True}, "get": {"timeout": True}}
    shot(page, "platform-storage-refused")

    assert platform_storage(page) == {
        f"{PREFIX}{tool_origin}|state": "st-4711",
        f"{PREFIX}{tool_origin}|nonce": "n-42",
    }
