"""Assignment and Grade Services 2.0 endpoints (line items, scores, results).

URLs (under the app's prefix), all per course and per tool deployment (an LTI 1.3 provider);
each also answers with a trailing slash::

    1.3/ags/<course_id>/<provider_id>/lineitems                         GET, POST
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>          GET, PUT, DELETE
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>/scores   POST
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>/results  GET

Thin views: each parses the request, calls ``services/ags.py`` and answers; the bearer token, the
course's access rule, the errors and the launch log are ``services.endpoint.service_endpoint``'s.

Access control, on every request (AGS §3.2.9, and CVE-2023-23611 for what goes wrong without it):
the bearer token's provider must be the URL's provider; the course must let the tool use its
services (``wagtail_lti.services.access``: provider enabled, course page live, the provider usable
by the course's organization, at least one active placement of the tool there); and the line item
must belong to that course and provider, and, when it is an activity's, that activity must be one
of the tool's active placements. Anything else is 404, so a tool cannot even learn that another
tool's line items exist. A tool may create at most ``MAX_LINE_ITEMS_PER_COURSE_TOOL`` line items
in a course (409 beyond).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ... import launch_log
from ...conf import lti_settings
from ...lti import ags
from ...lti import scopes as S
from ...models import LineItem
from ...security.identifiers import opaque_user_id
from .. import ags as service
from ..access import CourseAccess
from ..endpoint import service_endpoint
from ..endpoint import service_json as _json
from ..urls import ags_lineitem_url, ags_lineitems_url, ags_results_url


READ_LINEITEMS = (S.AGS_LINEITEM, S.AGS_LINEITEM_READONLY)
WRITE_LINEITEMS = (S.AGS_LINEITEM,)


def ags_endpoint(scopes_by_method: dict[str, tuple[str, ...]]):
    """An AGS endpoint (``service_endpoint``): ``view(request, access, **url_kwargs)``."""
    return service_endpoint(
        "ags",
        scopes_by_method,
        not_found="No such line item container or line item for this tool.",
    )


def _body(request: HttpRequest, media_type: str) -> dict:
    """The JSON object in the request body, after checking media type and size."""
    if request.content_type != media_type:
        raise ags.AgsError(
            f"The request body must be {media_type}.", status=415, error="unsupported_media_type"
        )
    from ...security.request_body import BodyRefused, read_body

    try:
        body = read_body(request)
    except BodyRefused as exc:
        if exc.too_large:
            raise ags.AgsError(
                "The request body is too large.", status=413, error="request_too_large"
            ) from exc
        raise ags.AgsError(str(exc)) from exc
    return ags.parse_json_object(body)


def _line_item_json(request: HttpRequest, item: LineItem) -> dict:
    return ags.line_item_json(
        id=ags_lineitem_url(request, item),
        label=item.label,
        score_maximum=item.score_maximum,
        resource_link_id=item.placement.lti_id if item.placement is not None else None,
        resource_id=item.resource_id,
        tag=item.tag,
        start_date_time=item.start_date_time,
        end_date_time=item.end_date_time,
        grades_released=item.grades_released,
        submission_review=item.submission_review,
    )


def _next_link(base_url: str, state: dict) -> str:
    return f'<{base_url}?cursor={ags.encode_cursor(state)}>; rel="next"'


def _page_state(request: HttpRequest, filter_names: tuple[str, ...]) -> tuple[dict, int, int]:
    """(filters, limit, after pk) from the query string or from a ``cursor``."""
    maximum = int(lti_settings.PAGE_SIZE_LIMIT)
    cursor = request.GET.get("cursor")
    if cursor:
        state = ags.decode_cursor(cursor)
        filters = state.get("f", {})
        after, limit = state.get("a", 0), state.get("l", maximum)
        if (
            not isinstance(filters, dict)
            or not all(k in filter_names and isinstance(v, str) for k, v in filters.items())
            or not isinstance(after, int)
            or not isinstance(limit, int)
        ):
            raise ags.AgsError("cursor is not valid.")
        return filters, max(1, min(limit, maximum)), after
    filters = {name: request.GET[name] for name in filter_names if request.GET.get(name)}
    return filters, ags.parse_limit(request.GET.get("limit"), maximum), 0


def _paged(response: HttpResponse, base_url: str, next_state: dict | None) -> HttpResponse:
    if next_state is not None:
        response["Link"] = _next_link(base_url, next_state)
    return response


# --- Line items container ------------------------------------------------------------------


@ags_endpoint({"GET": READ_LINEITEMS, "POST": WRITE_LINEITEMS})
def lineitems(request: HttpRequest, access: CourseAccess) -> HttpResponse:
    if request.method == "POST":
        data = ags.parse_line_item(_body(request, ags.LINEITEM_MEDIA_TYPE))
        item = service.create_line_item(access, data)
        response = _json(
            _line_item_json(request, item), status=201, content_type=ags.LINEITEM_MEDIA_TYPE
        )
        response["Location"] = ags_lineitem_url(request, item)
        return response
    filters, limit, after = _page_state(request, service.LINE_ITEM_FILTERS)
    items, next_state = service.line_items_page(access, filters, limit, after)
    response = _json(
        [_line_item_json(request, item) for item in items],
        content_type=ags.LINEITEM_CONTAINER_MEDIA_TYPE,
    )
    return _paged(response, ags_lineitems_url(request, access.course, access.provider), next_state)


# --- One line item ---------------------------------------------------------------------------


@ags_endpoint({"GET": READ_LINEITEMS, "PUT": WRITE_LINEITEMS, "DELETE": WRITE_LINEITEMS})
def lineitem(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    item = service.line_item(access, line_item_id)
    if request.method == "DELETE":
        service.delete_line_item(item)
        return HttpResponse(status=204)
    if request.method == "PUT":
        data_json = _body(request, ags.LINEITEM_MEDIA_TYPE)
        service.update_line_item(
            item,
            ags.parse_line_item(data_json),
            given_id=data_json.get("id"),
            own_id=ags_lineitem_url(request, item),
        )
    return _json(_line_item_json(request, item), content_type=ags.LINEITEM_MEDIA_TYPE)


# --- Scores ----------------------------------------------------------------------------------


@ags_endpoint({"POST": (S.AGS_SCORE,)})
def scores(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    """AGS §3.4: record a score (``services.ags.score_user`` and ``record_score``)."""
    item = service.line_item(access, line_item_id)
    score = ags.parse_score(_body(request, ags.SCORE_MEDIA_TYPE))
    user = service.score_user(access, score)
    launch_log.note(request, user=user, placement=item.placement)
    service.record_score(item, user, score)
    return _json({"resultUrl": _result_url(request, item, score.user_id)})


# --- Results ---------------------------------------------------------------------------------


def _result_url(request: HttpRequest, item: LineItem, user_id: str) -> str:
    return f"{ags_results_url(request, item)}?user_id={user_id}"


@ags_endpoint({"GET": (S.AGS_RESULT_READONLY,)})
def results_view(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    """AGS §3.3: the line item's results, ``user_id`` filter, ``limit`` paging."""
    item = service.line_item(access, line_item_id)
    filters, limit, after = _page_state(request, service.RESULT_FILTERS)
    rows, next_state = service.results_page(item, filters, limit, after)
    score_of = ags_lineitem_url(request, item)
    body = []
    for result in rows:
        user_id = opaque_user_id(result.user)
        body.append(
            ags.result_json(
                id=_result_url(request, item, user_id),
                score_of=score_of,
                user_id=user_id,
                score_given=result.score_given,
                score_maximum=result.score_maximum,
                line_item_maximum=item.score_maximum,
                comment=result.comment,
            )
        )
    response = _json(body, content_type=ags.RESULT_CONTAINER_MEDIA_TYPE)
    return _paged(response, ags_results_url(request, item), next_state)
