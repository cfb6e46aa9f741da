"""LTI 1.3 platform endpoints for tools' servers: the OAuth 2 token endpoint and the JWKS.

* ``wagtail_lti:lti13_token``: client credentials grant with an RFC 7523 JWT client assertion
  (LTI Advantage Security Framework §4.1). Errors per RFC 6749 §5.2.
* ``wagtail_lti:lti13_jwks``: the platform's public keys, with ``Cache-Control: max-age``.
"""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ... import launch_log
from ...conf import lti_settings
from ...lti import scopes as lti_scopes
from ...lti.client_assertion import (
    JWT_BEARER,
    ToolJwtError,
    check_client_assertion,
    unverified_client_id,
)
from ...models import LtiProvider
from ...security import platform_keys
from ...security.request_body import BodyRefused, read_body
from ...security.single_use import use_once
from ...security.tool_keys import verify_tool_jwt
from ..access import ServiceRefused, check_provider
from ..access_tokens import issue_access_token, provider_scopes
from ..endpoint import token_endpoint_urls


logger = logging.getLogger(__name__)


def _token_error(error: str, description: str, status: int = 400) -> JsonResponse:
    """An RFC 6749 §5.2 error response."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="lti"'
    return response


@csrf_exempt
@launch_log.logged("token")
def token(request: HttpRequest) -> JsonResponse:
    """Exchange a tool's signed client assertion for a short-lived access token."""
    if request.method != "POST":
        response = _token_error("invalid_request", "Use POST.", status=405)
        response["Allow"] = "POST"
        return response
    try:
        read_body(request)  # request.POST below is parsed from it
    except BodyRefused as exc:
        if exc.too_large:
            return _token_error("invalid_request", "The request body is too large.")
        return _token_error("invalid_request", str(exc))
    if request.content_type != "application/x-www-form-urlencoded":
        return _token_error(
            "invalid_request",
            "The request must be form-encoded (application/x-www-form-urlencoded).",
        )
    params = request.POST
    repeated = sorted(name for name, values in params.lists() if len(values) > 1)
    if repeated:
        return _token_error(
            "invalid_request", f"Parameters given more than once: {', '.join(repeated)}."
        )

    grant_type = params.get("grant_type", "")
    if not grant_type:
        return _token_error("invalid_request", "grant_type is missing.")
    if grant_type != "client_credentials":
        return _token_error(
            "unsupported_grant_type", "Only the client_credentials grant is supported."
        )
    assertion_type = params.get("client_assertion_type", "")
    assertion = params.get("client_assertion", "")
    if not assertion_type or not assertion:
        return _token_error(
            "invalid_request", "client_assertion_type and client_assertion are required."
        )
    if assertion_type != JWT_BEARER:
        return _token_error(
            "invalid_client", f"client_assertion_type must be {JWT_BEARER}.", status=401
        )

    # Whose assertion is it? Read unverified only to pick the keys to verify it with.
    try:
        client_id = unverified_client_id(assertion)
    except ToolJwtError as exc:
        return _token_error("invalid_client", str(exc), status=401)
    provider = LtiProvider.objects.filter(
        client_id=client_id, lti_version=LtiProvider.Version.LTI_1P3
    ).first()
    if provider is None:
        logger.info("Token request refused: unknown client_id %r", client_id)
        return _token_error("invalid_client", "Unknown client_id.", status=401)
    launch_log.note(request, provider=provider)
    try:
        check_provider(provider)
    except ServiceRefused as exc:
        logger.info("Token request refused: provider %s is not enabled", provider.client_id)
        return _token_error("invalid_client", exc.message, status=401)

    try:
        claims = verify_tool_jwt(provider, assertion, audience=token_endpoint_urls(request))
        jti = check_client_assertion(claims, client_id=provider.client_id)
    except ToolJwtError as exc:
        detail = getattr(exc, "detail", "")
        logger.info("Token request from %s refused: %s %s", provider.client_id, exc, detail)
        response = _token_error("invalid_client", str(exc), status=401)
        if detail:  # what the outbound request met: for the log, never for the caller
            launch_log.note(request, error=f"invalid_client: {exc} {detail}")
        return response

    # The assertion is genuine: it may be used once, whatever happens next.
    ttl = max(int(claims["exp"]) - int(time.time()) + lti_settings.CLIENT_ASSERTION_LEEWAY, 60)
    if not use_once("jti", f"{provider.client_id}:{jti}", ttl):
        logger.info("Token request from %s refused: replayed jti", provider.client_id)
        return _token_error(
            "invalid_client", "This client assertion (jti) has already been used.", status=401
        )

    requested = params.get("scope", "").split()
    if not requested:
        return _token_error("invalid_scope", "No scope was requested.")
    granted = lti_scopes.grant(requested, provider_scopes(provider))
    if not granted:
        return _token_error(
            "invalid_scope", "None of the requested scopes may be granted to this tool."
        )

    access_token, expires_in = issue_access_token(provider, granted)
    launch_log.note(
        request, action="granted " + " ".join(scope.rsplit("/", 1)[-1] for scope in granted)
    )
    response = JsonResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": " ".join(granted),
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def jwks(request: HttpRequest) -> JsonResponse:
    """The platform's public keys: current, next, and retired within the overlap."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"error": "method_not_allowed"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = JsonResponse(platform_keys.jwks())
    response["Cache-Control"] = f"public, max-age={int(lti_settings.JWKS_MAX_AGE)}"
    response["Access-Control-Allow-Origin"] = "*"
    return response
