"""The learner's own progress on a course page, for the page to refresh without a reload.

``activity_status(request, page_id)`` is the one rule of the course page's status endpoint
(``wagtail_lti:course_status``, ``courses/views.py``): the page's activity blocks call it (see
``wagtail_lti/static/wagtail_lti/course_activity.js``) when the activity's frame navigates, when
the tab regains focus and, lightly, while a launched activity is open, and show a score a tool
has just sent.

It answers only about the person asking, and only what the course page itself shows them: the
status and score of each active placement of a live course page they may see (its Wagtail view
restrictions pass) and are actively enrolled in. It reads a bounded number of rows whatever the
number of activities (the page, its view restrictions, the enrollment, and the placements with
the person's progress in one query: ``courses.view.CourseView``). Only this site's own pages may
ask (``launch.rules.cross_site_reason``: a browser's ``Sec-Fetch-Site: same-origin``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .view import ActivityView, CourseView, activity_texts


class StatusRefused(Exception):
    """The status may not be given. ``message`` is for a person; ``code`` names the reason;
    ``status`` is the HTTP status of the answer (401, 403, 404)."""

    def __init__(self, message: str, *, status: int = 403, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _course_page(page_id: int):
    """The live specific course page ``page_id``, or ``None``."""
    from wagtail.models import Page

    from ..models import CoursePageMixin

    page = Page.objects.filter(pk=page_id, live=True).first()
    if page is None:
        return None
    page = page.specific
    return page if isinstance(page, CoursePageMixin) else None


def activity_status(request, page_id: int) -> dict:
    """The requesting learner's status and score on each activity of course page ``page_id``:
    ``{"activities": {block_id: {"status", "status_label", "score", "score_text",
    "launch_label"}}}`` (the labels as the block shows them, in the request's language).

    Raises :class:`StatusRefused`, checked in this order: a request not from this site's own
    pages (403 ``cross_site``); not logged in or inactive (401 ``login_required``); no live
    course page with that id (404 ``not_found``); the page's view restrictions refuse the
    request (403 ``page_restricted``); no active enrollment in that course (403
    ``not_enrolled``).
    """
    from ..launch.rules import cross_site_reason, passes_view_restrictions
    from ..launch.targets import CourseFacts

    if cross_site_reason(request) is not None:
        raise StatusRefused(
            _("The status of a course's activities is only given to this site's own pages."),
            code="cross_site",
        )
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise StatusRefused(_("Log in to see your progress."), status=401, code="login_required")
    page = _course_page(page_id)
    if page is None:
        raise StatusRefused(_("There is no such course."), status=404, code="not_found")
    restricted_by = tuple(sorted({r.page_id for r in page.get_view_restrictions()}))
    facts = CourseFacts(
        pk=page.pk,
        title=page.title,
        live=page.live,
        is_course=True,
        course_code="",
        organization=None,
        restricted_by=restricted_by,
    )
    if not passes_view_restrictions(request, facts):
        raise StatusRefused(
            _("“%(course)s” is restricted: open the course page first.") % {"course": page.title},
            code="page_restricted",
        )
    course = CourseView(request, page, read_messages=False)
    if course.enrollment is None:
        raise StatusRefused(
            _("You are not enrolled in “%(course)s”.") % {"course": page.title},
            code="not_enrolled",
        )
    score_text = activity_texts()["score"]
    activities = {}
    for block_id, placement in course.placements.items():
        view = ActivityView(
            block_id=block_id, title="", status=placement.status, score=placement.score
        )
        activities[block_id] = {
            "status": view.status,
            "status_label": str(view.status_label),
            "score": view.score,
            "score_text": score_text % {"score": view.score_percent} if view.score_percent else "",
            "launch_label": str(view.launch_label),
        }
    return {"activities": activities}
