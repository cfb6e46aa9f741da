"""Submission Review 1.0: who may review a learner's submission, and starting the review.

The one rule, :func:`check_review` (and :func:`may_review`, its yes/no): ``viewer`` may review
``result`` (a learner's :class:`~wagtail_lti.models.Result` on a line item) only when

1. the line item is of an LTI 1.3 tool with grade services (AGS) on, attached to an activity (a
   placement) of that tool, and the tool may still be used there (``services.access``:
   provider enabled, course live, the activity on the page and usable by the course's
   organization);
2. the tool declared ``submissionReview`` on the line item, and the result's ``activityProgress``
   or ``gradingProgress`` is one of its ``reviewableStatus`` (any, when it lists none:
   ``lti.submission_review.is_reviewable``);
3. ``viewer`` is an editor who manages the course's organization (``scoping.managed_courses``),
   an active instructor of the course, or the learner themself while enrolled in the course.

Every door asks it: the editors' results report (``admin/courses.py``), the learner's course page
(``courses/view.py``), the template include ``wagtail_lti/courses/includes/result_actions.html``
(for any page listing results, such as an instructor's class view: context ``result``,
``learner``, ``request``; it shows the button only when :func:`may_review` holds), the review
door itself (``launch/views.py: review_submission``) and, once more, the authorization step
(``launch/lti13.py``) before the id_token is signed.

:func:`start_review` sends the ``LtiSubmissionReviewRequest`` through ``launch.lti13.start_message``
(OIDC login first): the reviewer is the ``sub`` (roles ``Instructor``, or ``Learner`` for the learner
themself), ``for_user`` is the learner as the privacy rule (``launch.privacy.launch_user``) lets
the tool know them, the AGS claim names the line item, the resource link and context claims are
the activity's, ``target_link_uri`` is the declaration's ``url`` or the resource link's, and the
custom parameters are the activity's with the declaration's ``custom`` merged over them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from ..lti import submission_review as sr
from ..lti.context import LaunchContext
from ..lti.lti13 import AGS_ENDPOINT_CLAIM, AGS_LAUNCH_SCOPES
from ..models import Enrollment, Result
from .access import ServiceRefused, placement_access


EDITOR = "editor"
INSTRUCTOR = "instructor"
LEARNER = "learner"


class ReviewRefused(Exception):
    """The viewer may not review this result now; ``message`` says why, to a person."""

    def __init__(self, message: str, *, code: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Review:
    """A review :func:`check_review` allowed: the result, and as whom the viewer reviews it."""

    result: Result
    as_: str  # EDITOR, INSTRUCTOR or LEARNER

    @property
    def roles(self) -> tuple[str, ...]:
        return ("Learner",) if self.as_ == LEARNER else ("Instructor",)


def _results():
    return Result.objects.select_related(
        "user", "line_item__provider", "line_item__placement__resource_link__provider"
    )


def reviewable_results():
    """Results whose line item carries a declaration, with what the rule reads loaded."""
    return _results().filter(line_item__submission_review__isnull=False)


def _check_tool(result: Result) -> None:
    item = result.line_item
    provider = item.provider
    placement = item.placement
    link = placement.resource_link if placement is not None else None
    if not provider.is_lti13 or not provider.allow_ags:
        raise ReviewRefused(
            _("This tool does not offer submission review (it needs LTI 1.3 grade services)."),
            code="not_offered",
        )
    if link is None or link.provider_id != provider.pk:
        raise ReviewRefused(
            _("This result is not tied to one of the tool's activities, so it cannot be reviewed."),
            code="no_activity",
        )
    try:
        placement_access(provider, placement)
    except ServiceRefused as refused:
        raise ReviewRefused(
            _("This submission cannot be reviewed now: %(reason)s") % {"reason": refused.message},
            code=refused.reason,
        ) from refused
    if item.submission_review is None:
        raise ReviewRefused(
            _("The tool has not declared that submissions to “%(item)s” can be reviewed.")
            % {"item": item.label},
            code="not_declared",
        )
    if not sr.is_reviewable(
        item.submission_review, result.activity_progress, result.grading_progress
    ):
        status = result.grading_progress or result.activity_progress or _("no status")
        raise ReviewRefused(
            _("The tool does not offer a review of a submission in this state (%(status)s).")
            % {"status": status},
            code="not_reviewable",
        )


def _viewer_role(viewer, result: Result) -> str | None:
    from ..scoping import managed_courses

    course_id = result.line_item.course_id
    if managed_courses(viewer).filter(pk=course_id).exists():
        return EDITOR
    roles = set(
        Enrollment.objects.filter(course_id=course_id, user=viewer, is_active=True).values_list(
            "role", flat=True
        )
    )
    if Enrollment.Role.INSTRUCTOR in roles:
        return INSTRUCTOR
    if viewer.pk == result.user_id and Enrollment.Role.LEARNER in roles:
        return LEARNER
    return None


def check_review(viewer, result: Result | None) -> Review:
    """The rule (see the module docstring): the allowed :class:`Review`, or :class:`ReviewRefused`
    (404 for a result that does not exist or that the viewer may not know about)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        raise ReviewRefused(_("Log in to review a submission."), code="login_required", status=403)
    if result is None:
        raise ReviewRefused(
            _("This submission does not exist (any more)."), code="not_found", status=404
        )
    as_ = _viewer_role(viewer, result)
    if as_ is None:
        raise ReviewRefused(
            _(
                "You may not review this submission: only the course's instructors, the editors "
                "of its organization and the learner themself may."
            ),
            code="not_allowed",
        )
    _check_tool(result)
    return Review(result=result, as_=as_)


def may_review(viewer, result: Result | None) -> bool:
    """Whether ``viewer`` may review ``result`` now (:func:`check_review` without the reason):
    what a page asks before offering "Review submission"."""
    try:
        check_review(viewer, result)
    except ReviewRefused:
        return False
    return True


def find_result(result_id) -> Result | None:
    """The result ``result_id`` names (digits, as in the review door's URL), or ``None``."""
    text = str(result_id)
    if not text.isascii() or not text.isdigit() or len(text) > 18:  # beyond a 64-bit key
        return None
    return _results().filter(pk=int(text)).first()


def review_label(result: Result, viewer=None) -> str:
    """The button's words: the tool's ``label`` when it gave one, else "Review submission" ("Review
    my submission" for the learner themself)."""
    review = result.line_item.submission_review or {}
    if review.get("label"):
        return review["label"]
    if viewer is not None and viewer.pk == result.user_id:
        return _("Review my submission")
    return _("Review submission")


def _context(request: HttpRequest, review: Review) -> LaunchContext:
    from ..launch.context import custom_parameters, platform_info, request_locale
    from ..launch.lti13 import target_link_uri_for
    from ..launch.privacy import launch_user
    from ..security.identifiers import context_id

    result = review.result
    item = result.line_item
    placement = item.placement
    link = placement.resource_link
    course = placement.page.specific
    declaration = item.submission_review or {}
    return LaunchContext(
        user=launch_user(link.provider, request.user),
        roles=review.roles,
        context_id=context_id(course),
        context_title=course.title,
        context_label=getattr(course, "course_code", ""),
        resource_link_id=placement.lti_id,
        resource_link_title=placement.title or link.name,
        resource_link_description=link.description,
        target_url=declaration.get("url") or target_link_uri_for(link),
        platform=platform_info(request),
        custom=sr.review_custom(custom_parameters(placement), declaration),
        document_target="window",
        locale=request_locale(),
        resource_link_id_history=placement.lti_id_history,
    )


def review_claims(request: HttpRequest, review: Review) -> dict:
    """The claims a review adds to a launch: ``for_user`` and the AGS claim with the line item."""
    from ..launch.privacy import launch_user
    from .urls import ags_lineitem_url, ags_lineitems_url

    result = review.result
    item = result.line_item
    provider = item.provider
    learner_roles = ("Learner",)
    return {
        sr.FOR_USER_CLAIM: sr.for_user_claim(launch_user(provider, result.user), learner_roles),
        AGS_ENDPOINT_CLAIM: {
            "scope": list(AGS_LAUNCH_SCOPES),
            "lineitems": ags_lineitems_url(request, item.placement.page, provider),
            "lineitem": ags_lineitem_url(request, item),
        },
    }


def start_review(request: HttpRequest, review: Review) -> HttpResponse:
    """Send ``request.user`` to the tool with an ``LtiSubmissionReviewRequest`` about
    ``review.result`` (already allowed by :func:`check_review`)."""
    from ..launch.lti13 import start_message

    result = review.result
    provider = result.line_item.provider
    ctx = _context(request, review)
    if not provider.login_url or not ctx.target_url:
        raise ReviewRefused(
            _(
                "This submission cannot be reviewed: the tool has no login URL or launch URL set "
                "up. Please tell the course administrator."
            ),
            code="not_set_up",
            status=400,
        )
    started = start_message(
        request,
        provider,
        ctx,
        message_type=sr.SUBMISSION_REVIEW_REQUEST,
        keep={"review_result_id": result.pk, "extra_claims": review_claims(request, review)},
        deployment_id=provider.deployment_id,
        title=review_label(result),
        message=_("Opening the submission review…"),
        button=_("Continue to the review"),
        framable=False,
    )
    return started.response


def recheck(user, pending_data: dict) -> Review | None:
    """At the authorization step: the review a pending launch was started for, checked again
    (``ReviewRefused`` when no longer allowed); ``None`` when it is not a review."""
    result_id = pending_data.get("review_result_id")
    if result_id is None:
        return None
    return check_review(user, find_result(result_id))
