"""A placement's line item from its resource link's template (Deep Linking 2.0 §3.4.1
``lineItem``, or the resource link form): ``courses.placements.line_item_values``, applied when a
course page is published."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.factories import make_course, make_link, make_provider, placements_of
from wagtail_lti.services import results


pytestmark = pytest.mark.django_db


def _republish(page):
    page.save_revision().publish()


def test_the_line_item_follows_the_links_template(orgs):
    provider = make_provider(orgs["acme"])
    link = make_link(
        provider,
        requires_score=True,
        score_maximum=40,
        line_item_label="Quiz four (graded)",
        line_item_resource_id="quiz-4",
        line_item_tag="final",
        line_item_grades_released=False,
        submission_start=datetime(2030, 1, 1, tzinfo=UTC),
        submission_end=datetime(2030, 2, 1, tzinfo=UTC),
    )
    page = make_course(orgs["engineering"], [(link, "Quiz four")])
    (placement,) = placements_of(page)
    item = results.line_item_for(placement)
    assert (item.label, item.score_maximum, item.resource_id, item.tag) == (
        "Quiz four (graded)",
        40,
        "quiz-4",
        "final",
    )
    assert item.grades_released is False
    assert (item.start_date_time, item.end_date_time) == (
        datetime(2030, 1, 1, tzinfo=UTC),
        datetime(2030, 2, 1, tzinfo=UTC),
    )

    link.line_item_tag = "midterm"
    link.submission_end = datetime(2030, 3, 1, tzinfo=UTC)
    link.save()
    _republish(page)
    item.refresh_from_db()
    assert item.tag == "midterm" and item.end_date_time == datetime(2030, 3, 1, tzinfo=UTC)
    assert results.line_item_for(placement).pk == item.pk  # updated, not replaced


def test_without_a_template_the_automatic_line_item_and_the_tools_changes_stay(orgs):
    provider = make_provider(orgs["acme"])
    link = make_link(provider, name="Essay", requires_score=True, score_maximum=10)
    page = make_course(orgs["engineering"], [(link, "")])
    (placement,) = placements_of(page)
    item = results.line_item_for(placement)
    assert (item.label, item.resource_id, item.tag, item.grades_released) == (
        "Essay",
        "",
        "",
        None,
    )
    # The tool sets a tag through AGS; a republish does not undo it.
    item.tag = "tool-tag"
    item.save()
    _republish(page)
    item.refresh_from_db()
    assert item.tag == "tool-tag"
