"""The LTI 1.1 Basic Outcomes service (``wagtail_lti:lti11_outcomes``).

Tools POST an ``imsx_POXEnvelopeRequest`` here, signed with OAuth 1.0a in the ``Authorization``
header plus ``oauth_body_hash`` (LTI 1.1 Implementation Guide §6; OAuth Body Hash). Every answer,
errors included, is an ``imsx_POXEnvelopeResponse``:

* authentication failures (signature, key, timestamp, nonce, body hash): HTTP 401, ``failure``;
* wrong method, content type or size: HTTP 405 / 415 / 413, ``failure``;
* anything else refused (malformed XML, bad score, unknown sourcedid, learner no longer enrolled,
  the tool no longer allowed in the course by ``wagtail_lti.services.access``: provider disabled,
  activity removed, course page unpublished...): HTTP 200, ``failure``; unknown operations:
  ``unsupported``.

Nothing is recorded unless every check passed.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from ... import launch_log
from ...conf import lti_settings
from ...lti import lti11
from ...lti import outcomes as pox
from ...models import Enrollment, LtiProvider, ScoreEvent
from ...security.encryption import DecryptionError
from ...security.single_use import use_once
from ...security.sourcedid import InvalidSourcedId, read_sourcedid, resolve_sourcedid
from .. import results
from ..access import ServiceRefused, placement_access


logger = logging.getLogger(__name__)

SOURCE = ScoreEvent.Source.OUTCOMES
NONCE_NAMESPACE = "lti11"
XML_CONTENT_TYPES = ("application/xml", "text/xml")


class Refused(Exception):
    def __init__(
        self,
        description: str,
        *,
        status: int = 200,
        code_major: pox.CodeMajor = "failure",
        message_identifier: str = "",
        operation: str = "",
    ):
        super().__init__(description)
        self.description = description
        self.status = status
        self.code_major = code_major
        self.message_identifier = message_identifier
        self.operation = operation


def _pox(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/xml; charset=utf-8")


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = dict(request.headers)
    # Some servers only pass the Authorization header under this name.
    if "Authorization" not in headers and request.META.get("HTTP_AUTHORIZATION"):
        headers["Authorization"] = request.META["HTTP_AUTHORIZATION"]
    return headers


def _read_body(request: HttpRequest) -> bytes:
    limit = lti_settings.MAX_REQUEST_BODY
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise Refused(f"The request body is larger than {limit} bytes.", status=413)
    try:
        body = request.body
    except RequestDataTooBig:
        raise Refused(f"The request body is larger than {limit} bytes.", status=413) from None
    if len(body) > limit:
        raise Refused(f"The request body is larger than {limit} bytes.", status=413)
    return body


def _authenticate(request: HttpRequest, body: bytes, provider: LtiProvider, ids: dict) -> None:
    window = lti_settings.OAUTH_TIMESTAMP_WINDOW
    key = provider.consumer_key

    def get_secret(consumer_key: str) -> str | None:
        if not key or not provider.has_secret or not constant_time_compare(consumer_key, key):
            return None
        try:
            return provider.secret
        except DecryptionError:
            logger.error("The secret of LTI provider %s cannot be decrypted.", provider.pk)
            return None

    def use_nonce(consumer_key: str, nonce: str, timestamp: int) -> bool:
        return use_once(NONCE_NAMESPACE, f"{provider.pk}\n{consumer_key}\n{nonce}", 2 * window + 60)

    try:
        lti11.verify_request(
            request.method,
            request.build_absolute_uri(),
            _headers(request),
            body,
            get_secret=get_secret,
            timestamp_window=window,
            use_nonce=use_nonce,
        )
    except lti11.OAuthError as exc:
        logger.info("LTI 1.1 outcomes refused for provider %s: %s", provider.pk, exc.reason)
        raise Refused(f"Authentication failed: {exc}", status=401, **ids) from exc


def _check_still_allowed(placement, user, provider: LtiProvider, ids: dict) -> None:
    """The tool may still use the activity (``services.access``), the learner is still enrolled,
    and the activity takes scores."""
    try:
        placement_access(provider, placement)
    except ServiceRefused as exc:
        raise Refused(exc.message, **ids) from exc
    if not Enrollment.objects.filter(
        course_id=placement.page_id, user=user, is_active=True
    ).exists():
        raise Refused("The learner is not enrolled in this course.", **ids)
    if not placement.resource_link.requires_score:
        raise Refused("This activity does not accept scores.", **ids)


def _handle(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise Refused("Only POST is accepted.", status=405)
    content_type = (request.content_type or "").lower()
    if content_type not in XML_CONTENT_TYPES:
        raise Refused("The request must be XML (Content-Type: application/xml).", status=415)
    body = _read_body(request)

    try:
        message = pox.parse_request(body)
    except pox.OutcomeError as exc:
        raise Refused(
            str(exc),
            code_major=exc.code_major,
            message_identifier=exc.message_identifier,
            operation=exc.operation,
        ) from exc
    ids = {"message_identifier": message.message_identifier, "operation": message.operation}
    launch_log.note(request, action=message.operation)

    # The sourcedid names the placement and the provider: the request must be signed with that
    # provider's key and secret.
    try:
        ref = read_sourcedid(message.sourcedid)
    except InvalidSourcedId as exc:
        raise Refused(str(exc), **ids) from exc
    provider = LtiProvider.objects.filter(pk=ref.provider_id).first()
    if provider is None:
        raise Refused("The sourcedId is not valid.", **ids)
    launch_log.note(request, provider=provider)
    _authenticate(request, body, provider, ids)
    try:
        placement, user = resolve_sourcedid(message.sourcedid, provider)
    except InvalidSourcedId as exc:
        raise Refused(str(exc), **ids) from exc
    launch_log.note(request, placement=placement, user=user)
    _check_still_allowed(placement, user, provider, ids)
    line_item = results.line_item_for(placement)
    if line_item is None:
        raise Refused("This activity does not accept scores.", **ids)

    score_text: str | None = None
    if message.operation == "replaceResult":
        try:
            score = pox.parse_score(message)
        except pox.InvalidScore as exc:
            raise Refused(str(exc), **ids) from exc
        results.record_score(
            line_item,
            user,
            score_given=float(score),
            score_maximum=1.0,
            activity_progress="Completed",
            grading_progress=results.FULLY_GRADED,
            timestamp=None,
            comment="",
            source=SOURCE,
        )
        description = f"Score {score} recorded."
    elif message.operation == "readResult":
        current = results.current_score(line_item, user)
        score_text = pox.format_score(current) if current is not None else ""
        description = "Result read." if current is not None else "No score recorded."
    else:  # deleteResult
        results.delete_score(line_item, user, SOURCE)
        description = "Score deleted."

    return _pox(
        pox.build_response(
            code_major="success",
            description=description,
            message_ref_identifier=message.message_identifier,
            operation=message.operation,
            score=score_text,
        )
    )


@csrf_exempt
@launch_log.logged("outcomes")
def lti11_outcomes(request: HttpRequest) -> HttpResponse:
    try:
        return _handle(request)
    except Refused as refusal:
        launch_log.note(request, error=refusal.description)
        response = _pox(
            pox.build_response(
                code_major=refusal.code_major,
                description=refusal.description,
                message_ref_identifier=refusal.message_identifier,
                operation=refusal.operation,
            ),
            status=refusal.status,
        )
        if refusal.status == 405:
            response["Allow"] = "POST"
        elif refusal.status == 401:
            response["WWW-Authenticate"] = 'OAuth realm="LTI Basic Outcomes"'
        return response
