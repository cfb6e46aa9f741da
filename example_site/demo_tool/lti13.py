"""The demo tool's LTI 1.3 configuration for PyLTI1p3, built from its registrations.

Every active LTI 1.3 :class:`~demo_tool.models.ToolRegistration` row becomes one client of its
issuer in a :class:`pylti1p3.tool_config.ToolConfDict` (the "one issuer, many client IDs" form),
with the row's private key. The tool's JWKS (``/demo-tool/1.3/jwks/``) publishes the public half
of every such key, each with PyLTI1p3's ``kid`` (the key's RFC 7638 thumbprint), the ``kid`` it
puts in the header of its client assertions.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfDict

from .models import ToolRegistration


#: The claims the launch page reads (LTI Core 1.3 §5, AGS §3.1, NRPS §3.6).
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def generate_private_key_pem() -> str:
    """A new 2048-bit RSA private key, PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(private_pem: str) -> str:
    """The public half of a PEM private key, as a PEM ``PUBLIC KEY``."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def lti13_registrations():
    return (
        ToolRegistration.objects.filter(lti_version=ToolRegistration.Version.LTI_1P3, active=True)
        .exclude(issuer="")
        .exclude(client_id="")
        .order_by("pk")
    )


def tool_conf() -> ToolConfDict:
    """PyLTI1p3's configuration of every active LTI 1.3 registration."""
    rows = [row for row in lti13_registrations() if row.private_key_pem.strip()]
    by_issuer: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        clients = by_issuer.setdefault(row.issuer, [])
        clients.append(
            {
                # The first client of an issuer answers logins that name no client_id.
                "default": not clients,
                "client_id": row.client_id,
                "auth_login_url": row.auth_login_url,
                "auth_token_url": row.auth_token_url,
                "auth_audience": None,
                "key_set_url": row.key_set_url,
                "key_set": None,
                "deployment_ids": [row.deployment_id] if row.deployment_id else [],
            }
        )
    conf = ToolConfDict(by_issuer)
    for row in rows:
        conf.set_private_key(row.issuer, row.private_key_pem, client_id=row.client_id)
        conf.set_public_key(
            row.issuer, public_key_pem(row.private_key_pem), client_id=row.client_id
        )
    return conf


def tool_jwks() -> dict[str, list[dict[str, Any]]]:
    """The tool's public keys (one per registration with a key), without duplicates."""
    keys: dict[str, dict[str, Any]] = {}
    for row in lti13_registrations():
        if not row.private_key_pem.strip():
            continue
        jwk = dict(Registration.get_jwk(public_key_pem(row.private_key_pem)))
        keys.setdefault(jwk["kid"], jwk)
    return {"keys": list(keys.values())}


# --- Submission Review 1.0 ------------------------------------------------------------------------

SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
FOR_USER_CLAIM = CLAIM + "for_user"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
#: What the demo tool declares on a line item it has scored: a completed submission can be
#: reviewed in the tool ("Review in the demo tool" in the platform's results report and course page).
REVIEW_DECLARATION = {"reviewableStatus": ["Completed"], "label": "Review in the demo tool"}


def declare_reviewable(claims: dict[str, Any], lineitem_url: str) -> bool:
    """Declare ``REVIEW_DECLARATION`` on the line item (AGS: GET it, PUT it back with
    ``submissionReview``), with an access token of the registration that launched; ``False``
    when it was already declared. Raises what the HTTP calls raise."""
    import json

    from pylti1p3.service_connector import ServiceConnector

    from .http import http_session

    aud = claims.get("aud")
    client_id = aud[0] if isinstance(aud, list) else aud
    registration = tool_conf().find_registration_by_params(claims["iss"], client_id)
    session = http_session()
    token = ServiceConnector(registration, requests_session=session).get_access_token(
        [LINEITEM_SCOPE]
    )
    headers = {"Authorization": f"Bearer {token}", "Accept": LINEITEM_TYPE}
    answer = session.get(lineitem_url, headers=headers, timeout=10)
    answer.raise_for_status()
    item = answer.json()
    if item.get("submissionReview") == REVIEW_DECLARATION:
        return False
    item["submissionReview"] = REVIEW_DECLARATION
    answer = session.put(
        lineitem_url,
        data=json.dumps(item),
        headers={**headers, "Content-Type": LINEITEM_TYPE},
        timeout=10,
    )
    answer.raise_for_status()
    return True
