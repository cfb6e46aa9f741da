"""LTI 1.1 Basic Outcomes: the POX (Plain Old XML) messages a tool sends and what we answer.

Spec: LTI 1.1 Implementation Guide §6 "LTI Basic Outcomes Service" and the IMS General Web
Services base profile it uses (``imsx_POXEnvelopeRequest`` / ``imsx_POXEnvelopeResponse``,
namespace :data:`NS`).

Parsing uses defusedxml: a document with a DTD (``<!DOCTYPE``), an entity declaration or an
external reference is refused before anything is read (no XXE, no "billion laughs"). Elements are
matched by local name, so requests with a namespace prefix (``<ims:imsx_POXEnvelopeRequest>``) or
without a namespace are read alike.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET  # noqa: S405 (only used to build documents, never to parse)
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal
from xml.etree.ElementTree import Element  # noqa: S405

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring

from .errors import LtiError


NS = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"
SUPPORTED_OPERATIONS = ("replaceResult", "readResult", "deleteResult")

CodeMajor = Literal["success", "processing", "failure", "unsupported"]
Severity = Literal["status", "warning", "error"]

_DECIMAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


class OutcomeError(LtiError):
    """A Basic Outcomes request that cannot be processed.

    ``message_identifier`` and ``operation`` are what could be read of the request (empty when
    unknown), so that the response can still refer to it.
    """

    code_major: CodeMajor = "failure"

    def __init__(self, message: str, *, message_identifier: str = "", operation: str = ""):
        super().__init__(message)
        self.message_identifier = message_identifier
        self.operation = operation


class MalformedRequest(OutcomeError):
    """Not XML, forbidden XML (DTD, entities), or not a valid ``imsx_POXEnvelopeRequest``."""


class UnsupportedOperation(OutcomeError):
    """A well-formed request for an operation other than replace/read/deleteResult, or a
    replaceResult with the resultData extension."""

    code_major: CodeMajor = "unsupported"


class InvalidScore(OutcomeError):
    """``resultScore/textString`` is not a decimal from 0.0 to 1.0."""


@dataclass(frozen=True)
class OutcomeRequest:
    """A parsed request. ``score_text`` is the raw ``textString`` (replaceResult only)."""

    operation: str  # "replaceResult", "readResult" or "deleteResult"
    message_identifier: str
    sourcedid: str
    score_text: str | None = None
    language: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    for child in element:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    return None


def _path(element: Element | None, *names: str) -> Element | None:
    for name in names:
        element = _child(element, name)
    return element


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_request(body: bytes) -> OutcomeRequest:
    """Parse an ``imsx_POXEnvelopeRequest``.

    Raises :class:`MalformedRequest` (bad or forbidden XML, no operation, no sourcedId), or
    :class:`UnsupportedOperation`. The score is not checked here: call :func:`parse_score` once
    the request is authenticated.

    ``imsx_messageIdentifier`` is mandatory in the XSD, but some tool libraries (the Python
    ``lti`` package by default) send it empty; as it only serves to be echoed in
    ``imsx_messageRefIdentifier``, a missing one is accepted and echoed empty rather than
    failing the tool's grade passback.
    """
    try:
        root = safe_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedRequest(
            "The request contains a DTD, an entity or an external reference; these are not "
            "accepted."
        ) from exc
    except (ParseError, ValueError) as exc:
        raise MalformedRequest("The request body is not well-formed XML.") from exc

    if _local(root.tag) != "imsx_POXEnvelopeRequest":
        raise MalformedRequest("The root element must be imsx_POXEnvelopeRequest.")
    message_identifier = _text(
        _path(root, "imsx_POXHeader", "imsx_POXRequestHeaderInfo", "imsx_messageIdentifier")
    )
    pox_body = _child(root, "imsx_POXBody")
    operations = [c for c in (pox_body if pox_body is not None else []) if isinstance(c.tag, str)]
    if len(operations) != 1:
        raise MalformedRequest(
            "imsx_POXBody must contain exactly one operation.",
            message_identifier=message_identifier,
        )
    element_name = _local(operations[0].tag)
    operation = element_name.removesuffix("Request")
    if operation not in SUPPORTED_OPERATIONS:
        raise UnsupportedOperation(
            f"{operation} is not supported.",
            message_identifier=message_identifier,
            operation=operation,
        )
    record = _child(operations[0], "resultRecord")
    sourcedid = _text(_path(record, "sourcedGUID", "sourcedId"))
    if not sourcedid:
        raise MalformedRequest(
            "resultRecord/sourcedGUID/sourcedId is missing.",
            message_identifier=message_identifier,
            operation=operation,
        )
    score_text = language = None
    if operation == "replaceResult":
        score = _path(record, "result", "resultScore")
        if score is None or _child(score, "textString") is None:
            raise InvalidScore(
                "replaceResult needs result/resultScore/textString.",
                message_identifier=message_identifier,
                operation=operation,
            )
        if _path(record, "result", "resultData") is not None:
            # The outcome data extension (text or a URL with the score) is not supported and
            # not advertised (no ext_outcome_data_values_accepted): refused, not half recorded.
            raise UnsupportedOperation(
                "resultData (the outcome data extension) is not supported; nothing was "
                "recorded. Send the score without resultData.",
                message_identifier=message_identifier,
                operation=operation,
            )
        score_text = _text(_child(score, "textString"))
        language = _text(_child(score, "language")) or None
    return OutcomeRequest(
        operation=operation,
        message_identifier=message_identifier,
        sourcedid=sourcedid,
        score_text=score_text,
        language=language,
    )


def parse_score(request: OutcomeRequest) -> Decimal:
    """The score of a replaceResult: a plain decimal from 0.0 to 1.0 (LTI 1.1 §6.1.1).

    Anything else (empty, not a number, exponent notation, NaN, out of range) raises
    :class:`InvalidScore`.
    """
    text = request.score_text or ""
    error = InvalidScore(
        f"The score {text!r} is not a decimal number from 0.0 to 1.0.",
        message_identifier=request.message_identifier,
        operation=request.operation,
    )
    if not _DECIMAL_RE.match(text):
        raise error
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise error from None
    if not (Decimal(0) <= value <= Decimal(1)):
        raise error
    return value


def format_score(value: float) -> str:
    """A score as readResult's ``textString``: the shortest decimal that reads back the same."""
    return repr(float(value))


def build_response(
    *,
    code_major: CodeMajor,
    description: str,
    message_ref_identifier: str = "",
    operation: str = "",
    severity: Severity | None = None,
    score: str | None = None,
    message_identifier: str | None = None,
) -> bytes:
    """An ``imsx_POXEnvelopeResponse`` document (UTF-8, with XML declaration).

    ``severity`` defaults to ``status`` for success/unsupported and ``error`` for failure. For a
    successful ``readResult`` pass ``score`` (``""`` when there is none: an empty
    ``<textString/>`` is sent). The body holds ``<{operation}Response>`` only on success.
    """
    if severity is None:
        severity = "error" if code_major == "failure" else "status"

    def sub(parent: Element, name: str, text: str | None = None) -> Element:
        element = ET.SubElement(parent, f"{{{NS}}}{name}")
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{NS}}}imsx_POXEnvelopeResponse")
    info = sub(sub(root, "imsx_POXHeader"), "imsx_POXResponseHeaderInfo")
    sub(info, "imsx_version", "V1.0")
    sub(info, "imsx_messageIdentifier", message_identifier or secrets.token_hex(16))
    status = sub(info, "imsx_statusInfo")
    sub(status, "imsx_codeMajor", code_major)
    sub(status, "imsx_severity", severity)
    sub(status, "imsx_description", description)
    sub(status, "imsx_messageRefIdentifier", message_ref_identifier)
    sub(status, "imsx_operationRefIdentifier", operation)
    pox_body = sub(root, "imsx_POXBody")
    if code_major == "success" and operation in SUPPORTED_OPERATIONS:
        response = sub(pox_body, f"{operation}Response")
        if operation == "readResult":
            result_score = sub(sub(response, "result"), "resultScore")
            sub(result_score, "language", "en")
            sub(result_score, "textString", score or "")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=NS)


def error_response(error: OutcomeError) -> bytes:
    """The response to a request refused with ``error``."""
    return build_response(
        code_major=error.code_major,
        description=str(error),
        message_ref_identifier=error.message_identifier,
        operation=error.operation,
    )
