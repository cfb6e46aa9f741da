"""The LTI 1.1 Basic Outcomes service (``wagtail_lti:lti11_outcomes``).

Tools POST an ``imsx_POXEnvelopeRequest`` here, signed with OAuth 1.0a in the ``Authorization``
header plus ``oauth_body_hash`` (LTI 1.1 Implementation Guide §6; OAuth Body Hash). Every answer,
errors included, is an ``imsx_POXEnvelopeResponse``:

* authentication failures (signature, key, timestamp, nonce, body hash): HTTP 401, ``failure``;
* wrong method, content type or size (``security.request_body``): HTTP 405 / 415 / 413,
  ``failure``; a ``Content-Length`` that is not a number: HTTP 400, ``failure``;
* anything else refused (malformed XML, bad score, unknown sourcedid, learner no longer enrolled,
  the tool no longer allowed in the course by ``wagtail_lti.services.access``: provider disabled,
  activity removed, course page unpublished...): HTTP 200, ``failure``; unknown operations:
  ``unsupported``.

This view checks the method, content type and size and answers; what the message does, and every
other check, is ``wagtail_lti.services.outcomes``. Nothing is recorded unless every check passed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ... import launch_log
from ...lti import outcomes as pox
from ...security.request_body import BodyRefused, read_body
from ..outcomes import OutcomeRefused, handle_outcome_request


XML_CONTENT_TYPES = ("application/xml", "text/xml")


def _pox(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/xml; charset=utf-8")


def _handle(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        raise OutcomeRefused("Only POST is accepted.", status=405)
    content_type = (request.content_type or "").lower()
    if content_type not in XML_CONTENT_TYPES:
        raise OutcomeRefused("The request must be XML (Content-Type: application/xml).", status=415)
    try:
        body = read_body(request)
    except BodyRefused as exc:
        raise OutcomeRefused(str(exc), status=413 if exc.too_large else 400) from exc
    done = handle_outcome_request(request, body)
    return _pox(
        pox.build_response(
            code_major="success",
            description=done.description,
            message_ref_identifier=done.message.message_identifier,
            operation=done.message.operation,
            score=done.score,
        )
    )


@csrf_exempt
@launch_log.logged("outcomes")
def lti11_outcomes(request: HttpRequest) -> HttpResponse:
    try:
        return _handle(request)
    except OutcomeRefused as refusal:
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
