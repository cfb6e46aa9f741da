"""An instructor's class view in Chromium: from the course page to the grid, a cell's history,
an override marked as such, and the CSV export; axe on the grid and the cell page (1280 and 380
pixels wide, no sideways scrolling of the page).

Screenshots: ``test-artifacts/screenshots/class-view-*.png``.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.docs_screenshots import docs_shot
from tests.browser.test_accessibility import WIDTHS, assert_no_axe_violations
from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from wagtail_lti.models import Placement
from wagtail_lti.services import results


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def class_setup(orgs):
    provider = make_provider(orgs["acme"], name="Quiz tool")
    quiz = make_link(provider, name="Fire safety quiz", requires_score=True, score_maximum=20)
    essay = make_link(provider, name="Incident report", requires_score=True, score_maximum=10)
    handbook = make_link(provider, name="Safety handbook")
    course = make_course(
        orgs["engineering"], [quiz, essay, handbook], title="Workplace safety", code="SAF-101"
    )
    placements = {
        p.resource_link.name: p
        for p in Placement.objects.filter(page=course).select_related("resource_link")
    }
    ivy = make_learner("ivy", first_name="Ivy", last_name="Instructor")
    enroll(ivy, course, role="instructor")
    lena = make_learner("lena", first_name="Lena", last_name="Learner")
    liam = make_learner("liam", first_name="Liam", last_name="Lopez")
    for learner in (lena, liam):
        enroll(learner, course)
    quiz_item = results.line_item_for(placements["Fire safety quiz"])
    essay_item = results.line_item_for(placements["Incident report"])
    for learner, given in ((lena, 12), (liam, 18)):
        results.record_launch(placements["Fire safety quiz"], learner)
        results.record_score(
            quiz_item,
            learner,
            score_given=given,
            score_maximum=20,
            activity_progress="Completed",
            grading_progress="FullyGraded",
            timestamp=None,
            comment="",
            source="ags",
        )
    results.record_launch(placements["Incident report"], lena)
    results.record_score(
        essay_item,
        lena,
        score_given=None,
        score_maximum=None,
        activity_progress="Submitted",
        grading_progress="PendingManual",
        timestamp=None,
        comment="",
        source="ags",
    )
    results.record_launch(placements["Safety handbook"], liam)
    return {"course": course, "lena": lena}


def check(page, name, shot):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        expect(page.locator("h1")).to_be_visible()
        assert_no_axe_violations(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            shot(page, f"class-view-{name}-{width}-overflow")
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => !e.closest('.lti-class__scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
            )
            raise AssertionError(f"{name} scrolls sideways at {width}px: {wide}")
        shot(page, f"class-view-{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_instructor_overrides_a_score_and_exports_the_class(
    page, live_server, class_setup, learner_login, shot
):
    course = class_setup["course"]
    learner_login(page, live_server, "ivy", next=course.url)
    page.get_by_role("link", name="Class progress").click()
    expect(page.locator("h1")).to_have_text("Class progress: Workplace safety")
    grid = page.locator("table.lti-class__grid")
    expect(grid.locator("tbody tr")).to_have_count(2)
    lena_row = grid.locator("tbody tr", has_text="Lena Learner")
    expect(lena_row).to_contain_text("Completed 60%")
    expect(lena_row).to_contain_text("Pending grading")
    check(page, "grid", shot)

    lena_row.get_by_role("link", name="Fire safety quiz: details").click()
    expect(page.locator("h1")).to_have_text("Lena Learner (lena) — Fire safety quiz")
    expect(page.locator(".lti-class__history")).to_contain_text("LTI 1.3 Assignment and Grade")
    page.get_by_label("Score (out of 20)").fill("19")
    page.get_by_label("Comment", exact=True).fill("Re-marked after the oral exam")
    page.get_by_label("Keep this score until I clear it").check()
    page.get_by_role("button", name="Override the score").click()
    expect(page.get_by_role("status")).to_have_text("Score overridden.")
    # The form now holds the override, to change it.
    expect(page.get_by_label("Score (out of 20)")).to_have_value("19.0")
    expect(page.get_by_label("Keep this score until I clear it")).to_be_checked()
    expect(page.locator(".lti-class__override").first).to_have_text("Override")
    expect(page.locator(".lti-class__history tbody tr").first).to_contain_text(
        "Instructor override (Ivy Instructor)"
    )
    check(page, "cell", shot)

    page.get_by_role("link", name="Back to the class of Workplace safety").click()
    lena_row = page.locator("table.lti-class__grid tbody tr", has_text="Lena Learner")
    expect(lena_row).to_contain_text("Completed 95% Override")
    shot(page, "class-view-after-override-1280")
    docs_shot(page, "class-view")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"class-{course.slug}.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    quiz = next(r for r in rows if r["Username"] == "lena" and r["Activity"] == "Fire safety quiz")
    assert (quiz["Score (%)"], quiz["Source"], quiz["Comment"]) == (
        "95.0",
        "Instructor override",
        "Re-marked after the oral exam",
    )

    # The learner sees the override's score and comment-free status on the course page.
    page.context.clear_cookies()
    learner_login(page, live_server, "lena", next=course.url)
    quiz_block = page.locator(".lti-activity", has_text="Fire safety quiz")
    expect(quiz_block).to_contain_text("Completed")
    expect(quiz_block).to_contain_text("Score: 95%")
    expect(page.locator(".lti-activity", has_text="Incident report")).to_contain_text(
        "Pending grading"
    )
    shot(page, "class-view-learner-course-page-1280")
