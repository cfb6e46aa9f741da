"""Names and Role Provisioning Services 2.0: a course's roster for a tool.

URL (under the app's prefix; also answers with a trailing slash)::

    1.3/nrps/<course_id>/<provider_id>/memberships     GET

Query parameters (NRPS §2.3, §2.4): ``role`` (a role URI or short name), ``limit`` (page size,
at most ``PAGE_SIZE_LIMIT``; the next page is in ``Link: <...>; rel="next"``), ``rlid`` (the
``resource_link.id`` of one of this tool's placements in the course: each member then also gets
the ``message`` a launch of that link would carry for them).

A thin view: it parses the query, calls ``services/nrps.py`` and answers; the bearer token, the
course's access rule, the errors and the launch log are ``services.endpoint.service_endpoint``'s.

Access control, on every request: a bearer token with the ``contextmembership.readonly`` scope
(granted only to providers allowed NRPS, and taken back with the permission), whose provider is
the URL's provider; the course must let the tool use its services (``wagtail_lti.services.access``:
provider enabled, course page live, the provider usable by the course's organization, at least one
active placement of the tool there); ``rlid`` must be one of its active placements there. Anything
else is 404, so a tool learns nothing about other tools' courses and links. Who the members are
and what is told of them (the one privacy rule, ``launch.privacy.launch_user``): ``services/nrps.py``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ... import launch_log
from ...conf import lti_settings
from ...lti import nrps
from .. import nrps as service
from ..access import CourseAccess
from ..endpoint import service_endpoint
from ..endpoint import service_json as _json


def _page_state(request: HttpRequest) -> tuple[dict[str, str], int, int]:
    """(filters, limit, after pk) from the query string or from a ``cursor``."""
    maximum = int(lti_settings.PAGE_SIZE_LIMIT)
    cursor = request.GET.get("cursor")
    if cursor:
        filters, limit, after = nrps.decode_cursor(cursor, service.FILTERS)
        return filters, min(limit, maximum), after
    filters = {}
    for name in service.FILTERS:
        value = request.GET.get(name, "")
        if value:
            if len(value) > nrps.MAX_FILTER_LENGTH:
                raise nrps.NrpsError(f"{name} is longer than {nrps.MAX_FILTER_LENGTH} characters.")
            filters[name] = value
    return filters, nrps.parse_limit(request.GET.get("limit"), maximum), 0


@service_endpoint(
    "nrps",
    {"GET": (nrps.SCOPE,)},
    not_found="No such membership container for this tool.",
    action="GET memberships",
)
def memberships(request: HttpRequest, access: CourseAccess) -> HttpResponse:
    """NRPS §2: the membership container of a course, for the tool holding the token."""
    filters, limit, after = _page_state(request)
    placement = service.link_placement(access, filters.get("rlid"))
    if placement is not None:
        launch_log.note(request, placement=placement)
    members, next_state = service.members_page(
        request, access, filters, limit, after, placement=placement
    )
    url = service.context_memberships_url(request, access.course, access.provider)
    response = _json(
        service.membership_container(url, access.course, members),
        content_type=nrps.MEMBERSHIP_CONTAINER_MEDIA_TYPE,
    )
    if next_state is not None:
        response["Link"] = nrps.next_link(url, next_state)
    return response
