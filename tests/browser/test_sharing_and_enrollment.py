"""Shared listings, sharing and enrollment at scale, in Chromium (issues 13.2, 13.3, 13.6).

* An editor of a child organization sees the parent's shared link read-only and filters the
  listing (Owned by us / Shared with us).
* An editor shares a provider with an organization found by the Availability tab's search.
* An editor enrolls people from a CSV file ("Enroll many"), first with a bad line (nothing
  recorded), then corrected.
* A learner enrolls in an open course from its page.

axe-core checks the new pages (the read-only inspect page, the Availability tab, the bulk form and
its report, the course page's "Enroll in this course").

Screenshots: ``test-artifacts/screenshots/sharing-*.png``, ``enroll-*.png``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_no_axe_violations
from tests.browser.test_learner_lti11 import assert_accessible
from tests.support.admin import url
from tests.support.factories import make_course, make_learner, make_link, make_provider
from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_child_editor_sees_parent_link_read_only_and_filters(
    page, live_server, orgs, make_editor, login, shot
):
    tool = make_provider(orgs["acme"], name="Acme quiz tool")
    make_link(tool, name="Acme induction quiz", available_to=[orgs["sales"]])
    make_link(tool, name="Platform quiz", organization=orgs["platform"])
    make_editor("pat", orgs["platform"])

    login(page, live_server, "pat", next=url(LtiResourceLink, "list"))
    rows = page.locator("table.listing tbody tr")
    expect(rows).to_have_count(2)
    shot(page, "sharing-child-listing")

    expect(rows.filter(has_text="Acme induction quiz")).to_contain_text("Shared with us")

    # Wagtail's filter drilldown: "Show filters" → "Owned or shared".
    page.get_by_role("button", name="Show filters").click()
    page.locator("button[aria-controls=drilldown-id_ownership]").click()
    page.select_option("select[name=ownership]", label="Shared with us")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Acme induction quiz")
    shot(page, "sharing-child-listing-shared")
    page.select_option("select[name=ownership]", label="Owned by us")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Platform quiz")
    page.select_option("select[name=ownership]", label="All")
    expect(rows).to_have_count(2)
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Acme induction quiz").click()
    page.wait_for_load_state("networkidle")
    assert "/inspect/" in page.url
    main = page.locator("main")
    expect(main).to_contain_text("https://tool.example.com/launch?item=1")
    expect(main).to_contain_text("Acme")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    assert_no_axe_violations(page)
    shot(page, "sharing-child-inspect")


def test_editor_shares_with_organization_found_by_search(
    page, live_server, orgs, make_editor, login, shot
):
    tool = make_provider(orgs["platform"], name="Team tool")
    make_editor("pat", orgs["platform"])
    login(page, live_server, "pat", next=url(LtiProvider, "edit", tool.pk))
    page.get_by_role("tab", name="Availability").click()
    search = page.get_by_label("Find organizations")
    expect(search).to_be_visible()
    search.fill("sal")
    boxes = page.locator("[data-lti-org-tree] input[type=checkbox]:visible")
    expect(boxes).to_have_count(1)
    # Wagtail's snippet edit page itself has no level-one heading: axe checks the tab's content.
    assert_accessible(page, "#tab-availability")
    shot(page, "sharing-availability-search")
    page.get_by_label("Sales").check()
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    assert set(tool.available_to.all()) == {orgs["sales"]}
    page.goto(live_server.url + url(LtiProvider, "list"))
    expect(page.locator("table.listing")).to_contain_text("Sales")
    shot(page, "sharing-listing-names")


def test_bulk_enrollment_by_csv(page, live_server, orgs, link, make_editor, login, shot, tmp_path):
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    for name in ("lee", "kim", "max"):
        make_learner(name, first_name=name.title())
    make_editor("alice", orgs["engineering"])
    login(
        page,
        live_server,
        "alice",
        next=reverse("wagtail_lti_enrollments:index") + f"?course={course.pk}",
    )
    page.get_by_role("link", name="Enroll many").click()
    page.wait_for_load_state("networkidle")
    assert_no_axe_violations(page)
    shot(page, "enroll-bulk-form")

    bad = tmp_path / "people.csv"
    bad.write_text("username\nlee\nkim@example.com\nnobody\n", encoding="utf-8")
    page.set_input_files("input[name=csv_file]", str(bad))
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#bulk-errors")).to_contain_text("Nobody was enrolled")
    expect(page.locator("#bulk-errors")).to_contain_text("File line 4: “nobody”")
    assert not Enrollment.objects.exists()
    assert_no_axe_violations(page)
    shot(page, "enroll-bulk-refused")

    good = tmp_path / "people-fixed.csv"
    good.write_text("username\nlee\nkim@example.com\nmax\nlee\n", encoding="utf-8")
    page.set_input_files("input[name=csv_file]", str(good))
    page.get_by_role("button", name="Enroll").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("main")).to_contain_text("3 people enrolled in “Engineering basics”")
    expect(page.locator("main")).to_contain_text("File line 5: “lee”: named more than once")
    assert Enrollment.objects.filter(course=course).count() == 3
    assert_no_axe_violations(page)
    shot(page, "enroll-bulk-done")


def test_learner_self_enrolls(page, live_server, orgs, link, learner_login, shot):
    course = make_course(orgs["engineering"], [link], title="Open course")
    course.allow_self_enrollment = True
    course.save_revision().publish()
    learner = make_learner("lena", first_name="Lena")
    learner_login(page, live_server, "lena", next=course.url)
    button = page.get_by_role("button", name="Enroll in this course")
    expect(button).to_be_visible()
    assert_no_axe_violations(page)
    shot(page, "enroll-self-offered")
    button.click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("main")).to_contain_text("You are enrolled in “Open course”")
    expect(page.get_by_role("button", name="Enroll in this course")).to_have_count(0)
    assert Enrollment.objects.get(user=learner, course=course).via == "self"
    assert_no_axe_violations(page)
    shot(page, "enroll-self-done")
