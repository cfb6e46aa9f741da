"""The example site's demo tool: a real LTI 1.1 and LTI 1.3 tool that talks to the platform over HTTP.

LTI 1.1 launches are signed here by an independent signer (oauthlib's ``Client``), and the tool's
Basic Outcomes requests are checked by an independent verifier (oauthlib's server-side
``SignatureOnlyEndpoint`` with a validator written in this file, plus the body hash).

The full loops run the platform (wagtail-lti) and the tool in the same Django test client: the
learner's browser is the test client; the server-to-server calls (the tool fetching the platform's
JWKS, getting an access token, posting AGS scores or Basic Outcomes, and the platform fetching the
tool's JWKS) go through ``requests`` sessions routed into the test client.
"""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from oauthlib.oauth1 import SIGNATURE_TYPE_BODY, RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1 import Client as OAuthClient
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.support.demo import route_demo_http
from tests.support.factories import enroll, make_course, make_learner, make_link
from tests.support.forms import read_page, the_form


BASE = "http://testserver"
KEY = "demo-key"
SECRET = "demo secret"
LTI11_LAUNCH = BASE + "/demo-tool/1.1/launch/"
LTI13_LAUNCH = BASE + "/demo-tool/1.3/launch/"

pytestmark = pytest.mark.django_db


# --- Helpers ---------------------------------------------------------------------------------------


def link_named(response, text: str) -> str:
    body = response.content.decode()
    for link in read_page(response).links:
        href = link.get("href", "")
        if href and href.replace("&", "&amp;") in body:
            start = body.find(href.replace("&", "&amp;"))
            if text in body[start : start + len(href) + 200]:
                return href
    raise AssertionError(f"no link {text!r} in {body}")


def post_form(client: Client, url: str, fields: dict):
    """Post like a browser posts an HTML form (application/x-www-form-urlencoded)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.post(path, urlencode(fields), content_type="application/x-www-form-urlencoded")


def lti11_params(**overrides) -> dict:
    params = {
        "lti_message_type": "basic-lti-launch-request",
        "lti_version": "LTI-1p0",
        "resource_link_id": "link-1",
        "resource_link_title": "Fire quiz",
        "user_id": "opaque-user-7",
        "roles": "Learner",
        "lis_person_name_full": "Lena Learner",
        "lis_person_contact_email_primary": "lena@example.com",
        "context_id": "course-1",
        "context_title": "Safety at work",
        "custom_level": "beginner",
        "lis_outcome_service_url": "https://platform.example/outcomes/",
        "lis_result_sourcedid": "sourced-123",
        "launch_presentation_return_url": "https://platform.example/return/?a=1",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def sign11(params: dict, *, key=KEY, secret=SECRET, url=LTI11_LAUNCH, **client_kwargs) -> dict:
    """Sign launch parameters as a platform does (OAuth 1.0a in the body), with oauthlib."""
    client = OAuthClient(
        key, client_secret=secret, signature_type=SIGNATURE_TYPE_BODY, **client_kwargs
    )
    _, _, body = client.sign(
        url,
        http_method="POST",
        body=params,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@pytest.fixture
def registration11(db):
    from demo_tool.models import ToolRegistration

    return ToolRegistration.objects.create(
        slug="test-11",
        name="Test platform",
        lti_version="1.1",
        consumer_key=KEY,
        shared_secret=SECRET,
    )


@pytest.fixture
def routed(monkeypatch):
    """Route the tool's and the platform's outgoing HTTP into the Django test client."""
    yield from route_demo_http(monkeypatch, BASE)


# --- LTI 1.1 launches ----------------------------------------------------------------------------


def test_lti11_launch_signed_by_an_independent_signer_is_shown(registration11):
    response = post_form(Client(), LTI11_LAUNCH, sign11(lti11_params()))
    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    for text in (
        "Lena Learner",
        "lena@example.com",
        "opaque-user-7",
        "Safety at work",
        "Fire quiz",
        "beginner",
        "https://platform.example/outcomes/",
        "sourced-123",
        "Learner",
    ):
        assert text in body, text
    # Shown in the platform's iframe: no X-Frame-Options: DENY.
    assert "X-Frame-Options" not in response
    form = the_form(response)
    assert form["action"] == reverse("demo_tool:lti11_score")
    assert form["fields"]["launch_id"].startswith("lti11-launch-")
    back = link_named(response, "Return to the course")
    assert back.startswith("https://platform.example/return/?")
    assert parse_qs(urlsplit(back).query) == {
        "a": ["1"],
        "lti_msg": ["You came back from the demo tool."],
    }


def test_lti11_launch_signed_in_the_authorization_header_is_accepted(registration11):
    client = OAuthClient(KEY, client_secret=SECRET)  # signature in the Authorization header
    _, headers, body = client.sign(
        LTI11_LAUNCH,
        http_method="POST",
        body=lti11_params(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = Client().post(
        "/demo-tool/1.1/launch/",
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": headers["Authorization"]},
    )
    assert response.status_code == 200, response.content.decode()


def test_lti11_launch_with_a_bad_signature_is_refused(registration11):
    response = post_form(Client(), LTI11_LAUNCH, sign11(lti11_params(), secret="not the secret"))
    assert response.status_code == 401
    assert "signature is not valid" in response.content.decode()


def test_lti11_launch_changed_after_signing_is_refused(registration11):
    fields = sign11(lti11_params())
    fields["roles"] = "Instructor"
    response = post_form(Client(), LTI11_LAUNCH, fields)
    assert response.status_code == 401
    assert "signature is not valid" in response.content.decode()


def test_lti11_replayed_nonce_is_refused(registration11):
    """OAuth 1.0a §3.3 / LTI 1.1 §4: a nonce is accepted once."""
    fields = sign11(lti11_params())
    assert post_form(Client(), LTI11_LAUNCH, fields).status_code == 200
    again = post_form(Client(), LTI11_LAUNCH, fields)
    assert again.status_code == 401
    assert "already used" in again.content.decode()


def test_a_forged_launch_does_not_use_up_the_nonce(registration11):
    good = sign11(lti11_params(), nonce="n-123456789")
    forged = sign11(lti11_params(), nonce="n-123456789", secret="wrong")
    assert post_form(Client(), LTI11_LAUNCH, forged).status_code == 401
    assert post_form(Client(), LTI11_LAUNCH, good).status_code == 200


def test_lti11_stale_timestamp_is_refused(registration11):
    fields = sign11(lti11_params(), timestamp=str(int(time.time()) - 3600))
    response = post_form(Client(), LTI11_LAUNCH, fields)
    assert response.status_code == 401
    assert "timestamp" in response.content.decode()


def test_lti11_unknown_key_is_refused(registration11):
    response = post_form(Client(), LTI11_LAUNCH, sign11(lti11_params(), key="someone-else"))
    assert response.status_code == 401
    assert "does not know the consumer key" in response.content.decode()


def test_lti11_unsigned_launch_is_refused(registration11):
    response = post_form(Client(), LTI11_LAUNCH, lti11_params())
    assert response.status_code == 401
    assert "not signed" in response.content.decode()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"lti_message_type": "ContentItemSelectionRequest"},
            "only handles basic-lti-launch-request",
        ),
        ({"resource_link_id": None}, "no resource_link_id"),
        ({"lti_version": None}, "no valid lti_version"),
    ],
)
def test_lti11_signed_but_invalid_messages_are_refused(registration11, override, message):
    response = post_form(Client(), LTI11_LAUNCH, sign11(lti11_params(**override)))
    assert response.status_code == 401
    assert message in response.content.decode()


def test_lti11_launch_must_be_a_post(registration11):
    response = Client().get("/demo-tool/1.1/launch/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- LTI 1.1 Basic Outcomes, checked by an independent verifier ------------------------------------


class _OutcomeVerifier(RequestValidator):
    """An LTI 1.1 consumer's check of a tool's signed outcomes request, written for this test."""

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)

    def __init__(self):
        super().__init__()
        self.nonces: set[tuple[str, str]] = set()

    def check_client_key(self, client_key):
        return client_key == KEY

    def check_nonce(self, nonce):
        return bool(nonce)

    @property
    def dummy_client(self):
        return "dummy"

    def validate_client_key(self, client_key, request):
        return client_key == KEY

    def get_client_secret(self, client_key, request):
        return SECRET if client_key == KEY else "dummy"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        if (client_key, nonce) in self.nonces:
            return False
        self.nonces.add((client_key, nonce))
        return abs(time.time() - int(timestamp)) < 300


class _ConsumerStandIn(BaseAdapter):
    """Answers the tool's outcomes POST as a consumer would, after verifying it."""

    def __init__(self, code_major="success"):
        super().__init__()
        self.code_major = code_major
        self.verifier = _OutcomeVerifier()
        self.received: list[tuple[bool, bool, bytes]] = []

    def send(self, request, **kwargs):
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        valid, oauth_request = SignatureOnlyEndpoint(self.verifier).validate_request(
            request.url, "POST", body.decode(), dict(request.headers)
        )
        oauth = dict(oauth_request.oauth_params) if oauth_request is not None else {}
        expected_hash = base64.b64encode(hashlib.sha1(body).digest()).decode()  # noqa: S324
        hash_ok = oauth.get("oauth_body_hash") == expected_hash
        self.received.append((valid, hash_ok, body))
        ok = valid and hash_ok
        response = requests.Response()
        response.status_code = 200 if ok else 401
        response.headers = CaseInsensitiveDict({"Content-Type": "application/xml"})
        response._content = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<imsx_POXEnvelopeResponse xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">'
            "<imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_version>V1.0</imsx_version>"
            "<imsx_messageIdentifier>answer-1</imsx_messageIdentifier><imsx_statusInfo>"
            f"<imsx_codeMajor>{self.code_major if ok else 'failure'}</imsx_codeMajor>"
            "<imsx_severity>status</imsx_severity>"
            f"<imsx_description>{'Score recorded' if ok else 'Bad signature'}</imsx_description>"
            "</imsx_statusInfo></imsx_POXResponseHeaderInfo></imsx_POXHeader>"
            "<imsx_POXBody><replaceResultResponse/></imsx_POXBody></imsx_POXEnvelopeResponse>"
        ).encode()
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def consumer(monkeypatch):
    from demo_tool import http as tool_http

    session = requests.Session()
    adapter = _ConsumerStandIn()
    session.mount("https://platform.example/", adapter)
    monkeypatch.setattr(tool_http, "_session", session)
    return adapter


def launch11(client: Client) -> str:
    response = post_form(client, LTI11_LAUNCH, sign11(lti11_params()))
    assert response.status_code == 200, response.content.decode()
    return the_form(response)["fields"]["launch_id"]


def test_lti11_score_is_posted_with_a_valid_signature_and_body_hash(registration11, consumer):
    """LTI 1.1 §6 + OAuth Body Hash: replaceResult signed in the header, body hashed."""
    client = Client()
    launch_id = launch11(client)
    response = client.post("/demo-tool/1.1/score/", {"launch_id": launch_id, "score": "85"})
    assert response.status_code == 200
    [(valid, hash_ok, body)] = consumer.received
    assert valid and hash_ok
    xml = body.decode()
    assert "<sourcedId>sourced-123</sourcedId>" in xml
    assert "<textString>0.85</textString>" in xml
    assert "<imsx_messageIdentifier>" in xml
    page = response.content.decode()
    assert "The platform accepted the score" in page
    assert "Score recorded" in page
    back = link_named(response, "Return to the course")
    assert parse_qs(urlsplit(back).query)["lti_msg"] == ["The demo tool sent your score: 85 %."]


def test_lti11_platform_refusal_is_shown(registration11, consumer):
    consumer.code_major = "failure"
    client = Client()
    launch_id = launch11(client)
    response = client.post("/demo-tool/1.1/score/", {"launch_id": launch_id, "score": "40"})
    assert response.status_code == 200
    assert "The platform did not accept the score" in response.content.decode()


@pytest.mark.parametrize("score", ["101", "-1", "abc", ""])
def test_lti11_score_out_of_range_is_a_form_error(registration11, consumer, score):
    client = Client()
    launch_id = launch11(client)
    response = client.post("/demo-tool/1.1/score/", {"launch_id": launch_id, "score": score})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert consumer.received == []


def test_lti11_score_for_an_unknown_launch_is_refused(registration11, consumer):
    response = Client().post(
        "/demo-tool/1.1/score/", {"launch_id": "lti11-launch-nope", "score": "50"}
    )
    assert response.status_code == 400
    assert "no longer knows this launch" in response.content.decode()
    assert consumer.received == []


def test_lti11_without_outcome_service_there_is_nothing_to_send(registration11, consumer):
    client = Client()
    params = lti11_params(lis_outcome_service_url=None, lis_result_sourcedid=None)
    response = post_form(client, LTI11_LAUNCH, sign11(params))
    assert response.status_code == 200
    assert "no grade service" in response.content.decode()
    assert read_page(response).forms == []


def test_return_url_that_is_not_http_is_not_linked(registration11):
    params = lti11_params(launch_presentation_return_url="javascript:alert(1)")
    response = post_form(Client(), LTI11_LAUNCH, sign11(params))
    assert response.status_code == 200
    assert "Return to the course" not in response.content.decode()


# --- Setup of both sides -----------------------------------------------------------------------


def test_ensure_demo_registrations_creates_both_sides_once(orgs):
    from demo_tool.models import ToolRegistration
    from demo_tool.setup import ensure_demo_registrations
    from wagtail_lti.models import LtiProvider

    first = ensure_demo_registrations("http://127.0.0.1:8000/", orgs["acme"])
    assert len(first["created"]) == 4
    p11, p13 = first["lti11"]["provider"], first["lti13"]["provider"]
    assert p11.organization == orgs["acme"] and p13.organization == orgs["acme"]
    assert p11.consumer_key == first["lti11"]["registration"].consumer_key
    assert p11.secret == first["lti11"]["registration"].shared_secret != ""
    assert p13.lti_version == "1.3"
    assert p13.login_url == "http://127.0.0.1:8000/demo-tool/1.3/login/"
    assert p13.get_redirect_uris() == ["http://127.0.0.1:8000/demo-tool/1.3/launch/"]
    assert p13.jwks_url == "http://127.0.0.1:8000/demo-tool/1.3/jwks/"
    tool13 = first["lti13"]["registration"]
    assert (tool13.issuer, tool13.client_id, tool13.deployment_id) == (
        "http://127.0.0.1:8000",
        p13.client_id,
        p13.deployment_id,
    )
    assert tool13.auth_login_url == "http://127.0.0.1:8000/lti/1.3/authorize/"
    assert tool13.auth_token_url == "http://127.0.0.1:8000/lti/1.3/token/"
    assert tool13.key_set_url == "http://127.0.0.1:8000/lti/1.3/jwks/"

    again = ensure_demo_registrations("http://localhost:9000", orgs["sales"])
    assert again["created"] == []
    assert LtiProvider.objects.count() == 2 and ToolRegistration.objects.count() == 2
    p13.refresh_from_db()
    tool13.refresh_from_db()
    assert p13.organization == orgs["acme"]  # existing providers keep their owner
    assert p13.login_url == "http://localhost:9000/demo-tool/1.3/login/"
    assert tool13.issuer == "http://localhost:9000"
    assert tool13.client_id == p13.client_id
    assert again["lti11"]["secret"] == first["lti11"]["secret"]


def test_issuer_setting_wins_over_the_base_url(orgs, settings):
    from demo_tool.setup import ensure_demo_registrations

    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "ISSUER": "https://lms.example.com"}
    result = ensure_demo_registrations("http://127.0.0.1:8000", orgs["acme"])
    assert result["lti13"]["registration"].issuer == "https://lms.example.com"
    assert result["lti13"]["registration"].auth_token_url == "http://127.0.0.1:8000/lti/1.3/token/"


def test_tool_jwks_publishes_the_key_pylti1p3_signs_with(orgs):
    from demo_tool.lti13 import tool_conf
    from demo_tool.setup import ensure_demo_registrations

    result = ensure_demo_registrations(BASE, orgs["acme"])
    tool = result["lti13"]["registration"]
    response = Client().get("/demo-tool/1.3/jwks/")
    assert response.status_code == 200
    keys = response.json()["keys"]
    kid = tool_conf().find_registration_by_params(tool.issuer, tool.client_id).get_kid()
    assert [(k["kid"], k["alg"], k["use"], k["kty"]) for k in keys] == [
        (kid, "RS256", "sig", "RSA")
    ]
    assert "d" not in keys[0]


# --- LTI 1.3 tool endpoints ------------------------------------------------------------------------


def test_lti13_login_from_an_unknown_platform_is_refused(orgs):
    from demo_tool.setup import ensure_demo_registrations

    ensure_demo_registrations(BASE, orgs["acme"])
    response = Client().post(
        "/demo-tool/1.3/login/",
        {"iss": "https://other.example", "login_hint": "x", "target_link_uri": LTI13_LAUNCH},
    )
    assert response.status_code == 400
    assert "no LTI 1.3 registration" in response.content.decode()


def test_lti13_login_for_a_target_outside_the_tool_is_refused(orgs):
    from demo_tool.setup import ensure_demo_registrations

    result = ensure_demo_registrations(BASE, orgs["acme"])
    response = Client().get(
        "/demo-tool/1.3/login/",
        {
            "iss": BASE,
            "client_id": result["lti13"]["client_id"],
            "login_hint": "x",
            "target_link_uri": "https://evil.example/",
        },
    )
    assert response.status_code == 400
    assert "not a page of the demo tool" in response.content.decode()


def test_lti13_login_redirects_to_the_platform_with_a_fixed_redirect_uri(orgs):
    """LTI Core 1.3 §5.1.1.2: the authentication request, by GET, with state and nonce."""
    from demo_tool.setup import ensure_demo_registrations

    result = ensure_demo_registrations(BASE, orgs["acme"])
    client = Client()
    response = client.get(
        "/demo-tool/1.3/login/",
        {
            "iss": BASE,
            "client_id": result["lti13"]["client_id"],
            "login_hint": "u1",
            "lti_message_hint": "hint",
            "target_link_uri": LTI13_LAUNCH + "?activity=2",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == BASE + "/lti/1.3/authorize/"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == LTI13_LAUNCH
    assert query["client_id"] == result["lti13"]["client_id"]
    assert (query["login_hint"], query["lti_message_hint"]) == ("u1", "hint")
    assert query["response_type"] == "id_token" and query["response_mode"] == "form_post"
    assert query["state"] in {c.key[len("lti1p3-") :] for c in response.cookies.values()}


def test_lti13_launch_must_be_a_post_and_needs_a_token(orgs):
    from demo_tool.setup import ensure_demo_registrations

    ensure_demo_registrations(BASE, orgs["acme"])
    assert Client().get("/demo-tool/1.3/launch/").status_code == 405
    response = Client().post("/demo-tool/1.3/launch/", {"state": "state-x"})
    assert response.status_code == 401
    assert "The launch was refused" in response.content.decode()


def test_lti13_platform_error_response_is_shown(orgs):
    response = Client().post(
        "/demo-tool/1.3/launch/",
        {"error": "login_required", "error_description": "Nobody is signed in."},
    )
    assert response.status_code == 400
    assert "Nobody is signed in. (login_required)" in response.content.decode()


def test_lti13_score_for_an_unknown_launch_is_refused(orgs):
    response = Client().post(
        "/demo-tool/1.3/score/", {"launch_id": "lti1p3-launch-nope", "score": "50"}
    )
    assert response.status_code == 400
    assert "no longer knows this launch" in response.content.decode()


# --- The whole loop against the platform -------------------------------------------------------


@pytest.fixture
def demo(orgs, routed):
    """The demo registrations, a course with a 1.1 and a 1.3 activity, an enrolled learner."""
    from demo_tool.setup import ensure_demo_registrations
    from wagtail_lti.models import Placement

    result = ensure_demo_registrations(BASE, orgs["acme"])
    link11 = make_link(
        result["lti11"]["provider"],
        name="Quiz 1.1",
        url=LTI11_LAUNCH,
        requires_score=True,
        score_maximum=100,
    )
    link13 = make_link(
        result["lti13"]["provider"],
        name="Quiz 1.3",
        url=LTI13_LAUNCH,
        requires_score=True,
        score_maximum=100,
    )
    course = make_course(orgs["engineering"], [link11, link13], title="Safety at work")
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    client = Client()
    client.force_login(learner)
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    return {
        "result": result,
        "course": course,
        "learner": learner,
        "client": client,
        "p11": placements[link11.pk],
        "p13": placements[link13.pk],
        "tool_session": routed[0],
        "platform_session": routed[1],
    }


def activity(placement, user):
    from wagtail_lti.models import LearnerActivity

    return LearnerActivity.objects.get(placement=placement, user=user)


def test_full_lti11_loop_launch_score_and_return(demo):
    client = demo["client"]
    start = client.post(reverse("wagtail_lti:launch", args=[demo["p11"].lti_id]))
    assert start.status_code == 200
    form = the_form(start)
    assert form["action"] == LTI11_LAUNCH

    page = post_form(client, form["action"], form["fields"])
    assert page.status_code == 200, page.content.decode()
    assert "Lena Learner" in page.content.decode()
    score_form = the_form(page)

    answer = client.post(score_form["action"], {**score_form["fields"], "score": "85"})
    assert answer.status_code == 200
    assert "The platform accepted the score" in answer.content.decode(), answer.content.decode()
    done = activity(demo["p11"], demo["learner"])
    assert done.status == "completed"
    assert done.score == pytest.approx(0.85)
    assert ("POST", BASE + reverse("wagtail_lti:lti11_outcomes")) in demo[
        "tool_session"
    ].adapter.calls

    back = link_named(answer, "Return to the course")
    returned = client.get(back, follow=True)
    assert returned.status_code == 200
    assert "The demo tool sent your score: 85 %." in returned.content.decode()


def id_token_form(demo, client=None) -> dict:
    """The learner opens the 1.3 activity, through the tool's login initiation to our
    authorization endpoint; returns the id_token form the browser would post to the tool."""
    client = client or demo["client"]
    start = client.post(reverse("wagtail_lti:launch", args=[demo["p13"].lti_id]))
    assert start.status_code == 200, start.content.decode()
    init = the_form(start)
    assert init["action"] == BASE + "/demo-tool/1.3/login/"
    login = post_form(client, init["action"], init["fields"])
    assert login.status_code == 302, login.content.decode()
    authorized = client.get(login["Location"])
    assert authorized.status_code == 200, authorized.content.decode()
    token_form = the_form(authorized)
    assert token_form["action"] == LTI13_LAUNCH
    return token_form


def lti13_launch(demo, client=None):
    """The learner opens the 1.3 activity; returns (tool page response, id_token form fields)."""
    client = client or demo["client"]
    token_form = id_token_form(demo, client)
    page = post_form(client, token_form["action"], token_form["fields"])
    return page, token_form["fields"]


def test_full_lti13_loop_launch_ags_score_and_return(demo):
    """PyLTI1p3 validates the platform's id_token, then put_grade goes through token + AGS."""
    client = demo["client"]
    page, _ = lti13_launch(demo)
    assert page.status_code == 200, page.content.decode()
    body = page.content.decode()
    for text in (
        "Lena Learner",
        "Safety at work",
        "Quiz 1.3",
        "Assignment and Grade Services",
        "Offered",
        "provider",
    ):
        assert text in body, text
    assert "X-Frame-Options" not in page
    score_form = the_form(page)
    assert score_form["action"] == reverse("demo_tool:lti13_score")

    answer = client.post(score_form["action"], {**score_form["fields"], "score": "72.5"})
    assert answer.status_code == 200
    assert "The platform accepted the score" in answer.content.decode(), answer.content.decode()
    done = activity(demo["p13"], demo["learner"])
    assert done.status == "completed"
    assert done.score == pytest.approx(0.725)
    calls = demo["tool_session"].adapter.calls
    assert ("GET", BASE + reverse("wagtail_lti:lti13_jwks")) in calls
    assert ("POST", BASE + reverse("wagtail_lti:lti13_token")) in calls
    # The platform checked the client assertion with the key from the tool's JWKS URL.
    assert ("GET", BASE + "/demo-tool/1.3/jwks/") in demo["platform_session"].adapter.calls

    back = link_named(answer, "Return to the course")
    returned = client.get(back, follow=True)
    assert "The demo tool sent your score: 72.5 %." in returned.content.decode()


def test_lti13_replayed_id_token_is_refused(demo):
    """LTI Core 1.3 §5.1.3 / Security §5.1.1.5: the nonce is used once; a re-post is refused."""
    client = demo["client"]
    page, token_fields = lti13_launch(demo)
    assert page.status_code == 200
    again = post_form(client, LTI13_LAUNCH, token_fields)
    assert again.status_code == 401
    assert "Invalid Nonce" in again.content.decode()


def test_lti13_tampered_id_token_is_refused(demo):
    client = demo["client"]
    fields = id_token_form(demo)["fields"]
    header, payload, signature = fields["id_token"].split(".")
    fields["id_token"] = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = post_form(client, LTI13_LAUNCH, fields)
    assert response.status_code == 401
    assert "Can&#x27;t decode id_token: Signature verification failed" in response.content.decode()


def test_lti13_launch_without_the_state_cookie_is_refused(demo):
    fields = id_token_form(demo)["fields"]
    stranger = Client()  # another browser: no state cookie
    response = post_form(stranger, LTI13_LAUNCH, fields)
    assert response.status_code == 401
    assert "State not found" in response.content.decode()


# --- With the example site's demo data -----------------------------------------------------------


def test_demo_data_launches_and_scores_through_the_demo_tool(routed):
    """``load_demo_data`` leaves both sides registered: the demo course's scored activities work."""
    from io import StringIO

    from django.core.management import call_command

    from demo_tool.models import ToolRegistration
    from wagtail_lti.models import LtiProvider, Placement

    call_command("load_demo_data", "--url", BASE + "/", stdout=StringIO())
    assert ToolRegistration.objects.count() == 2
    p11 = LtiProvider.objects.get(lti_version="1.1")
    p13 = LtiProvider.objects.get(lti_version="1.3")
    tool11 = ToolRegistration.objects.get(lti_version="1.1")
    tool13 = ToolRegistration.objects.get(lti_version="1.3")
    assert (tool11.consumer_key, tool11.shared_secret) == (p11.consumer_key, p11.secret)
    assert (tool13.client_id, tool13.deployment_id, tool13.issuer) == (
        p13.client_id,
        p13.deployment_id,
        BASE,
    )

    client = Client()
    assert client.login(username="learner1", password="learner1")
    scored = {
        p.resource_link.provider.lti_version: p
        for p in Placement.objects.select_related("resource_link__provider")
        if p.resource_link.requires_score
    }
    # LTI 1.1: the signed launch form, the tool's page, Basic Outcomes.
    form = the_form(client.post(reverse("wagtail_lti:launch", args=[scored["1.1"].lti_id])))
    page = post_form(client, form["action"], form["fields"])
    assert page.status_code == 200, page.content.decode()
    score_form = the_form(page)
    answer = client.post(score_form["action"], {**score_form["fields"], "score": "90"})
    assert "The platform accepted the score" in answer.content.decode(), answer.content.decode()
    # LTI 1.3: login initiation, authorization, id_token, AGS.
    page, _ = lti13_launch({"client": client, "p13": scored["1.3"]})
    assert page.status_code == 200, page.content.decode()
    assert "activity" in page.content.decode() and "lab" in page.content.decode()
    score_form = the_form(page)
    answer = client.post(score_form["action"], {**score_form["fields"], "score": "60"})
    assert "The platform accepted the score" in answer.content.decode(), answer.content.decode()

    from wagtail_lti.models import LearnerActivity

    done = {
        a.placement.resource_link.provider.lti_version: a
        for a in LearnerActivity.objects.filter(user__username="learner1").select_related(
            "placement__resource_link__provider"
        )
        if a.placement.resource_link.requires_score
    }
    assert done["1.1"].status == done["1.3"].status == "completed"
    assert (done["1.1"].score, done["1.3"].score) == (pytest.approx(0.9), pytest.approx(0.6))


# --- The tool's home page and registering platforms ----------------------------------------------


def test_index_lists_urls_and_hides_credentials_from_visitors(registration11):
    response = Client().get("/demo-tool/")
    assert response.status_code == 200
    body = response.content.decode()
    for url in (
        LTI11_LAUNCH,
        BASE + "/demo-tool/1.3/login/",
        LTI13_LAUNCH,
        BASE + "/demo-tool/1.3/jwks/",
    ):
        assert url in body
    assert SECRET not in body
    assert "Register an LTI 1.3 platform" not in body
    refused = Client().post("/demo-tool/", {"name": "x"})
    assert refused.status_code == 403


def test_in_development_mode_the_credentials_and_registration_form_are_shown(
    registration11, settings
):
    settings.DEBUG = True
    body = Client().get("/demo-tool/").content.decode()
    assert SECRET in body and KEY in body
    assert "Register an LTI 1.3 platform" in body


def test_a_platform_registered_through_the_form_gets_its_own_key(settings):
    from demo_tool.lti13 import tool_jwks
    from demo_tool.models import ToolRegistration

    settings.DEBUG = True
    fields = {
        "name": "Another LMS",
        "issuer": "https://lms.example.com",
        "client_id": "client-9",
        "deployment_id": "dep-1",
        "auth_login_url": "https://lms.example.com/auth",
        "auth_token_url": "https://lms.example.com/token",
        "key_set_url": "https://lms.example.com/jwks",
    }
    client = Client(enforce_csrf_checks=True)
    page = client.get("/demo-tool/")
    token = the_form(page)["fields"]["csrfmiddlewaretoken"]
    response = client.post("/demo-tool/", {**fields, "csrfmiddlewaretoken": token})
    assert response.status_code == 200, response.content.decode()
    assert "Platform registered" in response.content.decode()
    row = ToolRegistration.objects.get(client_id="client-9")
    assert (row.lti_version, row.issuer, row.deployment_id) == (
        "1.3",
        "https://lms.example.com",
        "dep-1",
    )
    assert "PRIVATE KEY" in row.private_key_pem
    assert len(tool_jwks()["keys"]) == 1

    again = client.post("/demo-tool/", {**fields, "csrfmiddlewaretoken": token})
    assert again.status_code == 400
    assert "already registered" in again.content.decode()
    missing = client.post(
        "/demo-tool/", {**fields, "client_id": "", "issuer": "lms", "csrfmiddlewaretoken": token}
    )
    assert missing.status_code == 400
    assert missing.content.decode().count('aria-invalid="true" aria-describedby') == 2
    assert ToolRegistration.objects.count() == 1


def test_a_provider_an_editor_created_can_be_registered_with_the_tool_and_launched(orgs, routed):
    """The 1.3 loop with a provider made like the admin makes it, then registered on the tool side."""
    from demo_tool.setup import register_provider_with_tool, tool_urls
    from tests.support.factories import make_provider
    from wagtail_lti.models import Placement

    urls = tool_urls(BASE)
    provider = make_provider(
        orgs["acme"],
        name="Editor's demo tool",
        version="1.3",
        login_url=urls["lti13_login"],
        launch_url=urls["lti13_launch"],
        redirect_uris=urls["lti13_launch"],
        jwks_url=urls["lti13_jwks"],
    )
    tool = register_provider_with_tool(provider, BASE)
    assert register_provider_with_tool(provider, BASE).pk == tool.pk
    assert (tool.issuer, tool.client_id, tool.deployment_id) == (
        BASE,
        provider.client_id,
        provider.deployment_id,
    )
    link = make_link(provider, url=LTI13_LAUNCH, requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link])
    learner = make_learner("lena")
    enroll(learner, course)
    client = Client()
    client.force_login(learner)
    placement = Placement.objects.get(page=course)
    page, _ = lti13_launch({"client": client, "p13": placement})
    assert page.status_code == 200, page.content.decode()
    score_form = the_form(page)
    answer = client.post(score_form["action"], {**score_form["fields"], "score": "50"})
    assert "The platform accepted the score" in answer.content.decode(), answer.content.decode()
    assert activity(placement, learner).score == pytest.approx(0.5)
    # The platform took the tool's key from the tool's JWKS URL (the provider has no PEM).
    assert ("GET", urls["lti13_jwks"]) in routed[1].adapter.calls


def test_register_provider_with_tool_lti11(orgs):
    from demo_tool.setup import register_provider_with_tool
    from tests.support.factories import SECRET as PROVIDER_SECRET
    from tests.support.factories import make_provider

    provider = make_provider(orgs["acme"], key="editor-key")
    tool = register_provider_with_tool(provider, BASE)
    assert (tool.lti_version, tool.consumer_key, tool.shared_secret) == (
        "1.1",
        "editor-key",
        PROVIDER_SECRET,
    )
    params = lti11_params()
    response = post_form(
        Client(), LTI11_LAUNCH, sign11(params, key="editor-key", secret=PROVIDER_SECRET)
    )
    assert response.status_code == 200
