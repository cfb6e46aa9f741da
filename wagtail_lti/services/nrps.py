"""Names and Role Provisioning Services: a course's roster for a tool, and the launch claim.

The roster endpoint (``services/views/nrps.py``) parses the request and calls this module with
the tool's ``CourseAccess`` to the course (``services.access``); errors are what the endpoint
decorator answers (``services/endpoint.py``): :class:`~wagtail_lti.services.endpoint.NotFound`
for an ``rlid`` that is no placement of the course, ``ServiceRefused`` for one the tool may not
use, ``NrpsError`` for bad parameters.

Members are the course's enrollments: LIS v2 role URIs, status ``Active`` (or ``Inactive`` for a
suspended enrollment or user), ``user_id`` as in launches (``identifiers.opaque_user_id``), and
the name and email only when the provider's privacy options let launches send them. With an
``rlid`` (one of the tool's active placements), the members are those who may launch it now, each
with the ``message`` a launch of that link would carry for them (NRPS §2.4).
"""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest
from django.urls import reverse

from ..launch.privacy import launch_user
from ..lti import nrps
from ..lti.context import LaunchContext, LaunchUser
from ..lti.lti13 import custom_claim
from ..models import Enrollment, LtiProvider, Placement
from ..security.identifiers import context_id
from .access import CourseAccess
from .endpoint import NotFound, page_of
from .urls import absolute_url


FILTERS = ("role", "rlid")
ROLE_URIS = {
    Enrollment.Role.LEARNER: nrps.MEMBERSHIP_ROLE + "Learner",
    Enrollment.Role.INSTRUCTOR: nrps.MEMBERSHIP_ROLE + "Instructor",
}


def context_memberships_url(request: HttpRequest, course, provider: LtiProvider) -> str:
    """The ``context_memberships_url`` of ``provider``'s deployment in ``course`` (a course page)."""
    return absolute_url(
        request,
        reverse(
            "wagtail_lti:nrps_memberships",
            kwargs={"course_id": course.pk, "provider_id": provider.pk},
        ),
    )


def nrps_claim(request: HttpRequest, placement: Placement | None, provider: LtiProvider) -> dict:
    """The launch's NRPS claim (as ``{claim name: value}``) when the provider may use NRPS."""
    if placement is None or not provider.allow_nrps or not provider.is_lti13:
        return {}
    return nrps.membership_claim(context_memberships_url(request, placement.page, provider))


# --- The roster -------------------------------------------------------------------------------


def link_placement(access: CourseAccess, rlid: str | None) -> Placement | None:
    """The placement an ``rlid`` names (``None`` without one): it must be one of the tool's
    active placements in the course (:class:`NotFound`, ``ServiceRefused``)."""
    if rlid is None:
        return None
    placement = access.placement(rlid)
    if placement is None:
        raise NotFound
    return placement


def _link_context(request: HttpRequest, course, placement: Placement) -> LaunchContext | None:
    """The launch context of ``placement`` without a user (each member's is made from it)."""
    from ..launch.context import custom_parameters, platform_info
    from ..launch.rules import LaunchRefused

    link = placement.resource_link
    try:
        custom = custom_parameters(placement)
    except LaunchRefused:
        return None
    return LaunchContext(
        user=LaunchUser(id="-"),
        roles=(),
        context_id=context_id(course),
        context_title=course.title,
        context_label=getattr(course, "course_code", "") or "",
        resource_link_id=placement.lti_id,
        resource_link_title=placement.title or link.name,
        resource_link_description=link.description,
        target_url=link.url or link.provider.launch_url,
        platform=platform_info(request),
        custom=custom,
    )


def _message(link_ctx: LaunchContext | None, person: LaunchUser, role: str) -> dict:
    if link_ctx is None or not link_ctx.custom:
        return nrps.member_message()
    ctx = dataclasses.replace(link_ctx, user=person, roles=(role,))
    return nrps.member_message(custom_claim(ctx.custom, ctx))


def members_page(
    request: HttpRequest,
    access: CourseAccess,
    filters: dict[str, str],
    limit: int,
    after: int,
    *,
    placement: Placement | None = None,
) -> tuple[list[dict], dict | None]:
    """One page of the course's members (NRPS §2.2, ``role`` filter §2.3.1), and the next page's
    state (``endpoint.page_of``). With ``placement`` (the ``rlid``'s, :func:`link_placement`):
    only those who may launch it now, each with their ``message`` (§2.4)."""
    provider, course = access.provider, access.course
    enrollments = Enrollment.objects.select_related("user").filter(
        course_id=course.pk, pk__gt=after
    )
    if placement is not None:
        # Members of a resource link: those who may launch it now.
        enrollments = enrollments.filter(is_active=True, user__is_active=True)
    if "role" in filters:
        wanted = nrps.parse_role_filter(filters["role"])
        roles = [role for role, uri in ROLE_URIS.items() if uri == wanted]
        enrollments = enrollments.filter(role__in=roles)
    page, next_state = page_of(enrollments, filters, limit)

    link_ctx = _link_context(request, course, placement) if placement is not None else None
    # A tool moved from LTI 1.1 also gets each member's LTI 1.1 user_id: the same opaque id its
    # LTI 1.1 launches sent (launch.privacy.launch_user, for both versions).
    moved_from_lti11 = provider.moved_from_lti11
    members = []
    for enrollment in page:
        user = enrollment.user
        person = launch_user(provider, user)
        role_uri = ROLE_URIS.get(enrollment.role, nrps.MEMBERSHIP_ROLE + "Learner")
        active = enrollment.is_active and user.is_active
        members.append(
            nrps.member_json(
                user_id=person.id,
                roles=[role_uri],
                status="Active" if active else "Inactive",
                name=person.full_name,
                given_name=person.given_name,
                family_name=person.family_name,
                email=person.email,
                message=_message(link_ctx, person, role_uri.rsplit("#", 1)[-1])
                if placement is not None
                else None,
                lti11_legacy_user_id=person.id if moved_from_lti11 else "",
            )
        )
    return members, next_state


def membership_container(container_id: str, course, members: list[dict]) -> dict:
    """The membership container (NRPS §2.2) of ``course`` with one page of ``members``."""
    return nrps.container_json(
        container_id=container_id,
        context={
            "id": context_id(course),
            "label": getattr(course, "course_code", "") or "",
            "title": course.title,
        },
        members=members,
    )
