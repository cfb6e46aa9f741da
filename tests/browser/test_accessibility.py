"""axe-core checks the whole course page, in Chromium, in each state a visitor meets.

axe-core is the copy bundled with axe-playwright-python (nothing is downloaded). Every rule axe
runs by default is checked (WCAG 2.0/2.1/2.2 A and AA and axe's best practices); a violation
fails the test with axe's report. The same pages are checked at 1280 and 380 pixels wide, for
horizontal scrolling, and for a visible keyboard focus on the launch button.

States: anonymous (log-in prompts), logged in but not enrolled, enrolled with nothing started,
and enrolled with one activity completed with a score, one launched and one not started (with the
tool's message after coming back from it).

Screenshots: ``test-artifacts/screenshots/a11y-<state>-<width>.png``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_learner, make_link, make_provider, site_root


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 380)


@pytest.fixture
def course_setup(orgs):
    from courses.models import CoursePage

    from wagtail_lti.models import Placement

    provider = make_provider(orgs["acme"], name="Quiz tool")
    quiz = make_link(
        provider,
        name="Fire safety quiz",
        description="Ten questions.\nAllow ten minutes.",
        requires_score=True,
        score_maximum=100,
    )
    handbook = make_link(provider, name="Safety handbook", open_in="window")
    drill = make_link(provider, name="Evacuation drill", requires_score=True)
    course = CoursePage(
        title="Workplace safety",
        slug="workplace-safety",
        course_organization=orgs["engineering"],
        course_code="SAF-101",
        body=[
            ("paragraph", "<p>Three short activities about <strong>safety at work</strong>.</p>"),
            ("lti_activity", {"resource_link": quiz, "title": ""}),
            ("paragraph", "<p>Read the handbook before the drill.</p>"),
            ("lti_activity", {"resource_link": handbook, "title": ""}),
            ("lti_activity", {"resource_link": drill, "title": "Evacuation drill (practice)"}),
        ],
    )
    site_root().add_child(instance=course)
    course.save_revision().publish()
    placements = {
        p.resource_link.name: p
        for p in Placement.objects.filter(page=course, is_active=True).select_related(
            "resource_link"
        )
    }
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    make_learner("olly", first_name="Olly", last_name="Outsider")
    return {"course": course, "placements": placements, "learner": learner}


def assert_no_axe_violations(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def check_page(page, name: str, shot) -> None:
    """axe, no horizontal scrolling, a screenshot: at each width."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        expect(page.locator("h1")).to_be_visible()
        assert_no_axe_violations(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways at {width}px"
        shot(page, f"a11y-{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_anonymous_visitor(page, live_server, course_setup, shot):
    page.goto(live_server.url + course_setup["course"].url)
    prompts = page.locator(".lti-activity__prompt")
    expect(prompts).to_have_count(3)
    expect(prompts.first.get_by_role("link", name="Log in")).to_be_visible()
    check_page(page, "anonymous", shot)


def test_visitor_not_enrolled(page, live_server, course_setup, learner_login, shot):
    learner_login(page, live_server, "olly", next=course_setup["course"].url)
    expect(page.locator(".lti-activity__prompt").first).to_contain_text("not enrolled")
    check_page(page, "not-enrolled", shot)


def test_enrolled_nothing_started(page, live_server, course_setup, learner_login, shot):
    learner_login(page, live_server, "lena", next=course_setup["course"].url)
    expect(page.locator(".lti-badge")).to_have_text(["Not started"] * 3)
    check_page(page, "not-started", shot)

    # The launch button shows where the keyboard is.
    button = page.get_by_role("button", name="Start activity").first
    for _ in range(20):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("the launch button cannot be reached with the keyboard")
    outline = button.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and outline[1] != "0px", outline
    shot(page, "a11y-not-started-focus")


def test_completed_launched_and_not_started(page, live_server, course_setup, learner_login, shot):
    from wagtail_lti.services import results

    placements, learner = course_setup["placements"], course_setup["learner"]
    quiz, drill = placements["Fire safety quiz"], placements["Evacuation drill"]
    results.record_launch(quiz, learner)
    results.record_score(
        results.line_item_for(quiz),
        learner,
        score_given=85,
        score_maximum=100,
        activity_progress="Completed",
        grading_progress="FullyGraded",
        timestamp=None,
        comment="",
        source="test",
    )
    results.record_launch(drill, learner)

    learner_login(page, live_server, "lena", next=course_setup["course"].url)
    # Messages from the tool, left by its return URL (LTI 1.1 lti_msg / lti_errormsg).
    for placement, params in ((quiz, "lti_msg=Well+done%21"), (drill, "lti_errormsg=Timed+out.")):
        response = page.request.get(
            f"{live_server.url}/lti/launch/{placement.lti_id}/return/?{params}", max_redirects=0
        )
        assert response.status == 302
    page.goto(live_server.url + course_setup["course"].url)

    quiz_block = page.locator(f"#lti-activity-{quiz.block_id}")
    expect(quiz_block.locator(".lti-badge")).to_have_text("Completed")
    expect(quiz_block.locator(".lti-activity__score")).to_have_text("Score: 85%")
    expect(quiz_block.locator(".lti-activity__message")).to_contain_text("Well done!")
    drill_block = page.locator(f"#lti-activity-{drill.block_id}")
    expect(drill_block.locator(".lti-badge")).to_have_text("Launched")
    expect(drill_block.locator("[role=alert]")).to_contain_text("Timed out.")
    handbook = placements["Safety handbook"]
    expect(page.locator(f"#lti-activity-{handbook.block_id} .lti-badge")).to_have_text(
        "Not started"
    )
    check_page(page, "completed", shot)
