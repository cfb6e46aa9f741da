"""Reports → Site history in Chromium: an editor reads the history of their own organization's LTI
records, and of the records shared with their organization; a superuser reads everyone's.

Screenshots (test-artifacts/screenshots/): site-history-editor, site-history-superuser,
shared-provider-history.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from playwright.sync_api import expect
from wagtail.models import GroupPagePermission

from tests.support.admin import link_post, provider_post, url
from tests.support.factories import site_root
from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THEIR_NAMES = ["Partner grading tool", "Partner essay", "Pat Editor"]


def _admin_work(editor, organization, tool: str, activity: str):
    """A provider and a resource link created through the admin by ``editor``."""
    client = Client()
    client.force_login(editor)
    response = client.post(
        url(LtiProvider, "add"),
        provider_post(organization, name=tool, consumer_key=f"{tool}-key", secret="s3cret"),
    )
    assert response.status_code == 302
    provider = LtiProvider.objects.get(name=tool)
    response = client.post(
        url(LtiResourceLink, "add"), link_post(organization, provider, name=activity)
    )
    assert response.status_code == 302
    return provider


def test_editor_reads_only_their_organizations_history(
    page, live_server, login, shot, orgs, make_editor, superuser
):
    alice = make_editor("alice", orgs["engineering"])
    pat = make_editor("pat", orgs["partner"])
    # Alice also edits pages (the Site history menu item is for page editors).
    page_editors = Group.objects.create(name="Page editors")
    page_editors.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=page_editors, page=site_root(), permission_type="change"
    )
    alice.groups.add(page_editors)
    mine = _admin_work(alice, orgs["engineering"], "Engineering quiz tool", "Circuits quiz")
    _admin_work(pat, orgs["partner"], "Partner grading tool", "Partner essay")

    # Alice renames her tool in the admin, then opens Reports → Site history.
    login(page, live_server, "alice")
    page.goto(live_server.url + url(LtiProvider, "edit", mine.pk))
    page.fill("#id_name", "Engineering quiz tool v2")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("link", name="Site history").click()
    page.wait_for_load_state("networkidle")
    listing = page.locator("table.listing")
    expect(listing).to_contain_text("Engineering quiz tool v2")
    expect(listing).to_contain_text("Circuits quiz")
    # Her three LTI entries (page entries, e.g. of the home page a previous test recreated, are
    # Wagtail's business and may be listed too).
    expect(listing.locator("tbody tr", has_text="LTI ")).to_have_count(3)
    shot(page, "site-history-editor")
    body = page.locator("body").inner_text()
    for name in THEIR_NAMES:
        assert name not in body

    # Filtering by name finds nothing of the other organization either.
    page.goto(f"{live_server.url}/admin/reports/site-history/?label=Partner")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("No log entries found.")).to_be_visible()

    # A superuser reads every organization's history.
    page.context.clear_cookies()
    login(page, live_server, "admin", next="/admin/reports/site-history/")
    listing = page.locator("table.listing")
    for name in (
        "Engineering quiz tool v2",
        "Circuits quiz",
        "Partner grading tool",
        "Partner essay",
    ):
        expect(listing).to_contain_text(name)
    shot(page, "site-history-superuser")


def test_editor_reads_the_history_of_a_provider_shared_with_them(
    page, live_server, login, shot, orgs, make_editor
):
    """Pat's provider is available to Engineering: Alice reads what Pat did to it (with Pat's
    name) in Site history and on its own History page, which offers her no Edit button."""
    alice = make_editor("alice", orgs["engineering"])
    pat = make_editor("pat", orgs["partner"])
    page_editors = Group.objects.create(name="Page editors")
    page_editors.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=page_editors, page=site_root(), permission_type="change"
    )
    alice.groups.add(page_editors)
    shared = _admin_work(pat, orgs["partner"], "Partner shared tool", "Partner essay")
    shared.available_to.add(orgs["engineering"])
    shared.save()

    login(page, live_server, "alice", next="/admin/reports/site-history/")
    listing = page.locator("table.listing")
    expect(listing).to_contain_text("Partner shared tool")
    expect(listing).to_contain_text("Pat Editor")
    expect(listing).not_to_contain_text("Partner essay")  # not shared

    page.goto(live_server.url + url(LtiProvider, "history", shared.pk))
    page.wait_for_load_state("networkidle")
    expect(page.locator("table.listing")).to_contain_text("Pat Editor")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    shot(page, "shared-provider-history")
