"""Assignment and Grade Services 2.0 endpoints (line items, scores, results).

URLs (under the app's prefix), all per course and per tool deployment (an LTI 1.3 provider);
each also answers with a trailing slash::

    1.3/ags/<course_id>/<provider_id>/lineitems                         GET, POST
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>          GET, PUT, DELETE
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>/scores   POST
    1.3/ags/<course_id>/<provider_id>/lineitems/<line_item_id>/results  GET

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

import logging
from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from wagtail.models import Page

from ... import launch_log
from ...conf import lti_settings
from ...lti import ags
from ...lti import scopes as S
from ...models import LineItem, LtiProvider, Placement, Result
from ...security.identifiers import opaque_user_id, user_for_opaque_id
from .. import results
from ..access import CourseAccess, LineItemLimitReached, ServiceRefused, course_access
from ..access_tokens import ServiceAuthError, authenticate_service_request
from ..endpoint import service_error as _error
from ..endpoint import service_json as _json
from ..urls import ags_lineitem_url, ags_lineitems_url, ags_results_url


logger = logging.getLogger(__name__)

READ_LINEITEMS = (S.AGS_LINEITEM, S.AGS_LINEITEM_READONLY)
WRITE_LINEITEMS = (S.AGS_LINEITEM,)


class _NotFound(Exception):
    pass


def _not_found() -> JsonResponse:
    return _error(404, "not_found", "No such line item container or line item for this tool.")


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


def _course_for(course_id: int, provider: LtiProvider) -> CourseAccess:
    """The tool's access to the course page (``services.access``); :class:`ServiceRefused`."""
    page = Page.objects.filter(pk=course_id).first()
    if page is None:
        raise _NotFound
    return course_access(provider, page)


def ags_endpoint(scopes_by_method: dict[str, tuple[str, ...]]):
    """Wrap an AGS view: method check, bearer token and scope, deployment and course, errors.

    The view is called as ``view(request, access, **url_kwargs)`` (a ``CourseAccess``).
    """

    def decorator(view: Callable[..., HttpResponse]):
        @csrf_exempt
        @launch_log.logged("ags")
        @wraps(view)
        def wrapped(
            request: HttpRequest, course_id: str, provider_id: str, **kwargs
        ) -> HttpResponse:
            if request.method not in scopes_by_method:
                response = _error(
                    405, "method_not_allowed", f"{request.method} is not allowed here."
                )
                response["Allow"] = ", ".join(scopes_by_method)
                return response
            try:
                provider, _granted = authenticate_service_request(
                    request, scopes_by_method[request.method]
                )
            except ServiceAuthError as exc:
                return exc.response()
            launch_log.note(request, provider=provider)
            try:
                if provider.pk != int(provider_id):
                    raise _NotFound
                access = _course_for(int(course_id), provider)
                launch_log.note(request, course=access.course)
                return view(request, access, **{k: int(v) for k, v in kwargs.items()})
            except _NotFound:
                return _not_found()
            except ServiceRefused as exc:
                launch_log.note(request, error=f"not_found: {exc.message}")
                return _not_found()
            except ags.AgsError as exc:
                return _error(exc.status, exc.error, str(exc))

        return wrapped

    return decorator


def _line_item(access: CourseAccess, line_item_id: int) -> LineItem:
    item = (
        LineItem.objects.select_related("placement__resource_link")
        .filter(pk=line_item_id, provider=access.provider, course_id=access.course.pk)
        .first()
    )
    if item is None:
        raise _NotFound
    access.check_line_item(item)
    return item


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
    )


def _placement(access: CourseAccess, resource_link_id: str) -> Placement:
    """AGS §3.2.9: the resource link must be one of this tool's active placements in this course,
    else 404."""
    placement = access.placement(resource_link_id)
    if placement is None:
        raise _NotFound
    return placement


def _is_automatic(item: LineItem) -> bool:
    """Whether ``item`` is the gradebook column the platform keeps for a placement."""
    placement = item.placement
    if (
        placement is None
        or placement.resource_link is None
        or not placement.resource_link.requires_score
    ):
        return False
    return results.line_item_for(placement) == item


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


# --- Line items container ------------------------------------------------------------------


@ags_endpoint({"GET": READ_LINEITEMS, "POST": WRITE_LINEITEMS})
def lineitems(request: HttpRequest, access: CourseAccess) -> HttpResponse:
    provider, course = access.provider, access.course
    if request.method == "POST":
        return _create_line_item(request, access)
    filters, limit, after = _page_state(request, ("resource_link_id", "resource_id", "tag"))
    items = access.line_items().select_related("placement").filter(pk__gt=after)
    if "resource_link_id" in filters:
        items = items.filter(placement__lti_id=filters["resource_link_id"])
    if "resource_id" in filters:
        items = items.filter(resource_id=filters["resource_id"])
    if "tag" in filters:
        items = items.filter(tag=filters["tag"])
    page = list(items.order_by("pk")[: limit + 1])
    response = _json(
        [_line_item_json(request, item) for item in page[:limit]],
        content_type=ags.LINEITEM_CONTAINER_MEDIA_TYPE,
    )
    if len(page) > limit:
        state = {"f": filters, "l": limit, "a": page[limit - 1].pk}
        response["Link"] = _next_link(ags_lineitems_url(request, course, provider), state)
    return response


def _create_line_item(request: HttpRequest, access: CourseAccess) -> HttpResponse:
    data = ags.parse_line_item(_body(request, ags.LINEITEM_MEDIA_TYPE))
    placement = _placement(access, data.resource_link_id) if data.resource_link_id else None
    try:
        item = access.create_line_item(
            placement=placement,
            label=data.label,
            score_maximum=data.score_maximum,
            resource_id=data.resource_id,
            tag=data.tag,
            start_date_time=data.start_date_time,
            end_date_time=data.end_date_time,
            grades_released=data.grades_released,
        )
    except LineItemLimitReached as exc:
        raise ags.AgsError(str(exc), status=409, error="line_item_limit_reached") from exc
    response = _json(
        _line_item_json(request, item), status=201, content_type=ags.LINEITEM_MEDIA_TYPE
    )
    response["Location"] = ags_lineitem_url(request, item)
    return response


# --- One line item ---------------------------------------------------------------------------


@ags_endpoint({"GET": READ_LINEITEMS, "PUT": WRITE_LINEITEMS, "DELETE": WRITE_LINEITEMS})
def lineitem(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    item = _line_item(access, line_item_id)
    if request.method == "GET":
        return _json(_line_item_json(request, item), content_type=ags.LINEITEM_MEDIA_TYPE)
    if request.method == "DELETE":
        if _is_automatic(item):
            raise ags.AgsError(
                "This line item is the platform's gradebook column for a resource link; it is "
                "removed with the activity, not through the service.",
                status=403,
                error="forbidden",
            )
        item.delete()
        return HttpResponse(status=204)
    return _update_line_item(request, item)


def _update_line_item(request: HttpRequest, item: LineItem) -> HttpResponse:
    """AGS §3.2.6: PUT replaces the definition; ``id`` and ``resourceLinkId`` cannot change."""
    data_json = _body(request, ags.LINEITEM_MEDIA_TYPE)
    data = ags.parse_line_item(data_json)
    given_id = data_json.get("id")
    if given_id not in (None, "") and given_id != ags_lineitem_url(request, item):
        raise ags.AgsError("The line item id cannot be changed (AGS §3.2.6).")
    current_link = item.placement.lti_id if item.placement is not None else None
    if data.resource_link_id_given and data.resource_link_id != current_link:
        raise ags.AgsError("resourceLinkId cannot be changed (AGS §3.2.6).")
    fields = {
        "resource_id": data.resource_id,
        "tag": data.tag,
        "start_date_time": data.start_date_time,
        "end_date_time": data.end_date_time,
        "grades_released": data.grades_released,
    }
    if not _is_automatic(item):
        # The automatic line item's label and maximum follow the resource link (the platform
        # owns them, AGS §4.3.1); changes to them are ignored and the applied definition returned.
        fields.update(label=data.label, score_maximum=data.score_maximum)
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return _json(_line_item_json(request, item), content_type=ags.LINEITEM_MEDIA_TYPE)


# --- Scores ----------------------------------------------------------------------------------


def _course_members(course):
    return get_user_model().objects.filter(
        lti_enrollments__course_id=course.pk, lti_enrollments__is_active=True
    )


@ags_endpoint({"POST": (S.AGS_SCORE,)})
def scores(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    """AGS §3.4: record a score.

    An older or equal timestamp than the one on record is refused with 409, a timestamp more than
    ``CLIENT_ASSERTION_LEEWAY`` seconds in the future with 400; either way nothing changes.
    """
    course = access.course
    item = _line_item(access, line_item_id)
    score = ags.parse_score(_body(request, ags.SCORE_MEDIA_TYPE))
    ags.check_score_timestamp(
        score.timestamp, now=timezone.now(), leeway_seconds=lti_settings.CLIENT_ASSERTION_LEEWAY
    )
    user = user_for_opaque_id(score.user_id, _course_members(course))
    if user is None:
        raise ags.AgsError("userId is not a member of this course.")
    launch_log.note(request, user=user, placement=item.placement)
    try:
        results.record_score(
            item,
            user,
            score_given=score.score_given,
            score_maximum=score.score_maximum,
            activity_progress=score.activity_progress,
            grading_progress=score.grading_progress,
            timestamp=score.timestamp,
            comment=score.comment,
            source="ags",
        )
    except results.StaleScore as exc:
        raise ags.AgsError(
            "A score with the same or a later timestamp is already recorded for this user and line "
            "item; timestamps must strictly increase (AGS §3.4.9).",
            status=409,
            error="conflict",
        ) from exc
    return _json({"resultUrl": _result_url(request, item, score.user_id)})


# --- Results ---------------------------------------------------------------------------------


def _result_url(request: HttpRequest, item: LineItem, user_id: str) -> str:
    return f"{ags_results_url(request, item)}?user_id={user_id}"


@ags_endpoint({"GET": (S.AGS_RESULT_READONLY,)})
def results_view(request: HttpRequest, access: CourseAccess, line_item_id: int) -> HttpResponse:
    """AGS §3.3: the line item's results, ``user_id`` filter, ``limit`` paging."""
    item = _line_item(access, line_item_id)
    filters, limit, after = _page_state(request, ("user_id",))
    rows = Result.objects.select_related("user").filter(line_item=item, pk__gt=after)
    if "user_id" in filters:
        user = user_for_opaque_id(
            filters["user_id"],
            get_user_model().objects.filter(
                pk__in=Result.objects.filter(line_item=item).values("user_id")
            ),
        )
        rows = rows.filter(user=user) if user is not None else rows.none()
    page = list(rows.order_by("pk")[: limit + 1])
    score_of = ags_lineitem_url(request, item)
    body = []
    for result in page[:limit]:
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
    if len(page) > limit:
        state = {"f": filters, "l": limit, "a": page[limit - 1].pk}
        response["Link"] = _next_link(ags_results_url(request, item), state)
    return response
