"""An editor's test launch in Chromium (``launch/test_launch.py``), against the LTI 1.1 test
tool (``tests/tooling/lti11_tool.py``, the ``lti`` package) served on another site.

* From the page editor's preview: the editor (not enrolled) sees the test launches under the
  activity, opens "as test learner" (a new tab: the admin's test launch page), the banner says
  nothing counts in learners' results, the tool verifies a Learner, the editor sends a score,
  which is recorded for the test learner and not in the results report; the tool's return shows
  its message in the frame.
* From a resource link's edit form: "Test launch as Instructor", the tool sees an Instructor.
* The provider check of a tool whose secret does not match reports the tool's refusal.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission

from tests.support.admin import url
from tests.support.factories import make_course, make_link, placements_of, site_root
from tests.tooling import lti11_tool


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(settings, live_server, orgs, make_editor):
    from wagtail_lti.models import LtiProvider

    settings.ROOT_URLCONF = "tests.tooling.urls"
    lti11_tool.LAUNCHES.clear()
    lti11_tool.OUTCOMES.clear()
    tool_base = live_server.url.replace("localhost", "127.0.0.1")
    provider = LtiProvider(
        name="Quiz tool",
        organization=orgs["acme"],
        lti_version="1.1",
        consumer_key=lti11_tool.KEY,
        launch_url=f"{tool_base}/test-tool-11/launch/",
        send_name=True,
    )
    provider.secret = lti11_tool.SECRET
    provider.save()
    link = make_link(
        provider,
        organization=orgs["engineering"],  # the editor's: the editor edits it
        name="Fire safety quiz",
        url=f"{tool_base}/test-tool-11/launch/?lang=en",
        requires_score=True,
        score_maximum=100,
    )
    course = make_course(orgs["engineering"], [link], title="Workplace safety", code="SAF-101")
    editor = make_editor("eddie", orgs["engineering"])
    page_editors = Group.objects.create(name="Page editors")
    page_editors.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=page_editors, page=site_root(), permission_type="change"
    )
    editor.groups.add(page_editors)
    (placement,) = placements_of(course)
    return {
        "provider": provider,
        "link": link,
        "course": course,
        "placement": placement,
        "editor": editor,
    }


def assert_no_axe_violations(page, selector: str | None = None) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=selector) if selector else Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_editor_test_launches_from_the_preview_as_test_learner(
    page, live_server, quiet_editor, login, shot, setup
):
    from wagtail_lti.admin.courses import results_queryset
    from wagtail_lti.models import LearnerActivity, TestLearner

    course, placement = setup["course"], setup["placement"]
    quiet_editor(page)
    login(page, live_server, "eddie")
    # The published course page: the editor, not enrolled, is offered the test launches too.
    page.goto(f"{live_server.url}{course.url}")
    block = page.locator(f"#lti-activity-{placement.block_id}")
    expect(block.locator("[data-lti-test-launch]")).to_be_visible()
    assert_no_axe_violations(page, ".lti-activity")
    shot(page, "test-launch-0-course-page-offers-test-launches")
    page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
    page.get_by_role("button", name="Toggle preview").click()
    # Wagtail loads the preview into a second iframe, then swaps it in: wait for the swap.
    expect(page.locator("iframe[data-w-preview-target='iframe']")).to_have_count(1)
    preview = page.frame_locator("#w-preview-iframe")
    activity = preview.locator(f"#lti-activity-{placement.block_id}")
    expect(activity.locator(".lti-activity__prompt")).to_contain_text("You are not enrolled")
    expect(activity.locator("[data-lti-test-launch]")).to_be_visible()
    shot(page, "test-launch-1-preview-offers-test-launches")

    with page.context.expect_page() as opened:
        activity.get_by_role("link", name="Test launch as test learner").click()
    tab = opened.value
    tab.wait_for_load_state("networkidle")
    banner = tab.locator("[data-test-launch-banner]")
    expect(banner).to_contain_text("as your test learner — not recorded in learners' results")
    expect(banner).to_contain_text("Course: Workplace safety.")
    tool = tab.frame_locator("iframe[data-test-launch-frame]")
    expect(tool.locator("#verified")).to_contain_text("(Learner) in “Workplace safety”")
    expect(tool.locator("#verified")).to_contain_text("Test learner")
    assert_no_axe_violations(tab, "main")
    shot(tab, "test-launch-2-admin-page-tool-as-test-learner")

    tool.locator("#score").fill("0.6")
    tool.get_by_role("button", name="Submit score").click()
    expect(tool.locator("#outcome")).to_have_text("Score 0.6 recorded.")
    tool.locator("#back").click()
    back = tab.frame_locator("iframe[data-test-launch-frame]")
    expect(back.locator("[data-test-launch-return]")).to_contain_text(
        "Quiz tool: your score 0.6 was recorded."
    )
    shot(tab, "test-launch-3-tool-returned-in-frame")

    test_learner = TestLearner.objects.get(editor=setup["editor"], course=course).user
    activity_row = LearnerActivity.objects.get(user=test_learner, placement=placement)
    assert activity_row.score == 0.6 and activity_row.status == "completed"
    assert not list(results_queryset(setup["editor"]))
    tab.goto(f"{live_server.url}/admin/reports/lti-results/")
    expect(tab.locator("main")).not_to_contain_text("Test learner")
    shot(tab, "test-launch-4-results-report-without-the-test-learner")


def test_editor_test_launches_a_resource_link_as_instructor_from_the_admin(
    page, live_server, login, shot, setup
):
    from wagtail_lti.models import LtiResourceLink

    login(page, live_server, "eddie")
    page.goto(live_server.url + url(LtiResourceLink, "edit", setup["link"].pk))
    try_panel = page.locator("[data-try-tool]")
    expect(try_panel).to_be_visible()
    try_panel.scroll_into_view_if_needed()
    shot(page, "test-launch-5-link-form-try-panel")
    try_panel.get_by_role("link", name="Test launch as instructor").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-test-launch-banner]")).to_contain_text(
        "as you, with the Instructor role — not recorded in learners' results"
    )
    tool = page.frame_locator("iframe[data-test-launch-frame]")
    expect(tool.locator("#verified")).to_contain_text(
        "Eddie Editor (Instructor) in “Test launches”"
    )
    assert_no_axe_violations(page, "main")
    shot(page, "test-launch-6-link-as-instructor")


def test_provider_check_reports_the_tool_s_refusal(page, live_server, login, shot, setup):
    from wagtail_lti.models import LtiProvider

    provider = setup["provider"]
    provider.secret = "not the tool's secret"
    provider.save()
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("checker", "checker@example.com", "password")
    login(page, live_server, "checker")
    page.goto(live_server.url + url(LtiProvider, "edit", provider.pk))
    page.locator("[data-provider-check-link]").click()
    page.get_by_role("button", name="Check the tool's set-up").click()
    page.wait_for_load_state("networkidle")
    report = page.locator("[data-provider-check-report]")
    expect(report).to_contain_text("Mismatches found")
    failed = report.locator("[data-check-status='failed']")
    expect(failed).to_contain_text("A signed launch")
    expect(failed).to_contain_text("HTTP 401")
    expect(failed).to_contain_text("It said: Launch refused The OAuth signature is not valid.")
    expect(failed).not_to_contain_text("<html")
    assert_no_axe_violations(page, "main")
    shot(page, "test-launch-7-provider-check-report")
