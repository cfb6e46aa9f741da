"""What a tool moved from LTI 1.1 to 1.3 runs on the ``lti1p1`` claim, written from the spec.

LTI 1.3 Core, "LTI 1.1 migration claim": the base string is
``oauth_consumer_key & deployment_id & iss & client_id & exp & nonce`` of the id_token; the
signature is ``base64(HMAC-SHA256(base string, LTI 1.1 secret))``. PyLTI1p3 only declares the
claim's shape (``TMigrationClaim``) and verifies nothing, so the tool's check is written here,
sharing no code with ``wagtail_lti.lti.migration``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


LTI1P1 = "https://purl.imsglobal.org/spec/lti/claim/lti1p1"
DEPLOYMENT_ID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def tool_verifies_lti1p1(claims: dict, *, lti11_keys: dict[str, str]) -> bool:
    """A tool's check: the claim names an LTI 1.1 key it knows and is signed with its secret over
    this very token's deployment id, issuer, client id (``aud``), ``exp`` and ``nonce``."""
    claim = claims.get(LTI1P1)
    if not isinstance(claim, dict):
        return False
    key = claim.get("oauth_consumer_key", "")
    secret = lti11_keys.get(key)
    if secret is None or not claim.get("oauth_consumer_key_sign"):
        return False
    aud = claims["aud"] if isinstance(claims["aud"], str) else claims["azp"]
    base = f"{key}&{claims[DEPLOYMENT_ID]}&{claims['iss']}&{aud}&{claims['exp']}&{claims['nonce']}"
    mac = hmac.new(secret.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode("ascii")
    return hmac.compare_digest(expected, claim["oauth_consumer_key_sign"])
