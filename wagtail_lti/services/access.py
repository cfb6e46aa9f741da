"""What a tool may still do in a course: the one access rule of every tool-facing service.

Every service a tool calls about a course asks this module, after authenticating the tool
(LTI 1.3 bearer token, LTI 1.1 OAuth signature): AGS (line items, scores, results), NRPS and
LTI 1.1 Basic Outcomes. The token endpoint asks :func:`check_provider`.

The rule. A tool (an LTI provider) may use a course's services only while **all** of these hold:

1. the provider is enabled (a disabled provider gets no launch and no service, LTI 1.1 and 1.3);
2. the page is a course (a course page with an organization);
3. the course page is live (published);
4. the provider may still be used by the course's organization (the availability rule of
   ``wagtail_lti.scoping``);
5. the course page has at least one *active placement* of the tool: an activity block, on the
   published page, whose resource link belongs to the provider and may still be used by the
   course's organization.

And, for what is tied to one activity (a placement: its automatic line item, a line item the tool
created with a ``resourceLinkId``, its results, an ``rlid``, a ``lis_result_sourcedid``), that
placement must itself be one of the tool's active placements. A line item of an activity that was
removed from the page is, for the tool, gone: it is not listed, cannot be read, changed, deleted
or scored, and its results cannot be read (as Basic Outcomes' ``readResult`` already refused).
Nothing is deleted: the results stay in the platform's results report, and all of it comes back
if the activity is put back on the page (the same block, e.g. by reverting the page). Line items
the tool created without a ``resourceLinkId`` belong to the course and stay usable while the
rule above holds.

This is what Moodle and Canvas users expect: an activity removed from a course (or a course
hidden, or a tool switched off) stops the tool from listing, creating or grading anything there,
and through every service alike.

A refusal is a :class:`ServiceRefused` whose ``reason`` says which condition failed and whose
``message`` explains it to a person (the launch log) or to the tool (Basic Outcomes). AGS and NRPS
answer every refusal after authentication with their usual 404, so a tool learns nothing about
courses it has no activity in; a disabled provider's tokens are refused with 401 ``invalid_token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.db import transaction
from django.db.models import Q, QuerySet

from wagtail_lti.conf import lti_settings
from wagtail_lti.models import LineItem, LtiProvider, LtiResourceLink, Placement
from wagtail_lti.scoping import is_usable_by, usable_by


# Reasons of a refusal (ServiceRefused.reason).
PROVIDER_DISABLED = "provider_disabled"
NOT_A_COURSE = "not_a_course"
NOT_LIVE = "not_live"
PROVIDER_UNAVAILABLE = "provider_unavailable"
NO_ACTIVITY = "no_activity"
ACTIVITY_REMOVED = "activity_removed"
ACTIVITY_UNAVAILABLE = "activity_unavailable"
NOT_THIS_TOOL = "not_this_tool"

MESSAGES = {
    PROVIDER_DISABLED: "This tool has not been enabled on the platform, or has been disabled.",
    NOT_A_COURSE: "This activity is not part of a course.",
    NOT_LIVE: "The course page is not published.",
    PROVIDER_UNAVAILABLE: "This tool is no longer available to the course's organization.",
    NO_ACTIVITY: "The course page has no activity of this tool any more.",
    ACTIVITY_REMOVED: "This activity is no longer on its course page.",
    ACTIVITY_UNAVAILABLE: "This activity is no longer available to the course's organization.",
    NOT_THIS_TOOL: "This activity is not one of this tool's.",
}


class LineItemLimitReached(Exception):
    """The tool already has ``MAX_LINE_ITEMS_PER_COURSE_TOOL`` line items in the course."""

    def __init__(self, maximum: int):
        self.maximum = maximum
        super().__init__(
            f"This tool already has {maximum} line items in this course, the most the platform "
            "allows (MAX_LINE_ITEMS_PER_COURSE_TOOL); delete line items it no longer needs before "
            "creating more."
        )


class ServiceRefused(Exception):
    """The tool may not do this in this course now (see the module docstring)."""

    def __init__(self, reason: str):
        self.reason = reason
        self.message = MESSAGES[reason]
        super().__init__(self.message)


def check_provider(provider: LtiProvider) -> None:
    """Condition 1: raise :class:`ServiceRefused` unless the provider is enabled."""
    if not provider.is_enabled:
        raise ServiceRefused(PROVIDER_DISABLED)


@dataclass(frozen=True)
class CourseRef:
    """What a service and the launch log need of a course besides its page: its primary key and
    its organization's."""

    pk: int
    course_organization_id: int


@dataclass(frozen=True)
class CourseAccess:
    """A tool's access to one course, granted by :func:`course_access` (the rule held)."""

    provider: LtiProvider
    course_ref: CourseRef
    placement_ids: frozenset[int]  # the tool's active placements in the course

    @property
    def course_id(self) -> int:
        return self.course_ref.pk

    @cached_property
    def course(self):
        """The specific course page, read when first asked for (a score needs only the ids)."""
        from wagtail.models import Page

        return Page.objects.get(pk=self.course_ref.pk).specific

    def check_placement(self, placement: Placement | None) -> None:
        """Raise :class:`ServiceRefused` unless ``placement`` is one of the active placements."""
        if placement is None or placement.pk not in self.placement_ids:
            raise ServiceRefused(self._placement_reason(placement))

    def _placement_reason(self, placement: Placement | None) -> str:
        """Why ``placement`` is not one of the active placements (read afresh)."""
        row = (
            Placement.objects.filter(pk=getattr(placement, "pk", None))
            .values("page_id", "is_active", "resource_link__provider_id")
            .first()
        )
        if row is None or row["page_id"] != self.course_id or not row["is_active"]:
            return ACTIVITY_REMOVED
        if row["resource_link__provider_id"] != self.provider.pk:
            return NOT_THIS_TOOL
        return ACTIVITY_UNAVAILABLE

    def placement(self, lti_id: str) -> Placement | None:
        """The placement of this course whose resource link id is ``lti_id``, if it is one of the
        tool's active placements; ``None`` when the course has no such placement at all;
        :class:`ServiceRefused` when it has one the tool may not use (removed, another tool's,
        no longer available)."""
        placement = (
            Placement.objects.select_related("resource_link__provider")
            .filter(page_id=self.course_id, lti_id=lti_id)
            .first()
        )
        if placement is not None:
            self.check_placement(placement)
        return placement

    def placements(self) -> QuerySet:
        """The tool's active placements in the course."""
        return Placement.objects.filter(pk__in=self.placement_ids)

    def line_items(self) -> QuerySet:
        """The course's line items the tool may see: its own, of no activity or of an active one."""
        return LineItem.objects.filter(provider=self.provider, course_id=self.course_id).filter(
            Q(placement__isnull=True) | Q(placement_id__in=self.placement_ids)
        )

    def check_line_item(self, item: LineItem) -> None:
        """Raise :class:`ServiceRefused` unless the tool may use ``item`` (one of its own in this
        course, of no activity or of an active placement)."""
        if item.provider_id != self.provider.pk or item.course_id != self.course_id:
            raise ServiceRefused(NO_ACTIVITY)
        if item.placement_id is not None:
            self.check_placement(item.placement)

    def create_line_item(self, **fields) -> LineItem:
        """Create one of the tool's line items in the course, unless it already has
        ``MAX_LINE_ITEMS_PER_COURSE_TOOL`` there (every one counts, the platform's automatic ones
        too): then :class:`LineItemLimitReached` and nothing is created. A ``placement`` given in
        ``fields`` must be one of the tool's active placements."""
        placement = fields.get("placement")
        if placement is not None:
            self.check_placement(placement)
        maximum = int(lti_settings.MAX_LINE_ITEMS_PER_COURSE_TOOL)
        with transaction.atomic():
            # The provider's row is locked: concurrent creations are counted one after the other.
            LtiProvider.objects.select_for_update().filter(pk=self.provider.pk).first()
            count = LineItem.objects.filter(provider=self.provider, course_id=self.course_id)
            if count.count() >= maximum:
                raise LineItemLimitReached(maximum)
            return LineItem.objects.create(
                provider=self.provider, course_id=self.course_id, **fields
            )


def _active_placements(provider: LtiProvider, course) -> CourseAccess:
    """Conditions 1 to 4, and the tool's active placements in the course (maybe none)."""
    check_provider(provider)
    return _catalogue_access(provider, course)


def _catalogue_access(provider: LtiProvider, course) -> CourseAccess:
    """Conditions 2 to 4 (what only the catalogue decides), and the active placements."""
    if course is None:
        raise ServiceRefused(NOT_A_COURSE)
    course = course.specific
    organization = getattr(course, "course_organization", None)
    if organization is None:
        raise ServiceRefused(NOT_A_COURSE)
    if not course.live:
        raise ServiceRefused(NOT_LIVE)
    if not is_usable_by(provider, organization):
        raise ServiceRefused(PROVIDER_UNAVAILABLE)
    links = usable_by(LtiResourceLink.objects.filter(provider=provider), organization)
    placement_ids = frozenset(
        Placement.objects.filter(
            page_id=course.pk, is_active=True, resource_link__in=links
        ).values_list("pk", flat=True)
    )
    access = CourseAccess(
        provider=provider,
        course_ref=CourseRef(pk=course.pk, course_organization_id=organization.pk),
        placement_ids=placement_ids,
    )
    access.__dict__["course"] = course  # already read: ``course`` needs no query
    return access


def course_access(provider: LtiProvider, course) -> CourseAccess:
    """The tool's access to ``course`` (a page, specific or not), or :class:`ServiceRefused`.

    Conditions 1 to 5 of the module docstring, in that order. Three queries (four when given a
    base ``Page``).
    """
    access = _active_placements(provider, course)
    if not access.placement_ids:
        raise ServiceRefused(NO_ACTIVITY)
    return access


def course_access_by_id(provider: LtiProvider, course_id: int) -> CourseAccess | None:
    """:func:`course_access` for the course page with primary key ``course_id`` (``None`` when
    there is no such page), the door of the tool-facing services.

    The provider (condition 1) is the caller's, read afresh; conditions 2 to 5 depend only on the
    catalogue, so their answer (the course's ids and the tool's active placements, or the
    refusal's reason) is kept between requests like a launch's placement
    (``launch.targets.kept``: every catalogue change, in any process, drops it at once). A kept
    answer costs one cache read instead of four queries.
    """
    access = _kept_catalogue_access(provider, course_id)
    if access is not None and not access.placement_ids:
        raise ServiceRefused(NO_ACTIVITY)
    return access


def _kept_catalogue_access(provider: LtiProvider, course_id: int) -> CourseAccess | None:
    """Condition 1 read afresh, conditions 2 to 4 and the active placements kept (see
    :func:`course_access_by_id`); ``None`` when there is no page ``course_id``."""
    from wagtail.models import Page

    from ..launch.targets import kept

    check_provider(provider)

    def load():
        page = Page.objects.filter(pk=course_id).first()
        if page is None:
            return None
        try:
            access = _catalogue_access(provider, page)
        except ServiceRefused as exc:
            return exc.reason
        return access.course_ref, access.placement_ids

    facts = kept(("course-access", provider.pk, course_id), load)
    if facts is None:
        return None
    if isinstance(facts, str):
        raise ServiceRefused(facts)
    course_ref, placement_ids = facts
    return CourseAccess(provider=provider, course_ref=course_ref, placement_ids=placement_ids)


def placement_access(provider: LtiProvider, placement: Placement) -> CourseAccess:
    """The tool's access to the course of ``placement``, which must be one of its active
    placements there (what a ``lis_result_sourcedid`` names); else :class:`ServiceRefused`.

    What the catalogue decides is kept as for :func:`course_access_by_id` (the same kept answer,
    dropped by the same changes); the provider and ``placement`` are the caller's."""
    check_provider(provider)
    if not placement.is_active:
        raise ServiceRefused(ACTIVITY_REMOVED)
    access = _kept_catalogue_access(provider, placement.page_id)
    if access is None:
        raise ServiceRefused(NOT_A_COURSE)
    access.check_placement(placement)
    return access
