"""LTI Dynamic Registration endpoints for tools (``wagtail_lti.registration.service`` does the work).

* ``wagtail_lti:lti13_openid_configuration``: the platform's OpenID configuration (GET, public).
* ``wagtail_lti:lti13_register``: the registration endpoint (POST JSON, bearer registration
  token). Errors: 401 ``invalid_token`` for a missing, unknown, expired or used token; 400
  ``invalid_client_metadata`` / ``invalid_redirect_uri`` (RFC 7591 §3.2.2) for bad metadata.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..lti.registration import RegistrationError
from ..security.request_body import BodyRefused, read_body
from . import service


logger = logging.getLogger(__name__)


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = f'Bearer realm="lti", error="{error}"'
    return _no_store(response)


def openid_configuration(request: HttpRequest) -> JsonResponse:
    """The platform's OpenID configuration with the LTI platform configuration (DR §3.4)."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"error": "method_not_allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = JsonResponse(service.platform_configuration(request))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt
def register(request: HttpRequest) -> JsonResponse:
    """A tool's registration request (DR §3.5); a disabled provider is created on success."""
    if request.method != "POST":
        response = _error("invalid_request", "Use POST.", status=405)
        response["Allow"] = "POST"
        return response
    try:
        token = service.bearer_token(request)
    except service.TokenRefused as exc:
        return _error("invalid_token", exc.description, status=401)
    try:
        body = read_body(request)
    except BodyRefused as exc:
        if exc.too_large:
            return _error("invalid_client_metadata", "The request body is too large.")
        return _error("invalid_client_metadata", str(exc))
    if request.content_type != "application/json":
        return _error("invalid_client_metadata", "The request body must be application/json.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error("invalid_client_metadata", "The request body is not valid JSON.")
    try:
        answer = service.register(token, data)
    except service.TokenRefused as exc:
        logger.info("Tool registration refused: %s", exc.description)
        return _error("invalid_token", exc.description, status=401)
    except RegistrationError as exc:
        logger.info("Tool registration refused: %s", exc)
        return _error(exc.error, exc.description)
    return _no_store(JsonResponse(answer))
