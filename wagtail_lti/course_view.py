"""What the activity blocks of one course page show to one visitor, loaded once per page render.

``course_view(request, page)`` loads, with a constant number of queries whatever the number of
blocks, the visitor's enrollment, the page's placements (with their resource links and providers),
the visitor's progress on each, and which links and providers the course's organization may still
use. ``CoursePageMixin.get_context`` puts it in the template context as ``lti_course``; each
``CourseActivityBlock`` then asks it for its own :class:`ActivityView`. The result is cached on the
request, so a block rendered outside a course page's context costs no more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages import get_messages
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _

from .conf import lti_settings
from .models import Enrollment, LearnerActivity, LtiProvider, LtiResourceLink, Placement
from .platform_storage import tool_origins


_CACHE_ATTR = "_wagtail_lti_course_views"
MESSAGE_TAG = "wagtail-lti"


def message_tags_for(placement: Placement) -> str:
    """``extra_tags`` of a Django message meant for one placement's block (see the return view)."""
    return f"{MESSAGE_TAG} lti-placement-{placement.lti_id}"


class ActivityState:
    ANONYMOUS = "anonymous"  # prompt to log in
    UNENROLLED = "unenrolled"  # prompt to enroll
    READY = "ready"  # launchable
    UNAVAILABLE = "unavailable"  # withdrawn, removed, or misconfigured: explained, no launch
    UNPUBLISHED = "unpublished"  # a block not published yet (preview)


@dataclass
class ActivityView:
    """Everything ``wagtail_lti/blocks/course_activity.html`` renders for one block."""

    block_id: str
    title: str
    description: str = ""
    state: str = ActivityState.UNAVAILABLE
    reason: str = ""
    status: str = LearnerActivity.Status.NOT_STARTED
    score: float | None = None
    launch_url: str = ""
    open_in: str = LtiResourceLink.OpenIn.EMBED
    login_url: str = ""
    frame_height: int = 600
    messages: list = field(default_factory=list)
    #: Space-separated origins of the tool's URLs: the only senders whose platform storage
    #: messages the course page answers for this activity's frame.
    tool_origins: str = ""

    @property
    def status_label(self) -> str:
        return LearnerActivity.Status(self.status).label

    @property
    def score_percent(self) -> str:
        if self.score is None:
            return ""
        percent = round(self.score * 100, 1)
        return f"{percent:g}%"

    @property
    def launch_label(self) -> str:
        if self.status == LearnerActivity.Status.NOT_STARTED:
            return _("Start activity")
        return _("Open activity again")

    @property
    def embedded(self) -> bool:
        return self.open_in == LtiResourceLink.OpenIn.EMBED

    @property
    def dom_id(self) -> str:
        return f"lti-activity-{self.block_id}"

    @property
    def frame_name(self) -> str:
        return f"lti-frame-{self.block_id}"


class CourseView:
    """The visitor's view of one course page (see the module docstring)."""

    def __init__(self, request, page):
        self.request = request
        self.page = page
        self.user = getattr(request, "user", None)
        self.organization = getattr(page, "course_organization", None)
        self.is_course = hasattr(page, "course_organization")
        self.enrollment: Enrollment | None = None
        self.placements: dict[str, Placement] = {}
        self.progress: dict[int, LearnerActivity] = {}
        self.usable_links: set[int] = set()
        self.usable_providers: set[int] = set()
        self.messages: dict[str, list] = {}
        self._load()

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    def _load(self) -> None:
        from .scoping import usable_by

        if self.page is None or self.page.pk is None:
            return
        self.placements = {
            p.block_id: p
            for p in Placement.objects.filter(page_id=self.page.pk, is_active=True).select_related(
                "resource_link__provider"
            )
        }
        if not self.is_authenticated or not self.is_course:
            return
        self.enrollment = (
            Enrollment.objects.filter(course_id=self.page.pk, user=self.user, is_active=True)
            .order_by("pk")
            .first()
        )
        if self.enrollment is None:
            return
        self.progress = {
            activity.placement_id: activity
            for activity in LearnerActivity.objects.filter(
                user=self.user, placement__page_id=self.page.pk
            )
        }
        links = [p.resource_link for p in self.placements.values() if p.resource_link is not None]
        if links and self.organization is not None:
            self.usable_links = set(
                usable_by(
                    LtiResourceLink.objects.filter(pk__in={link.pk for link in links}),
                    self.organization,
                ).values_list("pk", flat=True)
            )
            self.usable_providers = set(
                usable_by(
                    LtiProvider.objects.filter(pk__in={link.provider_id for link in links}),
                    self.organization,
                ).values_list("pk", flat=True)
            )
        for message in get_messages(self.request):
            tags = (message.extra_tags or "").split()
            if MESSAGE_TAG not in tags:
                continue
            for tag in tags:
                if tag.startswith("lti-placement-"):
                    self.messages.setdefault(tag.removeprefix("lti-placement-"), []).append(message)

    def login_url(self) -> str:
        url = resolve_url(settings.LOGIN_URL)
        next_url = self.request.get_full_path() if self.request is not None else ""
        if not next_url:
            return url
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': next_url})}"

    def activity(self, block_id: str | None, value) -> ActivityView:
        link = value.get("resource_link") if value is not None else None
        from .placements import block_title

        view = ActivityView(
            block_id=str(block_id or ""),
            title=block_title(value, link) if value is not None else "",
            description=(link.description if link is not None else ""),
            open_in=(link.open_in if link is not None else LtiResourceLink.OpenIn.EMBED),
            frame_height=lti_settings.IFRAME_HEIGHT,
        )
        if not self.is_authenticated:
            view.state = ActivityState.ANONYMOUS
            view.login_url = self.login_url()
            return view
        if not self.is_course:
            view.reason = _("Activities can only be launched from a course page.")
            return view
        if self.enrollment is None:
            view.state = ActivityState.UNENROLLED
            return view
        placement = self.placements.get(view.block_id)
        if placement is None or link is None or placement.resource_link_id != link.pk:
            view.state = ActivityState.UNPUBLISHED
            view.reason = _("This activity can be launched once the page is published.")
            return view
        progress = self.progress.get(placement.pk)
        if progress is not None:
            view.status = progress.status
            view.score = progress.score
        view.messages = self.messages.get(placement.lti_id, [])
        if placement.resource_link_id not in self.usable_links:
            view.reason = _("This activity is no longer available to this course.")
            return view
        if link.provider_id not in self.usable_providers:
            view.reason = _("The tool behind this activity is no longer available to this course.")
            return view
        view.state = ActivityState.READY
        view.launch_url = reverse("wagtail_lti:launch", args=[placement.lti_id])
        view.tool_origins = tool_origins(placement.resource_link)
        return view


def course_view(request, page) -> CourseView:
    """The :class:`CourseView` of ``page`` for ``request``'s visitor, cached on the request."""
    if request is None:
        return CourseView(None, page)
    cache = getattr(request, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTR, cache)
    key = getattr(page, "pk", None)
    if key not in cache:
        cache[key] = CourseView(request, page)
    return cache[key]
