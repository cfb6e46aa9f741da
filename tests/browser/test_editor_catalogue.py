"""An editor follows the guide's "Create an LTI Provider" and "Create an LTI Resource Link" steps
in the real admin, in Chromium; then an editor of another organization sees neither record.

Screenshots (test-artifacts/screenshots/): catalogue-dashboard, catalogue-organization-chooser,
catalogue-provider-form-lti13, catalogue-provider-form, catalogue-provider-availability, catalogue-provider-saved,
catalogue-provider-chooser, catalogue-resource-link-form, catalogue-resource-link-availability,
catalogue-other-editor-providers, catalogue-other-editor-links.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "moodle-law-shared-secret"


@pytest.fixture
def tall_shot(shot):
    """The admin scrolls inside its own panes, so a "full page" shot is one screen: grow the
    window to the content's height for the shot, then restore it."""

    def take(page, name: str):
        size = page.viewport_size
        height = page.evaluate(
            "Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
        )
        page.set_viewport_size(
            {"width": size["width"], "height": min(max(height, size["height"]), 4000)}
        )
        try:
            return shot(page, name)
        finally:
            page.set_viewport_size(size)

    return take


def _save(page):
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")


def _choose_in_modal(page, shot, screenshot: str, choice: str):
    modal = page.locator(".modal-dialog")
    expect(modal).to_be_visible()
    expect(modal.locator("a[data-chooser-modal-choice]").first).to_be_visible()
    page.wait_for_function("getComputedStyle(document.querySelector('.modal')).opacity === '1'")
    shot(page, screenshot)
    modal.locator("a[data-chooser-modal-choice]", has_text=choice).click()
    expect(modal).to_be_hidden()


def test_editor_creates_provider_and_resource_link(
    page, live_server, orgs, make_editor, login, shot, tall_shot
):
    make_editor("alice", orgs["engineering"])  # manages one organization (and its sub-organization)
    make_editor("bob", orgs["sales"])  # manages another organization

    # From the dashboard's LTI tile, "Create LTI Provider".
    login(page, live_server, "alice")
    shot(page, "catalogue-dashboard")
    page.get_by_role("link", name="Create LTI Provider").click()
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"/ltiprovider/add/$"))

    # Name; Organization (defaults to Alice's organization; changed through "Choose").
    page.fill("#id_name", "Moodle Law")
    expect(page.locator("#id_organization-chooser")).to_contain_text("Engineering")
    chooser = page.locator("#id_organization-chooser")
    chooser.get_by_role("button", name="Actions").click()
    chooser.get_by_role("button", name="Choose another organization").click()
    _choose_in_modal(page, shot, "catalogue-organization-chooser", "Platform team")
    expect(page.locator("#id_organization-chooser")).to_contain_text("Platform team")

    # Choosing LTI 1.3 shows the tool's registration and this platform's details to copy.
    expect(page.locator("#id_lti_version_0")).to_be_checked()
    expect(page.locator("#id_login_url")).to_be_hidden()
    page.get_by_role("radio", name="LTI 1.3").check()
    expect(page.locator("#id_login_url")).to_be_visible()
    expect(page.locator("#id_consumer_key")).to_be_hidden()
    details = page.locator("[data-lti-detail]")
    expect(details).to_have_count(6)
    copy = page.get_by_role("button", name="Copy Access token endpoint")
    expect(copy).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    copy.click()
    expect(page.locator("[data-lti-detail=token-endpoint]")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/lti/1.3/token/"
    tall_shot(page, "catalogue-provider-form-lti13")

    # LTI 1.1: key, secret, custom parameters. The LTI 1.3 sections are hidden again.
    page.get_by_role("radio", name="LTI 1.1").check()
    expect(page.locator("#id_login_url")).to_be_hidden()
    page.fill("#id_consumer_key", "moodle-law-key")
    page.fill("#id_secret", SECRET)
    page.fill("#id_custom_parameters", "custom_course=law\ncustom_value_1=some value with 1")
    tall_shot(page, "catalogue-provider-form")

    # Availability tab: add Engineering (the organization Alice manages above the owner).
    page.get_by_role("tab", name="Availability").click()
    availability = page.locator("#tab-availability")
    expect(availability).to_contain_text("Add Organizations")
    availability.get_by_label("Engineering", exact=True).check()
    tall_shot(page, "catalogue-provider-availability")
    _save(page)
    expect(page.locator(".messages")).to_contain_text("Moodle Law")
    shot(page, "catalogue-provider-saved")

    provider = LtiProvider.objects.get()
    assert provider.name == "Moodle Law"
    assert provider.organization == orgs["platform"]
    assert provider.lti_version == "1.1"
    assert provider.consumer_key == "moodle-law-key"
    assert provider.secret == SECRET
    assert provider.custom_parameters == "custom_course=law\ncustom_value_1=some value with 1"
    assert list(provider.available_to.all()) == [orgs["engineering"]]
    assert SECRET not in page.content()

    # "Create LTI Resource Link".
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Create LTI Resource Link").click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "Contract law quiz")
    expect(page.locator("#id_organization-chooser")).to_contain_text("Engineering")
    # LTI Provider: Choose, search, select. Engineering may use it thanks to the Availability tab.
    page.locator("#id_provider-chooser").get_by_role("button", name="Choose LTI provider").click()
    modal = page.locator(".modal-dialog")
    expect(modal.locator("a[data-chooser-modal-choice]", has_text="Moodle Law")).to_be_visible()
    modal.locator("input[name=q]").fill("moodle")
    expect(modal.locator("a[data-chooser-modal-choice]")).to_have_count(1)
    _choose_in_modal(page, shot, "catalogue-provider-chooser", "Moodle Law")
    expect(page.locator("#id_provider-chooser")).to_contain_text("Moodle Law")

    page.fill("#id_url", "https://moodle.example.com/mod/lti/launch.php?id=42")
    page.fill("#id_custom_parameters", "custom_course=contract-law")
    page.get_by_role("checkbox", name="This resource requires a score for completion").check()
    tall_shot(page, "catalogue-resource-link-form")
    page.get_by_role("tab", name="Availability").click()
    page.locator("#tab-availability").get_by_label("Platform team").check()
    tall_shot(page, "catalogue-resource-link-availability")
    _save(page)
    expect(page.locator(".messages")).to_contain_text("Contract law quiz")

    link = LtiResourceLink.objects.get()
    assert link.organization == orgs["engineering"]
    assert link.provider == provider
    assert link.url == "https://moodle.example.com/mod/lti/launch.php?id=42"
    assert link.custom_parameters == "custom_course=contract-law"
    assert link.requires_score is True
    assert list(link.available_to.all()) == [orgs["platform"]]

    # Bob manages Sales: he sees neither record, in listings, choosers or by URL.
    page.context.clear_cookies()
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiprovider/")
    expect(page.locator("main")).not_to_contain_text("Moodle Law")
    shot(page, "catalogue-other-editor-providers")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiresourcelink/")
    expect(page.locator("main")).not_to_contain_text("Contract law quiz")
    shot(page, "catalogue-other-editor-links")
    response = page.goto(
        f"{live_server.url}/admin/snippets/wagtail_lti/ltiprovider/edit/{provider.pk}/"
    )
    assert response.status == 404
    response = page.goto(
        f"{live_server.url}/admin/snippets/wagtail_lti/ltiresourcelink/edit/{link.pk}/"
    )
    assert response.status == 404
    page.goto(f"{live_server.url}/admin/snippets/choose/wagtail_lti/ltiprovider/results/")
    assert not re.search("Moodle Law", page.content())
    # Leave no request in flight while the test database is flushed.
    page.goto("about:blank")
