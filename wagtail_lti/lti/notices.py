"""LTI Platform Notification Service 1.0 (PNS): the launch claim, handler registration, notices.

Pure functions over plain values; the Django glue (``services/notices.py``) stores handlers,
queues and signs notices. Section numbers refer to the 1EdTech LTI Platform Notification Service
1.0 specification.

* Launches of a tool that may use the service carry :data:`PNS_CLAIM` (:func:`service_claim`):
  the service URL, its versions, its scope and the notice types the platform sends.
* With a token of scope :data:`SCOPE` the tool GETs the service URL (its handlers,
  :func:`handlers_json`) or PUTs ``{"notice_type": ..., "handler": ...}`` to it
  (:func:`parse_handler_request`); an empty ``handler`` removes the one of that type.
* The platform POSTs ``{"notices": [{"jwt": ...}]}`` (:func:`notices_body`) to a handler; each
  notice is a JWT signed with the platform's key whose claims :func:`notice_claims` makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import LtiError


PNS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/platformnotificationservice"
SCOPE = "https://purl.imsglobal.org/spec/lti/scope/noticehandlers"
SERVICE_VERSIONS: tuple[str, ...] = ("1.0",)

NOTICE_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/notice"
VERSION_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/version"
DEPLOYMENT_ID_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"
ORIGIN_CONTEXTS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/origin_contexts"

HELLO_WORLD = "LtiHelloWorldNotice"
CONTEXT_COPY = "LtiContextCopyNotice"
#: The notice types this platform sends (advertised in launches and the OpenID configuration).
NOTICE_TYPES: tuple[str, ...] = (HELLO_WORLD, CONTEXT_COPY)

COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
MAX_HANDLER_URL_LENGTH = 1024


class NoticeError(LtiError):
    """A handler request the service refuses; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400, error: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.error = error


def service_claim(
    service_url: str, notice_types: Sequence[str] = NOTICE_TYPES
) -> dict[str, dict[str, Any]]:
    """The launch's PNS claim: ``{PNS_CLAIM: {platform_notification_service_url, ...}}``."""
    if not service_url:
        raise ValueError("The PNS claim needs a platform_notification_service_url")
    return {
        PNS_CLAIM: {
            "platform_notification_service_url": service_url,
            "service_versions": list(SERVICE_VERSIONS),
            "scope": [SCOPE],
            "notice_types_supported": list(notice_types),
        }
    }


def parse_handler_request(
    body: bytes | str, notice_types: Iterable[str] = NOTICE_TYPES
) -> tuple[str, str]:
    """``(notice_type, handler)`` of a PUT to the service; ``handler`` is ``""`` to remove it.

    The body is a JSON object with a string ``notice_type`` (one the platform sends) and a string
    ``handler`` (a URL, or empty). Raises :class:`NoticeError` otherwise. The URL itself is
    checked by the caller (its scheme and address follow the platform's outbound rules).
    """
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise NoticeError("The request body must be a JSON object.") from exc
    if not isinstance(data, dict):
        raise NoticeError("The request body must be a JSON object.")
    notice_type = data.get("notice_type")
    handler = data.get("handler")
    if not isinstance(notice_type, str) or not notice_type:
        raise NoticeError("notice_type is required.")
    supported = list(notice_types)
    if notice_type not in supported:
        raise NoticeError(
            f"The platform does not send {notice_type!r} notices; it sends: "
            + ", ".join(supported)
            + "."
        )
    if handler is None:
        raise NoticeError('handler is required (an empty string "" removes the handler).')
    if not isinstance(handler, str):
        raise NoticeError("handler must be a string.")
    handler = handler.strip()
    if len(handler) > MAX_HANDLER_URL_LENGTH:
        raise NoticeError(f"handler is longer than {MAX_HANDLER_URL_LENGTH} characters.")
    return notice_type, handler


def handlers_json(
    *, client_id: str, deployment_id: str, handlers: Mapping[str, str]
) -> dict[str, Any]:
    """The answer to a GET of the service: every notice type with its handler (``""``: none)."""
    return {
        "client_id": client_id,
        "deployment_id": deployment_id,
        "notice_handlers": [
            {"notice_type": notice_type, "handler": handlers.get(notice_type, "")}
            for notice_type in NOTICE_TYPES
        ],
    }


def context_claim(context_id: str, *, title: str = "", label: str = "") -> dict[str, Any]:
    """The ``context`` claim of a notice about a course."""
    claim: dict[str, Any] = {"id": context_id, "type": [COURSE_OFFERING]}
    if label:
        claim["label"] = label
    if title:
        claim["title"] = title
    return {CONTEXT_CLAIM: claim}


def context_copy_claims(
    *, context: Mapping[str, Any], origin_context_ids: Sequence[str]
) -> dict[str, Any]:
    """The claims particular to an ``LtiContextCopyNotice``: the new context, where it came from."""
    return {**context, ORIGIN_CONTEXTS_CLAIM: list(origin_context_ids)}


def notice_claims(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    notice_type: str,
    notice_id: str,
    timestamp: str,
    jti: str,
    now: int,
    ttl: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of one notice JWT.

    ``iss`` the platform, ``aud``/``azp`` the tool's client id, ``iat``/``exp`` (``now``,
    ``now + ttl``), ``jti`` (new for each JWT sent), the deployment id, the LTI version and the
    notice claim (``id``: the same for every delivery attempt of one notice, so a tool can tell
    a repeated notice; ``timestamp``: when the event happened; ``type``); then ``extra``.
    """
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
        VERSION_CLAIM: "1.3.0",
        DEPLOYMENT_ID_CLAIM: deployment_id,
        NOTICE_CLAIM: {"id": notice_id, "timestamp": timestamp, "type": notice_type},
    }
    claims.update(extra or {})
    return claims


def notices_body(jwts: Iterable[str]) -> bytes:
    """The body POSTed to a handler: ``{"notices": [{"jwt": ...}, ...]}``."""
    return json.dumps({"notices": [{"jwt": token} for token in jwts]}).encode()
