"""An editor copies a course in Wagtail's page explorer; a learner launches in the copy.

The tool is PyLTI1p3 on the live server (``tests/tooling/lti13_tool.py``); it echoes the ids and
the custom claim it received. In the copy it gets a new resource link id and context id, and
``$ResourceLink.id.history`` / ``$Context.id.history`` (LTI Core 1.3, custom property substitution (#customproperty)) lead back to the
original's ids: the tool finds the settings it keyed by the original's resource link id.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.factories import enroll, make_course, make_learner, make_link


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_copies_a_course_and_the_tool_receives_the_history(
    page, live_server, orgs, superuser, lti13_tool, login, learner_login, shot
):
    from wagtail.models import Page

    from wagtail_lti.models import Placement
    from wagtail_lti.security.identifiers import context_id

    provider = lti13_tool.make_provider(
        orgs["acme"],
        custom_parameters=(
            "custom_link_history=$ResourceLink.id.history\n"
            "custom_context_history=$Context.id.history"
        ),
    )
    link = make_link(provider, name="Fire drill quiz", url=lti13_tool.launch_url)
    course = make_course(orgs["acme"], [link], title="Safety at work", code="SAF-101")
    original = Placement.objects.get(page=course)
    state = lti13_tool.register(provider)

    # The editor copies the course from the page explorer (Wagtail's Copy), published.
    login(page, live_server, "admin", next=f"/admin/pages/{course.get_parent().pk}/")
    row = page.locator("tr", has=page.get_by_role("link", name="Safety at work", exact=True))
    row.get_by_role("button", name="More options for 'Safety at work'").click()
    row.get_by_role("link", name="Copy", exact=True).click()
    page.fill("input[name=new_title]", "Safety at work (spring)")
    page.fill("input[name=new_slug]", "safety-spring")
    page.check("input[name=publish_copies]")
    shot(page, "course-copy-form")
    page.get_by_role("button", name="Copy this page").click()
    expect(page.locator(".messages")).to_contain_text("copied")
    shot(page, "course-copy-done")

    copy = Page.objects.get(slug="safety-spring").specific
    assert copy.live
    placement = Placement.objects.get(page=copy)
    # The copy has no roster: the learner is enrolled in it.
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, copy)

    page.context.clear_cookies()  # the editor leaves; the learner signs in
    learner_login(page, live_server, "lena", next=copy.url)
    page.goto(live_server.url + copy.url)
    shot(page, "course-copy-learner-page")
    page.locator("[data-lti-activity] form.lti-activity__launch button").click()
    frame = page.frame_locator(".lti-activity__frame iframe")
    expect(frame.locator("#tool-launched")).to_contain_text("Fire drill quiz", timeout=20_000)
    claims = frame.locator("#tool-claims")
    expect(claims.locator("[data-claim='resource_link.id']")).to_have_text(placement.lti_id)
    expect(claims.locator("[data-claim='context.id']")).to_have_text(context_id(copy))
    expect(claims.locator("[data-claim='custom.link_history']")).to_have_text(original.lti_id)
    expect(claims.locator("[data-claim='custom.context_history']")).to_have_text(context_id(course))
    shot(page, "course-copy-launch-history")
    assert state.errors == []
    assert placement.lti_id != original.lti_id
