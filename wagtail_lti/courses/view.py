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
from django.db.models import Exists, FilteredRelation, OuterRef, Q, Subquery, Value
from django.shortcuts import resolve_url
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..conf import lti_settings
from ..launch.rules import availability_refusal, launch_window, moment_label
from ..lti.deep_linking import window_name
from ..models import Enrollment, LearnerActivity, LtiProvider, LtiResourceLink, Placement, Result
from .platform_storage import provider_origins, tool_origins
from .progress import PROGRESS_LABELS, progress_label, shown_progress


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
    #: Where the score comes from and the tool's progress (``LearnerActivity``), for
    #: :attr:`progress`.
    score_source: str = ""
    activity_progress: str = ""
    grading_progress: str = ""
    launch_url: str = ""
    open_in: str = LtiResourceLink.OpenIn.EMBED
    login_url: str = ""
    frame_height: int = 600
    #: The frame's width in pixels when the link sets one (``iframe_width``), else the page's.
    frame_width: int | None = None
    #: The browser window a new-window activity opens in: the link's ``window_target_name``,
    #: else ``_blank`` (a new window each time).
    window_target: str = "_blank"
    #: The features the new window opens with (``window.open``): the link's window size and
    #: ``window_features``; empty: the browser's own (``window_features_of``).
    window_features: str = ""
    #: "Due 5 Dec 17:00" when the link has a submission end (``submission_end``).
    due_label: str = ""
    messages: list = field(default_factory=list)
    #: Space-separated origins of the tool's URLs: the only senders whose platform storage
    #: messages the course page answers for this activity's frame.
    tool_origins: str = ""
    #: The course page's status endpoint, which the page's script asks for the learner's
    #: progress without a reload (``courses/status.py``).
    status_url: str = ""
    #: The CSRF token the launch form posts (launching records progress: only this site's own
    #: pages may start it, see ``wagtail_lti.launch.rules.check_launch_request``).
    csrf_token: str = ""
    #: The visitor's result that the tool declared reviewable (Submission Review 1.0), for the
    #: include ``wagtail_lti/courses/includes/result_actions.html`` ("Review my submission"),
    #: which asks ``services.submission_review.may_review``; ``None`` when there is none.
    review_result: Result | None = None

    @property
    def progress(self) -> str:
        """What the learner's progress is called (``courses/progress.py: shown_progress``):
        the status, or "submitted", "pending" (grading), "failed" (grading)."""
        return shown_progress(
            self.status, self.score_source, self.activity_progress, self.grading_progress
        )

    #: For the course's editors (``launch.test_launch.may_test_course``): ``(label, url)`` of
    #: each test launch of this activity (the admin's test launch page, in a new tab).
    test_launch_urls: list = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return progress_label(self.progress)

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
    score_source: str
    activity_progress: str
    grading_progress: str
    #: Whether the course's organization may use the resource link, and its provider.
    link_usable: bool
    provider_usable: bool
    #: The visitor's result on a line item of the placement with a submission review declaration.
    review_result_id: int | None = None
    #: The provider with the fields ``launch.rules.availability_refusal`` reads (not loaded again).
    provider: LtiProvider | None = None


class CourseView:
    """The visitor's view of one course page (see the module docstring)."""

    def __init__(self, request, page, *, read_messages: bool = True):
        self.request = request
        #: Whether to take the tool's messages for the blocks (``lti_msg``, see the return view)
        #: from the session; the status endpoint (``courses.status``) leaves them for the page.
        self.read_messages = read_messages
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
        self._status_url: str | None = None
        #: For the course's editors: block id → placement ``lti_id`` (``None``: not an editor).
        self._test_placements: dict[str, str] | None = None
        self.may_test = False
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
        self._load_enrollment()
        if self.may_test:
            self._test_placements = dict(
                Placement.objects.filter(
                    page_id=self.page.pk, is_active=True, resource_link__isnull=False
                ).values_list("block_id", "lti_id")
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
                review_result_id=Subquery(
                    Result.objects.filter(
                        user=self.user.pk,
                        line_item__placement=OuterRef("pk"),
                        line_item__submission_review__isnull=False,
                    )
                    .order_by("line_item_id")
                    .values("pk")[:1]
                ),
            )
            .values_list(
                "pk",
                "block_id",
                "lti_id",
                "resource_link_id",
                "resource_link__provider_id",
                "progress__status",
                "progress__score",
                "progress__score_source",
                "progress__activity_progress",
                "progress__grading_progress",
                "link_usable",
                "provider_usable",
                "resource_link__provider__is_enabled",
                "resource_link__provider__awaiting_review",
                "resource_link__provider__lti_version",
                "resource_link__provider__consumer_key",
                "resource_link__provider__secret_encrypted",
                "resource_link__provider__login_url",
                "resource_link__provider__launch_url",
                "resource_link__provider__redirect_uris",
                "review_result_id",
            )
        )
        not_started = LearnerActivity.Status.NOT_STARTED.value
        for row in rows:
            (
                pk,
                block_id,
                lti_id,
                link_id,
                provider_id,
                status,
                score,
                source,
                activity_progress,
                grading_progress,
                link_usable,
                provider_usable,
                enabled,
                awaiting_review,
                version,
                key,
                secret,
                login_url,
                launch_url,
                redirect_uris,
                review_result_id,
            ) = row
            provider = None
            if provider_id is not None:
                # Only the fields ``provider_origins`` and ``availability_refusal`` read: the
                # provider is not loaded again.
                provider = LtiProvider(
                    pk=provider_id,
                    is_enabled=enabled,
                    awaiting_review=awaiting_review,
                    lti_version=version,
                    consumer_key=key,
                    secret_encrypted=secret,
                    login_url=login_url,
                    launch_url=launch_url,
                    redirect_uris=redirect_uris,
                )
                if provider_id not in self._provider_origins:
                    self._provider_origins[provider_id] = provider_origins(provider)
            self.placements[block_id] = PlacementState(
                pk,
                lti_id,
                link_id,
                provider_id,
                status or not_started,
                score,
                source or "",
                activity_progress or "",
                grading_progress or "",
                link_usable,
                provider_usable,
                review_result_id,
                provider,
            )
        if not self.read_messages:
            return
        for message in get_messages(self.request):
            tags = (message.extra_tags or "").split()
            if MESSAGE_TAG not in tags:
                continue
            for tag in tags:
                if tag.startswith("lti-placement-"):
                    self.messages.setdefault(tag.removeprefix("lti-placement-"), []).append(message)

    @cached_property
    def class_url(self) -> str:
        """The class view's URL for an instructor of the course (``wagtail_lti:class_view``;
        who may open it is ``scoping.class_access``), else empty. No query: the visitor's
        enrollment is already loaded."""
        enrollment = self.enrollment
        if enrollment is None or enrollment.role != Enrollment.Role.INSTRUCTOR:
            return ""
        return reverse("wagtail_lti:class_view", args=[self.page.pk])

    def _load_enrollment(self) -> None:
        """The visitor's enrollment and whether the visitor edits the course (may test-launch its
        activities: ``launch.test_launch.may_test_course``'s rule, ``scoping.manages_expression``),
        in one query."""
        from ..models import Organization
        from ..scoping import manages_expression

        enrollments = Enrollment.objects.filter(
            course_id=self.page.pk, user=self.user.pk, is_active=True
        ).order_by("pk")
        organization_id = getattr(self.page, "course_organization_id", None)
        self.may_test = False
        if organization_id is None:
            self.enrollment = enrollments.first()
            return
        row = (
            Organization.objects.filter(pk=organization_id)
            .annotate(
                enrollment_pk=Subquery(enrollments.values("pk")[:1]),
                enrollment_role=Subquery(enrollments.values("role")[:1]),
                manages=manages_expression(self.user),
            )
            .values_list("enrollment_pk", "enrollment_role", "manages")
            .first()
        )
        if row is None:
            self.enrollment = enrollments.first()
            return
        enrollment_pk, role, manages = row
        self.may_test = bool(manages)
        self.enrollment = None
        if enrollment_pk is not None:
            self.enrollment = Enrollment(
                pk=enrollment_pk,
                course_id=self.page.pk,
                user=self.user,
                role=role,
                is_active=True,
            )

    def test_launch_urls(self, block_id: str, link) -> list[tuple[str, str]]:
        """The test launches of one block for an editor: its placement's (published), else its
        resource link's (a block of a draft, in the preview)."""
        if self._test_placements is None or link is None:
            return []
        from ..launch.test_launch import INSTRUCTOR, LEARNER

        lti_id = self._test_placements.get(block_id)
        query = {"placement": lti_id} if lti_id else {"link": link.pk}
        base = reverse("wagtail_lti_test_launch")
        texts = self.texts()
        return [
            (texts[f"test_as_{role}"], f"{base}?{urlencode({**query, 'role': role})}")
            for role in (INSTRUCTOR, LEARNER)
        ]

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

    def status_url(self) -> str:
        """The page's status endpoint (``courses/status.py``), reversed once per page."""
        if self._status_url is None:
            self._status_url = reverse("wagtail_lti:course_status", args=[self.page.pk])
        return self._status_url

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
        if link is not None:
            view.frame_height = link.iframe_height or self.frame_height
            view.frame_width = link.iframe_width
            view.window_target = window_name(link.window_target_name) or "_blank"
            view.window_features = window_features_of(link)
            if link.submission_end is not None:
                view.due_label = _("Due %(moment)s") % {"moment": moment_label(link.submission_end)}
        if not self.is_authenticated:
            view.state = ActivityState.ANONYMOUS
            view.login_url = self.login_url()
            return view
        if not self.is_course:
            view.reason = _("Activities can only be launched from a course page.")
            return view
        view.test_launch_urls = self.test_launch_urls(view.block_id, link)
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
        view.score_source = placement.score_source
        view.activity_progress = placement.activity_progress
        view.grading_progress = placement.grading_progress
        view.messages = self.messages.get(placement.lti_id, [])
        refusal = availability_refusal(
            view.title,
            self.organization,
            link_usable=placement.link_usable,
            provider_usable=placement.provider_usable,
            provider=placement.provider,
        )
        if refusal is not None:
            view.reason = course_page_reason(refusal)
            return view
        window = launch_window(link, self.enrollment.role)
        if not window.is_open:
            # The same rule as the launch (``launch.rules.launch_window``), said before it.
            view.reason = window.refusal()
            return view
        view.state = ActivityState.READY
        view.launch_url = self.launch_url(placement.lti_id)
        view.csrf_token = self.csrf_token()
        view.status_url = self.status_url()
        view.tool_origins = tool_origins(link, self._provider_origins.get(placement.provider_id))
        if placement.review_result_id is not None:
            from ..services.submission_review import find_result

            view.review_result = find_result(placement.review_result_id)
        return view


def course_page_reason(refusal) -> str:
    """What the course page says instead of a launch button for a ``LaunchRefused`` of
    ``launch.rules.availability_refusal``: its message, except for the two availability refusals,
    said of "this course" (the launch page names the organization)."""
    if refusal.code == "link_unavailable":
        return _("This activity is no longer available to this course.")
    if refusal.code == "provider_unavailable":
        return _("The tool behind this activity is no longer available to this course.")
    return refusal.message


def window_features_of(link: LtiResourceLink) -> str:
    """The ``window.open`` features of a new-window activity: ``width``/``height`` from the
    link's window size, then its ``window_features`` (Deep Linking's ``windowFeatures``), without
    ``noopener``/``noreferrer`` (the launch form must reach the window it opened)."""
    parts = []
    if link.window_width:
        parts.append(f"width={link.window_width}")
    if link.window_height:
        parts.append(f"height={link.window_height}")
    for part in (link.window_features or "").split(","):
        part = part.strip()
        if part and part.split("=")[0].strip().lower() not in {"noopener", "noreferrer"}:
            parts.append(part)
    return ",".join(parts)


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
        "frame_controls": _("Activity window"),
        "frame_new_window": _("Open in a new window"),
        "frame_full_screen": _("Full screen"),
        "frame_close": _("Close"),
        "test_intro": _("You edit this course: try the activity first."),
        "test_as_instructor": _("Test launch as instructor"),
        "test_as_learner": _("Test launch as test learner"),
        **{f"status:{key}": str(label) for key, label in PROGRESS_LABELS.items()},
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
