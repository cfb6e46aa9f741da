"""A world for the hardening and fuzz tests: one LTI 1.1 tool and one LTI 1.3 tool placed in a
course with an enrolled learner, plus what a tool holds (an access token, a sourcedid).

Also the list of tool-facing endpoints, with the error format the spec gives each one.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from defusedxml.ElementTree import fromstring as parse_xml

from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from tests.support.lti11 import TOOL_KEY, TOOL_SECRET, send, sign_outcome
from tests.support.lti13 import ALL_AGS_SCOPES, NRPS_SCOPE, make_tool
from tests.support.world import World
from wagtail_lti.lti.scopes import NOTICE_HANDLERS as NOTICE_HANDLERS_SCOPE
from wagtail_lti.services.results import line_item_for


POX_NS = "{http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0}"

#: The endpoints tools call, which authenticate the tool by a signature, an access token or a
#: single-use value bound to the learner's or editor's session instead of a CSRF token. A tool's
#: server (token, services, outcomes, dynamic registration) has no CSRF cookie, and a tool's page
#: posting through the browser (authorization request, deep-linking / content-item answers) is
#: cross-site by nature.
CSRF_EXEMPT = {
    "lti13_authorize",
    "lti13_token",
    "ags_lineitems",
    "ags_lineitem",
    "ags_scores",
    "ags_results",
    "nrps_memberships",
    "pns_handlers",
    "lti13_deep_linking_return",
    "lti11_content_item_return",
    "lti11_outcomes",
    "lti13_register",
}

TOOL = "https://tool.example"
REDIRECT_URI = f"{TOOL}/lti/launch/"


def make_world() -> World:
    from wagtail_lti.models import Organization, Placement

    org = Organization.add_root(name="Hardening org")
    provider11 = make_provider(org, name="Hardening 1.1 tool", key=TOOL_KEY, secret=TOOL_SECRET)
    link11 = make_link(provider11, name="Drill", requires_score=True, score_maximum=100)
    tool = make_tool(
        org,
        name="Hardening 1.3 tool",
        login_url=f"{TOOL}/lti/login/",
        launch_url=f"{TOOL}/lti/",
        redirect_uris=REDIRECT_URI,
        allow_ags=True,
        allow_nrps=True,
    )
    link13 = make_link(tool.provider, name="Quiz", requires_score=True, score_maximum=10)
    course = make_course(org, [link11, link13], title="Hardening course")
    learner = make_learner("hana")
    enroll(learner, course)
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    placement13 = placements[link13.pk]
    token = tool.access_token([*ALL_AGS_SCOPES, NRPS_SCOPE, NOTICE_HANDLERS_SCOPE])
    return World(
        registration_token=registration_token(org, learner),
        course=course,
        learner=learner,
        provider11=provider11,
        placement11=placements[link11.pk],
        tool=tool,
        placement13=placement13,
        line_item=line_item_for(placement13),
        access_token=token,
        secrets={"LTI 1.1 secret": TOOL_SECRET, "access token": token},
    )


def registration_token(organization, user) -> str:
    """A Dynamic Registration token, as an editor's "Register a tool by URL" hands to a tool."""
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_lti.models import ToolRegistration
    from wagtail_lti.registration import service as registration

    token = secrets.token_urlsafe(32)
    ToolRegistration.objects.create(
        token_hash=registration._hash(token),
        user=user,
        organization=organization,
        tool_url="https://tool.example/register",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    return token


def post_outcome(client, body: bytes, **sign_kwargs):
    """POST ``body`` to Basic Outcomes signed as a tool signs it (OAuth 1.0a + body hash)."""
    return send(client, sign_outcome(body, **sign_kwargs))


def pox_request(operation: str, sourcedid: str, score: str | None = None) -> bytes:
    result = ""
    if score is not None:
        result = (
            "<result><resultScore><language>en</language>"
            f"<textString>{score}</textString></resultScore></result>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<imsx_POXEnvelopeRequest xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">'
        "<imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version>"
        "<imsx_messageIdentifier>m-1</imsx_messageIdentifier></imsx_POXRequestHeaderInfo>"
        f"</imsx_POXHeader><imsx_POXBody><{operation}Request><resultRecord><sourcedGUID>"
        f"<sourcedId>{sourcedid}</sourcedId></sourcedGUID>{result}</resultRecord>"
        f"</{operation}Request></imsx_POXBody></imsx_POXEnvelopeRequest>"
    ).encode()


# --- Error formats ------------------------------------------------------------------------------


RFC6749_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}


def _json(response) -> dict:
    assert response["Content-Type"].split(";")[0].strip().endswith("json"), response["Content-Type"]
    data = json.loads(response.content)
    assert isinstance(data, dict), data
    return data


def check_pox_error(response) -> None:
    """LTI 1.1 Basic Outcomes: an imsx_POXEnvelopeResponse with codeMajor failure/unsupported."""
    assert response["Content-Type"].startswith("application/xml"), response["Content-Type"]
    root = parse_xml(response.content)
    assert root.tag == POX_NS + "imsx_POXEnvelopeResponse"
    code = root.find(f".//{POX_NS}imsx_codeMajor")
    assert code is not None and code.text in {"failure", "unsupported"}, response.content


def check_oauth2_error(response) -> None:
    """RFC 6749 §5.2: JSON with a registered ``error`` code, never cached."""
    data = _json(response)
    assert data.get("error") in RFC6749_ERRORS, data
    assert isinstance(data.get("error_description", ""), str)
    assert response["Cache-Control"] == "no-store"


def check_service_error(response) -> None:
    """AGS / NRPS / JWKS: a JSON object with an ``error`` string; RFC 6750 §3 challenges on 401."""
    data = _json(response)
    assert isinstance(data.get("error"), str) and data["error"], data
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def check_oidc_error(response) -> None:
    """OIDC Core §3.1.2.6: an error page (unknown client or redirect URI: never redirected), or
    the error posted back to the registered redirect URI with ``error``."""
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    if response.status_code >= 400:
        return
    assert f'action="{REDIRECT_URI}"' in text or 'name="wagtail_lti_repost"' in text, text
    if f'action="{REDIRECT_URI}"' in text:
        assert 'name="error"' in text and 'name="id_token"' not in text, text


def check_html_error(response) -> None:
    """Answers to a tool's form POST made through the editor's browser: an HTML page."""
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]


# --- Capturing every log record -------------------------------------------------------------


class LogCapture(logging.Handler):
    """Every record of every logger, formatted with its traceback, at DEBUG level."""

    # Loggers of the example settings that do not propagate to the root logger.
    NON_PROPAGATING = ("django",)

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self):
        self._saved = []
        for name in ("", *self.NON_PROPAGATING, "wagtail_lti", "django.request"):
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
            if name in ("", *self.NON_PROPAGATING):
                logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        for logger, level in self._saved:
            logger.setLevel(level)
            logger.removeHandler(self)


def query(**params) -> str:
    return "?" + urlencode(params) if params else ""
