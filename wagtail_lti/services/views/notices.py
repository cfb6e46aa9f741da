"""Platform Notification Service 1.0: a tool's notice handlers (thin view).

URL (under the app's prefix; also answers with a trailing slash)::

    1.3/pns/<provider_id>/     GET (the handlers), PUT {"notice_type", "handler"} (set or,
                               with "handler": "", remove one)

A bearer token with the ``noticehandlers`` scope whose provider is the URL's provider (any other
provider: 404). The rules are in ``services/notices.py``; the message format in ``lti/notices.py``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ... import launch_log
from ...conf import lti_settings
from ...lti import notices as protocol
from ..access_tokens import ServiceAuthError, authenticate_service_request
from ..endpoint import service_error as _error
from ..endpoint import service_json as _json
from ..notices import handlers_of, may_use, set_handler


ALLOWED = "GET, PUT"


@csrf_exempt
@launch_log.logged("notice")
def handlers(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The provider's notice handlers: list them (GET), set or remove one (PUT)."""
    if request.method not in ("GET", "PUT"):
        response = _error(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response["Allow"] = ALLOWED
        return response
    try:
        provider, _granted = authenticate_service_request(request, (protocol.SCOPE,))
    except ServiceAuthError as exc:
        return exc.response()
    launch_log.note(request, provider=provider, action=f"{request.method} notice handlers")
    if provider.pk != int(provider_id) or not may_use(provider):
        return _error(404, "not_found", "There is no such notice service.")
    if request.method == "PUT":
        if len(request.body) > int(lti_settings.MAX_REQUEST_BODY):
            return _error(413, "invalid_request", "The request body is too large.")
        try:
            notice_type, url = protocol.parse_handler_request(request.body)
            set_handler(provider, notice_type, url)
        except protocol.NoticeError as exc:
            return _error(exc.status, exc.error, str(exc))
        launch_log.note(
            request,
            action=f"PUT notice handler {notice_type}" + ("" if url else " (removed)"),
        )
        return _json({"notice_type": notice_type, "handler": url})
    return _json(
        protocol.handlers_json(
            client_id=provider.client_id,
            deployment_id=provider.deployment_id,
            handlers=handlers_of(provider),
        )
    )
