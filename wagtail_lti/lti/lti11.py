"""LTI 1.1 (Basic LTI) on the platform side: launch parameters, OAuth 1.0a signing, and the
verification of requests tools sign (Basic Outcomes).

Specs: LTI 1.1.1 Implementation Guide (launch parameters §B, OAuth §4); OAuth 1.0a = RFC 5849;
the OAuth Request Body Hash extension (draft-eaton-oauth-bodyhash-00) used by Basic Outcomes
(LTI 1.1 §6). The cryptography is oauthlib's (``oauthlib.oauth1.rfc5849.signature``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from oauthlib.common import urldecode
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .context import LaunchContext
from .errors import LtiError
from .substitution import membership_roles, substitute


LTI_VERSION = "LTI-1p0"
MESSAGE_TYPE_LAUNCH = "basic-lti-launch-request"
# The LIS context type, the same as the LTI 1.3 context claim's (``CourseOffering``): a course
# page is a course as it is offered (LTI 1.1 §B.3 context_type vocabulary).
CONTEXT_TYPE = "CourseOffering"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Signature methods accepted on requests from tools. We sign launches with HMAC-SHA1, the only
# method LTI 1.1 requires; some tools sign with HMAC-SHA256 (D2L's default), which costs nothing
# to accept.
_HMAC_METHODS: dict[str, Callable[[str, Any], str]] = {
    "HMAC-SHA1": oauth_signature.sign_hmac_sha1_with_client,
    "HMAC-SHA256": oauth_signature.sign_hmac_sha256_with_client,
}
_REQUIRED_OAUTH = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)


# --------------------------------------------------------------------------------------------
# Errors


class OAuthError(LtiError):
    """A request signed by a tool was refused. ``reason`` is a short stable code."""

    reason = "oauth_error"


class MissingOAuthParameters(OAuthError):
    reason = "missing_parameters"


class UnsupportedSignatureMethod(OAuthError):
    reason = "unsupported_signature_method"


class UnknownConsumerKey(OAuthError):
    reason = "unknown_consumer_key"


class StaleTimestamp(OAuthError):
    reason = "stale_timestamp"


class BadSignature(OAuthError):
    reason = "bad_signature"


class BodyHashMismatch(OAuthError):
    reason = "body_hash_mismatch"


class ReplayedNonce(OAuthError):
    reason = "replayed_nonce"


# --------------------------------------------------------------------------------------------
# Launch


def custom_parameter_name(name: str) -> str:
    """The form name of a custom parameter: ``custom_`` + the name lower-cased with every
    character outside ``[a-z0-9]`` turned into ``_`` (LTI 1.1 §B.5; what Moodle and Canvas do).
    """
    bare = name[len("custom_") :] if name.startswith("custom_") else name
    mapped = "".join(c if ("a" <= c <= "z" or "0" <= c <= "9") else "_" for c in bare.lower())
    return "custom_" + mapped


def build_launch_params(
    ctx: LaunchContext,
    *,
    outcome_service_url: str | None = None,
    result_sourcedid: str | None = None,
) -> dict[str, str]:
    """The unsigned form parameters of a ``basic-lti-launch-request`` for ``ctx``.

    Optional values that are empty are left out rather than sent empty; in particular the
    ``lis_person_*`` parameters appear only when ``ctx`` carries them (privacy is applied when
    the context is built). Custom parameters are substituted here (``$User.id`` ...). The Basic
    Outcomes parameters are sent only when both ``outcome_service_url`` and
    ``result_sourcedid`` are given.
    """
    if bool(outcome_service_url) != bool(result_sourcedid):
        raise ValueError("outcome_service_url and result_sourcedid go together")

    user = ctx.user
    platform = ctx.platform
    params: dict[str, str] = {}

    def put(name: str, value: str | int | None) -> None:
        if value is not None and value != "":
            params[name] = str(value)

    # Custom parameters first: the standard parameters below can never be overridden by them.
    for name, value in substitute(ctx.custom, ctx, lti_version="1.1").items():
        params[custom_parameter_name(name)] = value

    params["lti_message_type"] = MESSAGE_TYPE_LAUNCH
    params["lti_version"] = LTI_VERSION
    params["resource_link_id"] = ctx.resource_link_id
    put("resource_link_title", ctx.resource_link_title)
    put("resource_link_description", ctx.resource_link_description)

    put("user_id", user.id)
    params["roles"] = ",".join(membership_roles(ctx, "1.1"))
    put("lis_person_name_full", user.full_name)
    put("lis_person_name_given", user.given_name)
    put("lis_person_name_family", user.family_name)
    put("lis_person_contact_email_primary", user.email)

    put("context_id", ctx.context_id)
    if ctx.context_id:
        params["context_type"] = CONTEXT_TYPE
    put("context_title", ctx.context_title)
    put("context_label", ctx.context_label)

    put("launch_presentation_document_target", ctx.document_target)
    put("launch_presentation_locale", ctx.locale)
    put("launch_presentation_return_url", ctx.return_url)
    put("launch_presentation_width", ctx.width)
    put("launch_presentation_height", ctx.height)

    put("tool_consumer_info_product_family_code", platform.product_family_code)
    put("tool_consumer_info_version", platform.version)
    put("tool_consumer_instance_guid", platform.guid)
    put("tool_consumer_instance_name", platform.name)
    put("tool_consumer_instance_description", platform.description)
    put("tool_consumer_instance_url", platform.url)
    put("tool_consumer_instance_contact_email", platform.contact_email)

    if outcome_service_url and result_sourcedid:
        params["lis_outcome_service_url"] = outcome_service_url
        params["lis_result_sourcedid"] = result_sourcedid
    return params


def _query_params(url: str) -> list[tuple[str, str]]:
    try:
        return urldecode(urlsplit(url).query)
    except ValueError as exc:
        raise LtiError(f"The query string of {url!r} is not valid: {exc}") from exc


def signature_base_string(
    method: str, url: str, params: Mapping[str, str] | list[tuple[str, str]]
) -> str:
    """The OAuth 1.0a signature base string (RFC 5849 §3.4.1) of a request to ``url``.

    ``params`` are the decoded body (form) and protocol parameters; the query parameters of
    ``url`` are added here, and the query and fragment are dropped from the base string URI, as
    the spec says. ``oauth_signature`` is left out if present.
    """
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    collected = _query_params(url) + [(k, v) for k, v in items if k != "oauth_signature"]
    try:
        base_uri = oauth_signature.base_string_uri(url)
    except ValueError as exc:
        raise LtiError(f"Cannot sign a request to {url!r}: {exc}") from exc
    normalized = oauth_signature.normalize_parameters(collected)
    return oauth_signature.signature_base_string(method, base_uri, normalized)


def _hmac(method: str, base_string: str, secret: str) -> str:
    # Key = percent-encoded secret + "&" + (empty) token secret (RFC 5849 §3.4.2).
    credentials = SimpleNamespace(client_secret=secret, resource_owner_secret="")
    return _HMAC_METHODS[method](base_string, credentials)


def sign_launch(
    url: str,
    params: dict[str, str],
    consumer_key: str,
    secret: str,
    *,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Sign launch form parameters with OAuth 1.0a HMAC-SHA1 (body signature).

    Returns ``params`` plus ``oauth_consumer_key``, ``oauth_signature_method``,
    ``oauth_timestamp``, ``oauth_nonce``, ``oauth_version``, ``oauth_callback=about:blank`` and
    ``oauth_signature``: the fields of the auto-submitting form, to be POSTed to ``url``
    unchanged (query string included: its parameters are part of the signature).
    """
    if any(name.startswith("oauth_") for name in params):
        raise ValueError("launch parameters must not contain oauth_* names")
    signed = dict(params)
    signed.update(
        {
            "oauth_consumer_key": consumer_key,
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
            "oauth_nonce": nonce or secrets.token_hex(16),
            "oauth_version": "1.0",
            "oauth_callback": "about:blank",
        }
    )
    base_string = signature_base_string("POST", url, signed)
    signed["oauth_signature"] = _hmac("HMAC-SHA1", base_string, secret)
    return signed


# --------------------------------------------------------------------------------------------
# Verification of requests signed by tools


@dataclass(frozen=True)
class VerifiedRequest:
    """What a successful :func:`verify_request` learned."""

    consumer_key: str
    nonce: str
    timestamp: int
    signature_method: str
    body_hash: str | None


def body_hash(body: bytes) -> str:
    """``oauth_body_hash``: base64 of the SHA-1 digest of the raw body."""
    return base64.b64encode(hashlib.sha1(body).digest()).decode("ascii")  # noqa: S324 (spec)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _authorization_params(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The parameters of an ``Authorization: OAuth ...`` header, decoded, duplicates kept."""
    value = (_header(headers, "Authorization") or "").strip()
    if not value:
        return []
    if not value[:6].lower() == "oauth ":
        raise MissingOAuthParameters("The Authorization header is not an OAuth header.")
    params: list[tuple[str, str]] = []
    for item in oauth_utils.parse_http_list(value[6:]):
        name, sep, raw = item.strip().partition("=")
        if not sep:
            raise MissingOAuthParameters("The OAuth Authorization header cannot be read.")
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        name = oauth_utils.unescape(name.strip())
        if name != "realm":
            params.append((name, oauth_utils.unescape(raw)))
    return params


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    get_secret: Callable[[str], str | None],
    timestamp_window: int,
    use_nonce: Callable[[str, str, int], bool],
    now: float | None = None,
) -> VerifiedRequest:
    """Verify an OAuth 1.0a request a tool signed, such as a Basic Outcomes POST.

    ``url`` is the absolute URL the request was made to, query string included. Protocol
    parameters are read from the ``Authorization`` header (and, for form bodies, from the body
    and query string). A body that is not form-encoded must carry a matching
    ``oauth_body_hash`` (OAuth Body Hash, required by LTI 1.1 Basic Outcomes).

    ``get_secret(consumer_key)`` returns the shared secret, or ``None`` when the key is not
    accepted here. ``use_nonce(consumer_key, nonce, timestamp)`` records the nonce and returns
    False when it was already used; it is called last, only for a request that is otherwise
    valid. Raises a subclass of :class:`OAuthError`.
    """
    content_type = (_header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    is_form = content_type == FORM_CONTENT_TYPE

    header_params = _authorization_params(headers)
    try:
        query_params = _query_params(url)
    except LtiError as exc:
        raise MissingOAuthParameters(str(exc)) from exc
    body_params: list[tuple[str, str]] = []
    if is_form and body:
        try:
            body_params = urldecode(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MissingOAuthParameters("The form body cannot be read.") from exc

    all_params = header_params + query_params + body_params
    oauth_names = [k for k, _ in all_params if k.startswith("oauth_")]
    duplicated = sorted({k for k in oauth_names if oauth_names.count(k) > 1})
    if duplicated:
        raise MissingOAuthParameters(
            f"OAuth parameters given more than once: {', '.join(duplicated)}."
        )
    oauth = {k: v for k, v in all_params if k.startswith("oauth_")}
    missing = [name for name in _REQUIRED_OAUTH if not oauth.get(name)]
    if not is_form and not oauth.get("oauth_body_hash"):
        missing.append("oauth_body_hash")
    if missing:
        raise MissingOAuthParameters(f"Missing OAuth parameters: {', '.join(missing)}.")
    if oauth.get("oauth_version", "1.0") != "1.0":
        raise MissingOAuthParameters("oauth_version must be 1.0.")
    sig_method = oauth["oauth_signature_method"]
    if sig_method not in _HMAC_METHODS:
        raise UnsupportedSignatureMethod(f"Signature method {sig_method!r} is not supported.")

    consumer_key = oauth["oauth_consumer_key"]
    secret = get_secret(consumer_key)
    if secret is None:
        raise UnknownConsumerKey("The consumer key is not accepted here.")

    try:
        timestamp = int(oauth["oauth_timestamp"])
    except ValueError:
        raise StaleTimestamp("oauth_timestamp is not a number.") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > timestamp_window:
        raise StaleTimestamp("oauth_timestamp is outside the accepted window.")

    try:
        base_string = signature_base_string(method, url, header_params + body_params)
    except LtiError as exc:
        raise BadSignature(str(exc)) from exc
    expected = _hmac(sig_method, base_string, secret)
    # Not kept in this frame while the checks below run: if one fails unexpectedly (the nonce
    # store's database), tracebacks on error pages and in error reports list frame variables.
    del secret
    if not hmac.compare_digest(expected.encode(), oauth["oauth_signature"].encode()):
        raise BadSignature("The OAuth signature does not match.")

    received_hash = oauth.get("oauth_body_hash")
    if not is_form:
        if not hmac.compare_digest(body_hash(body).encode(), (received_hash or "").encode()):
            raise BodyHashMismatch("oauth_body_hash does not match the body.")

    if not use_nonce(consumer_key, oauth["oauth_nonce"], timestamp):
        raise ReplayedNonce("This oauth_nonce was already used.")

    return VerifiedRequest(
        consumer_key=consumer_key,
        nonce=oauth["oauth_nonce"],
        timestamp=timestamp,
        signature_method=sig_method,
        body_hash=received_hash,
    )
