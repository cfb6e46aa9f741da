"""Tools' public keys: verify JWTs a tool signed (client assertions, deep-linking responses).

A provider registers either a JWKS URL or a PEM public key (or both; the JWKS URL is tried first).
The JWKS is fetched through :mod:`wagtail_lti.security.outbound` (public https addresses only, no
redirects, at most ``MAX_JWKS_BYTES``, ``JWKS_FETCH_TIMEOUT`` seconds in all, failures remembered
briefly), cached in the Django cache ``CACHE_ALIAS`` for ``JWKS_CACHE_TTL`` seconds, and fetched
again once when a JWT names a ``kid`` the cached copy does not have (the tool rotated its keys).
Such re-fetches happen at most once every ``REFETCH_MIN_INTERVAL`` seconds per URL, so JWTs with
made-up ``kid`` values cannot turn the platform into a stream of requests at the tool's server.
The keys of a provider that is not enabled are never looked at (nor its JWKS URL fetched).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.core.cache import caches
from jwt.algorithms import RSAAlgorithm

from ..conf import lti_settings
from ..lti import keys
from ..lti.client_assertion import ToolJwtError, decode_tool_jwt, unverified_header
from . import outbound


if TYPE_CHECKING:
    from ..models import LtiProvider

MAX_JWKS_BYTES = 256 * 1024
REFETCH_MIN_INTERVAL = 10  # seconds
#: What a tool (or anyone) is told when the keyset could not be used; ``detail`` says why.
KEYS_UNAVAILABLE = "The tool's public keyset (JWKS URL) could not be fetched or used."


class ToolKeysUnavailable(ToolJwtError):
    """The tool's JWKS URL could not be fetched or did not return a keyset.

    Its message is the same whatever happened (callers may be anonymous); ``detail`` is the
    reason, for the launch log and the server log.
    """

    def __init__(self, detail: str):
        super().__init__(KEYS_UNAVAILABLE)
        self.detail = detail


#: The session of every outbound request (tests mount transport adapters on it).
http_session = outbound.http_session


def _cache():
    return caches[lti_settings.CACHE_ALIAS]


def _cache_key(url: str, kind: str = "jwks") -> str:
    return f"wagtail_lti:tool_{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def fetch_jwks(url: str) -> dict[str, Any]:
    """GET a tool's JWKS, check its shape, cache it; raises :class:`ToolKeysUnavailable`."""
    try:
        keyset = outbound.fetch_json(
            url,
            max_bytes=MAX_JWKS_BYTES,
            deadline=lti_settings.JWKS_FETCH_TIMEOUT,
            accept="application/json, application/jwk-set+json",
        )
    except outbound.OutboundError as exc:
        raise ToolKeysUnavailable(f"Fetching the JWKS URL {url}: {exc.reason}") from exc
    if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
        reason = 'The answer has no "keys" array.'
        outbound.remember_failure("GET", url, reason)
        raise ToolKeysUnavailable(f"Fetching the JWKS URL {url}: {reason}")
    keyset = {"keys": [k for k in keyset["keys"] if isinstance(k, dict)]}
    _cache().set(_cache_key(url), keyset, lti_settings.JWKS_CACHE_TTL)
    return keyset


def _key_from_jwk(jwk: dict[str, Any]) -> RSAPublicKey | None:
    if (
        jwk.get("kty") != "RSA"
        or jwk.get("alg", "RS256") != "RS256"
        or jwk.get("use", "sig") != "sig"
    ):
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except Exception:  # any malformed JWK is simply not usable
        return None
    if not isinstance(key, RSAPublicKey) or key.key_size < keys.MIN_KEY_SIZE:
        return None
    return key


def usable_signing_key(jwk: dict[str, Any]) -> RSAPublicKey | None:
    """The public key of ``jwk`` when this platform can verify a tool's signature with it (RSA,
    RS256, ``use`` sig, at least the minimum size); else ``None``. (The provider check.)"""
    return _key_from_jwk(jwk)


def find_key(keyset: dict[str, Any], kid: str | None) -> RSAPublicKey | None:
    """The RS256 signing key with ``kid``; without a ``kid``, the keyset's only such key."""
    if kid is None:
        usable = [key for key in map(_key_from_jwk, keyset.get("keys", [])) if key is not None]
        return usable[0] if len(usable) == 1 else None
    for jwk in keyset.get("keys", []):
        if jwk.get("kid") == kid:
            key = _key_from_jwk(jwk)
            if key is not None:
                return key
    return None


def _key_from_jwks_url(url: str, kid: str | None) -> RSAPublicKey:
    cached = _cache().get(_cache_key(url))
    keyset = cached if cached is not None else fetch_jwks(url)
    key = find_key(keyset, kid)
    if key is None and cached is not None:
        # Unknown kid: the tool may have rotated. Fetch again, at most once per interval.
        if _cache().add(_cache_key(url, "refetch"), 1, REFETCH_MIN_INTERVAL):
            key = find_key(fetch_jwks(url), kid)
    if key is None:
        raise ToolJwtError(
            f"The tool's public keyset has no RS256 key with kid {kid!r}."
            if kid
            else "The assertion has no kid and the tool's keyset has more than one key."
        )
    return key


def public_key_for(provider: LtiProvider, kid: str | None) -> RSAPublicKey:
    """The tool's public key to verify a JWT with ``kid`` (JWKS URL first, then the PEM).

    A provider that is not enabled (e.g. registered by a tool and not yet reviewed) has no usable
    key: nothing is fetched for it.
    """
    if not provider.is_enabled:
        raise ToolJwtError("This tool's registration has not been enabled on the platform yet.")
    error: ToolJwtError | None = None
    if provider.jwks_url:
        try:
            return _key_from_jwks_url(provider.jwks_url, kid)
        except ToolJwtError as exc:
            error = exc
    if provider.public_key_pem.strip():
        try:
            return keys.load_public_key(provider.public_key_pem)
        except keys.KeyFormatError as exc:
            raise ToolJwtError("The tool's registered public key is not a valid RSA key.") from exc
    raise error or ToolJwtError("The tool has no public key registered (JWKS URL or PEM).")


def verify_tool_jwt(
    provider: LtiProvider, token: str, *, audience: str | list[str]
) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256, signature, ``iss`` = client ID, ``aud``, ``exp``, ``iat``.

    The leeway on ``exp``/``iat`` is ``CLIENT_ASSERTION_LEEWAY``. Returns the claims; raises
    :class:`~wagtail_lti.lti.client_assertion.ToolJwtError` (its message can be shown to the
    tool). Replay checks (``jti``, ``nonce``) are the caller's.
    """
    header = unverified_header(token)
    key = public_key_for(provider, header.get("kid"))
    return decode_tool_jwt(
        token,
        key,
        issuer=provider.client_id,
        audience=audience,
        leeway=lti_settings.CLIENT_ASSERTION_LEEWAY,
    )
