"""The resource link form's "Dates and presentation" panel and gradebook column: the fields a
tool's Deep Linking answer fills (Deep Linking 2.0 §3.4.1), editable and checked, through the
admin's own form (Django's test client)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.admin import field_errors, link_post, text, url
from tests.support.factories import make_provider
from wagtail_lti.models import LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, orgs, make_editor):
    client.force_login(make_editor("alice", orgs["engineering"]))
    return client


@pytest.fixture
def provider(orgs):
    return make_provider(orgs["engineering"], name="Quiz tool")


def test_the_form_shows_the_panel(editor_client):
    page = text(editor_client.get(url(LtiResourceLink, "add")))
    assert "Dates and presentation" in page and "Gradebook column" in page
    for label in ("Available from", "Due", "Window name", "Frame height", "Line item label"):
        assert label in page, label


def test_dates_sizes_and_line_item_are_saved(editor_client, orgs, provider):
    data = link_post(
        orgs["engineering"],
        provider,
        requires_score="on",
        score_maximum="40",
        line_item_label="Quiz four",
        line_item_resource_id="quiz-4",
        line_item_tag="final",
        line_item_grades_released="true",
        available_start="2030-01-05 08:00",
        available_end="2030-02-05 08:00",
        submission_end="2030-02-01 17:00",
        late_submissions="refuse",
        open_in="window",
        window_target_name="quiz-window",
        window_width="900",
        window_height="700",
        window_features="menubar=no",
    )
    response = editor_client.post(url(LtiResourceLink, "add"), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    link = LtiResourceLink.objects.get()
    assert link.available_start == datetime(2030, 1, 5, 8, tzinfo=UTC)  # the site's zone: UTC
    assert link.submission_end == datetime(2030, 2, 1, 17, tzinfo=UTC)
    assert link.late_submissions == "refuse"
    assert (link.window_target_name, link.window_width, link.window_height) == (
        "quiz-window",
        900,
        700,
    )
    assert (link.line_item_label, link.line_item_resource_id, link.line_item_tag) == (
        "Quiz four",
        "quiz-4",
        "final",
    )
    assert link.line_item_grades_released is True


@pytest.mark.parametrize(
    "fields, field, words",
    [
        (
            {"available_start": "2030-02-05 08:00", "available_end": "2030-01-05 08:00"},
            "available_end",
            "later than",
        ),
        (
            {"submission_start": "2030-02-05 08:00", "submission_end": "2030-02-05 08:00"},
            "submission_end",
            "later than",
        ),
        ({"iframe_height": "0"}, "iframe_height", "greater than or equal to 1"),
        ({"window_width": "20000"}, "window_width", "less than or equal to 10000"),
        ({"window_height": "-3"}, "window_height", ""),
        ({"window_target_name": "_top"}, "window_target_name", "letters, digits"),
        ({"window_target_name": "a b<c>"}, "window_target_name", "a_b_c_"),
        ({"available_start": "next week"}, "available_start", "valid date"),
    ],
)
def test_bad_values_are_refused_with_a_message_and_nothing_saved(
    editor_client, orgs, provider, fields, field, words
):
    response = editor_client.post(
        url(LtiResourceLink, "add"), link_post(orgs["engineering"], provider, **fields)
    )
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and words in " ".join(errors), response.context["form"].errors
    assert not LtiResourceLink.objects.exists()
