"""Instructor overrides at the rule's level (``services/results.py``: ``override_score``,
``clear_override``, tool scores arriving while an override stands) and how progress is shown
(``courses/progress.py: shown_progress``)."""

from __future__ import annotations

import pytest

from tests.support.factories import make_learner
from tests.support.lti11 import make_course_setup
from wagtail_lti.courses.progress import progress_label, shown_progress
from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
from wagtail_lti.services import results


pytestmark = pytest.mark.django_db

Source = ScoreEvent.Source


@pytest.fixture
def setup(orgs):
    return make_course_setup(orgs)


@pytest.fixture
def teacher(db):
    return make_learner("tess", first_name="Tess", last_name="Teacher")


def tool_score(setup, given, *, progress="FullyGraded", source="ags", comment=""):
    return results.record_score(
        setup.line_item,
        setup.learner,
        score_given=given,
        score_maximum=100 if given is not None else None,
        activity_progress="Completed",
        grading_progress=progress,
        timestamp=None,
        comment=comment,
        source=source,
    )


def activity(setup) -> LearnerActivity:
    return LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)


def test_an_override_is_shown_as_such_and_leaves_the_tools_score(setup, teacher):
    tool_score(setup, 40, comment="tool says 40")
    results.override_score(
        setup.line_item, setup.learner, score_given=75, comment="Regraded", keep=True, by=teacher
    )
    result = Result.objects.get()
    assert (result.score_given, result.comment) == (40, "tool says 40")  # the tool's, read back
    assert (result.override_score_given, result.override_score_maximum) == (75, 100)
    shown = activity(setup)
    assert shown.score == pytest.approx(0.75)
    assert shown.score_source == Source.INSTRUCTOR
    assert shown.comment == "Regraded"
    assert shown.status == LearnerActivity.Status.COMPLETED
    event = ScoreEvent.objects.order_by("-pk").first()
    assert (event.source, event.score_given, event.by) == (Source.INSTRUCTOR, 75, teacher)
    # The tool reads its own score back (Basic Outcomes readResult, AGS results).
    assert results.current_score(setup.line_item, setup.learner) == pytest.approx(0.4)


def test_a_kept_override_holds_later_tool_scores_until_cleared(setup, teacher):
    results.override_score(setup.line_item, setup.learner, score_given=90, keep=True, by=teacher)
    scored_at = activity(setup).scored_at
    tool_score(setup, 20, source="lti11_outcomes")
    tool_score(setup, 30)
    shown = activity(setup)
    assert (shown.score, shown.score_source) == (pytest.approx(0.9), Source.INSTRUCTOR)
    assert shown.scored_at == scored_at
    events = list(ScoreEvent.objects.order_by("pk"))
    assert [(e.source, e.score_given, e.held) for e in events] == [
        (Source.INSTRUCTOR, 90, False),
        (Source.OUTCOMES, 20, True),
        (Source.AGS, 30, True),
    ]
    assert Result.objects.get().score_given == 30

    results.clear_override(setup.line_item, setup.learner, by=teacher)
    shown = activity(setup)
    assert (shown.score, shown.score_source) == (pytest.approx(0.3), Source.AGS)
    assert shown.status == LearnerActivity.Status.COMPLETED
    cleared = ScoreEvent.objects.order_by("-pk").first()
    assert (cleared.source, cleared.score_given, cleared.by) == (
        Source.INSTRUCTOR_CLEARED,
        30,
        teacher,
    )
    assert Result.objects.get().override_at is None
    assert results.clear_override(setup.line_item, setup.learner, by=teacher) is None


def test_an_override_not_kept_is_replaced_by_the_next_tool_score(setup, teacher):
    results.override_score(setup.line_item, setup.learner, score_given=90, keep=False, by=teacher)
    tool_score(setup, 55)
    shown = activity(setup)
    assert (shown.score, shown.score_source) == (pytest.approx(0.55), Source.AGS)
    result = Result.objects.get()
    assert result.override_at is None and result.override_score_given is None
    assert not ScoreEvent.objects.filter(held=True).exists()


def test_clearing_an_override_without_a_tool_score_shows_no_score(setup, teacher):
    results.record_launch(setup.placement, setup.learner)
    results.override_score(setup.line_item, setup.learner, score_given=10, keep=True, by=teacher)
    assert activity(setup).status == LearnerActivity.Status.COMPLETED
    results.clear_override(setup.line_item, setup.learner, by=teacher)
    shown = activity(setup)
    assert (shown.score, shown.score_source, shown.status) == (None, "", "launched")


@pytest.mark.parametrize("bad", [-1, 100.5, float("nan"), float("inf")])
def test_an_override_out_of_range_records_nothing(setup, teacher, bad):
    with pytest.raises(results.OverrideRefused):
        results.override_score(
            setup.line_item, setup.learner, score_given=bad, keep=True, by=teacher
        )
    assert not Result.objects.exists() and not ScoreEvent.objects.exists()
    assert not LearnerActivity.objects.exists()


def test_a_pending_score_is_pending_grading_not_completed(setup):
    results.record_launch(setup.placement, setup.learner)
    tool_score(setup, 40, progress="Pending")
    shown = activity(setup)
    assert shown.status == LearnerActivity.Status.LAUNCHED
    assert shown.grading_progress == "Pending"
    key = shown_progress(
        shown.status, shown.score_source, shown.activity_progress, shown.grading_progress
    )
    assert (key, progress_label(key)) == ("pending", "Pending grading")


@pytest.mark.parametrize(
    ("status", "source", "activity_progress", "grading", "expected"),
    [
        ("not_started", "", "", "", "not_started"),
        ("launched", "", "", "", "launched"),
        ("completed", "ags", "Completed", "FullyGraded", "completed"),
        ("launched", "ags", "Completed", "Pending", "pending"),
        ("completed", "ags", "Completed", "PendingManual", "pending"),  # a regrade under way
        ("launched", "ags", "Submitted", "PendingManual", "pending"),
        ("launched", "ags", "Submitted", "NotReady", "submitted"),
        ("launched", "", "Submitted", "", "submitted"),
        ("launched", "ags", "Completed", "Failed", "failed"),
        ("completed", "instructor", "Submitted", "Pending", "completed"),  # the override
    ],
)
def test_shown_progress(status, source, activity_progress, grading, expected):
    assert shown_progress(status, source, activity_progress, grading) == expected
