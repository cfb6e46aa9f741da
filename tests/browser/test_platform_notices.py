"""An editor tests a tool's notice handler in Chromium (LTI Platform Notification Service 1.0).

The tool registered a handler for ``LtiHelloWorldNotice``; the editor opens the provider, follows
"Notices sent and a test notice", presses "Send a test notice" and reads the tool's answer. The
handler is a local HTTP server that checks the notice JWT with the platform's published JWKS and
answers with what it read. Delivery runs on the immediate task backend here (the worker's
database backend is exercised in tests/services/test_notices.py).

Screenshots (test-artifacts/screenshots/): notices-provider-panel, notices-test-notice-answer.
"""

from __future__ import annotations

import json

import jwt
import pytest
from django.test import Client
from django.urls import reverse
from jwt import PyJWKSet
from playwright.sync_api import expect

from tests.services.test_notices import IMMEDIATE, handler_server  # noqa: F401 - fixture
from tests.support.lti13 import make_tool
from wagtail_lti.models import NoticeDelivery
from wagtail_lti.services import notices as service


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_sends_a_test_notice_and_reads_the_tools_answer(
    page,
    live_server,
    login,
    shot,
    orgs,
    make_editor,
    handler_server,  # noqa: F811
    settings,
):
    settings.TASKS = IMMEDIATE
    tool = make_tool(orgs["acme"], name="Notice tool")
    service.set_handler(tool.provider, "LtiHelloWorldNotice", handler_server.url)
    make_editor("alice", orgs["acme"])
    keys = PyJWKSet.from_dict(Client().get(reverse("wagtail_lti:lti13_jwks")).json())

    def answer(body: bytes) -> bytes:
        token = json.loads(body)["notices"][0]["jwt"]
        kid = jwt.get_unverified_header(token)["kid"]
        claims = jwt.decode(
            token, keys[kid].key, algorithms=["RS256"], audience=tool.provider.client_id
        )
        notice = claims["https://purl.imsglobal.org/spec/lti/claim/notice"]
        return json.dumps(
            {"received": notice["type"], "verified_with_platform_jwks": True}
        ).encode()

    handler_server.respond = answer

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiprovider/edit/{tool.provider.pk}/")
    panel = page.locator(".wagtail-lti-notices-panel")
    expect(panel).to_contain_text("LtiHelloWorldNotice")
    panel.scroll_into_view_if_needed()
    shot(page, "notices-provider-panel")
    panel.get_by_role("link", name="Notices sent and a test notice").click()

    expect(page.get_by_role("heading", name="Platform notices")).to_be_visible()
    page.get_by_role("button", name="Send a test notice").click()
    expect(page.locator("[data-notice-answer]")).to_contain_text(
        '"verified_with_platform_jwks": true'
    )
    expect(page.locator("[data-notice-status]").first).to_contain_text("Delivered")
    shot(page, "notices-test-notice-answer")
    delivery = NoticeDelivery.objects.get()
    assert delivery.status == NoticeDelivery.Status.DELIVERED
    assert len(handler_server.bodies) == 1
