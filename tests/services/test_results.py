"""The shared results service (``wagtail_lti.services.results``): launches, scores, history, completion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.lti11 import make_course_setup
from wagtail_lti.models import LearnerActivity, LineItem, Result, ScoreEvent
from wagtail_lti.services import results


Status = LearnerActivity.Status


def score(
    line_item, user, given, maximum=100, *, progress="FullyGraded", timestamp=None, source="ags"
):
    return results.record_score(
        line_item,
        user,
        score_given=given,
        score_maximum=maximum if given is not None else None,
        activity_progress="Completed",
        grading_progress=progress,
        timestamp=timestamp,
        comment="",
        source=source,
    )


def _launched(setup) -> LearnerActivity:
    results.record_launch(setup.placement, setup.learner)
    return LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)


def test_launch_of_a_link_without_score_completes_it(orgs):
    setup = make_course_setup(orgs, requires_score=False)
    activity = _launched(setup)
    assert activity.status == Status.COMPLETED
    assert activity.completed_at is not None
    assert activity.launch_count == 1
    first, completed = activity.first_launched_at, activity.completed_at
    again = _launched(setup)
    assert again.launch_count == 2
    assert again.first_launched_at == first
    assert again.completed_at == completed  # completed once, not again
    assert again.last_launched_at > first
    assert LearnerActivity.objects.count() == 1


def test_launch_of_a_link_requiring_a_score_does_not_complete_it(orgs):
    setup = make_course_setup(orgs)
    activity = _launched(setup)
    assert activity.status == Status.LAUNCHED
    assert activity.completed_at is None
    assert activity.launch_count == 1
    again = _launched(setup)
    assert (again.status, again.launch_count, again.completed_at) == (Status.LAUNCHED, 2, None)


def test_launch_after_a_graded_score_keeps_the_activity_completed(orgs):
    setup = make_course_setup(orgs)
    LearnerActivity.objects.create(
        placement=setup.placement,
        user=setup.learner,
        status=Status.COMPLETED,
        score=0.8,
        launch_count=1,
    )
    activity = _launched(setup)
    assert (activity.status, activity.score, activity.launch_count) == (Status.COMPLETED, 0.8, 2)
    assert activity.first_launched_at is not None


def test_line_item_for_is_the_automatic_line_item(orgs):
    setup = make_course_setup(orgs)
    LineItem.objects.create(
        provider=setup.provider,
        course=setup.course,
        placement=setup.placement,
        label="Created later by the tool",
    )
    assert results.line_item_for(setup.placement) == setup.line_item
    no_score = make_course_setup(orgs, requires_score=False, username="other", block_id="b2")
    assert results.line_item_for(no_score.placement) is None


def test_fully_graded_score_completes_and_keeps_history(orgs):
    setup = make_course_setup(orgs)
    results.record_launch(setup.placement, setup.learner)
    result = score(setup.line_item, setup.learner, 85)
    assert (result.score_given, result.score_maximum) == (85, 100)
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert activity.status == Status.COMPLETED
    assert activity.score == pytest.approx(0.85)
    assert activity.score_source == "ags"
    score(setup.line_item, setup.learner, 90)
    events = list(ScoreEvent.objects.filter(result=result).order_by("pk"))
    assert [e.score_given for e in events] == [85, 90]
    assert Result.objects.count() == 1


def test_pending_score_does_not_complete(orgs):
    setup = make_course_setup(orgs)
    results.record_launch(setup.placement, setup.learner)
    score(setup.line_item, setup.learner, 40, progress="Pending")
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert activity.status == Status.LAUNCHED
    assert activity.score == pytest.approx(0.4)


def test_score_above_maximum_is_kept_raw_and_shown_clamped(orgs):
    """AGS: the platform MUST accept scoreGiven > scoreMaximum."""
    setup = make_course_setup(orgs)
    result = score(setup.line_item, setup.learner, 150)
    assert result.score_given == 150
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert activity.score == 1.0


def test_zero_is_a_score(orgs):
    """Open edX PR #701: a 0 score must not be lost to a truthiness check."""
    setup = make_course_setup(orgs)
    score(setup.line_item, setup.learner, 0)
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert activity.score == 0.0
    assert activity.status == Status.COMPLETED
    assert results.current_score(setup.line_item, setup.learner) == 0.0


def test_stale_timestamp_is_refused_and_nothing_changes(orgs):
    """AGS §3.4.9: never update a result with a score not later than the one on record."""
    setup = make_course_setup(orgs)
    now = timezone.now()
    score(setup.line_item, setup.learner, 50, timestamp=now)
    for stale in (now, now - timedelta(seconds=1)):
        with pytest.raises(results.StaleScore):
            score(setup.line_item, setup.learner, 99, timestamp=stale)
    assert Result.objects.get().score_given == 50
    assert ScoreEvent.objects.count() == 1
    score(setup.line_item, setup.learner, 60, timestamp=now + timedelta(milliseconds=1))
    assert Result.objects.get().score_given == 60


def test_clearing_or_deleting_a_score_uncompletes(orgs):
    setup = make_course_setup(orgs)
    score(setup.line_item, setup.learner, 70)
    score(setup.line_item, setup.learner, None)
    activity = LearnerActivity.objects.get(placement=setup.placement, user=setup.learner)
    assert (activity.status, activity.score) == (Status.LAUNCHED, None)

    score(setup.line_item, setup.learner, 80, source="lti11_outcomes")
    results.delete_score(setup.line_item, setup.learner, "lti11_outcomes")
    activity.refresh_from_db()
    assert (activity.status, activity.score, activity.completed_at) == (Status.LAUNCHED, None, None)
    assert results.current_score(setup.line_item, setup.learner) is None
    assert [e.score_given for e in ScoreEvent.objects.order_by("pk")] == [70, None, 80, None]


def test_delete_without_a_score_records_nothing(orgs):
    setup = make_course_setup(orgs)
    results.delete_score(setup.line_item, setup.learner, "lti11_outcomes")
    assert not Result.objects.exists()
    assert not ScoreEvent.objects.exists()


def test_scores_on_another_line_item_do_not_change_the_activity(orgs):
    setup = make_course_setup(orgs)
    extra = LineItem.objects.create(
        provider=setup.provider, course=setup.course, placement=setup.placement, label="Bonus"
    )
    score(extra, setup.learner, 100)
    assert not LearnerActivity.objects.filter(placement=setup.placement).exists()
    assert Result.objects.filter(line_item=extra).get().score_given == 100
