"""An editor adds resource links by choosing content in an LTI 1.3 tool (Deep Linking 2.0), in
Chromium.

The tool is PyLTI1p3 on the live server (``tests/tooling/deep_linking_tool.py``): it validates
our ``LtiDeepLinkingRequest`` against our JWKS, lists its catalogue, and posts the signed
``LtiDeepLinkingResponse`` (PyLTI1p3's ``output_response_form``) back to our return URL.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.factories import make_provider


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_editor_adds_resource_links_chosen_in_the_tool(
    page, live_server, orgs, make_editor, deep_linking_tool, login, shot
):
    from wagtail_lti.models import LtiResourceLink

    provider = make_provider(
        orgs["acme"],
        name="Safety content tool",
        version="1.3",
        key="",
        login_url=deep_linking_tool.login_url,
        launch_url=deep_linking_tool.launch_url,
        redirect_uris=deep_linking_tool.launch_url,
        public_key_pem=deep_linking_tool.public_pem,
    )
    state = deep_linking_tool.register(provider)
    make_editor("alice", orgs["acme"])

    login(page, live_server, "alice", next="/admin/snippets/wagtail_lti/ltiresourcelink/")
    page.get_by_role("link", name="Add from a tool").click()
    expect(page.get_by_role("heading", name="Add resource links from a tool")).to_be_visible()
    page.select_option("select[name=provider]", label="Safety content tool (LTI 1.3)")
    shot(page, "deep-linking-start")
    page.get_by_role("button", name="Select content from the tool").click()

    # The tool's catalogue, reached through the OIDC login.
    expect(page.locator("#tool-request")).to_contain_text("Add resource links for Acme")
    assert state.errors == []
    page.get_by_label("Fire safety quiz").check()
    page.get_by_label("Ladder safety checklist").check()
    shot(page, "deep-linking-tool")
    page.locator("#tool-add").click()

    # Back in the admin: what was added.
    table = page.locator("#wagtail-lti-added-links")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Fire safety quiz")
    expect(table).to_contain_text("Yes, out of 10")
    shot(page, "deep-linking-result")

    quiz = LtiResourceLink.objects.get(name="Fire safety quiz")
    assert quiz.organization == orgs["acme"] and quiz.provider == provider
    assert quiz.url == f"{live_server.url}/dl-tool/content/fire-quiz/"
    assert quiz.custom_parameters == "custom_item=fire-quiz"
    assert quiz.requires_score and quiz.score_maximum == 10
    assert LtiResourceLink.objects.count() == 2

    table.get_by_role("link", name="Fire safety quiz").click()
    expect(page.locator("input[name=name]")).to_have_value("Fire safety quiz")
