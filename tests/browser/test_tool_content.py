"""Content from a tool in a rich-text field, in Chromium: the editor's "Insert from a tool", the
learner's page, the inline activity's launch and its score.

The tool is the example site's demo tool on the live server (``example_site/demo_tool``): its
picker answers our Deep Linking request (LTI 1.3, signed by PyLTI1p3) with a link, an HTML snippet
that carries a ``<script>``, an image and a scored LTI resource link.

Screenshots (test-artifacts/screenshots/): tool-content-1-editor, tool-content-2-choose-tool,
tool-content-3-picker, tool-content-4-inserted, tool-content-5-learner,
tool-content-6-score-sent.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_no_axe_violations
from tests.support.factories import enroll, make_learner, site_root


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def starting_point(live_server, orgs, make_editor):
    """The demo tool registered for Acme, an editor with page permissions, a published course
    page with one paragraph, an enrolled learner."""
    from courses.models import CoursePage
    from django.contrib.auth.models import Permission
    from wagtail.models import GroupPagePermission

    from demo_tool.setup import ensure_demo_registrations

    ensure_demo_registrations(live_server.url, orgs["acme"])
    editor = make_editor("eddie", orgs["acme"])
    group = editor.groups.get()
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=site_root(),
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    course = CoursePage(
        title="The water cycle",
        slug="water-cycle",
        course_organization=orgs["acme"],
        course_code="SCI-7",
        body=[("paragraph", "<p>This week: where rain comes from.</p>")],
    )
    site_root().add_child(instance=course)
    course.save_revision().publish()
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    return course


def test_editor_inserts_content_from_a_tool_and_learner_launches_it(
    browser, page, live_server, starting_point, quiet_editor, login, learner_login, shot
):
    from wagtail_lti.content_selection.tool_content import activity_block_id
    from wagtail_lti.models import Placement, ToolContent

    course = starting_point
    base = live_server.url
    quiet_editor(page)
    login(page, live_server, "eddie", next=f"/admin/pages/{course.pk}/edit/")
    page.wait_for_load_state("networkidle")
    editor = page.locator(".Draftail-Editor [contenteditable=true]").first
    editor.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    shot(page, "tool-content-1-editor")

    # The control (in Draftail's "/" menu of blocks) opens the tool content window.
    page.keyboard.type("/tool")
    option = page.get_by_role("option", name="Insert from a tool")
    expect(option).to_be_visible()
    with page.expect_popup() as popup_info:
        option.click()
    popup = popup_info.value
    popup.set_default_timeout(20_000)
    expect(popup.get_by_role("heading", name="Insert content from a tool")).to_be_visible()
    popup.select_option("select[name=provider]", label="Demo tool (LTI 1.3)")
    assert_no_axe_violations(popup)
    shot(popup, "tool-content-2-choose-tool")
    popup.get_by_role("button", name="Choose content in the tool").click()

    # The demo tool's picker: an activity and content for the page.
    expect(popup.get_by_role("heading", name="Choose activities to add")).to_be_visible()
    popup.get_by_label("Quiz: fractions").check()
    popup.get_by_label("Article: where rain comes from").check()
    popup.get_by_label("Fact box: water on Earth").check()
    popup.get_by_label("Diagram: the water cycle").check()
    shot(popup, "tool-content-3-picker")
    popup.get_by_role("button", name="Add the chosen activities").click()
    popup.wait_for_event("close", timeout=20_000)

    # Back in the page editor: four blocks, one per item.
    blocks = page.locator("[data-lti-tool-content]")
    expect(blocks).to_have_count(4)
    shot(page, "tool-content-4-inserted")
    expect(page.locator(".lti-tool-content-editor__title", has_text="Fact box")).to_be_visible()
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("published")

    contents = {c.kind: c for c in ToolContent.objects.all()}
    assert set(contents) == {"ltiResourceLink", "link", "html", "image"}
    assert "<script" not in contents["html"].html and "97%" in contents["html"].html
    course.refresh_from_db()
    stored = course.body[0].value.source
    assert 'embedtype="lti-tool"' in stored and "97%" not in stored  # only ids in rich text
    placement = Placement.objects.get(
        page=course, block_id=activity_block_id(contents["ltiResourceLink"])
    )
    assert placement.resource_link.requires_score

    # --- The learner ------------------------------------------------------------------------------
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        lp = context.new_page()
        lp.set_default_timeout(15_000)
        learner_login(lp, live_server, "lena", next=course.url)
        assert lp.url == f"{base}{course.url}"
        html_box = lp.locator(".lti-tool-content--html")
        expect(html_box).to_contain_text("97%")
        assert html_box.locator("script").count() == 0
        assert "hacked" not in lp.title()
        expect(lp.get_by_role("link", name="Article: where rain comes from")).to_be_visible()
        expect(lp.locator(".lti-tool-content--image img")).to_have_attribute(
            "alt", "Diagram: the water cycle"
        )
        activity = lp.locator(f"#lti-activity-{placement.block_id}")
        expect(activity.locator(".lti-badge")).to_have_text("Not started")
        assert_no_axe_violations(lp)
        shot(lp, "tool-content-5-learner")

        activity.get_by_role("button", name="Start activity").click()
        tool = lp.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
        expect(tool.locator("h1")).to_have_text("Hello, Lena Learner", timeout=20_000)
        tool.get_by_label("Score (0–100 %)").fill("90")
        tool.get_by_role("button", name="Send the score").click()
        expect(tool.locator("#answer-title")).to_have_text("The platform accepted the score")
        shot(lp, "tool-content-6-score-sent")
        tool.get_by_role("link", name="Return to the course").click()
        lp.wait_for_load_state("networkidle")
        expect(activity.locator(".lti-badge")).to_have_text("Completed")
        expect(activity.locator(".lti-activity__score")).to_have_text("Score: 90%")
    finally:
        context.close()


def test_tool_content_block_is_chosen_in_the_tool(
    page, live_server, starting_point, quiet_editor, login, shot
):
    from wagtail_lti.models import ToolContent

    course = starting_point
    quiet_editor(page)
    login(page, live_server, "eddie", next=f"/admin/pages/{course.pk}/edit/")
    page.wait_for_load_state("networkidle")
    # A "Tool content" block after the paragraph.
    page.locator("button[title='Insert a block']").last.click()
    page.get_by_role("option", name="Tool content").click()
    chooser = page.locator("[data-lti-tool-content-chooser]")
    expect(chooser).to_contain_text("Nothing chosen yet.")
    with page.expect_popup() as popup_info:
        chooser.get_by_role("button", name="Choose from a tool").click()
    popup = popup_info.value
    popup.set_default_timeout(20_000)
    popup.select_option("select[name=provider]", label="Demo tool (LTI 1.3)")
    popup.get_by_role("button", name="Choose content in the tool").click()
    expect(popup.get_by_role("heading", name="Choose activities to add")).to_be_visible()
    popup.get_by_label("Fact box: water on Earth").check()
    popup.get_by_role("button", name="Add the chosen activities").click()
    popup.wait_for_event("close", timeout=20_000)

    expect(chooser).to_contain_text("HTML: Fact box: water on Earth (Demo tool (LTI 1.3))")
    shot(page, "tool-content-7-block-chosen")
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("published")
    course.refresh_from_db()
    content = ToolContent.objects.get()
    assert [child.value for child in course.body if child.block_type == "tool_content"] == [
        content.pk
    ]
    page.goto(f"{live_server.url}{course.url}")
    expect(page.locator(".lti-tool-content--html")).to_contain_text("97%")
    shot(page, "tool-content-8-block-page")
