"""POX messages of LTI 1.1 Basic Outcomes (``wagtail_lti.lti.outcomes``), protocol core only.

Requests are the XML the ``lti`` package's ``OutcomeRequest`` generates (what Python tools send)
or hand-written variants other tools send; responses are read back with the ``lti`` package's
``OutcomeResponse``, as a tool reads them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from lti import OutcomeRequest as ToolOutcomeRequest
from lti import OutcomeResponse as ToolOutcomeResponse

from wagtail_lti.lti import outcomes as pox


def tool_xml(operation: str, score=None, message_identifier="msg-1", sourcedid="sid-1") -> bytes:
    request = ToolOutcomeRequest(
        {
            "operation": operation,
            "score": score,
            "message_identifier": message_identifier,
            "lis_result_sourcedid": sourcedid,
        }
    )
    return request.generate_request_xml()


PREFIXED = b"""<?xml version="1.0" encoding="UTF-8"?>
<ims:imsx_POXEnvelopeRequest xmlns:ims="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">
  <ims:imsx_POXHeader><ims:imsx_POXRequestHeaderInfo>
    <ims:imsx_version>V1.0</ims:imsx_version>
    <ims:imsx_messageIdentifier> 999 </ims:imsx_messageIdentifier>
  </ims:imsx_POXRequestHeaderInfo></ims:imsx_POXHeader>
  <ims:imsx_POXBody><ims:replaceResultRequest><ims:resultRecord>
    <ims:sourcedGUID><ims:sourcedId>sid-2</ims:sourcedId></ims:sourcedGUID>
    <ims:result><ims:resultScore><ims:language>en</ims:language>
      <ims:textString>0.92</ims:textString></ims:resultScore></ims:result>
  </ims:resultRecord></ims:replaceResultRequest></ims:imsx_POXBody>
</ims:imsx_POXEnvelopeRequest>"""


@pytest.mark.parametrize("operation", ["replaceResult", "readResult", "deleteResult"])
def test_parses_what_the_lti_package_sends(operation):
    score = "0.5" if operation == "replaceResult" else None
    request = pox.parse_request(tool_xml(operation, score))
    assert request.operation == operation
    assert request.message_identifier == "msg-1"
    assert request.sourcedid == "sid-1"
    assert request.score_text == score


def test_namespace_prefixes_are_accepted():
    """Pitfall: celtic LTI-PHP#32 — a prefixed namespace must parse like the default one."""
    request = pox.parse_request(PREFIXED)
    assert (request.operation, request.message_identifier, request.sourcedid) == (
        "replaceResult",
        "999",
        "sid-2",
    )
    assert pox.parse_score(request) == Decimal("0.92")


def test_no_namespace_is_accepted():
    request = pox.parse_request(PREFIXED.replace(b"ims:", b"").replace(b"xmlns:ims", b"xmlns:x"))
    assert request.sourcedid == "sid-2"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<imsx_POXEnvelopeRequest><unclosed></imsx_POXEnvelopeRequest>",
        b"<somethingElse/>",
        b"<imsx_POXEnvelopeRequest/>",
    ],
)
def test_malformed(body):
    with pytest.raises(pox.MalformedRequest):
        pox.parse_request(body)


def test_doctype_and_external_entity_are_refused():
    """XXE (checklist pitfall 11): no DTD, no entities, nothing fetched or expanded."""
    xxe = tool_xml("readResult", sourcedid="&xxe;").replace(
        b"<imsx_POXEnvelopeRequest",
        b'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<imsx_POXEnvelopeRequest',
    )
    with pytest.raises(pox.MalformedRequest, match="DTD"):
        pox.parse_request(xxe)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
    )
    with pytest.raises(pox.MalformedRequest):
        pox.parse_request(laughs)
    bare_doctype = (
        b'<!DOCTYPE imsx_POXEnvelopeRequest SYSTEM "http://evil.example/x.dtd">'
        + (tool_xml("readResult").split(b"?>", 1)[1])
    )
    with pytest.raises(pox.MalformedRequest):
        pox.parse_request(bare_doctype)


def test_missing_message_identifier_is_tolerated():
    """Mandatory in the XSD, but the ``lti`` package sends it empty by default; it is only
    echoed, so an empty one is accepted (and echoed empty)."""
    request = pox.parse_request(tool_xml("readResult", message_identifier=""))
    assert request.message_identifier == ""
    assert request.sourcedid == "sid-1"


def test_missing_sourcedid_keeps_the_message_identifier():
    with pytest.raises(pox.MalformedRequest) as info:
        pox.parse_request(tool_xml("readResult", sourcedid=""))
    assert info.value.message_identifier == "msg-1"


def test_unsupported_operation():
    body = tool_xml("readResult").replace(b"readResultRequest", b"replaceResultMembershipRequest")
    with pytest.raises(pox.UnsupportedOperation) as info:
        pox.parse_request(body)
    assert info.value.code_major == "unsupported"
    assert info.value.operation == "replaceResultMembership"
    assert info.value.message_identifier == "msg-1"


@pytest.mark.parametrize("text", ["0", "0.0", "1", "1.0", "0.5", ".75", "0.123456789"])
def test_valid_scores(text):
    request = pox.parse_request(tool_xml("replaceResult", text))
    assert pox.parse_score(request) == Decimal(text)


@pytest.mark.parametrize(
    "text", ["", "1.01", "-0.1", "2", "abc", "NaN", "inf", "1e-1", "0,5", "50%", "0x1"]
)
def test_invalid_scores(text):
    request = pox.parse_request(tool_xml("replaceResult", text))
    with pytest.raises(pox.InvalidScore):
        pox.parse_score(request)


def test_replace_without_result_score():
    body = tool_xml("deleteResult").replace(b"deleteResultRequest", b"replaceResultRequest")
    with pytest.raises(pox.InvalidScore):
        pox.parse_request(body)


def read_back(xml: bytes) -> ToolOutcomeResponse:
    response = ToolOutcomeResponse()
    response.process_xml(xml)
    return response


def test_success_response_is_read_by_the_tool_library():
    xml = pox.build_response(
        code_major="success",
        description="Score recorded.",
        message_ref_identifier="msg-1",
        operation="replaceResult",
    )
    response = read_back(xml)
    assert response.is_success()
    assert str(response.severity) == "status"
    assert response.message_ref_identifier == "msg-1"
    assert str(response.operation) == "replaceResult"
    assert b"<replaceResultResponse />" in xml


def test_read_result_response_with_and_without_score():
    xml = pox.build_response(
        code_major="success",
        description="ok",
        message_ref_identifier="m",
        operation="readResult",
        score="0.8",
    )
    assert read_back(xml).score == "0.8"
    empty = pox.build_response(
        code_major="success",
        description="none",
        message_ref_identifier="m",
        operation="readResult",
        score="",
    )
    assert b"<textString />" in empty
    assert read_back(empty).score == ""


def test_failure_and_unsupported_responses():
    failure = read_back(pox.error_response(pox.InvalidScore("bad", message_identifier="m9")))
    assert failure.is_failure() and failure.has_error()
    assert failure.message_ref_identifier == "m9"
    unsupported = read_back(
        pox.error_response(pox.UnsupportedOperation("no", message_identifier="m8", operation="x"))
    )
    assert unsupported.is_unsupported()
    assert str(unsupported.severity) == "status"


def test_format_score():
    assert pox.format_score(0.85) == "0.85"
    assert pox.format_score(1) == "1.0"
