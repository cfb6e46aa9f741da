"""Launches: who may launch a placement, and the values a launch is built from.

Shared by LTI 1.1 (``wagtail_lti.launch.views``) and LTI 1.3 (``wagtail_lti.launch.lti13``):

* :func:`check_can_launch` re-checks everything at launch time, because a course page is
  published once and availability can be withdrawn afterwards; it raises :class:`LaunchRefused`
  with a message for the person;
* :func:`build_launch_context` fills a :class:`~wagtail_lti.lti.context.LaunchContext` from the
  request, the placement, its course page and the learner's enrollment (``launch.context``; the
  person as the privacy rule ``launch.privacy.launch_user`` allows);
* :func:`context_id` is the opaque, stable id of a course (the user id is
  ``wagtail_lti.security.identifiers.opaque_user_id``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import Enrollment, LtiResourceLink, Placement
from .targets import LaunchTarget


class LaunchRefused(Exception):
    """A launch that may not happen. ``str(exc)`` is a message for the person launching.

    ``status`` is the HTTP status the launch view answers with: 403 (not allowed), 404 (the
    activity or course is gone).
    """

    def __init__(self, message: str, *, status: int = 403, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# --- Opaque identifiers --------------------------------------------------------------------------


# --- Checks -----------------------------------------------------------------------------------


def active_enrollment(user, course) -> Enrollment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Enrollment.objects.filter(course_id=course.pk, user=user, is_active=True)
        .order_by("pk")
        .first()
    )


def course_of(placement: Placement):
    """The specific course page of ``placement`` (cached on the placement)."""
    cached = getattr(placement, "_wagtail_lti_course", None)
    if cached is None:
        cached = placement.page.specific
        placement._wagtail_lti_course = cached
    return cached


def check_can_launch(user, target: LaunchTarget | None) -> Enrollment:
    """Raise :class:`LaunchRefused` unless ``user`` may launch ``target``'s placement now.

    ``target`` comes from ``wagtail_lti.launch.targets.launch_target`` (``None``: no such
    placement). Checked in this order: the placement exists; logged in and active; the activity
    is still on its course page and the page is live; the page is a course with an organization;
    the user has an active enrollment (read now, on every launch); the resource link and its
    provider may still be used by the course's organization; the provider is set up for its LTI
    version. Returns the user's enrollment.
    """
    if target is None:
        raise LaunchRefused(
            _("This activity does not exist (any more)."), status=404, code="not_found"
        )
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise LaunchRefused(_("Log in to start this activity."), code="login_required")
    placement = target.placement
    link: LtiResourceLink | None = placement.resource_link
    course = target.course
    if link is None or not placement.is_active or course is None:
        raise LaunchRefused(
            _("This activity has been removed from the course."), status=404, code="removed"
        )
    if not course.live:
        raise LaunchRefused(_("This course is not published."), status=404, code="not_live")
    if not course.is_course or course.organization is None:
        raise LaunchRefused(
            _("This page is not set up as a course, so its activities cannot be launched."),
            code="not_a_course",
        )
    enrollment = active_enrollment(user, course)
    if enrollment is None:
        raise LaunchRefused(
            _(
                "You are not enrolled in “%(course)s”. Ask your instructor or training "
                "administrator to enroll you, then try again."
            )
            % {"course": course.title},
            code="not_enrolled",
        )
    organization = course.organization
    if not target.link_usable:
        raise LaunchRefused(
            _("“%(activity)s” is no longer available to %(organization)s.")
            % {"activity": placement.title or link.name, "organization": organization},
            code="link_unavailable",
        )
    provider = link.provider
    if not target.provider_usable:
        raise LaunchRefused(
            _("The tool behind “%(activity)s” is no longer available to %(organization)s.")
            % {"activity": placement.title or link.name, "organization": organization},
            code="provider_unavailable",
        )
    if not provider.is_enabled:
        raise LaunchRefused(
            _(
                "The tool behind this activity has not been enabled yet (a new registration is "
                "waiting for review). Please tell the course's administrator."
            ),
            code="provider_disabled",
        )
    if not provider.is_lti13 and not (provider.consumer_key and provider.has_secret):
        raise LaunchRefused(
            _(
                "The tool behind this activity is not fully set up (its LTI key or secret is "
                "missing). Please tell the course's administrator."
            ),
            code="provider_incomplete",
        )
    return enrollment


# --- Context ----------------------------------------------------------------------------------
