"""The results service shared by LTI 1.1 Basic Outcomes and LTI 1.3 AGS.

* A ``Result`` per (line item, user) holds the current score; every accepted score is kept as a
  ``ScoreEvent`` (when, from where, what).
* A ``LearnerActivity`` per (placement, user) is what the course page and the results report
  show: status (not started, launched, completed), the latest score normalised to 0.0-1.0, dates.
* Completion: a placement whose resource link does not require a score is completed on launch;
  one that requires a score is completed when a graded score (``FullyGraded`` with a score; every
  1.1 ``replaceResult``) is recorded on the placement's line item. Deleting or clearing that
  score makes it "launched" again.
* Instructor overrides (:func:`override_score`, :func:`clear_override`): kept on the ``Result``
  apart from the tool's score (which tools read back), each one a ``ScoreEvent`` of source
  ``instructor``. While an override stands, the course page, the class view and the results
  report show it. A later tool score is always recorded (``Result``, ``ScoreEvent``); an override
  "kept until cleared" (``override_keep``) is not replaced by it (the event is marked ``held``),
  any other override is. Clearing an override shows the tool's score again.

* Lateness: a score received outside the resource link's submission dates (``submission_start``,
  ``submission_end``) is recorded marked ``late`` on the ``Result`` and its ``ScoreEvent``, or
  refused (:class:`LateScoreRefused`, nothing recorded) when the link's ``late_submissions`` says
  so (:func:`submission_rule`, the one rule for AGS and Basic Outcomes).

Writers lock the ``Result`` they change (``select_for_update`` inside a transaction), so two
scores for the same learner arriving at once are applied one after the other; the learner's
``LearnerActivity`` is then written with one ``UPDATE`` computed by the database from the row as it
is (as launches write it), so a launch and a score arriving at once both count.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import LearnerActivity, LineItem, Placement, Result, ScoreEvent


FULLY_GRADED = "FullyGraded"
INSTRUCTOR = ScoreEvent.Source.INSTRUCTOR
INSTRUCTOR_SOURCES = (ScoreEvent.Source.INSTRUCTOR, ScoreEvent.Source.INSTRUCTOR_CLEARED)


class OverrideRefused(ValueError):
    """An override that may not be recorded; ``str(exc)`` is a message for the instructor."""


class LateScoreRefused(Exception):
    """The score came outside the submission dates of a link that refuses late scores.
    ``str(exc)`` says why, for the tool."""


def submission_rule(line_item: LineItem, *, now: datetime | None = None) -> bool:
    """Whether a score received ``now`` on ``line_item`` is late: before the submission start or
    after the submission end (the due date) of the resource link of the line item's placement.
    Raises :class:`LateScoreRefused` when it is late and the link refuses late scores. A line item
    of no placement (made by a tool) has no dates: never late."""
    placement = line_item.placement if line_item.placement_id else None
    link = placement.resource_link if placement is not None else None
    if link is None:
        return False
    now = now or timezone.now()
    early = link.submission_start is not None and now < link.submission_start
    late = link.submission_end is not None and now > link.submission_end
    if not (early or late):
        return False
    if link.late_submissions == link.LateSubmissions.REFUSE:
        if early:
            raise LateScoreRefused("The submission window of this activity has not opened yet.")
        raise LateScoreRefused(
            "The submission window of this activity closed at "
            f"{link.submission_end.isoformat()}; late scores are not accepted."
        )
    return True


class StaleScore(Exception):
    """AGS §3.4.9 (Score timestamp): the result on record is as recent as, or more recent than,
    the incoming score, which must not update it."""


def _requires_score(placement: Placement) -> bool:
    link = placement.resource_link
    return link is not None and link.requires_score


def _write_activity(placement: Placement, user, updates: dict, first: LearnerActivity) -> None:
    """The learner's activity written by one ``UPDATE`` of ``updates`` (expressions the database
    computes from the row as it is when the statement locks it); the first time, the row
    ``first`` inserted instead, or updated when another request inserted it just now. How
    launches and scores both write it, so one arriving beside the other is not overwritten."""
    activities = LearnerActivity.objects.filter(placement_id=placement.pk, user_id=user.pk)
    if activities.update(**updates):
        return
    try:
        with transaction.atomic():
            first.save(force_insert=True)
    except IntegrityError:  # inserted by another request just now: update it
        activities.update(**updates)


def record_launch(placement: Placement, user) -> None:
    """Note that ``user`` launched ``placement``; completes it if its link needs no score.

    One ``UPDATE`` of the learner's activity, computed by the database from the row as it is
    when the statement locks it (so a score recorded at the same moment is not overwritten);
    the row is inserted the first time (:func:`_write_activity`).
    """
    completes = placement.resource_link is not None and not _requires_score(placement)
    now = timezone.now()
    completed = LearnerActivity.Status.COMPLETED
    status = completed if completes else LearnerActivity.Status.LAUNCHED
    updates = {
        "launch_count": F("launch_count") + 1,
        "first_launched_at": Coalesce(F("first_launched_at"), Value(now)),
        "last_launched_at": Value(now),
        "status": Case(When(status=completed, then=Value(completed)), default=Value(status)),
    }
    if completes:
        updates["completed_at"] = Case(
            When(status=completed, then=F("completed_at")), default=Value(now)
        )
    first = LearnerActivity(
        placement=placement,
        user=user,
        launch_count=1,
        first_launched_at=now,
        last_launched_at=now,
        status=status,
        completed_at=now if completes else None,
    )
    _write_activity(placement, user, updates, first)


def line_item_for(placement: Placement) -> LineItem | None:
    """The placement's automatic line item: the oldest line item of the placement's current
    provider attached to the placement (the one ``wagtail_lti.courses.placements`` creates when the
    link requires a score). ``None`` when there is none."""
    link = placement.resource_link
    if link is None:
        return None
    return (
        LineItem.objects.filter(placement=placement, provider_id=link.provider_id)
        .order_by("pk")
        .first()
    )


def automatic_line_item(placement: Placement) -> LineItem | None:
    """:func:`line_item_for`, kept between requests: line items, placements and resource links are
    catalogue rows (``launch.targets.kept``; any change to one, in any process, drops what is
    kept). A fresh object on each call, with ``placement`` and its ``resource_link`` loaded."""
    from ..launch.targets import kept

    item = kept(("automatic-line-item", placement.pk), lambda: line_item_for(placement))
    if item is not None:
        item.placement = placement
    return item


def _drives_activity(line_item: LineItem) -> bool:
    """Only the placement's own (automatic) line item drives what the course page shows."""
    if line_item.placement_id is None:
        return False
    item = automatic_line_item(line_item.placement)
    return item is not None and item.pk == line_item.pk


def normalised(score_given: float | None, score_maximum: float | None) -> float | None:
    """``score_given / score_maximum`` clamped to 0.0-1.0 (AGS allows extra credit above the
    maximum; the course page shows at most 100 %). ``None`` without a score."""
    if score_given is None:
        return None
    if not score_maximum or score_maximum <= 0:
        return None
    return min(max(score_given / score_maximum, 0.0), 1.0)


def _tool_source(result: Result) -> str:
    """The source of the tool's latest score on ``result`` (``ags``, ``lti11_outcomes``)."""
    return (
        result.events.exclude(source__in=INSTRUCTOR_SOURCES)
        .order_by("-pk")
        .values_list("source", flat=True)
        .first()
        or ""
    )


def _update_activity(
    line_item: LineItem, user, result: Result, *, source: str, touched: bool = True
) -> None:
    """Make the learner's activity show ``result``: the override while one stands, else the
    tool's score (``source``: where the tool's score came from). ``touched=False``: the shown
    score did not change (a tool score held back by an override), its date is kept.

    One ``UPDATE``, its status and completion dates computed by the database from the row as it
    is when the statement locks it (so a launch recorded at the same moment is not overwritten:
    ``record_launch`` writes the same way); the row is inserted the first time. Callers hold the
    ``Result``'s lock, so the scores of one learner on one line item are applied in turn.
    """
    if not _drives_activity(line_item):
        return
    placement = line_item.placement
    now = timezone.now()
    if result.override_at is not None:
        score = normalised(result.override_score_given, result.override_score_maximum)
        graded = score is not None
        score_source = INSTRUCTOR if score is not None else ""
        comment = result.override_comment
    else:
        score = normalised(result.score_given, result.score_maximum)
        graded = score is not None and result.grading_progress == FULLY_GRADED
        score_source = source if score is not None else ""
        comment = result.comment if score is not None else ""
    values = {
        "score": score,
        "score_source": score_source,
        "comment": comment,
        "activity_progress": result.activity_progress,
        "grading_progress": result.grading_progress,
    }
    if touched or score is None:
        values["scored_at"] = now if score is not None else None
    completed, launched = LearnerActivity.Status.COMPLETED, LearnerActivity.Status.LAUNCHED
    new_row = LearnerActivity(placement=placement, user=user, **values)
    updates = dict(values)
    if _requires_score(placement):
        if graded:
            # Completed now, unless it already was (then since when it was).
            updates["status"] = Value(completed)
            updates["completed_at"] = Case(
                When(status=completed, then=F("completed_at")), default=Value(now)
            )
            new_row.status, new_row.completed_at = completed, now
        elif score is None:
            # Completed no more: back to launched.
            updates["status"] = Case(
                When(status=completed, then=Value(launched)), default=F("status")
            )
            updates["completed_at"] = Case(
                When(status=completed, then=Value(None, output_field=DateTimeField())),
                default=F("completed_at"),
            )
    _write_activity(placement, user, updates, new_row)


def record_score(
    line_item: LineItem,
    user,
    *,
    score_given: float | None,
    score_maximum: float | None,
    activity_progress: str,
    grading_progress: str,
    timestamp: datetime | None,
    comment: str,
    source: str,
) -> Result:
    """Record a score sent by a tool and return the updated ``Result``.

    ``score_given=None`` clears the score (AGS: a score without ``scoreGiven``). ``timestamp`` is
    the tool's (AGS); when given it must be later than the last one on record, else
    :class:`StaleScore` is raised and nothing changes. ``source`` is a ``ScoreEvent.Source``
    value (``"ags"``, ``"lti11_outcomes"``). A score outside the submission dates is marked late
    or refused (:func:`submission_rule`: :class:`LateScoreRefused`, nothing recorded).

    While an instructor's override stands: one kept until cleared stays shown (the score is
    recorded, its event marked ``held``); any other is replaced by this score.
    """
    if score_given is not None and score_maximum is None:
        raise ValueError("score_given needs score_maximum")
    late = submission_rule(line_item)
    values = {
        "score_given": score_given,
        "score_maximum": score_maximum if score_given is not None else None,
        "activity_progress": activity_progress,
        "grading_progress": grading_progress,
        "comment": comment or "",
        "late": late,
    }
    with transaction.atomic():
        # The learner's first score on the line item is inserted as it is (nothing to compare
        # or override); a later one is checked and written under the row's lock.
        result, created = Result.objects.select_for_update().get_or_create(
            line_item=line_item, user=user, defaults={**values, "timestamp": timestamp}
        )
        held = False
        if not created:
            if (
                timestamp is not None
                and result.timestamp is not None
                and timestamp <= result.timestamp
            ):
                raise StaleScore("A score with the same or a later timestamp is already recorded.")
            for name, value in values.items():
                setattr(result, name, value)
            if timestamp is not None:
                result.timestamp = timestamp
            held = _apply_tool_score_to_override(result)
            result.save()
        ScoreEvent.objects.create(
            result=result,
            source=source,
            score_given=result.score_given,
            score_maximum=result.score_maximum,
            activity_progress=activity_progress,
            grading_progress=grading_progress,
            comment=result.comment,
            timestamp=timestamp,
            held=held,
            late=late,
        )
        _update_activity(line_item, user, result, source=source, touched=not held)
    return result


def _apply_tool_score_to_override(result: Result) -> bool:
    """A tool's score arrives: whether an override kept until cleared holds it back (``True``);
    an override not kept is ended (the tool's score is shown)."""
    if result.override_at is None:
        return False
    if result.override_keep:
        return True
    _end_override(result)
    return False


def _end_override(result: Result) -> None:
    result.override_score_given = None
    result.override_score_maximum = None
    result.override_comment = ""
    result.override_keep = False
    result.override_by = None
    result.override_at = None


def delete_score(line_item: LineItem, user, source: str) -> None:
    """Clear the user's score on ``line_item`` (1.1 ``deleteResult``); the history is kept, with
    the deletion as its latest event. Nothing happens when there is no score."""
    with transaction.atomic():
        result = Result.objects.select_for_update().filter(line_item=line_item, user=user).first()
        if result is None or result.score_given is None:
            return
        result.score_given = None
        result.score_maximum = None
        result.grading_progress = ""
        result.comment = ""
        result.late = False
        held = _apply_tool_score_to_override(result)
        result.save()
        ScoreEvent.objects.create(
            result=result,
            source=source,
            score_given=None,
            score_maximum=None,
            activity_progress=result.activity_progress,
            grading_progress="",
            comment="",
            timestamp=None,
            held=held,
        )
        _update_activity(line_item, user, result, source=source, touched=not held)


def override_score(
    line_item: LineItem, user, *, score_given: float, comment: str = "", keep: bool, by
) -> Result:
    """Record an instructor's override of ``user``'s score on ``line_item``: ``score_given`` out
    of the line item's ``score_maximum``, shown instead of the tool's score. ``keep``: it stands
    until an instructor clears it (:func:`clear_override`); otherwise the tool's next score
    replaces it. The tool's own score is left as it is (tools read it back). Raises
    :class:`OverrideRefused` (nothing recorded) for a score out of range."""
    maximum = line_item.score_maximum
    if not maximum or maximum <= 0:
        raise OverrideRefused(_("This activity has no maximum score, so it cannot be scored."))
    if score_given is None or not math.isfinite(score_given):
        raise OverrideRefused(_("Enter a score as a number."))
    if not 0 <= score_given <= maximum:
        raise OverrideRefused(
            _("Enter a score between 0 and %(maximum)s.") % {"maximum": f"{maximum:g}"}
        )
    with transaction.atomic():
        result, _created = Result.objects.select_for_update().get_or_create(
            line_item=line_item, user=user
        )
        result.override_score_given = score_given
        result.override_score_maximum = maximum
        result.override_comment = comment or ""
        result.override_keep = keep
        result.override_by = by
        result.override_at = timezone.now()
        result.save()
        ScoreEvent.objects.create(
            result=result,
            source=INSTRUCTOR,
            score_given=score_given,
            score_maximum=maximum,
            grading_progress=FULLY_GRADED,
            comment=result.override_comment,
            by=by,
        )
        _update_activity(line_item, user, result, source=INSTRUCTOR)
    return result


def clear_override(line_item: LineItem, user, *, by) -> Result | None:
    """Use the tool's score again: end the instructor's override of ``user``'s score on
    ``line_item`` (recorded as a ``ScoreEvent``). ``None`` when there is no override."""
    with transaction.atomic():
        result = Result.objects.select_for_update().filter(line_item=line_item, user=user).first()
        if result is None or result.override_at is None:
            return None
        _end_override(result)
        result.save()
        ScoreEvent.objects.create(
            result=result,
            source=ScoreEvent.Source.INSTRUCTOR_CLEARED,
            score_given=result.score_given,
            score_maximum=result.score_maximum,
            activity_progress=result.activity_progress,
            grading_progress=result.grading_progress,
            comment=result.comment,
            by=by,
        )
        _update_activity(line_item, user, result, source=_tool_source(result))
    return result


def current_score(line_item: LineItem, user) -> float | None:
    """The user's current score on ``line_item`` normalised to 0.0-1.0, or ``None``."""
    result = Result.objects.filter(line_item=line_item, user=user).first()
    if result is None:
        return None
    return normalised(result.score_given, result.score_maximum)
