"""Moving a tool from LTI 1.1 to LTI 1.3: the ``lti1p1`` claim and its signature.

LTI 1.3 Core, "LTI 1.1 migration claim" (``https://purl.imsglobal.org/spec/lti/claim/lti1p1``):
a platform that launched a tool with LTI 1.1 puts in every LTI 1.3 message the LTI 1.1
``oauth_consumer_key`` the tool knew it by, signed with the LTI 1.1 secret
(``oauth_consumer_key_sign``), and the LTI 1.1 ids the tool saw (``user_id``, ``context_id``,
``resource_link_id``, ``tool_consumer_instance_guid``), so the tool can relink its users,
courses and links to the LTI 1.3 deployment.

The signature (LTI 1.3 Core, migration claim): the base string is the ampersand-joined
``oauth_consumer_key & deployment_id & iss & client_id & exp & nonce`` of the id_token it is
sent in; the signature is ``base64(HMAC-SHA256(base string, LTI 1.1 secret))``, both UTF-8.
The values are read from the token's own claims (:func:`add_lti1p1_claim`), never passed
separately: a signature over a nonce or ``exp`` other than the token's cannot be verified by the
tool (the pitfall of instructure/canvas-lms#2287).

Pure: no Django.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


LTI1P1_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lti1p1"
DEPLOYMENT_ID_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
#: The LTI 1.1 ``user_id`` as a claim of its own: the older form of ``lti1p1.user_id`` that Canvas
#: sends and many tools still read first. A tool moved from LTI 1.1 gets both.
LEGACY_USER_ID_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id"
#: NRPS 2.0: the LTI 1.1 ``user_id`` of a member, for tools moved from LTI 1.1.
LEGACY_USER_ID_MEMBER_FIELD = "lti11_legacy_user_id"


@dataclass(frozen=True)
class Lti11Credentials:
    """The LTI 1.1 key and secret a tool knew this platform by, kept when it moved to LTI 1.3."""

    consumer_key: str
    secret: str = field(default="", repr=False)  # never shown in logs or tracebacks


def consumer_key_sign_base(
    *, oauth_consumer_key: str, deployment_id: str, iss: str, client_id: str, exp: int, nonce: str
) -> str:
    """The base string of ``oauth_consumer_key_sign``, in the order the spec gives."""
    return "&".join(
        [oauth_consumer_key, deployment_id, iss, client_id, str(int(exp)), nonce],
    )


def oauth_consumer_key_sign(base_string: str, secret: str) -> str:
    """``base64(HMAC-SHA256(base_string, secret))`` (standard base64, with padding)."""
    digest = hmac.new(secret.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def _audience(claims: Mapping[str, Any]) -> str:
    aud = claims.get("aud")
    if isinstance(aud, (list, tuple)):
        return str(claims.get("azp") or (aud[0] if aud else ""))
    return str(aud or "")


def add_lti1p1_claim(
    claims: Mapping[str, Any],
    credentials: Lti11Credentials,
    *,
    user_id: str = "",
    context_id: str = "",
    resource_link_id: str = "",
    tool_consumer_instance_guid: str = "",
) -> dict[str, Any]:
    """``claims`` with the ``lti1p1`` claim added, signed over the claims' own values.

    Call it last, on the claims that will be signed (``iss``, ``aud``, ``exp``, ``nonce`` and the
    deployment id are read from them). The LTI 1.1 ids are those the tool received in LTI 1.1
    launches; empty ones are left out (a Deep Linking request has no resource link). The
    ``user_id`` is also sent as the ``lti11_legacy_user_id`` claim.
    """
    if not credentials.consumer_key or not credentials.secret:
        raise ValueError("The lti1p1 claim needs the LTI 1.1 key and secret")
    base = consumer_key_sign_base(
        oauth_consumer_key=credentials.consumer_key,
        deployment_id=str(claims[DEPLOYMENT_ID_CLAIM]),
        iss=str(claims["iss"]),
        client_id=_audience(claims),
        exp=int(claims["exp"]),
        nonce=str(claims["nonce"]),
    )
    claim: dict[str, str] = {}
    for name, value in (
        ("user_id", user_id),
        ("context_id", context_id),
        ("resource_link_id", resource_link_id),
        ("tool_consumer_instance_guid", tool_consumer_instance_guid),
    ):
        if value:
            claim[name] = value
    claim["oauth_consumer_key"] = credentials.consumer_key
    claim["oauth_consumer_key_sign"] = oauth_consumer_key_sign(base, credentials.secret)
    signed = {**claims, LTI1P1_CLAIM: claim}
    if user_id:
        signed[LEGACY_USER_ID_CLAIM] = user_id
    return signed
