"""Launch-log privacy with a shared provider: learner data belongs to the course's organization.

Partner Co owns a provider with launch debugging on and shares it with Acme; an Acme learner
launches it from an Acme course (a real launch through the test client, verified by the ``lti``
library as the tool would). Acme's managers see the entry in full; Partner Co's managers see that
their tool was launched and how it went, never who, in which course, nor what was sent. Checked at
the rule (``scoping``) and at every door: listing, search, filters, CSV/XLSX exports, detail view.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse

from tests.launch.test_lti11_launch import launched_form, verified_params
from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from wagtail_lti import launch_log, scoping
from wagtail_lti.models import LaunchLogEntry, Placement


pytestmark = pytest.mark.django_db

LOG_URL = "wagtail_lti_launch_log"
PRIVATE = ("zq-learner", "Zorblax", "zorblax@example.com", "Secret course title")


@pytest.fixture
def shared(client, orgs, make_editor, superuser):
    provider = make_provider(
        orgs["partner"],
        name="Shared quiz",
        available_to=[orgs["acme"]],
        debug_launches=True,
        send_name=True,
        send_email=True,
    )
    link = make_link(provider, available_to=[orgs["acme"]])
    course = make_course(orgs["acme"], [link], title="Secret course title")
    learner = make_learner("zq-learner", last_name="Zorblax", email="zorblax@example.com")
    enroll(learner, course)
    placement = Placement.objects.get(page=course)
    params = verified_params(launched_form(client, learner, placement))
    assert params["lis_person_contact_email_primary"] == "zorblax@example.com"
    client.logout()
    (entry,) = LaunchLogEntry.objects.all()
    return {
        "provider": provider,
        "course": course,
        "entry": entry,
        "acme": make_editor("alice", orgs["acme"]),
        "partner": make_editor("paula", orgs["partner"]),
        "engineering": make_editor("eddie", orgs["engineering"]),
        "superuser": superuser,
    }


def visible(user):
    return {
        entry.pk: entry.shows_details
        for entry in scoping.with_launch_log_details(
            scoping.launch_log_visible_to(LaunchLogEntry.objects.all(), user), user
        )
    }


# --- The rule -----------------------------------------------------------------------------------


def test_the_entry_belongs_to_the_courses_organization(shared, orgs):
    entry = LaunchLogEntry.objects.get()
    assert entry.organization_id == orgs["acme"].pk
    assert entry.debug_data["parameters"]["lis_person_contact_email_primary"] == (
        "zorblax@example.com"
    )


def test_rule_course_organization_sees_details_provider_owner_does_not(shared):
    pk = shared["entry"].pk
    assert visible(shared["acme"]) == {pk: True}
    assert visible(shared["partner"]) == {pk: False}
    assert visible(shared["engineering"]) == {}
    assert visible(shared["superuser"]) == {pk: True}


def test_rule_the_entry_keeps_its_organization_when_the_course_goes(shared):
    LaunchLogEntry.objects.update(course=None, placement=None)
    pk = shared["entry"].pk
    assert visible(shared["acme"]) == {pk: True}
    assert visible(shared["partner"]) == {pk: False}


def test_rule_entries_without_an_organization_are_the_provider_owners(shared, orgs):
    token = launch_log.record("token", ok=False, provider=shared["provider"], error="bad assertion")
    orphan = launch_log.record("token", ok=False, error="Unknown client_id.")
    assert token.organization_id is None
    assert visible(shared["partner"]) == {shared["entry"].pk: False, token.pk: True}
    assert token.pk not in visible(shared["acme"]) and orphan.pk not in visible(shared["acme"])
    assert orphan.pk not in visible(shared["partner"])
    assert visible(shared["superuser"])[orphan.pk] is True


def test_rule_a_content_selection_belongs_to_the_organization_it_was_made_for(shared, orgs):
    selection = launch_log.record(
        "content_selection",
        ok=True,
        provider=shared["provider"],
        user=shared["acme"],
        organization=orgs["acme"],
        action="selection",
        debug={"parameters": {"lis_person_contact_email_primary": "alice@example.com"}},
    )
    assert visible(shared["acme"])[selection.pk] is True
    assert visible(shared["partner"])[selection.pk] is False


def test_rule_the_organization_comes_from_the_placements_course(shared, orgs):
    placement = Placement.objects.get(page=shared["course"])
    entry = launch_log.record("outcomes", ok=True, provider=shared["provider"], placement=placement)
    assert entry.organization_id == orgs["acme"].pk  # computed in the INSERT, read when asked


# --- The doors ----------------------------------------------------------------------------------


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse(LOG_URL), params)
    assert response.status_code == 200
    return response.content.decode()


def assert_private(text: str, shown: bool) -> None:
    for value in PRIVATE:
        assert (value in text) is shown, value


def test_listing_shows_the_person_to_the_course_organization_only(client, shared):
    html = page(client, shared["acme"])
    assert "Shared quiz" in html
    assert "zq-learner" in html and "Secret course title" in html
    html = page(client, shared["partner"])
    assert "Shared quiz" in html and "LTI 1.1 launch form signed" in html
    assert_private(html, False)
    assert "LTI 1.1 launch form signed" not in page(client, shared["engineering"])


def test_search_by_username_finds_only_entries_whose_person_is_shown(client, shared):
    assert "Shared quiz" in page(client, shared["acme"], q="zq-learner")
    html = page(client, shared["partner"], q="zq-learner")
    assert "LTI 1.1 launch form signed" not in html
    assert "LTI 1.1 launch form signed" in page(client, shared["partner"], q="Shared")


def test_the_provider_filter_offers_the_shared_provider_to_its_users(client, shared):
    pk = shared["provider"].pk
    html = page(client, shared["acme"], provider=pk)
    assert "zq-learner" in html
    html = page(client, shared["partner"], provider=pk)
    assert "LTI 1.1 launch form signed" in html
    assert_private(html, False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_leave_the_person_and_course_out_for_the_provider_owner(client, shared, fmt):
    def export(user) -> str:
        client.force_login(user)
        response = client.get(reverse(LOG_URL), {"export": fmt})
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        if fmt == "csv":
            return body.decode()
        from openpyxl import load_workbook

        sheet = load_workbook(BytesIO(body)).active
        return "\n".join(
            ",".join(str(c or "") for c in row) for row in sheet.iter_rows(values_only=True)
        )

    text = export(shared["acme"])
    assert "zq-learner" in text and "Secret course title" in text
    text = export(shared["partner"])
    assert "Shared quiz" in text and "LTI 1.1 launch form signed" in text
    assert_private(text, False)
    assert "LTI 1.1 launch form signed" not in export(shared["engineering"])


def test_detail_view_shows_debug_data_to_the_course_organization_only(client, shared):
    entry_url = reverse("wagtail_lti_launch_log_entry", args=[shared["entry"].pk])
    client.force_login(shared["acme"])
    response = client.get(entry_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "zorblax@example.com" in html and "zq-learner" in html
    assert "Secret course title" in html

    client.force_login(shared["partner"])
    response = client.get(entry_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shared quiz" in html
    assert_private(html, False)
    assert "lis_person" not in html  # no debug data at all

    client.force_login(shared["engineering"])
    assert client.get(entry_url).status_code == 404
    client.force_login(shared["superuser"])
    assert "zorblax@example.com" in client.get(entry_url).content.decode()


# --- Refused requests from anyone: bounded ---------------------------------------------------------


@pytest.fixture
def budget_of_three(settings):
    """A budget of 3 rows (each test counts in a minute of its own: course_fixtures)."""
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "LAUNCH_LOG_REFUSALS_PER_MINUTE": 3}


def test_rule_refusal_budget_per_caller_and_kind(budget_of_three):
    caller = "198.51.100.7"
    assert [launch_log.refusal_budget("token", caller) for _ in range(5)] == [
        "record",
        "record",
        "record",
        "last",
        "skip",
    ]
    assert launch_log.refusal_budget("outcomes", caller) == "record"
    assert launch_log.refusal_budget("token", caller + "1") == "record"


def test_anonymous_refusals_cannot_fill_the_log(client, budget_of_three):
    token_url = reverse("wagtail_lti:lti13_token")
    caller = "203.0.113.7"
    for _ in range(8):
        response = client.post(
            token_url,
            {"grant_type": "client_credentials", "client_assertion": "junk"},
            REMOTE_ADDR=caller,
        )
        assert response.status_code in (400, 401)
    rows = list(LaunchLogEntry.objects.filter(kind="token").order_by("pk"))
    assert len(rows) == 4
    assert launch_log.OVER_BUDGET_NOTE in rows[-1].error
    assert all(launch_log.OVER_BUDGET_NOTE not in row.error for row in rows[:-1])
    # Another caller still gets its refusals recorded.
    client.post(token_url, {"grant_type": "client_credentials"}, REMOTE_ADDR="203.0.113.8")
    assert LaunchLogEntry.objects.filter(kind="token").count() == 5
