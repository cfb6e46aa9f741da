"""Names and Role Provisioning Services 2.0: a course's roster for a tool.

URL (under the app's prefix; also answers with a trailing slash)::

    1.3/nrps/<course_id>/<provider_id>/memberships     GET

Query parameters (NRPS §2.3, §2.4): ``role`` (a role URI or short name), ``limit`` (page size,
at most ``PAGE_SIZE_LIMIT``; the next page is in ``Link: <...>; rel="next"``), ``rlid`` (the
``resource_link.id`` of one of this tool's placements in the course: each member then also gets
the ``message`` a launch of that link would carry for them).

Access control, on every request: a bearer token with the ``contextmembership.readonly`` scope
(granted only to providers allowed NRPS, and taken back with the permission), whose provider is
the URL's provider; the course must let the tool use its services (``wagtail_lti.services.access``:
provider enabled, course page live, the provider usable by the course's organization, at least one
active placement of the tool there); ``rlid`` must be one of its active placements there. Anything
else is 404, so a tool learns nothing about other tools' courses and links.

Members are the course's enrollments: LIS v2 role URIs, status ``Active`` (or ``Inactive`` for a
suspended enrollment or user), ``user_id`` as in launches (``identifiers.opaque_user_id``), and
the name and email only when the provider's privacy options let launches send them (the one
privacy rule, ``launch.privacy.launch_user``).
"""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from wagtail.models import Page

from ... import launch_log
from ...conf import lti_settings
from ...launch.privacy import launch_user
from ...lti import nrps
from ...lti.context import LaunchContext, LaunchUser
from ...lti.lti13 import custom_claim
from ...models import Enrollment, LtiProvider, Placement
from ..access import CourseAccess, ServiceRefused, course_access
from ..access_tokens import ServiceAuthError, authenticate_service_request
from ..endpoint import service_error as _error
from ..endpoint import service_json as _json
from ..nrps import context_memberships_url


FILTERS = ("role", "rlid")
ROLE_URIS = {
    Enrollment.Role.LEARNER: nrps.MEMBERSHIP_ROLE + "Learner",
    Enrollment.Role.INSTRUCTOR: nrps.MEMBERSHIP_ROLE + "Instructor",
}


class _NotFound(Exception):
    pass


# --- Responses ----------------------------------------------------------------------------------


def _not_found() -> JsonResponse:
    return _error(404, "not_found", "No such membership container for this tool.")


# --- Access control -----------------------------------------------------------------------------


def _course_for(course_id: int, provider: LtiProvider) -> CourseAccess:
    """The tool's access to the course page (``services.access``); :class:`ServiceRefused`."""
    page = Page.objects.filter(pk=course_id).first()
    if page is None:
        raise _NotFound
    return course_access(provider, page)


def _placement(access: CourseAccess, rlid: str) -> Placement:
    """An ``rlid`` must be an active placement of this tool in this course (else 404)."""
    placement = access.placement(rlid)
    if placement is None:
        raise _NotFound
    return placement


# --- Members ------------------------------------------------------------------------------------


def _link_context(request: HttpRequest, course, placement: Placement) -> LaunchContext | None:
    """The launch context of ``placement`` without a user (each member's is made from it)."""
    from ...launch.context import custom_parameters, platform_info
    from ...launch.rules import LaunchRefused
    from ...security.identifiers import context_id

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


def _page_state(request: HttpRequest) -> tuple[dict[str, str], int, int]:
    """(filters, limit, after pk) from the query string or from a ``cursor``."""
    maximum = int(lti_settings.PAGE_SIZE_LIMIT)
    cursor = request.GET.get("cursor")
    if cursor:
        filters, limit, after = nrps.decode_cursor(cursor, FILTERS)
        return filters, min(limit, maximum), after
    filters = {}
    for name in FILTERS:
        value = request.GET.get(name, "")
        if value:
            if len(value) > nrps.MAX_FILTER_LENGTH:
                raise nrps.NrpsError(f"{name} is longer than {nrps.MAX_FILTER_LENGTH} characters.")
            filters[name] = value
    return filters, nrps.parse_limit(request.GET.get("limit"), maximum), 0


def _members_page(request: HttpRequest, access: CourseAccess):
    provider, course = access.provider, access.course
    filters, limit, after = _page_state(request)
    placement = _placement(access, filters["rlid"]) if "rlid" in filters else None
    if placement is not None:
        launch_log.note(request, placement=placement)
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
    page = list(enrollments.order_by("pk")[: limit + 1])

    link_ctx = _link_context(request, course, placement) if placement is not None else None
    # A tool moved from LTI 1.1 also gets each member's LTI 1.1 user_id: the same opaque id its
    # LTI 1.1 launches sent (launch.privacy.launch_user, for both versions).
    moved_from_lti11 = provider.moved_from_lti11
    members = []
    for enrollment in page[:limit]:
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
    next_state = None
    if len(page) > limit:
        next_state = {"f": filters, "l": limit, "a": page[limit - 1].pk}
    return members, next_state


@csrf_exempt
@launch_log.logged("nrps")
def memberships(request: HttpRequest, course_id: str, provider_id: str) -> HttpResponse:
    """NRPS §2: the membership container of a course, for the tool holding the token."""
    if request.method != "GET":
        response = _error(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response["Allow"] = "GET"
        return response
    try:
        provider, _granted = authenticate_service_request(request, (nrps.SCOPE,))
    except ServiceAuthError as exc:
        return exc.response()
    launch_log.note(request, provider=provider, action="GET memberships")
    try:
        if provider.pk != int(provider_id):
            raise _NotFound
        access = _course_for(int(course_id), provider)
        course = access.course
        launch_log.note(request, course=course)
        members, next_state = _members_page(request, access)
    except _NotFound:
        return _not_found()
    except ServiceRefused as exc:
        launch_log.note(request, error=f"not_found: {exc.message}")
        return _not_found()
    except nrps.NrpsError as exc:
        return _error(exc.status, exc.error, str(exc))

    from ...security.identifiers import context_id

    url = context_memberships_url(request, course, provider)
    response = _json(
        nrps.container_json(
            container_id=url,
            context={
                "id": context_id(course),
                "label": getattr(course, "course_code", "") or "",
                "title": course.title,
            },
            members=members,
        ),
        content_type=nrps.MEMBERSHIP_CONTAINER_MEDIA_TYPE,
    )
    if next_state is not None:
        response["Link"] = nrps.next_link(url, next_state)
    return response
