"""A resource link's dates and presentation, in Chromium: what a learner sees on the course page
(an activity not open yet, one closed, one due, one in its named window), checked with axe at two
widths; the new window reused by every launch of a named-window activity; and the editor's
"Dates and presentation" panel on the resource link form.

Screenshots: ``test-artifacts/screenshots/dates-course-<width>.png``, ``dates-window-reused.png``,
``dates-link-form.png``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_accessibility import check_page
from tests.browser.test_editor_catalogue import tall_shot  # noqa: F401 - fixture
from tests.support.factories import enroll, make_learner, make_link, make_provider, site_root
from wagtail_lti.launch.rules import moment_label


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dated_course(orgs, live_server):
    from courses.models import CoursePage

    from wagtail_lti.models import Placement

    provider = make_provider(orgs["acme"], name="Quiz tool")
    now = timezone.now()
    # The "tool" is a page of this site, so the named window stays on one origin.
    tool_url = live_server.url + "/"
    links = {
        "soon": make_link(
            provider, name="Final exam", url=tool_url, available_start=now + timedelta(days=3)
        ),
        "closed": make_link(
            provider,
            name="Warm-up quiz",
            url=tool_url,
            available_end=now - timedelta(days=1),
        ),
        "due": make_link(
            provider,
            name="Essay",
            url=tool_url,
            requires_score=True,
            submission_end=now + timedelta(days=5),
            iframe_height=320,
        ),
        "window": make_link(
            provider,
            name="Lab notebook",
            url=tool_url,
            open_in="window",
            window_target_name="lab-notebook",
            window_width=700,
            window_height=500,
            window_features="resizable=yes",
        ),
        "unnamed": make_link(
            provider, name="Glossary", url=tool_url, open_in="window", window_width=600
        ),
    }
    course = CoursePage(
        title="Dated course",
        slug="dated-course",
        course_organization=orgs["engineering"],
        course_code="DAT-101",
        body=[("lti_activity", {"resource_link": link, "title": ""}) for link in links.values()],
    )
    site_root().add_child(instance=course)
    course.save_revision().publish()
    placements = {
        p.resource_link_id: p for p in Placement.objects.filter(page=course, is_active=True)
    }
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    return {"course": course, "links": links, "placements": placements}


def block(page, dated_course, key):
    placement = dated_course["placements"][dated_course["links"][key].pk]
    return page.locator(f"#lti-activity-{placement.block_id}")


def test_learner_sees_when_activities_open_close_and_are_due(
    page, live_server, dated_course, learner_login, shot
):
    links = dated_course["links"]
    learner_login(page, live_server, "lena", next=dated_course["course"].url)

    soon = block(page, dated_course, "soon")
    expect(soon.locator(".lti-activity__notice")).to_have_text(
        f"This activity opens on {moment_label(links['soon'].available_start)}."
    )
    expect(soon.get_by_role("button")).to_have_count(0)
    closed = block(page, dated_course, "closed")
    expect(closed.locator(".lti-activity__notice")).to_contain_text("This activity closed on")
    expect(closed.get_by_role("button")).to_have_count(0)
    due = block(page, dated_course, "due")
    expect(due.locator(".lti-activity__due")).to_have_text(
        f"Due {moment_label(links['due'].submission_end)}"
    )
    expect(due.locator("iframe")).to_have_attribute("height", "320")
    check_page(page, "dates-course", shot)


def test_a_named_window_is_reused_by_every_launch(
    page, live_server, dated_course, learner_login, shot
):
    learner_login(page, live_server, "lena", next=dated_course["course"].url)
    button = block(page, dated_course, "window").get_by_role("button")
    with page.context.expect_page() as opened:
        button.click()
    popup = opened.value
    popup.wait_for_url(live_server.url + "/")  # our launch form, then the "tool" it posts to
    popup.wait_for_load_state()
    assert popup.evaluate("window.name") == "lab-notebook"
    page.bring_to_front()
    page.reload()
    block(page, dated_course, "window").get_by_role("button").click()
    popup.wait_for_load_state()
    page.wait_for_timeout(500)
    assert len(page.context.pages) == 2  # the course page and the one tool window
    shot(page, "dates-window-reused")

    # Without a name, with a size: one new window per launch (opened with its features first,
    # then the form posts into it: never two windows for one launch).
    with page.context.expect_page() as opened:
        block(page, dated_course, "unnamed").get_by_role("button").click()
    other = opened.value
    other.wait_for_url(live_server.url + "/")
    other.wait_for_load_state()
    page.wait_for_timeout(500)
    assert len(page.context.pages) == 3
    assert other.evaluate("window.name").startswith("lti-window-")
    for opened_page in (other, popup, page):
        opened_page.goto("about:blank")


def test_editor_sets_dates_and_presentation(page, live_server, orgs, make_editor, login, tall_shot):  # noqa: F811
    from wagtail_lti.models import LtiResourceLink

    make_editor("alice", orgs["engineering"])
    provider = make_provider(orgs["engineering"], name="Quiz tool")
    link = make_link(provider, name="Essay", requires_score=True)
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiresourcelink/edit/{link.pk}/")
    expect(page.get_by_text("Dates and presentation")).to_be_visible()
    page.get_by_label("Due").fill("2030-06-15 17:00")
    page.get_by_label("Window name").fill("essay window")
    page.get_by_label("Frame height").fill("480")
    page.get_by_label("Grades released").select_option(label="Yes")
    page.get_by_label("Window width").click()  # a click outside closes the date picker
    expect(page.locator(".xdsoft_datetimepicker:visible")).to_have_count(0)
    tall_shot(page, "dates-link-form")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    # A window name with a space is refused, with the suggestion.
    expect(page.locator("main")).to_contain_text("essay_window")
    page.get_by_label("Window name").fill("essay_window")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    link = LtiResourceLink.objects.get(pk=link.pk)
    assert link.window_target_name == "essay_window" and link.iframe_height == 480
    assert link.submission_end is not None and link.line_item_grades_released is True
    page.goto("about:blank")
