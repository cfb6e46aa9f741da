"""The activity's frame and live status in Chromium, against real (test) tools on another site.

The platform is the live server under ``localhost``, the LTI 1.1 tool (``tests/tooling/lti11_tool.py``,
the ``lti`` package verifying the launch and posting Basic Outcomes) the same server under
``127.0.0.1``, another site for the browser; the LTI 1.3 tool is PyLTI1p3 posting its score
through AGS (``tests/tooling/lti13_tool.py``).

* A frame that fits: on a 375×667 phone the tool asks ``lti.capabilities`` (``lti.frameResize``
  is listed) and sends ``lti.frameResize``; a bad height is refused, a huge one clamped, and its
  own height makes the frame that tall, in the page, with no scrolling inside it. A tool that does
  not say its height fills the phone's screen instead, and its Close control gives the page back.
* Live status: the learner submits a score inside the frame (Basic Outcomes) or the tool posts it
  at launch (AGS); the course page shows "Completed" and the score without a reload.
* New window: the frame's "Open in a new window" launches the activity again in a new window; the
  score sent there shows in the original tab when it is back in front.

Screenshots: ``test-artifacts/screenshots/live-frame-*.png``.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.tooling import lti11_tool


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 667}


def assert_accessible(page, selector: str = "body") -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=selector)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def make_activity(settings, live_server, orgs):
    """``make_activity(query="", **link_fields)``: a course with one graded activity of the LTI 1.1
    test tool (its URL's query ``query``), learner ``lee`` enrolled; returns (course, placement)."""
    from wagtail_lti.models import LtiProvider

    settings.ROOT_URLCONF = "tests.tooling.urls"
    lti11_tool.LAUNCHES.clear()
    lti11_tool.OUTCOMES.clear()
    tool_base = live_server.url.replace("localhost", "127.0.0.1")
    provider = LtiProvider(
        name="Quiz tool", organization=orgs["acme"], lti_version="1.1", consumer_key=lti11_tool.KEY
    )
    provider.secret = lti11_tool.SECRET
    provider.save()
    learner = make_learner("lee")

    def make(query: str = "", **fields):
        link = make_link(
            provider,
            name="Fire safety quiz",
            url=f"{tool_base}/test-tool-11/launch/{query}",
            requires_score=True,
            score_maximum=100,
            **fields,
        )
        course = make_course(orgs["engineering"], [link], title="Workplace safety", code="SAF-101")
        enroll(learner, course)
        (placement,) = placements_of(course)
        return course, placement

    return make


def open_course(page, live_server, learner_login, course):
    learner_login(page, live_server, "lee", next=course.url)
    page.goto(live_server.url + course.url)
    # Set on this document: still there after a change only if the page was not reloaded.
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_the_tool_resizes_its_frame_on_a_phone(
    browser, live_server, make_activity, learner_login, shot
):
    course, placement = make_activity("?frame=resize")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        open_course(page, live_server, learner_login, course)
        activity = page.locator(f"#lti-activity-{placement.block_id}")
        activity.locator("form.lti-activity__launch button").click()
        tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
        expect(tool.locator("#verified")).to_contain_text("Launch verified for Lee Learner")
        done = tool.locator("#frame-results[data-done='1']")
        expect(done).to_be_attached(timeout=20_000)
        results = json.loads(done.text_content())

        capabilities = results["capabilities"]
        assert capabilities["subject"] == "lti.capabilities.response"
        assert {"subject": "lti.frameResize"} in capabilities["supported_messages"]
        assert results["bad"]["subject"] == "lti.frameResize.response"
        assert results["bad"]["error"]["code"] == "bad_request"
        assert results["huge"]["height"] == 10000  # kept to the platform's bounds
        height = results["height"]
        assert height > PHONE["height"]  # the tool's page is taller than the phone's screen
        assert results["resize"]["subject"] == "lti.frameResize.response"

        iframe = page.locator(f"iframe[name='lti-frame-{placement.block_id}']")
        frame_box = page.locator(f"#lti-activity-{placement.block_id}-frame")
        # In the page (not filling the screen), at the tool's height: no scroll inside the frame.
        expect(frame_box).not_to_have_class("lti-activity__frame--overlay")
        expect(iframe).to_have_attribute("data-lti-resized", str(results["resize"]["height"]))
        box = iframe.bounding_box()
        inner = tool.locator("html").evaluate(
            "h => ({scroll: h.scrollHeight, view: window.innerHeight})"
        )
        assert inner["view"] == results["resize"]["height"]  # the tool's window, borders aside
        assert inner["scroll"] <= inner["view"], inner
        assert page.evaluate("document.documentElement.scrollHeight") > box["height"]
        assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"
        expect(frame_box.get_by_role("group", name="Activity window")).to_be_visible()
        assert_accessible(page)
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "live-frame-phone-resized")
        # What the phone shows, scrolled to the end of the tool's page (a full-page shot does not
        # paint another site's frame below the screen).
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.screenshot(path=str(SCREENSHOTS / "live-frame-phone-resized-end.png"))

        # A page of another origin (the platform's own) in the activity's frame: not its tool,
        # so its lti.frameResize changes nothing.
        iframe.evaluate(
            """f => { f.srcdoc = "<script>parent.postMessage("
                + "{subject: 'lti.frameResize', height: 300, message_id: 'x'}, '*');"
                + "document.title = 'sent';<" + "/script>"; }"""
        )
        expect(iframe).to_have_attribute("data-lti-resized", str(results["resize"]["height"]))
        page.wait_for_timeout(500)
        expect(iframe).to_have_attribute("data-lti-resized", str(results["resize"]["height"]))
    finally:
        context.close()


def test_a_tool_that_does_not_say_its_height_fills_the_phone(
    browser, live_server, make_activity, learner_login, shot
):
    course, placement = make_activity("?lang=en")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        open_course(page, live_server, learner_login, course)
        activity = page.locator(f"#lti-activity-{placement.block_id}")
        launch = activity.locator("form.lti-activity__launch button")
        launch.click()
        tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
        expect(tool.locator("#verified")).to_contain_text("Launch verified for Lee Learner")
        frame_box = page.locator(f"#lti-activity-{placement.block_id}-frame")
        expect(frame_box).to_have_class("lti-activity__frame lti-activity__frame--overlay")
        box = frame_box.bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667)
        # The page under it does not scroll: one scrolling area, the tool's.
        assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"
        shot(page, "live-frame-phone-full-screen")
        assert_accessible(page)

        frame_box.get_by_role("button", name="Close").click()
        expect(frame_box).to_be_hidden()
        expect(launch).to_be_focused()
        assert page.evaluate("getComputedStyle(document.documentElement).overflow") != "hidden"
        # Closed: the frame no longer holds the tool.
        assert (
            page.locator(f"iframe[name='lti-frame-{placement.block_id}']").evaluate("f => f.src")
            == "about:blank"
        )
        expect(activity.locator(".lti-badge")).to_have_text("Launched")
        assert not_reloaded(page)
        shot(page, "live-frame-phone-closed")
    finally:
        context.close()


def test_without_javascript_the_frame_is_shown_and_has_no_controls(
    browser, live_server, make_activity, learner_login
):
    course, placement = make_activity("?lang=en")
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        learner_login(page, live_server, "lee", next=course.url)
        page.goto(live_server.url + course.url)
        frame_box = page.locator(f"#lti-activity-{placement.block_id}-frame")
        expect(frame_box).to_be_visible()
        expect(frame_box.locator("[data-lti-frame-controls]")).to_be_hidden()
        expect(page.locator(f"#lti-activity-{placement.block_id} .lti-badge")).to_have_text(
            "Not started"
        )
    finally:
        context.close()


def test_the_score_shows_without_a_reload_when_the_frame_returns(
    page, live_server, make_activity, learner_login, shot
):
    course, placement = make_activity("?lang=en")
    page.add_init_script("window.WAGTAIL_LTI_STATUS_POLL_MS = 600000")  # no poll: the frame's load
    open_course(page, live_server, learner_login, course)
    activity = page.locator(f"#lti-activity-{placement.block_id}")
    expect(activity.locator(".lti-badge")).to_have_text("Not started")
    activity.locator("form.lti-activity__launch button").click()
    tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
    expect(tool.locator("#verified")).to_contain_text("Launch verified for Lee Learner")
    expect(activity.locator(".lti-badge")).to_have_text("Launched")
    expect(activity.locator(".lti-activity__status")).to_have_attribute("aria-live", "polite")
    controls = activity.get_by_role("group", name="Activity window")
    expect(controls).to_be_visible()

    tool.locator("#score").fill("0.85")
    tool.get_by_role("button", name="Submit score").click()
    expect(tool.locator("#outcome")).to_have_text("Score 0.85 recorded.")
    expect(activity.locator(".lti-badge")).to_have_text("Completed")
    expect(activity.locator(".lti-activity__score")).to_have_text("Score: 85%")
    expect(activity).to_have_class("lti-activity lti-activity--ready lti-activity--completed")
    expect(activity.locator(".lti-activity__hint")).to_have_count(0)
    expect(activity.get_by_role("button", name="Open activity again")).to_be_visible()
    assert not_reloaded(page)
    assert_accessible(page)
    shot(page, "live-frame-score-without-reload")

    # Full screen and back, with the Fullscreen API.
    full_screen = controls.get_by_role("button", name="Full screen")
    full_screen.click()
    page.wait_for_function("document.fullscreenElement !== null")
    assert (
        page.evaluate("document.fullscreenElement.id") == f"lti-activity-{placement.block_id}-frame"
    )
    expect(full_screen).to_have_attribute("aria-pressed", "true")
    shot(page, "live-frame-full-screen")
    full_screen.click()
    page.wait_for_function("document.fullscreenElement === null")
    expect(full_screen).to_have_attribute("aria-pressed", "false")


def test_the_original_tab_catches_up_after_a_launch_in_a_new_window(
    page, live_server, make_activity, learner_login, shot
):
    course, placement = make_activity("?lang=en")
    page.add_init_script("window.WAGTAIL_LTI_STATUS_POLL_MS = 600000")  # no poll: the focus
    open_course(page, live_server, learner_login, course)
    activity = page.locator(f"#lti-activity-{placement.block_id}")
    activity.locator("form.lti-activity__launch button").click()
    tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
    expect(tool.locator("#verified")).to_contain_text("Launch verified for Lee Learner")

    with page.context.expect_page() as new_window:
        activity.get_by_role("button", name="Open in a new window").click()
    window = new_window.value
    # A new launch through the platform (checked, signed anew), not the tool's URL re-opened.
    expect(window.locator("#verified")).to_contain_text("Launch verified for Lee Learner")
    assert len(lti11_tool.LAUNCHES) == 2
    expect(page.locator(f"#lti-activity-{placement.block_id}-frame")).to_be_hidden()

    window.locator("#score").fill("0.6")
    window.get_by_role("button", name="Submit score").click()
    expect(window.locator("#outcome")).to_have_text("Score 0.6 recorded.")
    shot(window, "live-frame-new-window-tool")

    # No poll and no frame any more: only this tab's focus (or visibility) asks again.
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")  # as a headed browser does
    expect(activity.locator(".lti-badge")).to_have_text("Completed")
    expect(activity.locator(".lti-activity__score")).to_have_text("Score: 60%")
    assert not_reloaded(page)
    shot(page, "live-frame-new-window-caught-up")


def test_an_ags_score_shows_without_a_reload(
    page, live_server, orgs, lti13_tool, learner_login, shot
):
    provider = lti13_tool.make_provider(orgs["acme"], allow_ags=True)
    link = make_link(
        provider,
        name="Fire drill quiz",
        url=lti13_tool.launch_url,
        requires_score=True,
        score_maximum=10,
    )
    course = make_course(orgs["acme"], [link], title="Safety at work", code="SAF-101")
    enroll(make_learner("lee"), course)
    state = lti13_tool.register(provider, score_given=7, score_maximum=10)
    page.add_init_script("window.WAGTAIL_LTI_STATUS_POLL_MS = 600000")

    open_course(page, live_server, learner_login, course)
    activity = page.locator("[data-lti-activity]")
    activity.locator("form.lti-activity__launch button").click()
    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-score")).to_have_text("Score sent: 7 / 10", timeout=20_000)
    assert state.errors == []
    expect(activity.locator(".lti-badge")).to_have_text("Completed")
    expect(activity.locator(".lti-activity__score")).to_have_text("Score: 70%")
    assert not_reloaded(page)
    shot(page, "live-frame-ags-score")
