"""LTI 1.3 id_token: the claims of a launch, and their RS256 signature.

:func:`build_id_token_claims` turns a :class:`~.context.LaunchContext` into the
claims of an ``LtiResourceLinkRequest`` (LTI Core 1.3 §5.3, §5.4; OIDC Core §2);
:func:`sign_id_token` signs them (RS256, ``kid`` in the header; LTI Security Framework §5.1.2).
Build and sign right before the token is sent: ``iat`` is set a few seconds in the past (tools
reject a future ``iat``, some also one older than a few seconds) and ``exp`` is short.

Privacy is already applied in the context: name and email claims are sent only when the context
has them. No string value has leading or trailing whitespace (the conformance suite rejects it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jwt

from .context import LaunchContext, LaunchUser, PlatformInfo
from .migration import Lti11Credentials, add_lti1p1_claim
from .substitution import substitute


LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
MEMBERSHIP_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

AGS_SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
#: The AGS scopes offered in a launch's endpoint claim.
AGS_LAUNCH_SCOPES = (AGS_SCOPE_LINEITEM, AGS_SCOPE_RESULT_READONLY, AGS_SCOPE_SCORE)

MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest", "LtiSubmissionReviewRequest")
CUSTOM_PREFIX = "custom_"


def role_uri(role: str) -> str:
    """A context role name (``Learner``) as its LIS v2 membership URI; URIs pass through."""
    if "://" in role or role.startswith("urn:"):
        return role
    return MEMBERSHIP_ROLE + role


def custom_claim(custom: Mapping[str, str], ctx: LaunchContext) -> dict[str, str]:
    """The ``custom`` claim: substituted values (all strings), names without ``custom_``.

    Editors write LTI 1.1-style names (``custom_unit=3``); LTI 1.1 sends them as form fields
    named exactly so, LTI 1.3 as ``{"unit": "3"}`` in the custom claim (the 1.1 ``custom_``
    prefix is not part of the name).
    """
    substituted = substitute(dict(custom), ctx, lti_version="1.3")
    claim: dict[str, str] = {}
    for name, value in substituted.items():
        key = name[len(CUSTOM_PREFIX) :] if name.startswith(CUSTOM_PREFIX) else name
        if key:
            claim[key] = "" if value is None else str(value)
    return claim


def strip_whitespace(value: Any) -> Any:
    """``value`` with every string (in nested dicts and lists too) stripped of outer whitespace."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {key: strip_whitespace(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strip_whitespace(item) for item in value]
    return value


def _compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Drop optional members that have no value (``None`` or empty string)."""
    return {key: value for key, value in mapping.items() if value is not None and value != ""}


def build_id_token_claims(
    ctx: LaunchContext,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    nonce: str,
    message_type: str = "LtiResourceLinkRequest",
    ags: dict | None = None,
    extra: dict | None = None,
    lti1p1: Lti11Credentials | None = None,
    now: int,
    ttl: int,
    iat_backdate: int,
) -> dict[str, Any]:
    """The claims of an LTI 1.3 launch id_token.

    ``now`` is the current Unix time; ``iat`` is ``now - iat_backdate`` and ``exp`` is
    ``iat + ttl`` (the caller passes the ``IAT_BACKDATE`` and ``LAUNCH_TOKEN_TTL`` settings). ``ags`` is
    the AGS endpoint claim (``{"scope": [...], "lineitems": url, "lineitem": url}``) or ``None``.
    ``extra`` claims are merged last (e.g. a deep-linking settings claim, ``lis``).

    ``sub`` is ``ctx.user.id`` (opaque and stable). ``name``, ``given_name``, ``family_name`` and
    ``email`` are sent only when the context has them (privacy is applied when the context is
    built). Every string value is stripped of leading and trailing whitespace.

    ``lti1p1``: the LTI 1.1 key and secret of a tool moved from LTI 1.1 to 1.3; the token then
    carries the ``lti1p1`` claim (``lti.migration``) with the LTI 1.1 ids of this launch (the
    same ``user_id``, ``context_id`` and ``resource_link_id`` an LTI 1.1 launch of it sends), signed
    over this token's own ``iss``, ``aud``, ``exp``, ``nonce`` and deployment id.
    """
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"Unknown LTI message type {message_type!r}")
    # A deep linking request is about no resource link yet: it has no resource_link claim
    # (Deep Linking 2.0 §4.4); its settings come in ``extra``.
    is_deep_linking = message_type == "LtiDeepLinkingRequest"
    for name, value in (
        ("issuer", issuer),
        ("client_id", client_id),
        ("deployment_id", deployment_id),
        ("nonce", nonce),
        ("user id", ctx.user.id),
        ("resource link id", "-" if is_deep_linking else ctx.resource_link_id),
        ("target link URI", ctx.target_url),
    ):
        if not (value or "").strip():
            raise ValueError(f"An id_token needs a {name}")

    iat = int(now) - int(iat_backdate)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "sub": ctx.user.id,
        "iat": iat,
        "exp": iat + int(ttl),
        "nonce": nonce,
        LTI_CLAIM + "message_type": message_type,
        LTI_CLAIM + "version": "1.3.0",
        LTI_CLAIM + "deployment_id": deployment_id,
        LTI_CLAIM + "target_link_uri": ctx.target_url,
        LTI_CLAIM + "resource_link": _compact(
            {
                "id": ctx.resource_link_id,
                "title": ctx.resource_link_title,
                "description": ctx.resource_link_description,
            }
        ),
        LTI_CLAIM + "roles": [role_uri(role) for role in ctx.roles],
        LTI_CLAIM + "tool_platform": _compact(
            {
                "guid": ctx.platform.guid,
                "name": ctx.platform.name,
                "description": ctx.platform.description,
                "url": ctx.platform.url,
                "contact_email": ctx.platform.contact_email,
                "product_family_code": ctx.platform.product_family_code,
                "version": ctx.platform.version,
            }
        ),
        LTI_CLAIM + "launch_presentation": _compact(
            {
                "document_target": ctx.document_target,
                "locale": ctx.locale,
                "return_url": ctx.return_url,
                "width": ctx.width,
                "height": ctx.height,
            }
        ),
    }
    # Optional and empty when there are no custom parameters: left out (LTI Core 1.3 §5.4.6).
    custom = custom_claim(ctx.custom, ctx)
    if custom:
        claims[LTI_CLAIM + "custom"] = custom
    if is_deep_linking:
        del claims[LTI_CLAIM + "resource_link"]
    if ctx.context_id:
        claims[LTI_CLAIM + "context"] = _compact(
            {
                "id": ctx.context_id,
                "label": ctx.context_label,
                "title": ctx.context_title,
                "type": [COURSE_OFFERING],
            }
        )
    # Personal data only when privacy allowed it into the context.
    for claim, value in (
        ("name", ctx.user.full_name),
        ("given_name", ctx.user.given_name),
        ("family_name", ctx.user.family_name),
        ("email", ctx.user.email),
    ):
        if value and value.strip():
            claims[claim] = value
    if ags:
        ags_claim = _compact(
            {
                "scope": list(ags.get("scope") or AGS_LAUNCH_SCOPES),
                "lineitems": ags.get("lineitems"),
                "lineitem": ags.get("lineitem"),
            }
        )
        if "lineitems" in ags_claim or "lineitem" in ags_claim:
            claims[AGS_ENDPOINT_CLAIM] = ags_claim
    if extra:
        claims.update(extra)
    claims = strip_whitespace(claims)
    if lti1p1 is not None:
        # Last, over the final values: the signature covers this token's exp and nonce.
        claims = add_lti1p1_claim(
            claims,
            lti1p1,
            user_id=ctx.user.id,
            context_id=ctx.context_id,
            resource_link_id="" if is_deep_linking else ctx.resource_link_id,
            tool_consumer_instance_guid=ctx.platform.guid,
        )
    return claims


def sign_id_token(claims: Mapping[str, Any], kid: str, private_key: Any) -> str:
    """Sign ``claims`` as a compact JWS: RS256, with ``kid`` (and ``typ: JWT``) in the header.

    ``private_key`` is a loaded RSA private key (``cryptography``) or a PEM string; load it once
    per process (see the Django glue (``security.platform_keys``)), parsing costs far more than signing.
    """
    if not kid:
        raise ValueError("An id_token must name its key (kid)")
    return jwt.encode(
        dict(claims), private_key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"}
    )


# --- Keeping a launch context between login initiation and authorization ------------------------


def context_to_data(ctx: LaunchContext) -> dict[str, Any]:
    """A JSON-serialisable copy of ``ctx`` (stored with a started launch)."""
    return dataclasses.asdict(ctx)


def context_from_data(data: Mapping[str, Any]) -> LaunchContext:
    """The :class:`LaunchContext` that :func:`context_to_data` stored (unknown keys ignored)."""
    names = {f.name for f in dataclasses.fields(LaunchContext)}
    values = {key: value for key, value in data.items() if key in names}
    user_names = {f.name for f in dataclasses.fields(LaunchUser)}
    platform_names = {f.name for f in dataclasses.fields(PlatformInfo)}
    values["user"] = LaunchUser(**{k: v for k, v in data["user"].items() if k in user_names})
    values["platform"] = PlatformInfo(
        **{k: v for k, v in data["platform"].items() if k in platform_names}
    )
    values["roles"] = tuple(data.get("roles") or ())
    values["custom"] = {str(k): str(v) for k, v in (data.get("custom") or {}).items()}
    return LaunchContext(**values)
