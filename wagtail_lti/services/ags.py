"""Assignment and Grade Services: what a tool may do with a course's line items, scores and results.

Called by the AGS endpoints (``services/views/ags.py``) with the tool's ``CourseAccess`` to the
course (``services.access``: the one rule of what a tool may do in a course); they parse the
request and answer. Everything here raises what the endpoint decorator answers
(``services/endpoint.py``): :class:`~wagtail_lti.services.endpoint.NotFound` for a line item or
resource link the tool may not know, ``ServiceRefused`` for one it may no longer use, ``AgsError``
for the rest (400 by default, 403, 409).

* Line items: the tool's own in the course, of no activity or of one of its active placements
  (``CourseAccess.line_items``); at most ``MAX_LINE_ITEMS_PER_COURSE_TOOL`` of them (409 beyond).
  The platform's automatic line item of a placement (its gradebook column) cannot be deleted and
  keeps its label and maximum (AGS §4.3.1); ``id`` and ``resourceLinkId`` never change (§3.2.6).
* Scores: the user must be an active member of the course; timestamps strictly increase
  (§3.4.9, 409) and may not be in the future beyond ``CLIENT_ASSERTION_LEEWAY`` (400). Stored by
  ``services/results.py``.
* Lists (line items, results) are paged by primary key (``endpoint.page_of``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from ..conf import lti_settings
from ..lti import ags
from ..models import LineItem, Placement, Result
from ..security.identifiers import user_for_opaque_id
from . import results
from .access import CourseAccess, LineItemLimitReached
from .endpoint import NotFound, page_of


LINE_ITEM_FILTERS = ("resource_link_id", "resource_id", "tag")
RESULT_FILTERS = ("user_id",)


# --- Line items (AGS §3.2) ------------------------------------------------------------------


def line_item(access: CourseAccess, line_item_id: int) -> LineItem:
    """The tool's line item ``line_item_id`` in the course: :class:`NotFound` when there is none,
    ``ServiceRefused`` when it belongs to an activity the tool may no longer use.

    The row (with its placement and resource link) is kept between requests like the tool's
    access to the course (``launch.targets.kept``: a line item, placement or resource link saved
    or deleted anywhere drops it); whether the tool may use it is asked on every request."""
    from ..launch.targets import kept

    def load():
        return (
            LineItem.objects.select_related("placement__resource_link")
            .filter(pk=line_item_id, provider=access.provider, course_id=access.course_id)
            .first()
        )

    item = kept(("ags-line-item", access.provider.pk, access.course_id, line_item_id), load)
    if item is None:
        raise NotFound
    access.check_line_item(item)
    return item


def line_items_page(
    access: CourseAccess, filters: dict[str, str], limit: int, after: int
) -> tuple[list[LineItem], dict | None]:
    """One page of the line items the tool may see (``LINE_ITEM_FILTERS``), and the next page's
    state (``endpoint.page_of``)."""
    items = access.line_items().select_related("placement").filter(pk__gt=after)
    if "resource_link_id" in filters:
        items = items.filter(placement__lti_id=filters["resource_link_id"])
    if "resource_id" in filters:
        items = items.filter(resource_id=filters["resource_id"])
    if "tag" in filters:
        items = items.filter(tag=filters["tag"])
    return page_of(items, filters, limit)


def _placement(access: CourseAccess, resource_link_id: str) -> Placement:
    """AGS §3.2.9: the resource link must be one of this tool's active placements in this course,
    else 404."""
    placement = access.placement(resource_link_id)
    if placement is None:
        raise NotFound
    return placement


def _definition(data: ags.LineItemData) -> dict:
    """The fields of a line item a tool defines (POST) and replaces (PUT)."""
    return {
        "label": data.label,
        "score_maximum": data.score_maximum,
        "resource_id": data.resource_id,
        "tag": data.tag,
        "start_date_time": data.start_date_time,
        "end_date_time": data.end_date_time,
        "grades_released": data.grades_released,
        "submission_review": data.submission_review,
    }


def create_line_item(access: CourseAccess, data: ags.LineItemData) -> LineItem:
    """AGS §3.2.5: a new line item of the tool in the course, of the activity its
    ``resourceLinkId`` names (one of the tool's active placements there)."""
    placement = _placement(access, data.resource_link_id) if data.resource_link_id else None
    try:
        return access.create_line_item(placement=placement, **_definition(data))
    except LineItemLimitReached as exc:
        raise ags.AgsError(str(exc), status=409, error="line_item_limit_reached") from exc


def is_automatic(item: LineItem) -> bool:
    """Whether ``item`` is the gradebook column the platform keeps for a placement."""
    placement = item.placement
    if (
        placement is None
        or placement.resource_link is None
        or not placement.resource_link.requires_score
    ):
        return False
    return results.line_item_for(placement) == item


def update_line_item(
    item: LineItem, data: ags.LineItemData, *, given_id: object, own_id: str
) -> LineItem:
    """AGS §3.2.6: PUT replaces the definition; ``id`` (``given_id``, when not blank, must be
    ``own_id``, the line item's URL) and ``resourceLinkId`` cannot change."""
    if given_id not in (None, "") and given_id != own_id:
        raise ags.AgsError("The line item id cannot be changed (AGS §3.2.6).")
    current_link = item.placement.lti_id if item.placement is not None else None
    if data.resource_link_id_given and data.resource_link_id != current_link:
        raise ags.AgsError("resourceLinkId cannot be changed (AGS §3.2.6).")
    fields = _definition(data)
    if is_automatic(item):
        # The automatic line item's label and maximum follow the resource link (the platform
        # owns them, AGS §4.3.1); changes to them are ignored and the applied definition returned.
        del fields["label"], fields["score_maximum"]
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return item


def delete_line_item(item: LineItem) -> None:
    """AGS §3.2.6: delete a line item the tool made (not the platform's gradebook column: 403)."""
    if is_automatic(item):
        raise ags.AgsError(
            "This line item is the platform's gradebook column for a resource link; it is "
            "removed with the activity, not through the service.",
            status=403,
            error="forbidden",
        )
    item.delete()


# --- Scores (AGS §3.4) ----------------------------------------------------------------------


def _course_members(course_id: int):
    return get_user_model().objects.filter(
        lti_enrollments__course_id=course_id, lti_enrollments__is_active=True
    )


def score_user(access: CourseAccess, score: ags.ScoreData):
    """The course member a score is for, once its timestamp is acceptable: a timestamp more than
    ``CLIENT_ASSERTION_LEEWAY`` seconds in the future, or a ``userId`` that is no active member of
    the course, is ``AgsError`` (400)."""
    ags.check_score_timestamp(
        score.timestamp, now=timezone.now(), leeway_seconds=lti_settings.CLIENT_ASSERTION_LEEWAY
    )
    user = user_for_opaque_id(score.user_id, _course_members(access.course_id))
    if user is None:
        raise ags.AgsError("userId is not a member of this course.")
    return user


def record_score(item: LineItem, user, score: ags.ScoreData) -> None:
    """Record ``score`` of ``user`` (``score_user``) on ``item``; an older or equal timestamp than
    the one on record is ``AgsError`` 409 ``conflict`` and changes nothing; a late score the link
    refuses (``results.submission_rule``) is ``AgsError`` 403 ``late_submission``."""
    try:
        results.record_score(
            item,
            user,
            score_given=score.score_given,
            score_maximum=score.score_maximum,
            activity_progress=score.activity_progress,
            grading_progress=score.grading_progress,
            timestamp=score.timestamp,
            comment=score.comment,
            source="ags",
        )
    except results.LateScoreRefused as exc:
        raise ags.AgsError(str(exc), status=403, error="late_submission") from exc
    except results.StaleScore as exc:
        raise ags.AgsError(
            "A score with the same or a later timestamp is already recorded for this user and line "
            "item; timestamps must strictly increase (AGS §3.4.9).",
            status=409,
            error="conflict",
        ) from exc


# --- Results (AGS §3.3) ---------------------------------------------------------------------


def results_page(
    item: LineItem, filters: dict[str, str], limit: int, after: int
) -> tuple[list[Result], dict | None]:
    """One page of the line item's results (``user_id`` filter), each with its ``user``, and the
    next page's state."""
    rows = Result.objects.select_related("user").filter(line_item=item, pk__gt=after)
    if "user_id" in filters:
        user = user_for_opaque_id(
            filters["user_id"],
            get_user_model().objects.filter(
                pk__in=Result.objects.filter(line_item=item).values("user_id")
            ),
        )
        rows = rows.filter(user=user) if user is not None else rows.none()
    return page_of(rows, filters, limit)
