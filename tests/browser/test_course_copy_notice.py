"""An editor copies a course in the page explorer (Chromium); its tool receives an
``LtiContextCopyNotice`` naming the copy and the original (LTI Platform Notification Service 1.0).

The tool registered a handler for context copy notices; the handler is a local HTTP server that
checks each notice JWT with the platform's published JWKS. Delivery runs on the immediate task
backend here (the worker's database backend is exercised in tests/services/test_notices.py).

Screenshots (test-artifacts/screenshots/): notices-course-copy-form, notices-course-copied.
"""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.services.test_notices import (  # noqa: F401 - fixture
    IMMEDIATE,
    handler_server,
    received_notices,
)
from tests.support.factories import make_course, make_link
from tests.support.lti13 import make_tool
from wagtail_lti.lti import notices as protocol
from wagtail_lti.security.identifiers import context_id
from wagtail_lti.services import notices as service


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_copying_a_course_in_the_explorer_notifies_its_tool(
    page,
    live_server,
    login,
    shot,
    orgs,
    superuser,
    handler_server,  # noqa: F811
    settings,
):
    settings.TASKS = IMMEDIATE
    tool = make_tool(orgs["acme"], name="Notice tool")
    link = make_link(tool.provider, name="Fire drill quiz")
    course = make_course(orgs["acme"], [link], title="Safety at work")
    service.set_handler(tool.provider, "LtiContextCopyNotice", handler_server.url)

    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/pages/{course.get_parent().pk}/")
    page.get_by_role("button", name="More options for 'Safety at work'").click()
    page.get_by_role("link", name="Copy", exact=True).click()
    page.locator("input[name=new_title]").fill("Safety at work (next term)")
    page.locator("input[name=new_slug]").fill("safety-next-term")
    shot(page, "notices-course-copy-form")
    page.get_by_role("button", name="Copy this page").click()
    expect(page.locator(".messages")).to_contain_text("copied")
    shot(page, "notices-course-copied")

    copy = type(course.specific).objects.get(slug="safety-next-term")
    notices = received_notices(
        handler_server,
        Client(),
        audience=tool.provider.client_id,
        issuer=service.default_issuer(copy),
    )
    assert len(notices) == 1
    notice = notices[0]
    assert notice[protocol.NOTICE_CLAIM]["type"] == "LtiContextCopyNotice"
    assert notice[protocol.CONTEXT_CLAIM]["id"] == context_id(copy)
    assert notice[protocol.ORIGIN_CONTEXTS_CLAIM] == [context_id(course)]
