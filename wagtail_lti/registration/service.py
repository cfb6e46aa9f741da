"""LTI Dynamic Registration, the Django side (protocol: ``wagtail_lti.lti.registration``).

* :func:`start` — an editor registers a tool by URL for an organization they manage: records a
  :class:`~wagtail_lti.models.ToolRegistration` with a random token (only its SHA-256 is
  stored), single-use, expiring after ``REGISTRATION_TOKEN_TTL``, and gives the URL to open;
* :func:`platform_configuration` — the platform's OpenID configuration;
* :func:`register` — the tool's registration request: checks the bearer token, validates the
  metadata, then in one transaction uses the token and creates a **disabled** LTI 1.3 provider in
  the editor's organization, which the editor reviews and enables.

Views: ``wagtail_lti.registration.views`` (tool-facing), ``wagtail_lti.admin.registration``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import scoping
from ..conf import lti_settings
from ..lti import notices
from ..lti import registration as protocol
from ..lti import scopes as lti_scopes
from ..lti.custom_params import NAME_RE
from ..lti.substitution import VARIABLES
from ..models import LtiProvider, Organization, ToolRegistration
from ..services.urls import absolute_url


class RegistrationRefused(Exception):
    """An editor's registration that may not start; ``str(exc)`` is for the editor."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TokenRefused(Exception):
    """The registration request's bearer token is missing, unknown, expired or already used."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def allow_local_http() -> bool:
    """Whether http URLs on localhost / 127.0.0.1 are accepted (development and tests)."""
    return bool(lti_settings.REGISTRATION_ALLOW_LOCAL_HTTP or settings.DEBUG)


def offered_scopes() -> tuple[str, ...]:
    """Every service scope a registered tool may ask for."""
    return lti_scopes.AGS_SCOPES + lti_scopes.NRPS_SCOPES + lti_scopes.PNS_SCOPES


# --- The editor starts ----------------------------------------------------------------------


def may_register(user) -> bool:
    from ..permissions import provider_policy

    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and provider_policy.user_has_permission(user, "add")
    )


def openid_configuration_url(request: HttpRequest) -> str:
    return absolute_url(request, reverse("wagtail_lti:lti13_openid_configuration"))


def start(
    request: HttpRequest, organization: Organization, tool_url: str
) -> tuple[ToolRegistration, str]:
    """Record a registration of ``tool_url`` for ``organization`` by ``request.user``.

    Returns the record and the URL to open (the tool's URL with ``openid_configuration`` and
    ``registration_token``). Raises :class:`RegistrationRefused`.
    """
    user = request.user
    if not may_register(user):
        raise RegistrationRefused(_("You may not add LTI providers."))
    if not scoping.user_manages(user, organization):
        raise RegistrationRefused(
            _("You do not manage %(organization)s, so you cannot add providers to it.")
            % {"organization": organization}
        )
    try:
        tool_url = protocol.check_tool_url(tool_url, allow_insecure_local=allow_local_http())
    except protocol.RegistrationError:
        raise RegistrationRefused(_("Enter the tool's registration URL: an https URL.")) from None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        ToolRegistration.objects.filter(
            user=user, used_at__isnull=True, expires_at__lt=now
        ).delete()
        record = ToolRegistration.objects.create(
            token_hash=_hash(token),
            user=user,
            organization=organization,
            tool_url=tool_url,
            expires_at=now + timedelta(seconds=int(lti_settings.REGISTRATION_TOKEN_TTL)),
        )
    url = protocol.initiation_url(
        tool_url,
        openid_configuration_url=openid_configuration_url(request),
        registration_token=token,
    )
    return record, url


def editor_registration(user, pk) -> ToolRegistration | None:
    """The registration ``pk`` if ``user`` started it (else ``None``): the only registrations an
    editor may follow, on the waiting page and on the review."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        ToolRegistration.objects.select_related("provider", "organization")
        .filter(pk=pk, user=user)
        .first()
    )


def registration_state(record: ToolRegistration) -> str:
    """Where an editor's registration is: ``"registered"`` (the tool used the token and a
    provider was created), ``"expired"`` (unused past its expiry) or ``"waiting"``."""
    if record.used_at is not None:
        return "registered"
    if record.expires_at <= timezone.now():
        return "expired"
    return "waiting"


# --- The platform's OpenID configuration ------------------------------------------------------


def platform_configuration(request: HttpRequest) -> dict[str, Any]:
    from ..services.urls import platform_issuer

    def url(name: str) -> str:
        return absolute_url(request, reverse(f"wagtail_lti:{name}"))

    return protocol.openid_configuration(
        issuer=platform_issuer(request),
        authorization_endpoint=url("lti13_authorize"),
        token_endpoint=url("lti13_token"),
        jwks_uri=url("lti13_jwks"),
        registration_endpoint=url("lti13_register"),
        scopes_supported=offered_scopes(),
        product_family_code=lti_settings.PRODUCT_FAMILY_CODE,
        version=lti_settings.PRODUCT_VERSION,
        message_types=(protocol.RESOURCE_LINK_REQUEST, protocol.DEEP_LINKING_REQUEST),
        variables=VARIABLES,
        notice_types=notices.NOTICE_TYPES,
    )


# --- The tool registers -------------------------------------------------------------------------


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise TokenRefused("A bearer registration token is required (Authorization: Bearer …).")
    return value


def _usable(queryset, now):
    return queryset.filter(used_at__isnull=True, expires_at__gt=now)


def find_registration(token: str) -> ToolRegistration:
    """The unused, unexpired registration of ``token``; else :class:`TokenRefused`."""
    record = ToolRegistration.objects.filter(token_hash=_hash(token)).first()
    if record is None:
        raise TokenRefused("The registration token is unknown.")
    if record.used_at is not None:
        raise TokenRefused("The registration token has already been used.")
    if record.expires_at <= timezone.now():
        raise TokenRefused("The registration token has expired; start the registration again.")
    return record


def _custom_text(custom: dict[str, str]) -> str:
    lines = []
    for key, value in custom.items():
        name = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
        name = name if name.startswith("custom_") else f"custom_{name}"
        if NAME_RE.match(name) and "\n" not in value and "\r" not in value:
            lines.append(f"{name}={value}")
    return "\n".join(lines)


def register(token: str, data: Any) -> dict[str, Any]:
    """Handle a tool's registration request; returns the registration response (DR §3.6).

    Raises :class:`TokenRefused` (nothing created) or
    :class:`~wagtail_lti.lti.registration.RegistrationError` (invalid metadata; the token stays
    usable so the tool can correct its request).
    """
    record = find_registration(token)
    tool = protocol.validate_client_metadata(
        data, offered_scopes=offered_scopes(), allow_insecure_local=allow_local_http()
    )
    now = timezone.now()
    with transaction.atomic():
        # Use the token: exactly one request wins, in every process.
        used = _usable(ToolRegistration.objects.filter(pk=record.pk), now).update(used_at=now)
        if not used:
            raise TokenRefused("The registration token has already been used.")
        provider = LtiProvider(
            name=tool.client_name,
            organization=record.organization,
            lti_version=LtiProvider.Version.LTI_1P3,
            login_url=tool.initiate_login_uri,
            launch_url=tool.target_link_uri,
            redirect_uris="\n".join(tool.redirect_uris),
            jwks_url=tool.jwks_uri,
            content_selection_url=tool.deep_linking_uri,
            custom_parameters=_custom_text(tool.custom_parameters),
            allow_ags=any(scope in lti_scopes.AGS_SCOPES for scope in tool.scopes),
            allow_nrps=any(scope in lti_scopes.NRPS_SCOPES for scope in tool.scopes),
            send_name=tool.wants_name,
            send_email=tool.wants_email,
            is_enabled=False,
            awaiting_review=True,
        )
        provider.save()
        record.provider = provider
        record.requested = {
            "scope": list(tool.scopes),
            "claims": list(tool.claims),
            "client_name": tool.client_name,
            "domain": tool.domain,
            "description": tool.description,
        }
        record.save(update_fields=["provider", "requested"])
    return protocol.registration_response(
        data,
        client_id=provider.client_id,
        deployment_id=provider.deployment_id,
        scopes=tool.scopes,
        claims=protocol.granted_claims(
            tool.claims, send_name=provider.send_name, send_email=provider.send_email
        ),
    )


def purge_expired() -> int:
    """Delete expired registrations that were never used; returns how many."""
    deleted, _n = ToolRegistration.objects.filter(
        used_at__isnull=True, expires_at__lt=timezone.now()
    ).delete()
    return deleted
