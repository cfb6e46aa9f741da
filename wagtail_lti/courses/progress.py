"""A course's class: the learners × activities grid, a cell's score history, overrides, and how
a learner's progress on an activity is shown.

* :func:`shown_progress` is the one rule of what a learner's progress on an activity is called
  (the course page, the class view, its export and the results report ask it): an instructor's
  override is a completed score marked as an override; a tool's ``gradingProgress`` ``Pending``
  or ``PendingManual`` is "Pending grading" (never "completed with a score"), ``Failed`` is
  "Grading failed"; ``activityProgress`` ``Submitted`` is "Submitted"; otherwise the status.
* :func:`class_grid` builds one page of the grid with a constant number of queries, whatever the
  number of learners and activities; :func:`class_rows` is every cell, for the export.
* :func:`cell_detail` is one learner's result on one activity with its ``ScoreEvent`` history;
  :func:`override` and :func:`use_tool_score` are the instructor's changes, recorded by
  ``wagtail_lti.services.results`` (the one place a score is recorded).

Who may see or change a class is ``wagtail_lti.scoping.class_access``; the views
(``wagtail_lti.courses.class_views``) ask it, then this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from ..models import Enrollment, LearnerActivity, LineItem, Placement, Result, ScoreEvent
from ..services import results


Status = LearnerActivity.Status
PENDING = ("Pending", "PendingManual")
FAILED = "Failed"
SUBMITTED = "Submitted"
#: Learners per page of the class view.
PAGE_SIZE = 50


class NotInClass(LookupError):
    """The activity is not one of the course's, or the person is not one of its learners."""


# --- How progress is shown ----------------------------------------------------------------------

PROGRESS_LABELS = {
    Status.NOT_STARTED.value: Status.NOT_STARTED.label,
    Status.LAUNCHED.value: Status.LAUNCHED.label,
    Status.COMPLETED.value: Status.COMPLETED.label,
    "submitted": _("Submitted"),
    "pending": _("Pending grading"),
    "failed": _("Grading failed"),
}


def shown_progress(
    status: str, score_source: str = "", activity_progress: str = "", grading_progress: str = ""
) -> str:
    """The key of what a learner's progress on an activity is called (a key of
    :data:`PROGRESS_LABELS`), from the ``LearnerActivity`` fields of the same names."""
    if score_source == ScoreEvent.Source.INSTRUCTOR:
        return Status.COMPLETED.value
    if grading_progress in PENDING:
        return "pending"
    if grading_progress == FAILED:
        return "failed"
    if activity_progress == SUBMITTED and status != Status.COMPLETED:
        return "submitted"
    return status or Status.NOT_STARTED.value


def progress_label(key: str) -> str:
    return str(PROGRESS_LABELS.get(key, key))


def source_label(source: str) -> str:
    """The name of a score's source (``ScoreEvent.Source``), empty without one."""
    if not source:
        return ""
    try:
        return str(ScoreEvent.Source(source).label)
    except ValueError:
        return source


SHORT_SOURCE_LABELS = {
    ScoreEvent.Source.AGS.value: _("AGS (LTI 1.3)"),
    ScoreEvent.Source.OUTCOMES.value: _("Basic Outcomes (LTI 1.1)"),
    ScoreEvent.Source.INSTRUCTOR.value: _("Instructor override"),
}


def short_source_label(source: str) -> str:
    """The short name of a score's source, for the grid's cells."""
    return str(SHORT_SOURCE_LABELS.get(source, "")) or source_label(source)


def percent(score: float | None) -> str:
    if score is None:
        return ""
    return f"{round(score * 100, 1):g}%"


def person_label(user) -> str:
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


# --- The grid -------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One learner on one activity, as the class view and its export show it."""

    placement: Placement
    learner: object
    status: str = Status.NOT_STARTED.value
    score: float | None = None
    score_source: str = ""
    activity_progress: str = ""
    grading_progress: str = ""
    comment: str = ""
    scored_at: datetime | None = None
    last_launched_at: datetime | None = None
    launch_count: int = 0
    #: The shown score arrived outside the link's submission dates (``results.submission_rule``).
    late: bool = False

    @property
    def late_label(self) -> str:
        return str(_("Late")) if self.late else ""

    @property
    def progress(self) -> str:
        return shown_progress(
            self.status, self.score_source, self.activity_progress, self.grading_progress
        )

    @property
    def progress_label(self) -> str:
        return progress_label(self.progress)

    @property
    def overridden(self) -> bool:
        return self.score_source == ScoreEvent.Source.INSTRUCTOR

    @property
    def score_percent(self) -> str:
        return percent(self.score)

    @property
    def score_number(self) -> float | None:
        return round(self.score * 100, 2) if self.score is not None else None

    @property
    def source_label(self) -> str:
        return source_label(self.score_source)

    @property
    def short_source_label(self) -> str:
        return short_source_label(self.score_source)

    @property
    def last_activity(self) -> datetime | None:
        dates = [d for d in (self.scored_at, self.last_launched_at) if d is not None]
        return max(dates) if dates else None

    # What the export reads (``SpreadsheetExportMixin.list_export``).
    @property
    def learner_name(self) -> str:
        return person_label(self.learner)

    @property
    def username(self) -> str:
        return self.learner.get_username()

    @property
    def email(self) -> str:
        return getattr(self.learner, "email", "")

    @property
    def activity_title(self) -> str:
        return self.placement.title or self.placement.lti_id


@dataclass
class Row:
    learner: object
    cells: list[Cell] = field(default_factory=list)

    @property
    def label(self) -> str:
        return person_label(self.learner)


@dataclass
class ClassGrid:
    course: object
    activities: list[Placement]
    rows: list[Row]
    page: object  # a Django paginator page of the learners' enrollments


def class_activities(course) -> list[Placement]:
    """The course's activities: its placements on the published page, and removed ones some
    learner started (as the results report shows them). One query."""
    return list(
        Placement.objects.filter(page_id=course.pk)
        .filter(
            Q(is_active=True)
            | Q(
                pk__in=LearnerActivity.objects.exclude(status=Status.NOT_STARTED).values(
                    "placement_id"
                )
            )
        )
        .order_by("pk")
    )


def learner_enrollments(course):
    """The course's learners (active ``Learner`` enrollments, without the editors' test
    learners: ``launch.test_launch.counted_enrollments``), ordered by name."""
    from ..launch.test_launch import counted_enrollments

    return counted_enrollments(
        Enrollment.objects.filter(course_id=course.pk, role=Enrollment.Role.LEARNER, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username", "pk")
    )


def _rows(course, enrollments, activities) -> list[Row]:
    learners = [enrollment.user for enrollment in enrollments]
    progress = {
        (a.placement_id, a.user_id): a
        for a in LearnerActivity.objects.filter(
            placement__in=[p.pk for p in activities], user__in=[u.pk for u in learners]
        ).annotate(
            late=Exists(
                Result.objects.filter(
                    line_item__placement=OuterRef("placement"), user=OuterRef("user"), late=True
                )
            )
        )
    }
    rows = []
    for learner in learners:
        row = Row(learner)
        for placement in activities:
            cell = Cell(placement, learner)
            found = progress.get((placement.pk, learner.pk))
            if found is not None:
                cell.status = found.status
                cell.score = found.score
                cell.score_source = found.score_source
                cell.activity_progress = found.activity_progress
                cell.grading_progress = found.grading_progress
                cell.comment = found.comment
                cell.scored_at = found.scored_at
                cell.last_launched_at = found.last_launched_at
                cell.launch_count = found.launch_count
                cell.late = found.late
            row.cells.append(cell)
        rows.append(row)
    return rows


def class_grid(course, *, page: int | str = 1, per_page: int = PAGE_SIZE) -> ClassGrid:
    """One page of the class (``per_page`` learners × every activity); four queries (the
    learners' count, a page of them, the activities, their progress) however large the class."""
    paginator = Paginator(learner_enrollments(course), per_page)
    page_obj = paginator.get_page(page)
    activities = class_activities(course)
    return ClassGrid(course, activities, _rows(course, page_obj.object_list, activities), page_obj)


def class_rows(course) -> list[Cell]:
    """Every cell of the class, learner by learner (the export): three queries."""
    activities = class_activities(course)
    return [
        cell
        for row in _rows(course, list(learner_enrollments(course)), activities)
        for cell in row.cells
    ]


# --- One cell ------------------------------------------------------------------------------------


@dataclass
class CellDetail:
    cell: Cell
    line_item: LineItem | None
    result: Result | None
    events: list[ScoreEvent]

    @property
    def placement(self) -> Placement:
        return self.cell.placement

    @property
    def learner(self):
        return self.cell.learner

    @property
    def override_stands(self) -> bool:
        return self.result is not None and self.result.override_at is not None


def class_member(course, placement_id, learner_id) -> tuple[Placement, object]:
    """The course's activity ``placement_id`` and its learner ``learner_id``, or
    :class:`NotInClass`."""
    placement = next((p for p in class_activities(course) if str(p.pk) == str(placement_id)), None)
    enrollment = (
        learner_enrollments(course).filter(user_id=learner_id).first()
        if str(learner_id).isdigit()
        else None
    )
    if placement is None or enrollment is None:
        raise NotInClass
    placement.page = course
    return placement, enrollment.user


def cell_detail(course, placement_id, learner_id) -> CellDetail:
    """One learner's result on one activity of ``course``, with every score recorded for it
    (newest first): what the tool sent, overrides and their clearing."""
    placement, learner = class_member(course, placement_id, learner_id)
    cell = _rows(course, [Enrollment(user=learner)], [placement])[0].cells[0]
    line_item = results.line_item_for(placement)
    result = None
    events: list[ScoreEvent] = []
    if line_item is not None:
        result = (
            Result.objects.filter(line_item=line_item, user=learner)
            .select_related("override_by")
            .first()
        )
        if result is not None:
            events = list(result.events.select_related("by").order_by("-received_at", "-pk"))
    return CellDetail(cell, line_item, result, events)


def _line_item(placement: Placement) -> LineItem:
    line_item = results.line_item_for(placement)
    if line_item is None:
        raise results.OverrideRefused(str(_("This activity takes no score.")))
    return line_item


def override(course, placement_id, learner_id, *, score_given, comment, keep, by) -> Result:
    """Override a learner's score on one of the course's activities
    (``results.override_score``); :class:`NotInClass` or ``results.OverrideRefused``."""
    placement, learner = class_member(course, placement_id, learner_id)
    return results.override_score(
        _line_item(placement), learner, score_given=score_given, comment=comment, keep=keep, by=by
    )


def use_tool_score(course, placement_id, learner_id, *, by) -> Result | None:
    """End the override: the tool's score is shown again (``results.clear_override``)."""
    placement, learner = class_member(course, placement_id, learner_id)
    return results.clear_override(_line_item(placement), learner, by=by)
