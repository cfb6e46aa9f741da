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

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.formats import date_format
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


# --- The availability window -----------------------------------------------------------------


def moment_label(moment: datetime, *, now: datetime | None = None) -> str:
    """A date and time as the course page shows it, in the site's time zone: “3 Dec 14:00”,
    with the year when it is not this year's (“3 Dec 2027 14:00”)."""
    local = timezone.localtime(moment)
    current = timezone.localtime(now or timezone.now())
    pattern = "j M H:i" if local.year == current.year else "j M Y H:i"
    return date_format(local, pattern)


@dataclass(frozen=True)
class LaunchWindow:
    """Where ``now`` falls in a resource link's ``available`` window (Deep Linking 2.0 §3.4.1):
    ``state`` is ``open``, ``not_yet`` (``opens`` is when) or ``closed`` (``closed`` is when)."""

    state: str
    opens: datetime | None = None
    closed: datetime | None = None

    OPEN = "open"
    NOT_YET = "not_yet"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self.state == self.OPEN

    def refusal(self, *, now: datetime | None = None) -> str:
        """The sentence for a person who may not launch now ("" when open)."""
        if self.state == self.NOT_YET:
            return _("This activity opens on %(moment)s.") % {
                "moment": moment_label(self.opens, now=now)
            }
        if self.state == self.CLOSED:
            return _("This activity closed on %(moment)s.") % {
                "moment": moment_label(self.closed, now=now)
            }
        return ""


def launch_window(
    link: LtiResourceLink, role: str | None = None, *, now: datetime | None = None
) -> LaunchWindow:
    """The rule of when a placement of ``link`` may be launched: inside the link's available
    window (``available_start`` inclusive, ``available_end`` exclusive; empty: open on that
    side). An instructor of the course (``role``) may launch at any time, to prepare or check
    the activity. Asked by :func:`check_can_launch` and the course page (``courses.view``)."""
    if role == Enrollment.Role.INSTRUCTOR:
        return LaunchWindow(LaunchWindow.OPEN)
    now = now or timezone.now()
    start, end = link.available_start, link.available_end
    if start is not None and now < start:
        return LaunchWindow(LaunchWindow.NOT_YET, opens=start)
    if end is not None and now >= end:
        return LaunchWindow(LaunchWindow.CLOSED, closed=end)
    return LaunchWindow(LaunchWindow.OPEN)


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


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check (token, ``Origin``, ``Referer``), answering the reason it fails
    instead of Django's failure page, so a learner gets the launch's own explanation."""

    def _reject(self, request, reason):
        return reason


def cross_site_reason(request: HttpRequest) -> str | None:
    """Why ``request`` may not launch anything as the signed-in learner, or ``None``.

    A launch records the learner's progress (an activity that needs no score is completed when
    opened), so only this site's own pages may start one:

    * a POST (the activity block's form) must pass Django's CSRF check: the form's token, and on
      HTTPS an ``Origin`` or ``Referer`` of this site;
    * a GET only when the browser says it comes from this site's own pages
      (``Sec-Fetch-Site: same-origin``), e.g. a site's own activity template with a GET form or a
      link on our pages; any other GET (another site's link, image or form, an old browser that
      does not say) is not a launch.
    """
    if request.method == "POST":
        check = _CsrfCheck(lambda request: None)
        if "CSRF_COOKIE" not in request.META:  # CsrfViewMiddleware not installed
            check.process_request(request)
        return check.process_view(request, None, (), {})
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return None
    return "not a request from this site's pages"


def check_launch_request(request: HttpRequest) -> None:
    """Raise :class:`LaunchRefused` (``cross_site``) when :func:`cross_site_reason` finds one.

    Every door that starts a launch for the signed-in learner calls it before recording
    anything. (The LTI 1.3 authorization request comes from the tool's site by design: it
    launches only with the single-use message hint that a checked launch stored.)
    """
    reason = cross_site_reason(request)
    if reason is not None:
        raise LaunchRefused(
            _(
                "This activity was not opened, because the request did not come from a course "
                "page of this site. If you want to start it, press the button below."
            ),
            code="cross_site",
        )


def passes_view_restrictions(request: HttpRequest | None, course) -> bool:
    """Whether ``request`` may see the course page ``course`` (a ``CourseFacts``) as Wagtail
    would serve it: every view restriction of the page and its ancestors (password, groups,
    login) accepts the request (``PageViewRestriction.accept_request``: a password restriction
    is passed in the session, on the page's own password form).

    Reads nothing when the page has no restrictions (a fact of the kept launch target); the
    restrictions themselves are read on every launch of a restricted page. Without a request
    there is no session to look in: a restricted page is refused.
    """
    if not course.restricted_by:
        return True
    if request is None:
        return False
    from wagtail.models import PageViewRestriction

    restrictions = PageViewRestriction.objects.filter(page_id__in=course.restricted_by)
    return all(restriction.accept_request(request) for restriction in restrictions)


def availability_refusal(
    activity: str,
    organization,
    *,
    link_usable: bool,
    provider_usable: bool,
    provider,
) -> LaunchRefused | None:
    """Whether an activity can be launched now as far as the catalogue goes, for everyone: the
    :class:`LaunchRefused` that says why not, or ``None``.

    The one rule of "is this activity launchable" shared by the launch (:func:`check_can_launch`)
    and the course page (``courses/view.py``, which shows the refusal instead of a launch button):
    the course's organization may use the resource link (``link_usable``) and its provider
    (``provider_usable``), the provider is enabled (its ``status``: switched off by an editor, or a
    Dynamic Registration waiting for review) and set up for its LTI version (an LTI 1.1 provider
    has its key and secret). ``provider`` needs only ``is_enabled``, ``awaiting_review``,
    ``lti_version``, ``consumer_key`` and ``secret_encrypted``.
    """
    if not link_usable:
        return LaunchRefused(
            _("“%(activity)s” is no longer available to %(organization)s.")
            % {"activity": activity, "organization": organization},
            code="link_unavailable",
        )
    if not provider_usable:
        return LaunchRefused(
            _("The tool behind “%(activity)s” is no longer available to %(organization)s.")
            % {"activity": activity, "organization": organization},
            code="provider_unavailable",
        )
    return provider_refusal(provider)


def provider_refusal(provider) -> LaunchRefused | None:
    """The part of :func:`availability_refusal` about the provider alone: enabled (not switched
    off by an editor, not a Dynamic Registration waiting for review) and set up for its LTI
    version. Also what an editor's test launch of a catalogue record asks
    (:func:`check_provider_ready`)."""
    status = provider.status
    if status == provider.Status.AWAITING_REVIEW:
        return LaunchRefused(
            _(
                "The tool behind this activity has not been enabled yet (a new registration is "
                "waiting for review). Please tell the course's administrator."
            ),
            code="provider_awaiting_review",
        )
    if status == provider.Status.DISABLED:
        return LaunchRefused(
            _(
                "The tool behind this activity has been disabled, so the activity cannot be "
                "started at the moment. Please tell the course's administrator."
            ),
            code="provider_disabled",
        )
    if not provider.is_lti13 and not (provider.consumer_key and provider.has_secret):
        return LaunchRefused(
            _(
                "The tool behind this activity is not fully set up (its LTI key or secret is "
                "missing). Please tell the course's administrator."
            ),
            code="provider_incomplete",
        )
    return None


def check_can_launch(
    user, target: LaunchTarget | None, request: HttpRequest | None = None
) -> Enrollment:
    """Raise :class:`LaunchRefused` unless ``user`` may launch ``target``'s placement now.

    ``target`` comes from ``wagtail_lti.launch.targets.launch_target`` (``None``: no such
    placement); ``request`` is the launch request (its session and user decide the page's view
    restrictions). Checked in this order: the placement exists; logged in and active; the
    activity is still on its course page and the page is live; the page is a course with an
    organization; the page's view restrictions accept the request (:func:`passes_view_restrictions`,
    the same as for seeing the page); the user has an active enrollment (read now, on every
    launch); the link's available window is open to the user (:func:`launch_window`); then
    :func:`availability_refusal` (the resource link and its provider may still be used by the
    course's organization, the provider is enabled and set up for its LTI version). Returns the
    user's enrollment.
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
    if not passes_view_restrictions(request, course):
        raise LaunchRefused(
            _(
                "“%(course)s” is restricted: open the course page (and enter its password or "
                "log in with an account that may see it), then start the activity from there."
            )
            % {"course": course.title},
            code="page_restricted",
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
    window = launch_window(link, enrollment.role)
    if not window.is_open:
        raise LaunchRefused(window.refusal(), code=f"window_{window.state}")
    check_tool_usable(target)
    return enrollment


def check_tool_usable(target: LaunchTarget) -> None:
    """Raise :class:`LaunchRefused` unless the activity can be launched as far as the catalogue
    goes (:func:`availability_refusal`). The last part of :func:`check_can_launch`, shared with
    an editor's test launch (``launch.test_launch``)."""
    placement = target.placement
    link = placement.resource_link
    refusal = availability_refusal(
        placement.title or link.name,
        target.course.organization,
        link_usable=target.link_usable,
        provider_usable=target.provider_usable,
        provider=link.provider,
    )
    if refusal is not None:
        raise refusal


def check_provider_ready(provider) -> None:
    """Raise :class:`LaunchRefused` unless ``provider`` is enabled and set up for its LTI
    version (:func:`provider_refusal`)."""
    refusal = provider_refusal(provider)
    if refusal is not None:
        raise refusal


# --- Context ----------------------------------------------------------------------------------
