"""What the activity blocks of one course page show to one visitor, loaded once per page render.

``course_view(request, page)`` loads, with a constant number of queries whatever the number of
blocks, the visitor's enrollment and then, for an enrolled visitor, in one query: the page's
placements, the visitor's progress on each, whether the course's organization may still use each
placement's resource link and its provider, and the provider URLs the frame's tool origins come
from. The resource links themselves are not loaded again: each block's value already holds its
own (Wagtail loads a stream's links in one query). ``CoursePageMixin.get_context`` puts it in the
template context as ``lti_course``; each ``CourseActivityBlock`` then asks it for its own
:class:`ActivityView`. The result is cached on the request, so a block rendered outside a course
page's context costs no more. What is the same for every block of the page (the launch URL's
prefix, the frame height, translated labels) is worked out once per page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages import get_messages
from django.db.models import Exists, FilteredRelation, OuterRef, Q, Value
from django.shortcuts import resolve_url
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..conf import lti_settings
from ..models import Enrollment, LearnerActivity, LtiProvider, LtiResourceLink, Placement
from .platform_storage import provider_origins, tool_origins


_CACHE_ATTR = "_wagtail_lti_course_views"
MESSAGE_TAG = "wagtail-lti"
# A placement id that ``reverse()`` would put in the URL unchanged (no quoting); other ids go
# through ``reverse()`` itself.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
_ID_MARKER = "lti-id-marker"


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
    #: The CSRF token the launch form posts (launching records progress: only this site's own
    #: pages may start it, see ``wagtail_lti.launch.rules.check_launch_request``).
    csrf_token: str = ""

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


class PlacementState(NamedTuple):
    """One active placement of the page as the visitor sees it (see :meth:`CourseView._load`)."""

    pk: int
    lti_id: str
    resource_link_id: int | None
    provider_id: int | None
    #: The visitor's progress: ``LearnerActivity.status`` (not started without a record), score.
    status: str
    score: float | None
    #: Whether the course's organization may use the resource link, and its provider.
    link_usable: bool
    provider_usable: bool


class CourseView:
    """The visitor's view of one course page (see the module docstring)."""

    def __init__(self, request, page):
        self.request = request
        self.page = page
        self.user = getattr(request, "user", None)
        # Looked at on the class: reading the organization (a query) waits until it is needed.
        self.is_course = hasattr(type(page), "course_organization")
        self.enrollment: Enrollment | None = None
        self.placements: dict[str, PlacementState] = {}
        self.messages: dict[str, list] = {}
        self.frame_height = lti_settings.IFRAME_HEIGHT
        self._provider_origins: dict[int, list[str]] = {}
        self._launch_url_parts: tuple[str, str] | None = None
        self._texts: dict[str | None, dict[str, str]] = {}
        self._login_url: str | None = None
        self._platform_storage_script: str | None = None
        self._csrf_token: str | None = None
        self._load()

    @cached_property
    def organization(self):
        """The course's organization (which decides what its activities may use)."""
        return getattr(self.page, "course_organization", None)

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    def _availability(self, model: type, outer_ref: str):
        """Whether the course's organization may use the row's ``model`` (a resource link or
        provider), as an expression on the placements query (the rule: ``scoping.usable_by``)."""
        from ..scoping import usable_by

        if self.organization is None:
            return Value(False)
        return Exists(usable_by(model.objects.filter(pk=OuterRef(outer_ref)), self.organization))

    def _load(self) -> None:
        if self.page is None or self.page.pk is None:
            return
        if not self.is_authenticated or not self.is_course:
            return
        self.enrollment = (
            Enrollment.objects.filter(course_id=self.page.pk, user=self.user, is_active=True)
            .order_by("pk")
            .first()
        )
        if self.enrollment is None:
            return
        rows = (
            Placement.objects.filter(page_id=self.page.pk, is_active=True)
            .annotate(
                progress=FilteredRelation(
                    "learner_activities", condition=Q(learner_activities__user=self.user.pk)
                ),
                link_usable=self._availability(LtiResourceLink, "resource_link_id"),
                provider_usable=self._availability(LtiProvider, "resource_link__provider_id"),
            )
            .values_list(
                "pk",
                "block_id",
                "lti_id",
                "resource_link_id",
                "resource_link__provider_id",
                "progress__status",
                "progress__score",
                "link_usable",
                "provider_usable",
                "resource_link__provider__login_url",
                "resource_link__provider__launch_url",
                "resource_link__provider__redirect_uris",
            )
        )
        not_started = LearnerActivity.Status.NOT_STARTED.value
        for row in rows:
            pk, block_id, lti_id, link_id, provider_id, status, score, *usable, _, _, _ = row
            self.placements[block_id] = PlacementState(
                pk, lti_id, link_id, provider_id, status or not_started, score, *usable
            )
            if provider_id is not None and provider_id not in self._provider_origins:
                login_url, launch_url, redirect_uris = row[-3:]
                # Only the fields ``provider_origins`` reads: the provider is not loaded again.
                provider = LtiProvider(
                    login_url=login_url, launch_url=launch_url, redirect_uris=redirect_uris
                )
                self._provider_origins[provider_id] = provider_origins(provider)
        for message in get_messages(self.request):
            tags = (message.extra_tags or "").split()
            if MESSAGE_TAG not in tags:
                continue
            for tag in tags:
                if tag.startswith("lti-placement-"):
                    self.messages.setdefault(tag.removeprefix("lti-placement-"), []).append(message)

    @cached_property
    def can_self_enroll(self) -> bool:
        """Whether the page offers the visitor "Enroll in this course"
        (``courses/enrollments.py: may_self_enroll``)."""
        from .enrollments import may_self_enroll

        if not self.is_course or not self.is_authenticated or self.enrollment is not None:
            return False
        return may_self_enroll(self.page, self.user)

    @property
    def self_enroll_url(self) -> str:
        return reverse("wagtail_lti:self_enroll", args=[self.page.pk])

    def login_url(self) -> str:
        if self._login_url is None:
            url = resolve_url(settings.LOGIN_URL)
            next_url = self.request.get_full_path() if self.request is not None else ""
            if next_url:
                url = f"{url}{'&' if '?' in url else '?'}{urlencode({'next': next_url})}"
            self._login_url = url
        return self._login_url

    def launch_url(self, lti_id: str) -> str:
        """``reverse("wagtail_lti:launch", args=[lti_id])``, reversed once per page."""
        if not _PLAIN_ID.fullmatch(lti_id):
            return reverse("wagtail_lti:launch", args=[lti_id])
        if self._launch_url_parts is None:
            prefix, _marker, suffix = reverse("wagtail_lti:launch", args=[_ID_MARKER]).partition(
                _ID_MARKER
            )
            self._launch_url_parts = (prefix, suffix)
        prefix, suffix = self._launch_url_parts
        return f"{prefix}{lti_id}{suffix}"

    def platform_storage_script(self) -> str:
        """The URL of ``wagtail_lti/platform_storage.js`` (``{% static %}``), once per page."""
        if self._platform_storage_script is None:
            self._platform_storage_script = static("wagtail_lti/platform_storage.js")
        return self._platform_storage_script

    def csrf_token(self) -> str:
        """The CSRF token of the page's launch forms (``{% csrf_token %}``), once per page."""
        if self._csrf_token is None:
            from django.middleware.csrf import get_token

            self._csrf_token = get_token(self.request) if self.request is not None else ""
        return self._csrf_token

    def texts(self) -> dict[str, str]:
        """The labels the default activity markup shows, translated once per page and language,
        as HTML: escaped as ``{% translate %}`` does, except the ``{% blocktranslate %}`` texts
        with placeholders (``score``, ``log_in``), whose values are escaped when put in."""
        language = get_language()
        texts = self._texts.get(language)
        if texts is None:
            texts = self._texts[language] = {
                name: mark_safe(text) if name in ("score", "log_in") else escape(text)  # noqa: S308
                for name, text in activity_texts().items()
            }
        return texts

    def activity(self, block_id: str | None, value) -> ActivityView:
        link = value.get("resource_link") if value is not None else None
        from .placements import block_title

        view = ActivityView(
            block_id=str(block_id or ""),
            title=block_title(value, link) if value is not None else "",
            description=(link.description if link is not None else ""),
            open_in=(link.open_in if link is not None else LtiResourceLink.OpenIn.EMBED),
            frame_height=self.frame_height,
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
        view.status = placement.status
        view.score = placement.score
        view.messages = self.messages.get(placement.lti_id, [])
        if not placement.link_usable:
            view.reason = _("This activity is no longer available to this course.")
            return view
        if not placement.provider_usable:
            view.reason = _("The tool behind this activity is no longer available to this course.")
            return view
        view.state = ActivityState.READY
        view.launch_url = self.launch_url(placement.lti_id)
        view.csrf_token = self.csrf_token()
        view.tool_origins = tool_origins(link, self._provider_origins.get(placement.provider_id))
        return view


def activity_texts() -> dict[str, str]:
    """The labels of the default activity markup in the active language (their msgids are the
    template's, ``wagtail_lti/blocks/course_activity.html``)."""
    return {
        "status": _("Status:"),
        "score": _("Score: %(score)s"),
        "message": _("Message from the tool:"),
        "message_error": _("Message from the tool (error):"),
        "log_in": _('<a href="%(url)s">Log in</a> to start this activity.'),
        "unenrolled": _(
            "You are not enrolled in this course. Enroll in the course (ask your instructor or "
            "training administrator) to start this activity."
        ),
        "new_window": _("(opens in a new window)"),
        "hint_score": _("Completed when the tool sends your score."),
        "hint_open": _("Completed once you open it."),
        "start": _("Start activity"),
        "again": _("Open activity again"),
        **{f"status:{status.value}": str(status.label) for status in LearnerActivity.Status},
    }


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
