"""The provider check (``launch/provider_check.py``) against tools written here: a PyLTI1p3
login initiation endpoint and a JWKS for LTI 1.3, an oauthlib-checked launch URL that answers a
bad signature the LTI 1.1 way (a redirect to ``launch_presentation_return_url`` with
``lti_errormsg``). Each mismatch is reported; a matching tool passes.

The tools answer through a ``requests`` transport adapter mounted on ``security/outbound``'s
session, so every rule of an outbound request (no redirect followed, size, time) still applies.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.test import Client, RequestFactory
from django.urls import reverse
from lti import ToolProvider
from oauthlib.oauth1 import SignatureOnlyEndpoint
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.support.factories import KEY, SECRET, make_provider
from tests.support.lti13 import ISSUER, make_tool
from tests.support.oauth1 import ToolValidator
from tests.tooling.lti13_tool import make_tool_conf
from wagtail_lti.launch.provider_check import FAILED, OK, check_provider
from wagtail_lti.models import LaunchLogEntry
from wagtail_lti.security import outbound


pytestmark = pytest.mark.django_db

TOOL = "https://tool.example"


class ToolServer(BaseAdapter):
    """Answers the platform's outbound requests with ``handler(request) -> (status, headers, body)``."""

    def __init__(self, handler):
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        status, headers, body = self.handler(request)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = body.encode() if isinstance(body, str) else body
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def serve():
    session = outbound.http_session()
    mounted = []

    def mount(prefix, handler):
        server = ToolServer(handler)
        session.mount(prefix, server)
        mounted.append(prefix)
        return server

    yield mount
    for prefix in mounted:
        session.adapters.pop(prefix, None)


def editor_request(user):
    request = RequestFactory().post("/admin/", HTTP_HOST="testserver")
    request.user = user
    return request


# --- LTI 1.3 ------------------------------------------------------------------------------------


@pytest.fixture
def tool13(orgs, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    return make_tool(
        orgs["acme"],
        name="Checked tool",
        key="",
        secret=None,
        use_pem=False,
        jwks_url=f"{TOOL}/jwks.json",
        login_url=f"{TOOL}/login/",
        launch_url=f"{TOOL}/launch/",
        redirect_uris=f"{TOOL}/launch/",
    )


def pylti_login_endpoint(conf):
    """The tool's OIDC login initiation URL, answered by PyLTI1p3."""

    def handle(request):
        parts = urlsplit(request.url)
        django_request = RequestFactory().get(
            parts.path, dict(parse_qsl(parts.query)), HTTP_HOST="tool.example", secure=True
        )
        try:
            answer = DjangoOIDCLogin(
                django_request, conf, launch_data_storage=DjangoCacheDataStorage()
            ).redirect(f"{TOOL}/launch/")
        except Exception as exc:  # noqa: BLE001 - the tool's own refusal page
            return 400, {"Content-Type": "text/plain"}, f"Login refused: {exc}"
        return answer.status_code, {"Location": answer["Location"]}, ""

    return handle


def conf_of(tool, **overrides):
    values = {
        "issuer": ISSUER,
        "client_id": tool.provider.client_id,
        "deployment_id": tool.provider.deployment_id,
        "private_pem": tool.private_pem,
        "public_pem": tool.public_pem,
        "platform_base": ISSUER,
        **overrides,
    }
    return make_tool_conf(**values)


def jwks_answer(keyset):
    import json

    return lambda request: (200, {"Content-Type": "application/json"}, json.dumps(keyset))


def serve_tool(serve, tool, *, keyset=None, conf=None):
    conf = conf or conf_of(tool)
    login = pylti_login_endpoint(conf)
    keys = jwks_answer(keyset if keyset is not None else tool.conf.get_jwks())

    def handle(request):
        return keys(request) if request.url.endswith("/jwks.json") else login(request)

    return serve(f"{TOOL}/", handle)


def items(report):
    return {item.name: (item.status, item.detail) for item in report.items}


def test_a_matching_lti13_tool_passes_every_check(tool13, serve, superuser):
    server = serve_tool(serve, tool13)
    report = check_provider(editor_request(superuser), tool13.provider)
    found = items(report)
    assert report.ok, found
    assert found["The tool's public keys"][0] == OK
    assert tool13.kid in found["The tool's public keys"][1]
    status, detail = found["The tool's login initiation URL"]
    assert status == OK and "authorization endpoint" in detail
    assert found["Redirect URIs"] == (OK, f"{TOOL}/launch/")
    login_request = next(r for r in server.requests if "/login/" in r.url)
    sent = dict(parse_qsl(urlsplit(login_request.url).query))
    assert sent["client_id"] == tool13.provider.client_id and sent["iss"] == ISSUER
    entry = LaunchLogEntry.objects.get()
    assert entry.action == "Provider check" and entry.is_test and entry.outcome == "ok"


def test_a_tool_registered_with_another_client_id_is_reported(tool13, serve, superuser):
    serve_tool(serve, tool13, conf=conf_of(tool13, client_id="someone-else"))
    report = check_provider(editor_request(superuser), tool13.provider)
    status, detail = items(report)["The tool's login initiation URL"]
    assert status == FAILED
    assert "HTTP 400" in detail and tool13.provider.client_id in detail
    assert "Login refused" in detail  # the tool's own words
    entry = LaunchLogEntry.objects.get()
    assert entry.outcome == "error" and "login initiation" in entry.error


@pytest.mark.parametrize(
    ("keyset", "expected"),
    [
        ({"keys": []}, "none usable"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k1"}]}, "none usable"),
        ("no kid", "have no “kid”"),
        ({"nothing": 1}, 'no "keys" array'),
    ],
)
def test_a_wrong_jwks_is_reported(tool13, serve, superuser, keyset, expected):
    if keyset == "no kid":
        keys = tool13.conf.get_jwks()["keys"]
        keyset = {"keys": [{k: v for k, v in key.items() if k != "kid"} for key in keys]}
    serve_tool(serve, tool13, keyset=keyset)
    report = check_provider(editor_request(superuser), tool13.provider)
    status, detail = items(report)["The tool's public keys"]
    assert status == FAILED and expected in detail
    assert not report.ok


def test_an_unreachable_login_url_is_reported(tool13, serve, superuser):
    serve_tool(serve, tool13)

    def down(request):
        raise requests.ConnectionError("refused")

    serve("https://down.example/", down)
    tool13.provider.login_url = "https://down.example/login/"
    tool13.provider.save()
    report = check_provider(editor_request(superuser), tool13.provider)
    status, detail = items(report)["The tool's login initiation URL"]
    assert status == FAILED and "could not be reached" in detail
    # Checking again reaches the tool again (a check's failure is not remembered).
    serve("https://down.example/", pylti_login_endpoint(conf_of(tool13)))
    again = check_provider(editor_request(superuser), tool13.provider)
    assert items(again)["The tool's login initiation URL"][0] != FAILED


def test_missing_settings_are_reported_without_any_request(orgs, serve, superuser):
    provider = make_provider(orgs["acme"], version="1.3", key="", secret=None)
    server = serve(f"{TOOL}/", lambda request: (500, {}, ""))
    found = items(check_provider(editor_request(superuser), provider))
    assert found["The tool's public keys"][0] == FAILED
    assert found["The tool's login initiation URL"] == (FAILED, "No login initiation URL is set.")
    assert found["Redirect URIs"][0] == FAILED
    assert not server.requests


# --- LTI 1.1 ------------------------------------------------------------------------------------


def lti11_tool(request):
    """A tool's launch URL: oauthlib checks the signature; a refusal goes back to the platform's
    return URL with ``lti_errormsg``, as LTI 1.1 §4.4 asks."""
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    params = dict(parse_qsl(body, keep_blank_values=True))
    endpoint = SignatureOnlyEndpoint(ToolValidator(key=KEY, secret=SECRET))
    valid, _ = endpoint.validate_request(
        request.url, "POST", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if valid:
        return 200, {"Content-Type": "text/html"}, "<h1>Welcome</h1>"
    tool = ToolProvider(params=params)
    tool.lti_errormsg = "Invalid OAuth signature: check the consumer key and secret."
    return 302, {"Location": tool.build_return_url()}, ""


def test_an_lti11_tool_that_accepts_the_signed_launch_passes(orgs, serve, superuser):
    provider = make_provider(orgs["acme"], launch_url=f"{TOOL}/lti/")
    server = serve(f"{TOOL}/", lti11_tool)
    report = check_provider(editor_request(superuser), provider)
    found = items(report)
    assert report.ok, found
    assert found["A signed launch"] == (OK, "The tool accepted the signed launch (HTTP 200).")
    sent = dict(parse_qsl(server.requests[0].body))
    assert sent["roles"] == "Instructor" and sent["oauth_consumer_key"] == KEY
    assert sent["launch_presentation_return_url"].startswith(
        "http://testserver" + reverse("wagtail_lti:test_launch_return")
    )


def test_a_wrong_lti11_secret_is_reported_with_the_tool_s_lti_errormsg(orgs, serve, superuser):
    provider = make_provider(orgs["acme"], launch_url=f"{TOOL}/lti/", secret="not the secret")
    serve(f"{TOOL}/", lti11_tool)
    report = check_provider(editor_request(superuser), provider)
    status, detail = items(report)["A signed launch"]
    assert status == FAILED
    assert "Invalid OAuth signature: check the consumer key and secret." in detail
    entry = LaunchLogEntry.objects.get()
    assert entry.tool_messages == {
        "lti_errormsg": "Invalid OAuth signature: check the consumer key and secret."
    }
    assert entry.is_test and entry.outcome == "error"


def test_a_401_answer_is_reported_as_a_likely_key_mismatch(orgs, serve, superuser):
    provider = make_provider(orgs["acme"], launch_url=f"{TOOL}/lti/", key="wrong-key")
    serve(f"{TOOL}/", lambda request: (401, {"Content-Type": "text/plain"}, "Unknown consumer"))
    status, detail = items(check_provider(editor_request(superuser), provider))["A signed launch"]
    assert status == FAILED and "HTTP 401" in detail and "Unknown consumer" in detail


def test_an_lti11_provider_without_a_secret_is_reported(orgs, serve, superuser):
    provider = make_provider(orgs["acme"], launch_url=f"{TOOL}/lti/", secret=None)
    found = items(check_provider(editor_request(superuser), provider))
    assert found["Key and secret"][0] == FAILED and "A signed launch" not in found


# --- The admin door -------------------------------------------------------------------------------


def test_the_check_page_runs_the_check_for_those_who_may_edit_the_provider(
    orgs, serve, make_editor
):
    provider = make_provider(orgs["acme"], launch_url=f"{TOOL}/lti/", secret="not the secret")
    serve(f"{TOOL}/", lti11_tool)
    url = reverse("wagtail_lti_provider_check", args=[provider.pk])
    client = Client()
    client.force_login(make_editor("anna", orgs["acme"]))
    assert b"data-run-provider-check" in client.get(url).content
    html = client.post(url).content.decode()
    assert 'data-check-ok="false"' in html and "Mismatches found" in html
    assert "Invalid OAuth signature" in html
    stranger = Client()
    stranger.force_login(make_editor("pat", orgs["partner"]))
    assert stranger.post(url).status_code == 404
    assert LaunchLogEntry.objects.count() == 1
