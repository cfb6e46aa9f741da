"""OAuth 2 access tokens for LTI Advantage services (AGS, NRPS).

Tokens are random (256 bits), handed to the tool once, and stored only as their SHA-256 hash with
the provider, the granted scopes and an expiry (``ACCESS_TOKEN_TTL``). Service views call
:func:`authenticate_service_request`; errors follow RFC 6750 §3.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from ..conf import lti_settings
from ..lti import scopes as lti_scopes
from ..models import AccessToken, LtiProvider
from .access import ServiceRefused, check_provider


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def provider_scopes(provider: LtiProvider) -> tuple[str, ...]:
    """Every scope the provider may be granted now (LTI 1.3 providers only).

    The Platform Notification Service's ``noticehandlers`` scope is granted to every enabled
    LTI 1.3 provider: notices name contexts and the deployment, never a person.
    """
    if not provider.is_lti13 or not provider.is_enabled:
        return ()
    return lti_scopes.allowed_scopes(
        allow_ags=provider.allow_ags, allow_nrps=provider.allow_nrps, allow_pns=True
    )


def issue_access_token(provider: LtiProvider, scopes: Iterable[str]) -> tuple[str, int]:
    """Create a token for ``scopes``; returns (token, lifetime in seconds). Only the hash is stored."""
    token = secrets.token_urlsafe(32)
    ttl = int(lti_settings.ACCESS_TOKEN_TTL)
    AccessToken.objects.create(
        token_hash=_hash(token),
        provider=provider,
        scopes=" ".join(scopes),
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return token, ttl


def revoke_provider_tokens(provider: LtiProvider) -> int:
    """Revoke every access token of ``provider``; returns how many."""
    deleted, _ = AccessToken.objects.filter(provider_id=provider.pk).delete()
    return deleted


def revoke_when_keys_change(sender, instance: LtiProvider, raw: bool = False, **kwargs) -> None:
    """``pre_save`` of a provider: new key material (JWKS URL or PEM) revokes its access tokens.

    Tokens were obtained with assertions signed by the old key; whoever held that key must not
    keep using them once the tool's key is replaced (in the admin, by Dynamic Registration, or
    any other save). Disabling the provider needs no revocation: tokens of a provider that is
    not enabled grant nothing (:func:`provider_scopes`).
    """
    if raw or instance.pk is None:
        return
    stored = (
        LtiProvider.objects.filter(pk=instance.pk).values_list("jwks_url", "public_key_pem").first()
    )
    if stored is None:
        return
    if stored != (instance.jwks_url, instance.public_key_pem):
        revoke_provider_tokens(instance)


def purge_expired() -> int:
    """Delete expired access tokens; returns how many."""
    deleted, _ = AccessToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


class ServiceAuthError(Exception):
    """A service request without a usable access token (RFC 6750 §3.1)."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error": self.error, "error_description": self.description}, status=self.status
        )
        challenge = 'Bearer realm="lti"'
        if self.error:
            challenge += f', error="{self.error}"'
        response["WWW-Authenticate"] = challenge
        response["Cache-Control"] = "no-store"
        return response


def authenticate_service_request(
    request: HttpRequest, required_scopes: Iterable[str]
) -> tuple[LtiProvider, frozenset[str]]:
    """The provider and scopes of the request's bearer token.

    ``required_scopes``: the request needs **any one** of them (e.g. line items may be read with
    ``lineitem`` or ``lineitem.readonly``). The token's scopes are intersected with what the
    provider may have now, so a permission taken away after the token was issued is honoured.
    Raises :class:`ServiceAuthError` (401 without or with a bad token, or when the token's provider
    has been disabled since: ``services.access.check_provider``; 403 for a missing scope).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ServiceAuthError(401, "invalid_token", "An OAuth 2 bearer access token is required.")
    token = (
        AccessToken.objects.select_related("provider")
        .filter(token_hash=_hash(value), expires_at__gt=timezone.now())
        .first()
    )
    if token is None:
        raise ServiceAuthError(401, "invalid_token", "The access token is unknown or has expired.")
    provider = token.provider
    try:
        check_provider(provider)
    except ServiceRefused as exc:
        raise ServiceAuthError(401, "invalid_token", exc.message) from exc
    granted = frozenset(token.scopes.split()) & frozenset(provider_scopes(provider))
    required = frozenset(required_scopes)
    if required and not (granted & required):
        raise ServiceAuthError(
            403,
            "insufficient_scope",
            "The access token does not have a scope this request needs: "
            + " or ".join(sorted(required)),
        )
    return provider, granted
