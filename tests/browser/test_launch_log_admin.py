"""An editor troubleshoots a tool in Chromium: turns on "debug launches" on the provider form, a
learner launches the activity, and the editor finds the launch in Reports → LTI launch log and
reads the exact parameters and OAuth base string that were sent (never the secret).

Screenshots (test-artifacts/screenshots/): launch-log-provider-debug, launch-log-listing,
launch-log-entry.
"""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.support.factories import (
    SECRET,
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
)
from wagtail_lti.models import LaunchLogEntry, LtiProvider, Placement


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_reads_the_parameters_of_a_debugged_launch(
    page, live_server, login, shot, orgs, make_editor
):
    provider = make_provider(orgs["acme"], name="Fire quiz tool")
    link = make_link(provider, name="Fire drill quiz")
    course = make_course(orgs["engineering"], [link], title="Safety at work")
    learner = make_learner("lee")
    enroll(learner, course)
    make_editor("alice", orgs["acme"])

    # The editor turns the provider's debug switch on.
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/admin/snippets/wagtail_lti/ltiprovider/edit/{provider.pk}/")
    switch = page.locator("input[name=debug_launches]")
    expect(switch).not_to_be_checked()
    switch.check()
    shot(page, "launch-log-provider-debug")
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    assert LtiProvider.objects.get(pk=provider.pk).debug_launches

    # The learner launches the activity (its signed form is what the log keeps).
    learner_client = Client()
    learner_client.force_login(learner)
    placement = Placement.objects.get(page=course)
    assert learner_client.post(f"/lti/launch/{placement.lti_id}/").status_code == 200
    entry = LaunchLogEntry.objects.get()

    # The editor finds it under Reports.
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("link", name="LTI launch log").click()
    page.wait_for_load_state("networkidle")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Fire quiz tool")
    expect(row).to_contain_text("LTI 1.1 launch form signed")
    shot(page, "launch-log-listing")

    row.get_by_role("link", name="Launch").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/lti-launch-log/{entry.pk}/")
    base_string = page.locator("[data-lti-debug=base-string]")
    expect(base_string).to_contain_text("POST&")
    expect(base_string).to_contain_text("resource_link_id%3D" + placement.lti_id)
    data = page.locator("[data-lti-debug=data]")
    expect(data).to_contain_text('"oauth_signature": "(not stored)"')
    expect(data).to_contain_text('"lis_person_name_full": "Lee Learner"')
    assert SECRET not in page.content()
    shot(page, "launch-log-entry")
