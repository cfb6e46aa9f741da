"""In Chromium: the labels, forms and pages this round made truthful, each looked at and checked
with axe-core (the copy bundled with axe-playwright-python).

* the LTI providers listing: "Enabled", "Disabled" (switched off by an editor) and "Waiting for
  review" (a Dynamic Registration), and the resource links listing's title not cut off;
* the provider form after another field's error: the typed secret is kept (never shown) and saved;
* the results report: a completed status stands out and every column fits at 1280 pixels;
* the course page with a disabled tool's activity: unavailable, no launch button; the launch
  buttons name their activity;
* a refused launch in a new window: the site's header and styles;
* "Create new" in the course page editor's resource link chooser.

Screenshots: ``test-artifacts/screenshots/polish-*.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_learner, make_link, make_provider, site_root


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDERS = "/admin/snippets/wagtail_lti/ltiprovider/"
LINKS = "/admin/snippets/wagtail_lti/ltiresourcelink/"


def axe(page, include: str | None = None) -> None:
    """No axe-core violation on the page, or in the part ``include`` (a CSS selector): the admin's
    own frame is Wagtail's."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"include": [[include]]} if include else None)
    assert results.violations_count == 0, results.generate_report()


def fully_visible(page, locator) -> None:
    """``locator`` is inside the viewport and not cut off by its container."""
    box = locator.bounding_box()
    assert box is not None
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    clipped = locator.evaluate("e => e.scrollWidth > e.clientWidth + 1")
    assert not clipped


def make_course(orgs, links, *, title="Workplace safety", slug="workplace-safety"):
    from courses.models import CoursePage

    course = CoursePage(
        title=title,
        slug=slug,
        course_organization=orgs["engineering"],
        course_code="SAF-101",
        body=[("lti_activity", {"resource_link": link, "title": ""}) for link in links],
    )
    site_root().add_child(instance=course)
    course.save_revision().publish()
    return course


def test_providers_listing_tells_disabled_from_waiting(
    page, live_server, orgs, superuser, login, shot
):
    make_provider(orgs["acme"], name="Quiz tool")
    make_provider(orgs["acme"], name="Retired tool", is_enabled=False)
    make_provider(
        orgs["acme"],
        name="Registered tool",
        version="1.3",
        key="",
        is_enabled=False,
        awaiting_review=True,
    )
    login(page, live_server, "admin", next=PROVIDERS)
    page.goto(live_server.url + PROVIDERS)
    expect(page.locator("tr", has_text="Retired tool")).to_contain_text("Disabled")
    expect(page.locator("tr", has_text="Retired tool")).not_to_contain_text("review")
    expect(page.locator("tr", has_text="Registered tool")).to_contain_text("Waiting for review")
    expect(page.locator("tr", has_text="Quiz tool")).to_contain_text("Enabled")
    shot(page, "polish-providers-listing")
    axe(page, "table")

    page.goto(live_server.url + LINKS)
    # The title's text ends inside the header's visible part (the header scrolls what does not
    # fit: the title was cut off after "LTI resource link").
    title = page.locator(".w-breadcrumbs li", has_text="LTI resource links").last
    expect(title).to_be_visible()
    fully_visible(page, title)
    title_right = title.evaluate("e => e.getBoundingClientRect().right")
    visible_right = page.locator(".w-breadcrumbs").evaluate("e => e.getBoundingClientRect().right")
    assert title_right <= visible_right, (title_right, visible_right)
    expect(page.get_by_role("link", name="Add from a tool")).to_be_visible()
    expect(page.get_by_role("button", name="Actions")).to_be_visible()
    shot(page, "polish-links-listing")


def test_provider_form_keeps_the_typed_secret_after_an_error(
    page, live_server, orgs, superuser, login, shot
):
    from wagtail_lti.models import LtiProvider

    login(page, live_server, "admin", next=PROVIDERS + "add/")
    page.goto(live_server.url + PROVIDERS + "add/")
    page.fill("#id_name", "Moodle law")
    page.fill("#id_consumer_key", "moodle-key")
    page.fill("#id_secret", "the typed secret")
    page.fill("#id_custom_parameters", "not a parameter line")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")

    expect(page.locator(".error-message").first).to_be_visible()
    expect(page.locator("#id_secret")).to_have_value("")
    expect(page.get_by_text("The secret you typed is kept")).to_be_visible()
    assert "the typed secret" not in page.content()
    page.locator("#id_secret").scroll_into_view_if_needed()
    shot(page, "polish-provider-form-after-error")
    axe(page, "form")

    page.fill("#id_custom_parameters", "")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Moodle law")
    assert LtiProvider.objects.get(name="Moodle law").secret == "the typed secret"


def test_results_report_completed_stands_out_and_fits(
    page, live_server, orgs, superuser, login, shot
):
    from wagtail_lti.models import LearnerActivity, Placement

    provider = make_provider(orgs["acme"])
    quiz = make_link(provider, name="Fire safety quiz (with a long title)", requires_score=True)
    reading = make_link(provider, name="Safety handbook")
    course = make_course(orgs, [quiz, reading], title="Workplace safety for new starters")
    lena = make_learner("lena", first_name="Lena", last_name="Learnwell-Longname")
    enroll(lena, course)
    enroll(make_learner("kim", first_name="Kim"), course)
    placement = Placement.objects.get(page=course, resource_link=quiz)
    from django.utils import timezone

    now = timezone.now()
    LearnerActivity.objects.create(
        placement=placement,
        user=lena,
        status="completed",
        score=0.9,
        launch_count=2,
        first_launched_at=now,
        last_launched_at=now,
        completed_at=now,
    )
    login(page, live_server, "admin", next="/admin/reports/lti-results/")
    page.goto(live_server.url + "/admin/reports/lti-results/")
    completed = page.locator(".lti-result-status--completed")
    expect(completed).to_have_count(1)
    colours = completed.evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color]; }"
    )
    not_started = page.locator(".lti-result-status--not_started").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colours[0] != not_started, (colours, not_started)
    # The last column and the completed tag are on the screen, not cut off.
    fully_visible(page, page.get_by_role("columnheader").last)
    fully_visible(page, completed)
    shot(page, "polish-results-report")
    axe(page, "table")


def test_course_page_shows_a_disabled_tool_as_unavailable(
    page, live_server, orgs, learner_login, shot
):
    from tests.browser.test_accessibility import check_page

    provider = make_provider(orgs["acme"], name="Quiz tool")
    retired = make_provider(orgs["acme"], name="Retired tool", is_enabled=False)
    quiz = make_link(provider, name="Fire safety quiz")
    handbook = make_link(provider, name="Safety handbook", open_in="window")
    old = make_link(retired, name="Old drill")
    course = make_course(orgs, [quiz, handbook, old])
    enroll(make_learner("lena", first_name="Lena"), course)

    learner_login(page, live_server, "lena", next=course.url)
    drill = page.locator("section.lti-activity", has_text="Old drill")
    expect(drill).to_contain_text("The tool behind this activity has been disabled")
    expect(drill.get_by_role("button")).to_have_count(0)
    # Each launch button names its activity for screen readers.
    quiz_button = page.get_by_role(
        "button", name=re.compile(r"^Start activity\s*: Fire safety quiz$")
    )
    expect(quiz_button).to_be_visible()
    expect(quiz_button).to_have_text(re.compile(r"^Start activity"))
    expect(
        page.get_by_role(
            "button",
            name=re.compile(r"^Start activity\s*: Safety handbook \(opens in a new window\)"),
        )
    ).to_be_visible()
    check_page(page, "polish-course-disabled-tool", shot)


def test_refused_launch_in_a_new_window_has_the_sites_header(
    page, live_server, orgs, learner_login, shot
):
    from wagtail_lti.models import LtiProvider

    provider = make_provider(orgs["acme"], name="Quiz tool")
    handbook = make_link(provider, name="Safety handbook", open_in="window")
    course = make_course(orgs, [handbook])
    enroll(make_learner("lena", first_name="Lena"), course)
    learner_login(page, live_server, "lena", next=course.url)

    # The tool is switched off while the page is open: the new window explains.
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)
    from wagtail_lti.launch.targets import catalogue_changed

    catalogue_changed()
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name=re.compile("^Start activity")).click()
    tab = popup_info.value
    tab.wait_for_load_state("networkidle")
    expect(tab.locator("h1")).to_have_text("This activity cannot be opened")
    expect(tab.locator(".site-header")).to_contain_text("Wagtail LTI example")
    expect(tab.locator(".site-header")).to_contain_text("Signed in as")
    expect(tab.locator("[role=alert]")).to_contain_text("has been disabled")
    background = tab.locator(".lti-notice--error").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    shot(tab, "polish-refused-new-window")
    axe(tab)


def test_create_new_in_the_resource_link_chooser(
    page, live_server, orgs, superuser, quiet_editor, login, shot
):
    from wagtail_lti.models import LtiResourceLink

    provider = make_provider(orgs["engineering"], name="Quiz tool")
    existing = make_link(provider, name="Existing quiz")
    course = make_course(orgs, [existing])
    quiet_editor(page)
    login(page, live_server, "admin", next=f"/admin/pages/{course.pk}/edit/")
    page.goto(f"{live_server.url}/admin/pages/{course.pk}/edit/")
    # The block's chooser (its "Choose" button is hidden while a link is chosen: "Change" in
    # its menu does the same).
    page.locator(
        "[data-contentpath='resource_link'] [data-chooser-action-choose]"
    ).first.dispatch_event("click")
    modal = page.locator(".modal-content")
    expect(modal).to_be_visible()
    modal.get_by_role("tab", name="Create new").click()
    # The course page's organization comes first.
    expect(modal.locator("#id_organization")).to_have_value(str(orgs["engineering"].pk))
    modal.locator("#id_name").fill("Fire drill")
    modal.locator("#id_url").fill("https://tool.example.com/drill")
    modal.locator("#id_provider").select_option(label="Quiz tool (LTI 1.1)")
    shot(page, "polish-chooser-create-new")
    axe(page, ".modal-content")
    modal.get_by_role("button", name="Create and choose").click()
    expect(page.locator(".modal-content")).to_have_count(0)
    expect(
        page.locator("[data-contentpath='resource_link'] [data-chooser-title]").first
    ).to_have_text("Fire drill")
    link = LtiResourceLink.objects.get(name="Fire drill")
    assert link.organization == orgs["engineering"] and link.provider == provider
