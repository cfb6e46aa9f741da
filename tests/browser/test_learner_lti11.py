"""The LTI 1.1 learner loop in Chromium, against a real (test) tool on another site.

The platform is served at ``http://localhost:<port>``; the tool (``tests/tooling/lti11_tool.py``,
built on the ``lti`` package) at ``http://127.0.0.1:<port>``, a different site for the browser, as
a real tool is. The learner logs in, opens the course page, starts the activity: the signed launch
form submits itself into the activity's iframe, the tool verifies it (OAuth 1.0a, with the line
breaks the browser actually sends), the learner submits a score, which the tool posts to our
Basic Outcomes endpoint (signed, with ``oauth_body_hash``), then goes back through the return URL.
The course page shows "Completed" and the score.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.tooling import lti11_tool


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def learning_setup(settings, live_server, orgs):
    from wagtail_lti.models import LtiProvider

    settings.ROOT_URLCONF = "tests.tooling.urls"
    lti11_tool.LAUNCHES.clear()
    lti11_tool.OUTCOMES.clear()
    tool_base = live_server.url.replace("localhost", "127.0.0.1")
    assert tool_base != live_server.url
    provider = LtiProvider(
        name="Quiz tool",
        organization=orgs["acme"],
        lti_version="1.1",
        consumer_key=lti11_tool.KEY,
    )
    provider.secret = lti11_tool.SECRET
    provider.save()
    link = make_link(
        provider,
        name="Fire safety quiz",
        description="Ten questions.\nAllow ten minutes.",
        url=f"{tool_base}/test-tool-11/launch/?lang=en",
        requires_score=True,
        score_maximum=100,
    )
    course = make_course(orgs["engineering"], [link], title="Workplace safety", code="SAF-101")
    learner = make_learner("lee")
    enroll(learner, course)
    (placement,) = placements_of(course)
    return {"course": course, "placement": placement, "learner": learner}


def assert_accessible(page, selector: str) -> None:
    """axe-core finds no violation inside ``selector`` (the activity block, our markup)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=selector)
    assert results.violations_count == 0, results.generate_report()


def log_in(page, live_server, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", "lee")
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_learner_launches_into_the_iframe_and_the_score_comes_back(
    page, live_server, learning_setup, shot
):
    course, placement = learning_setup["course"], learning_setup["placement"]
    log_in(page, live_server, course.url)
    assert page.url == f"{live_server.url}{course.url}"

    activity = page.locator(f"#lti-activity-{placement.block_id}")
    expect(activity.locator("h2")).to_have_text("Fire safety quiz")
    expect(activity.locator(".lti-badge")).to_have_text("Not started")
    frame_box = activity.locator("[data-lti-frame]")
    expect(frame_box).to_be_hidden()  # shown once launched (course_activity.js)
    assert_accessible(page, ".lti-activity")
    shot(page, "lti11-1-course-page")

    activity.get_by_role("button", name="Start activity").click()
    expect(frame_box).to_be_visible()
    tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
    expect(tool.locator("#verified")).to_have_text(
        "Launch verified for Lee Learner (Learner) in “Workplace safety”."
    )
    expect(tool.locator("#activity")).to_have_text("Activity: Fire safety quiz")
    assert len(lti11_tool.LAUNCHES) == 1
    (params,) = lti11_tool.LAUNCHES.values()
    # What the browser posted (line breaks as CRLF) is what we signed: the tool accepted it.
    assert params["resource_link_description"] == "Ten questions.\r\nAllow ten minutes."
    assert params["resource_link_id"] == placement.lti_id
    shot(page, "lti11-2-tool-in-iframe")

    tool.locator("#score").fill("0.85")
    tool.get_by_role("button", name="Submit score").click()
    expect(tool.locator("#outcome")).to_have_text("Score 0.85 recorded.")
    assert lti11_tool.OUTCOMES == [
        {"score": "0.85", "success": True, "description": lti11_tool.OUTCOMES[0]["description"]}
    ]
    shot(page, "lti11-3-score-sent")

    # The tool sends the learner back through the return URL: the frame is left, the course
    # page shows the tool's message, the status and the score.
    tool.locator("#back").click()
    page.wait_for_url(f"{live_server.url}{course.url}#lti-activity-{placement.block_id}")
    activity = page.locator(f"#lti-activity-{placement.block_id}")
    expect(activity.locator(".lti-activity__message")).to_contain_text(
        "Quiz tool: your score 0.85 was recorded."
    )
    expect(activity.locator(".lti-badge")).to_have_text("Completed")
    expect(activity.locator(".lti-activity__score")).to_have_text("Score: 85%")
    assert_accessible(page, ".lti-activity")
    shot(page, "lti11-4-back-on-course-page")

    page.reload()
    activity = page.locator(f"#lti-activity-{placement.block_id}")
    expect(activity.locator(".lti-badge")).to_have_text("Completed")
    expect(activity.locator(".lti-activity__score")).to_have_text("Score: 85%")
    expect(activity.locator(".lti-activity__message")).to_have_count(0)
    expect(activity.get_by_role("button", name="Open activity again")).to_be_visible()
    shot(page, "lti11-5-course-page-reloaded")


def test_launch_works_without_javascript(browser, live_server, learning_setup, shot):
    course, placement = learning_setup["course"], learning_setup["placement"]
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, live_server, course.url)
        activity = page.locator(f"#lti-activity-{placement.block_id}")
        activity.get_by_role("button", name="Start activity").click()
        frame = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
        continue_button = frame.get_by_role("button", name="Continue to “Fire safety quiz”")
        expect(continue_button).to_be_visible()
        shot(page, "lti11-6-no-javascript-continue")
        continue_button.click()
        expect(frame.locator("#verified")).to_contain_text("Launch verified for Lee Learner")
        shot(page, "lti11-7-no-javascript-tool")
    finally:
        context.close()
