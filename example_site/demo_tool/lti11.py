"""The demo tool's LTI 1.1 side: verifying launches and posting Basic Outcomes.

Launches (LTI 1.1 Implementation Guide §4, OAuth 1.0a): the form the platform posts is verified
with oauthlib's server-side :class:`~oauthlib.oauth1.SignatureOnlyEndpoint` and a request
validator of the tool's own. It accepts HMAC-SHA1/HMAC-SHA256 signatures made with the shared
secret of a :class:`~demo_tool.models.ToolRegistration`, timestamps within
:data:`TIMESTAMP_WINDOW` seconds of now, and each nonce once per consumer key (the database's
unique constraint on :class:`~demo_tool.models.UsedNonce` is the check).

Outcomes (Implementation Guide §6): a ``replaceResultRequest`` is posted to the launch's
``lis_outcome_service_url``, signed with oauthlib in the ``Authorization`` header, with an
``oauth_body_hash`` of the XML body, as tools do.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    RequestValidator,
    SignatureOnlyEndpoint,
)
from oauthlib.oauth1 import Client as OAuthClient
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

from .models import ToolRegistration, UsedNonce


#: Accepted difference, in seconds, between a launch's ``oauth_timestamp`` and the tool's clock.
TIMESTAMP_WINDOW = 300
SIGNATURE_METHODS = (SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256)
POX_NS = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"
OUTCOME_TIMEOUT = 10  # seconds


class LaunchRejected(Exception):
    """A launch the tool refuses; the message can be shown to the learner."""


class _Validator(RequestValidator):
    """oauthlib's view of the tool's LTI 1.1 registrations."""

    def __init__(self, registration: ToolRegistration | None) -> None:
        super().__init__()
        self.registration = registration

    # The platform chooses key and nonce formats; accept any printable ASCII of sane length.
    @property
    def allowed_signature_methods(self):
        return SIGNATURE_METHODS

    @property
    def enforce_ssl(self) -> bool:
        return False  # the local demo runs over http; a production tool would require https

    @property
    def timestamp_lifetime(self) -> int:
        return TIMESTAMP_WINDOW

    def check_client_key(self, client_key: str) -> bool:
        return 0 < len(client_key) <= 255 and client_key.isprintable()

    def check_nonce(self, nonce: str) -> bool:
        return 0 < len(nonce) <= 255 and nonce.isprintable()

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    def validate_client_key(self, client_key: str, request) -> bool:
        return self.registration is not None and client_key == self.registration.consumer_key

    def get_client_secret(self, client_key: str, request) -> str:
        if self.registration is not None and client_key == self.registration.consumer_key:
            return self.registration.shared_secret
        return "dummy-secret-" + secrets.token_hex(8)

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs) -> bool:
        # Only checks here: the nonce is recorded once the signature is known to be good
        # (verify_launch), so forged requests cannot use up nonces.
        return not UsedNonce.objects.filter(consumer_key=client_key, nonce=nonce).exists()


def _remember_nonce(consumer_key: str, nonce: str, timestamp: int) -> bool:
    """Record a nonce; ``False`` when it was already recorded (a replay)."""
    UsedNonce.objects.filter(
        created_at__lt=timezone.now() - timedelta(seconds=2 * TIMESTAMP_WINDOW)
    ).delete()
    try:
        with transaction.atomic():
            UsedNonce.objects.create(consumer_key=consumer_key, nonce=nonce, timestamp=timestamp)
    except IntegrityError:
        return False
    return True


def verify_signed(
    uri: str, body: str, headers: dict[str, str]
) -> tuple[ToolRegistration, dict[str, str]]:
    """Verify a form signed by a platform (OAuth 1.0a) and posted to ``uri``: a launch or a
    Content-Item selection request.

    ``body`` is the raw form-encoded request body, ``headers`` at least its ``Content-Type``
    (and ``Authorization`` if the platform signed in the header). Returns the registration and
    the parameters (without the ``oauth_*`` ones); raises :class:`LaunchRejected`. The message
    itself is the caller's to check.
    """
    pairs = parse_qsl(body, keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise LaunchRejected("The launch repeats a parameter; it cannot be verified.")
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if authorization.lower().startswith("oauth "):
        try:
            header_params = dict(parse_authorization_header(authorization))
        except ValueError:
            raise LaunchRejected("The launch's OAuth Authorization header is malformed.") from None
        params.update({k: v for k, v in header_params.items() if k.startswith("oauth_")})
    consumer_key = params.get("oauth_consumer_key", "")
    if not consumer_key or not params.get("oauth_signature"):
        raise LaunchRejected("The launch is not signed (no OAuth consumer key or signature).")
    registration = ToolRegistration.objects.filter(
        lti_version=ToolRegistration.Version.LTI_1P1, consumer_key=consumer_key, active=True
    ).first()
    if registration is None:
        raise LaunchRejected(f"This tool does not know the consumer key {consumer_key!r}.")
    if params.get("oauth_signature_method") not in SIGNATURE_METHODS:
        raise LaunchRejected("The launch must be signed with HMAC-SHA1 or HMAC-SHA256.")
    try:
        timestamp = int(params.get("oauth_timestamp", ""))
    except ValueError:
        raise LaunchRejected("The launch has no valid OAuth timestamp.") from None
    if abs(time.time() - timestamp) > TIMESTAMP_WINDOW:
        raise LaunchRejected(
            "The launch's timestamp is too old or in the future; check that the clocks of the "
            "platform and the tool are right, then launch again."
        )
    nonce = params.get("oauth_nonce", "")
    if UsedNonce.objects.filter(consumer_key=consumer_key, nonce=nonce).exists():
        raise LaunchRejected(
            "This launch was already used (its nonce was seen before). Launch again."
        )

    endpoint = SignatureOnlyEndpoint(_Validator(registration))
    valid, _request = endpoint.validate_request(uri, "POST", body, headers)
    if not valid:
        raise LaunchRejected(
            "The launch's OAuth signature is not valid: the platform and the tool do not share "
            "the same key and secret, or the launch was changed on its way."
        )
    if not _remember_nonce(consumer_key, nonce, timestamp):
        raise LaunchRejected(
            "This launch was already used (its nonce was seen before). Launch again."
        )

    return registration, {
        key: value for key, value in params.items() if not key.startswith("oauth_")
    }


def verify_launch(
    uri: str, body: str, headers: dict[str, str]
) -> tuple[ToolRegistration, dict[str, str]]:
    """Verify a signed LTI 1.1 launch posted to ``uri`` (see :func:`verify_signed`).

    Returns the registration and the launch parameters (without the ``oauth_*`` ones); raises
    :class:`LaunchRejected`.
    """
    registration, launch = verify_signed(uri, body, headers)
    if launch.get("lti_message_type") != "basic-lti-launch-request":
        raise LaunchRejected(
            f"This tool only handles basic-lti-launch-request messages, not "
            f"{launch.get('lti_message_type') or 'an unnamed message'}."
        )
    if launch.get("lti_version") not in {"LTI-1p0", "LTI-1p1"}:
        raise LaunchRejected("The launch has no valid lti_version.")
    if not launch.get("resource_link_id"):
        raise LaunchRejected("The launch has no resource_link_id.")
    return registration, launch


# --- Content-Item (selecting content for the platform) -------------------------------------------

CONTENT_ITEM_REQUEST = "ContentItemSelectionRequest"
CONTENT_ITEM_RESPONSE = "ContentItemSelection"
LTI_LINK_MEDIA_TYPE = "application/vnd.ims.lti.v1.ltilink"


def verify_content_item_request(
    uri: str, body: str, headers: dict[str, str]
) -> tuple[ToolRegistration, dict[str, str]]:
    """Verify a signed ``ContentItemSelectionRequest`` (Content-Item Message 1.0 §3).

    Besides the signature: the message type, an http(s) ``content_item_return_url`` and LTI links
    among the accepted media types. Raises :class:`LaunchRejected`.
    """
    registration, params = verify_signed(uri, body, headers)
    if params.get("lti_message_type") != CONTENT_ITEM_REQUEST:
        raise LaunchRejected(
            f"This address handles {CONTENT_ITEM_REQUEST} messages, not "
            f"{params.get('lti_message_type') or 'an unnamed message'}."
        )
    return_url = params.get("content_item_return_url", "")
    if not return_url.startswith(("https://", "http://")):
        raise LaunchRejected("The request has no http(s) content_item_return_url.")
    accepted = {media.strip() for media in params.get("accept_media_types", "").split(",") if media}
    if accepted and not accepted & {LTI_LINK_MEDIA_TYPE, "*/*", "application/*"}:
        raise LaunchRejected("The platform does not accept LTI links, the only items offered here.")
    return registration, params


def sign_content_item_selection(
    registration: ToolRegistration,
    *,
    return_url: str,
    content_items: dict,
    data: str,
    message: str,
) -> dict[str, str]:
    """The signed form fields of a ``ContentItemSelection`` (Content-Item Message 1.0 §4)
    posting ``content_items`` (JSON-LD) back to ``return_url``, signed with oauthlib in the body."""
    fields = {
        "lti_message_type": CONTENT_ITEM_RESPONSE,
        "lti_version": "LTI-1p0",
        "content_items": json.dumps(content_items),
        "lti_msg": message,
    }
    if data:
        fields["data"] = data
    client = OAuthClient(
        registration.consumer_key,
        client_secret=registration.shared_secret,
        signature_method=SIGNATURE_HMAC_SHA1,
        signature_type=SIGNATURE_TYPE_BODY,
    )
    _url, _headers, body = client.sign(
        return_url,
        http_method="POST",
        body=fields,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return dict(parse_qsl(body, keep_blank_values=True))


# --- Basic Outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeAnswer:
    """What the platform answered to a Basic Outcomes request."""

    ok: bool
    http_status: int | None
    code_major: str = ""
    severity: str = ""
    description: str = ""
    message_identifier: str = ""
    body: str = ""


def score_text(percent: Decimal) -> str:
    """The ``textString`` of a score given in percent: a decimal from 0.0 to 1.0."""
    value = (percent / Decimal(100)).quantize(Decimal("0.0001")).normalize()
    text = format(value, "f")
    return text if "." in text else text + ".0"


def replace_result_xml(message_identifier: str, sourcedid: str, score: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<imsx_POXEnvelopeRequest xmlns="{POX_NS}">'
        "<imsx_POXHeader><imsx_POXRequestHeaderInfo>"
        "<imsx_version>V1.0</imsx_version>"
        f"<imsx_messageIdentifier>{escape(message_identifier)}</imsx_messageIdentifier>"
        "</imsx_POXRequestHeaderInfo></imsx_POXHeader>"
        "<imsx_POXBody><replaceResultRequest><resultRecord>"
        f"<sourcedGUID><sourcedId>{escape(sourcedid)}</sourcedId></sourcedGUID>"
        "<result><resultScore><language>en</language>"
        f"<textString>{escape(score)}</textString>"
        "</resultScore></result>"
        "</resultRecord></replaceResultRequest></imsx_POXBody>"
        "</imsx_POXEnvelopeRequest>"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_answer(status: int, body: bytes) -> OutcomeAnswer:
    """Read an ``imsx_POXEnvelopeResponse`` (safely: no DTDs, no entities)."""
    text = body.decode("utf-8", "replace")
    try:
        root = safe_fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        return OutcomeAnswer(
            ok=False,
            http_status=status,
            description="The platform's answer is not POX XML.",
            body=text,
        )
    found: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        if name in {
            "imsx_codeMajor",
            "imsx_severity",
            "imsx_description",
            "imsx_messageIdentifier",
        }:
            found.setdefault(name, (element.text or "").strip())
    code_major = found.get("imsx_codeMajor", "")
    return OutcomeAnswer(
        ok=status == 200 and code_major == "success",
        http_status=status,
        code_major=code_major,
        severity=found.get("imsx_severity", ""),
        description=found.get("imsx_description", ""),
        message_identifier=found.get("imsx_messageIdentifier", ""),
        body=text,
    )


def post_replace_result(
    session: requests.Session,
    *,
    url: str,
    sourcedid: str,
    percent: Decimal,
    consumer_key: str,
    shared_secret: str,
) -> OutcomeAnswer:
    """Send ``replaceResult`` for ``sourcedid`` with a score in percent; returns the answer."""
    message_identifier = secrets.token_hex(16)
    xml = replace_result_xml(message_identifier, sourcedid, score_text(percent))
    client = OAuthClient(
        consumer_key,
        client_secret=shared_secret,
        signature_method=SIGNATURE_HMAC_SHA1,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
    )
    # A body that is not form-encoded gets an oauth_body_hash (SHA-1 of the body, base64).
    signed_url, headers, signed_body = client.sign(
        url, http_method="POST", body=xml, headers={"Content-Type": "application/xml"}
    )
    try:
        response = session.post(
            signed_url, data=signed_body.encode("utf-8"), headers=headers, timeout=OUTCOME_TIMEOUT
        )
    except requests.RequestException as exc:
        return OutcomeAnswer(
            ok=False, http_status=None, description=f"The platform could not be reached: {exc}"
        )
    return parse_answer(response.status_code, response.content)
