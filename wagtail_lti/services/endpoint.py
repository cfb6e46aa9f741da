"""The tool-facing JSON service endpoints (AGS, NRPS): one decorator, their answers and errors.

:func:`service_endpoint` is the one door of every LTI 1.3 service a tool calls with a bearer token
about a course (``.../<course_id>/<provider_id>/...``). It decides, in this order:

1. the HTTP method: one the endpoint serves, else 405 ``method_not_allowed`` with ``Allow``;
2. the bearer token and its scope (``access_tokens.authenticate_service_request``): 401
   ``invalid_token`` or 403 ``insufficient_scope`` (RFC 6750 §3.1);
3. the URL's provider must be the token's, and the URL's course must let the tool use its services
   (``access.course_access_by_id``): else 404 ``not_found`` with the endpoint's own description, so a
   tool learns nothing about other tools' courses (a refusal's reason goes to the launch log);
4. the view: it parses the request, calls its service (``services/ags.py``, ``services/nrps.py``)
   and answers. What the view or the service raises is answered here: :class:`NotFound` and
   ``ServiceRefused`` as the same 404, ``AgsError`` and ``NrpsError`` (bad bodies, parameters,
   conflicts) as their status with ``error`` and ``error_description``.

Every answer is noted in the launch log (``launch_log.logged``): the kind, the provider once the
token is known, the course once access is granted, the outcome and, for a refusal, its reason.

Also here: the JSON answer and error of every service endpoint, the token endpoint's URLs, and
:func:`page_of` (the paging every service's lists share).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .. import launch_log
from ..lti.ags import AgsError
from ..lti.nrps import NrpsError
from .access import CourseAccess, ServiceRefused, course_access_by_id
from .access_tokens import ServiceAuthError, authenticate_service_request
from .urls import absolute_url


class NotFound(Exception):
    """What the tool names does not exist for it (a line item, a resource link): a service's 404."""


#: The protocol errors a service endpoint answers with their own status, ``error`` and description.
PROTOCOL_ERRORS = (AgsError, NrpsError)


def token_endpoint_urls(request: HttpRequest) -> list[str]:
    """Values a client assertion's ``aud`` may name: this token endpoint's absolute URL.

    The first is the canonical one (on the issuer's host when ``ISSUER`` is set); the URL on the
    request's own host is accepted too, for sites reachable under one name only.
    """
    path = reverse("wagtail_lti:lti13_token")
    urls = [absolute_url(request, path)]
    own = request.build_absolute_uri(path)
    if own not in urls:
        urls.append(own)
    return urls


def service_json(
    data, *, status: int = 200, content_type: str = "application/json"
) -> JsonResponse:
    """A JSON answer of a tool-facing service (AGS, NRPS), never cached."""
    response = JsonResponse(data, status=status, safe=False, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def service_error(status: int, error: str, description: str) -> JsonResponse:
    """A service's JSON error: ``error`` and ``error_description``."""
    return service_json({"error": error, "error_description": description}, status=status)


def page_of(rows: QuerySet, filters: dict, limit: int) -> tuple[list, dict | None]:
    """The first ``limit`` of ``rows`` by primary key, and the state of the next page (``None``
    on the last page): ``{"f": filters, "l": limit, "a": the last primary key of this page}``,
    what a ``cursor`` carries (``lti.ags.encode_cursor``)."""
    page = list(rows.order_by("pk")[: limit + 1])
    if len(page) <= limit:
        return page, None
    return page[:limit], {"f": filters, "l": limit, "a": page[limit - 1].pk}


def _course_access(provider, course_id: int, provider_id: int) -> CourseAccess:
    """Step 3: the URL's provider is the token's, and its access to the URL's course page."""
    if provider.pk != provider_id:
        raise NotFound
    access = course_access_by_id(provider, course_id)
    if access is None:
        raise NotFound
    return access


def service_endpoint(
    kind: str,
    scopes_by_method: dict[str, tuple[str, ...]],
    *,
    not_found: str,
    action: str = "",
) -> Callable:
    """Make ``view`` a tool-facing JSON service endpoint (see the module docstring).

    ``kind``: the launch log's kind (``"ags"``, ``"nrps"``); ``scopes_by_method``: the methods
    served and, for each, the scopes of which the token needs any one; ``not_found``: the 404's
    ``error_description``; ``action``: the launch log's action (default: method and URL name).
    The view is called as ``view(request, access, **url_kwargs)``: ``access`` is the tool's
    ``CourseAccess`` to the course, the other URL arguments are integers.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @launch_log.logged(kind)
        @wraps(view)
        def wrapped(
            request: HttpRequest, course_id: str, provider_id: str, **kwargs
        ) -> HttpResponse:
            if request.method not in scopes_by_method:
                response = service_error(
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
            launch_log.note(request, provider=provider, **({"action": action} if action else {}))
            try:
                access = _course_access(provider, int(course_id), int(provider_id))
                launch_log.note(request, course=access.course_ref)
                return view(request, access, **{k: int(v) for k, v in kwargs.items()})
            except NotFound:
                return service_error(404, "not_found", not_found)
            except ServiceRefused as exc:
                launch_log.note(request, error=f"not_found: {exc.message}")
                return service_error(404, "not_found", not_found)
            except PROTOCOL_ERRORS as exc:
                return service_error(exc.status, exc.error, str(exc))

        wrapped.service_endpoint = kind
        return wrapped

    return decorator
