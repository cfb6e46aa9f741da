"""Checks on JWTs signed by tools: RFC 7523 client assertions and other tool messages.

LTI Advantage Security Framework §4.1 (using JWTs with client credentials): the token endpoint
"MUST validate the values for the iss, sub, exp, aud and jti claims". Here:

* the JWS algorithm is RS256 only (``none`` and symmetric algorithms are refused before any key is
  looked at);
* ``iss`` = ``sub`` = the tool's client ID;
* ``aud`` is the token endpoint URL, as a string or inside an array;
* ``exp`` and ``iat`` are required and checked with a small leeway for clock skew, and ``exp`` is
  at most :data:`MAX_LIFETIME` seconds away;
* ``jti`` is present (its single use is recorded by the caller, in the database).

Pure functions: keys come in as ``cryptography`` objects, no Django.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .errors import LtiError


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHM = "RS256"
MAX_JTI_LENGTH = 255
#: Longest lifetime (``exp`` from now, in seconds) accepted for a tool's JWT. RFC 7523 §3 lets us
#: refuse an ``exp`` unreasonably far in the future; single-use values (``jti``, nonces) are kept
#: until ``exp``, so an unbounded one could not be remembered for as long as it stays valid.
MAX_LIFETIME = 3600


class ToolJwtError(LtiError):
    """A JWT from a tool is malformed, badly signed or carries wrong claims.

    ``str(error)`` is a short description safe to return to the tool.
    """


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, after checking the algorithm is RS256."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise ToolJwtError("The assertion is not a JWS in compact serialization.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ToolJwtError("The assertion's header cannot be decoded.") from exc
    if header.get("alg") != ALGORITHM:
        raise ToolJwtError(f"The assertion must be signed with {ALGORITHM}.")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise ToolJwtError("The assertion's kid must be a string.")
    return header


def unverified_client_id(token: str) -> str:
    """The client ID an assertion claims to come from (``iss``, which must equal ``sub``).

    Read without verifying the signature, only to find whose keys to verify it with.
    """
    unverified_header(token)
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ToolJwtError("The assertion's claims cannot be decoded.") from exc
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not iss:
        raise ToolJwtError("The assertion has no iss claim.")
    if sub != iss:
        raise ToolJwtError("The assertion's sub must equal its iss (the client ID).")
    return iss


def decode_tool_jwt(
    token: str,
    key: RSAPublicKey,
    *,
    issuer: str,
    audience: str | Sequence[str],
    leeway: int,
) -> dict[str, Any]:
    """Verify the signature and the registered claims ``iss``, ``aud``, ``exp``, ``iat``.

    ``audience`` may list several accepted values; the token's ``aud`` (a string or an array)
    must contain one of them.
    """
    unverified_header(token)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=[audience] if isinstance(audience, str) else list(audience),
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise ToolJwtError(
            "The assertion's signature does not verify with the tool's key."
        ) from exc
    except jwt.ExpiredSignatureError as exc:
        raise ToolJwtError("The assertion has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise ToolJwtError("The assertion is not valid yet (iat or nbf in the future).") from exc
    except jwt.InvalidAudienceError as exc:
        raise ToolJwtError("The assertion's aud is not this platform's token endpoint.") from exc
    except jwt.InvalidIssuerError as exc:
        raise ToolJwtError("The assertion's iss is not the tool's client ID.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise ToolJwtError(f"The assertion has no {exc.claim} claim.") from exc
    except jwt.PyJWTError as exc:
        raise ToolJwtError(f"The assertion is invalid: {exc}") from exc
    # PyJWT checked that exp is a number in the future.
    if float(claims["exp"]) > time.time() + MAX_LIFETIME + leeway:
        raise ToolJwtError(
            f"The assertion's exp is too far in the future (at most {MAX_LIFETIME} seconds)."
        )
    return claims


def check_client_assertion(claims: dict[str, Any], *, client_id: str) -> str:
    """Claims specific to a client assertion (after :func:`decode_tool_jwt`); returns the ``jti``."""
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise ToolJwtError("The assertion's iss and sub must both be the tool's client ID.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti.strip():
        raise ToolJwtError("The assertion has no jti claim.")
    if len(jti) > MAX_JTI_LENGTH:
        raise ToolJwtError("The assertion's jti is too long.")
    return jti
