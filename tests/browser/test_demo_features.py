"""The demo tool shows every feature, in Chromium: "Add from a tool" (LTI 1.3 Deep Linking, LTI 1.1
Content-Item) and "Register a tool by URL" (Dynamic Registration), in the admin's frame and in a
new tab, including a tab whose page severs ``window.opener``.

The demo tool is the example site's own (``example_site/demo_tool``) on the live server; its
requests to the platform are real HTTP. For the new-tab cases the tool is opened on
``127.0.0.1`` while the admin runs on ``localhost``: another origin, as a real tool is.

Screenshots (test-artifacts/screenshots/): demo-deep-linking-picker, demo-deep-linking-result,
demo-content-item-picker, demo-content-item-result, demo-registration-tool,
demo-registration-registered, demo-registration-review, demo-registration-tab-severed,
demo-registration-tab-review.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_no_axe_violations


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDERS = "/admin/snippets/wagtail_lti/ltiprovider/"
LINKS = "/admin/snippets/wagtail_lti/ltiresourcelink/"


@pytest.fixture
def demo(live_server, orgs, make_editor):
    from demo_tool.setup import ensure_demo_registrations

    result = ensure_demo_registrations(live_server.url, orgs["acme"])
    make_editor("eddie", orgs["acme"])
    return result


@pytest.fixture
def registration(settings):
    # The live server is plain http on localhost / 127.0.0.1.
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "REGISTRATION_ALLOW_LOCAL_HTTP": True}


def add_from_tool(page, live_server, login, provider_label: str):
    login(page, live_server, "eddie", next=LINKS)
    page.get_by_role("link", name="Add from a tool").click()
    page.select_option("select[name=provider]", label=provider_label)
    page.get_by_role("button", name="Select content from the tool").click()
    expect(page.get_by_role("heading", name="Choose activities to add")).to_be_visible(
        timeout=20_000
    )


def test_demo_deep_linking_adds_activities(page, live_server, demo, login, shot):
    from wagtail_lti.models import LtiResourceLink

    add_from_tool(page, live_server, login, "Demo tool (LTI 1.3)")
    expect(page.locator(".tool-header__tag")).to_have_text("LTI 1.3 · Deep Linking")
    page.get_by_label("Quiz: fractions").check()
    page.get_by_label("Video: the water cycle").check()
    page.locator("#id_maximum_fractions").fill("20")
    assert_no_axe_violations(page)
    shot(page, "demo-deep-linking-picker")
    page.get_by_role("button", name="Add the chosen activities").click()

    table = page.locator("#wagtail-lti-added-links")
    expect(table).to_be_visible(timeout=20_000)
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Quiz: fractions")
    expect(page.locator("main")).to_contain_text("The demo tool added 2 items.")
    shot(page, "demo-deep-linking-result")
    quiz = LtiResourceLink.objects.get(name="Quiz: fractions")
    assert quiz.url == f"{live_server.url}/demo-tool/1.3/launch/?activity=fractions"
    assert quiz.requires_score and quiz.score_maximum == 20
    assert quiz.custom_parameters == "custom_activity=fractions\ncustom_level=beginner"


def test_demo_content_item_adds_activities_and_shows_errors(page, live_server, demo, login, shot):
    from wagtail_lti.models import LtiResourceLink

    add_from_tool(page, live_server, login, "Demo tool (LTI 1.1)")
    expect(page.locator(".tool-header__tag")).to_have_text("LTI 1.1 · Content-Item")
    page.get_by_label("Checklist: safe lab work").check()
    page.locator("#id_custom_lab-safety").fill("Not a parameter")
    page.get_by_role("button", name="Add the chosen activities").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the items below")
    expect(page.locator("#id_custom_lab-safety-errors")).to_contain_text("name=value")
    assert_no_axe_violations(page)
    page.locator("#id_custom_lab-safety").fill("activity=lab_safety")
    shot(page, "demo-content-item-picker")
    page.get_by_role("button", name="Add the chosen activities").click()

    table = page.locator("#wagtail-lti-added-links")
    expect(table).to_be_visible(timeout=20_000)
    expect(table).to_contain_text("Checklist: safe lab work")
    shot(page, "demo-content-item-result")
    lab = LtiResourceLink.objects.get()
    assert lab.url == f"{live_server.url}/demo-tool/1.1/launch/?activity=lab-safety"
    assert lab.requires_score and lab.score_maximum == 5


def open_registration(page, live_server, login, tool_base: str):
    login(page, live_server, "eddie", next=PROVIDERS)
    page.get_by_role("link", name="Register a tool by URL").click()
    page.get_by_label("Registration URL").fill(f"{tool_base}/demo-tool/register/")
    page.get_by_role("button", name="Open the tool").click()
    expect(page.locator("[data-tool-frame]")).to_be_visible()


def test_demo_registration_in_the_frame(
    page, browser, live_server, demo, registration, login, shot
):
    from demo_tool.models import ToolRegistration as ToolSide
    from wagtail_lti.models import LtiProvider

    open_registration(page, live_server, login, live_server.url)
    frame = page.frame_locator("[data-tool-frame]")
    expect(frame.locator("h1")).to_contain_text("Register the demo tool", timeout=20_000)
    shot(page, "demo-registration-tool")

    # The tool's page on its own, for axe.
    tool_url = page.locator("[data-tool-frame]").get_attribute("src")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        alone = context.new_page()
        alone.goto(tool_url)
        expect(alone.locator("h1")).to_contain_text("Register the demo tool")
        assert_no_axe_violations(alone)
        alone.goto("about:blank")
    finally:
        context.close()

    frame.locator("#demo-tool-register").click()
    expect(frame.locator("#registered-title")).to_have_text(
        "The demo tool is registered", timeout=20_000
    )
    provider = LtiProvider.objects.get(name="Demo LTI tool")
    assert ToolSide.objects.filter(client_id=provider.client_id).exists()
    shot(page, "demo-registration-registered")
    frame.locator("#demo-tool-done").click()
    expect(page).to_have_url(re.compile(rf"{PROVIDERS}edit/{provider.pk}/$"))
    expect(page.locator("[data-registration-review]")).to_contain_text("Review and enable")
    shot(page, "demo-registration-review")
    page.goto("about:blank")


def in_new_tab(page, live_server, login, *, sever: bool):
    """Open the demo tool on another origin in a new tab; ``sever``: its page sends
    ``Cross-Origin-Opener-Policy: same-origin``, as some tools do."""
    tool_base = live_server.url.replace("localhost", "127.0.0.1")
    assert tool_base != live_server.url
    if sever:

        def add_header(route):
            response = route.fetch()
            headers = {**response.headers, "cross-origin-opener-policy": "same-origin"}
            route.fulfill(response=response, headers=headers)

        page.context.route(re.compile(r"http://127\.0\.0\.1:\d+/demo-tool/register/.*"), add_header)
    open_registration(page, live_server, login, tool_base)
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name="Open the tool in a new tab").click()
    tab = popup_info.value
    expect(tab.locator("h1")).to_contain_text("Register the demo tool", timeout=20_000)
    return tab


def test_demo_registration_in_a_new_tab_keeps_the_opener(
    page, live_server, demo, registration, login, shot
):
    from wagtail_lti.models import LtiProvider

    tab = in_new_tab(page, live_server, login, sever=False)
    # The admin's page allows popups to keep window.opener (Django's default severs it).
    assert tab.evaluate("window.opener !== null")
    shot(tab, "demo-registration-tab")
    tab.locator("#demo-tool-register").click()
    # The admin goes on to the review (by the tool's message, or by asking the platform) and
    # closes the tab it opened: it can, since the tab is still its popup.
    expect(page).to_have_url(re.compile(rf"{PROVIDERS}edit/\d+/$"), timeout=20_000)
    provider = LtiProvider.objects.get(name="Demo LTI tool")
    assert page.url.endswith(f"{PROVIDERS}edit/{provider.pk}/")
    page.goto("about:blank")


def test_demo_registration_in_a_tab_that_severs_the_opener(
    page, live_server, demo, registration, login, shot
):
    from wagtail_lti.models import LtiProvider

    tab = in_new_tab(page, live_server, login, sever=True)
    assert tab.evaluate("window.opener === null")  # no message can reach the admin
    tab.locator("#demo-tool-register").click()
    expect(tab.locator("#registered-title")).to_be_visible(timeout=20_000)
    tab.locator("#demo-tool-done").click()
    expect(tab.locator("#demo-tool-close-note")).to_contain_text("Close this tab")
    shot(tab, "demo-registration-tab-severed")
    # The admin notices anyway (it asks the platform) and goes on to the review.
    provider = LtiProvider.objects.get(name="Demo LTI tool")
    expect(page).to_have_url(re.compile(rf"{PROVIDERS}edit/{provider.pk}/$"), timeout=20_000)
    expect(page.locator("[data-registration-review]")).to_contain_text("Review and enable")
    shot(page, "demo-registration-tab-review")
    tab.close()
    page.goto("about:blank")
