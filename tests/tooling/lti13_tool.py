"""A small LTI 1.3 tool built on PyLTI1p3, for tests only.

PyLTI1p3 is an independent tool implementation: it handles our login initiation, sends the
authentication request to our authorization endpoint, validates our id_token (signature with the
``kid`` looked up in our JWKS, nonce, state, deployment, required claims), then gets an access
token from our token endpoint with a signed client assertion and posts scores through AGS.

Two ways to use it:

* in client tests, :func:`make_tool_conf` plus PyLTI1p3's ``DjangoOIDCLogin`` /
  ``DjangoMessageLaunch`` on ``RequestFactory`` requests (see ``tests/launch/test_lti13_launch.py``);
* on the live server (browser tests), the views below, mounted at ``/test-tool/`` by
  ``tests/tooling/urls.py``. The test configures them with :func:`configure`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.cookie import CookieService
from pylti1p3.grade import Grade
from pylti1p3.tool_config import ToolConfDict


def make_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair for the tool: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def make_tool_conf(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    private_pem: str,
    public_pem: str,
    platform_base: str,
    key_set: dict | None = None,
) -> ToolConfDict:
    """The tool's registration of our platform, as a tool vendor would enter it.

    Without ``key_set`` PyLTI1p3 fetches our JWKS URL (give it a ``requests_session``).
    """
    base = platform_base.rstrip("/")
    conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": client_id,
                    "auth_login_url": base + reverse("wagtail_lti:lti13_authorize"),
                    "auth_token_url": base + reverse("wagtail_lti:lti13_token"),
                    "auth_audience": None,
                    "key_set_url": None if key_set else base + reverse("wagtail_lti:lti13_jwks"),
                    "key_set": key_set,
                    "deployment_ids": [deployment_id],
                }
            ]
        }
    )
    conf.set_private_key(issuer, private_pem, client_id=client_id)
    conf.set_public_key(issuer, public_pem, client_id=client_id)
    return conf


# --- The tool served on the live server ---------------------------------------------------------


@dataclass
class ToolState:
    conf: ToolConfDict | None = None
    score_given: float = 8
    score_maximum: float = 10
    # Keep PyLTI1p3's state on the server, not in browser cookies (see ServerSideCookieService).
    server_side_cookies: bool = False
    # Send the authentication request from the tool's own page (PyLTI1p3's JavaScript redirect)
    # instead of an HTTP redirect: the navigation is then initiated by the tool's site.
    js_redirect: bool = False
    launches: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STATE = ToolState()


def configure(
    conf: ToolConfDict,
    *,
    score_given: float = 8,
    score_maximum: float = 10,
    server_side_cookies: bool = False,
    js_redirect: bool = False,
) -> ToolState:
    """Set the live tool's registration and the score it posts; returns its (reset) state."""
    STATE.conf = conf
    STATE.score_given = score_given
    STATE.score_maximum = score_maximum
    STATE.server_side_cookies = server_side_cookies
    STATE.js_redirect = js_redirect
    ServerSideCookieService.store.clear()
    STATE.launches.clear()
    STATE.errors.clear()
    return STATE


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif'><h1>{html.escape(title)}</h1>{body}</body></html>",
        status=status,
    )


class ServerSideCookieService(CookieService):
    """PyLTI1p3's "cookies" kept on the tool's server instead of in the browser.

    A tool in a cross-site iframe served over plain http cannot keep cookies (browsers accept a
    ``SameSite=None`` cookie only with ``Secure``, i.e. over HTTPS); keeping PyLTI1p3's state here
    lets a test put the tool on another site than the platform and observe only the platform's
    cookie handling. Test-only: a real tool must bind its state to the browser.
    """

    store: dict[str, str] = {}

    def __init__(self, request):
        self._request = request

    def get_cookie(self, name):
        return self.store.get(name)

    def set_cookie(self, name, value, exp=3600):
        self.store[name] = value

    def update_response(self, response):
        return response


def _cookie_service(request):
    return ServerSideCookieService(request) if STATE.server_side_cookies else None


@csrf_exempt
@xframe_options_exempt
def login(request):
    """OIDC login initiation URL (GET or POST)."""
    oidc_login = DjangoOIDCLogin(
        request,
        STATE.conf,
        cookie_service=_cookie_service(request),
        launch_data_storage=DjangoCacheDataStorage(),
    )
    target = request.build_absolute_uri(reverse("lti13_test_tool:launch"))
    return oidc_login.redirect(target, js_redirect=STATE.js_redirect)


@csrf_exempt
@xframe_options_exempt
def launch(request):
    """The redirect URI: validate the id_token, then post a score through AGS."""
    try:
        message_launch = DjangoMessageLaunch(
            request,
            STATE.conf,
            cookie_service=_cookie_service(request),
            launch_data_storage=DjangoCacheDataStorage(),
            requests_session=requests.Session(),
        )
        data = message_launch.get_launch_data()
    except Exception as exc:
        STATE.errors.append(f"launch: {exc}")
        return _page("Launch failed", f"<p id='tool-error'>{html.escape(str(exc))}</p>", status=400)
    STATE.launches.append(data)
    resource_link = data.get("https://purl.imsglobal.org/spec/lti/claim/resource_link", {})
    body = [
        f"<p id='tool-launched'>Launched “{html.escape(resource_link.get('title', ''))}” "
        f"for {html.escape(data.get('name') or data.get('sub', ''))}.</p>"
    ]
    # What a tool keys its data by, and the custom claim (history variables included), echoed.
    context = data.get("https://purl.imsglobal.org/spec/lti/claim/context", {})
    custom = data.get("https://purl.imsglobal.org/spec/lti/claim/custom", {})
    shown = [
        ("resource_link.id", resource_link.get("id", "")),
        ("context.id", context.get("id", "")),
    ]
    shown += [(f"custom.{name}", value) for name, value in sorted(custom.items())]
    body.append(
        "<dl id='tool-claims'>"
        + "".join(
            f"<dt>{html.escape(name)}</dt><dd data-claim='{html.escape(name)}'>"
            f"{html.escape(str(value))}</dd>"
            for name, value in shown
        )
        + "</dl>"
    )
    if message_launch.is_submission_review_launch():
        # Submission Review 1.0: show whose submission is reviewed (the for_user claim); no score.
        for_user = message_launch.get_submission_review_user() or {}
        body.append(
            "<p id='tool-review'>Reviewing the submission of "
            f"<strong data-for-user>{html.escape(for_user.get('user_id', ''))}</strong>"
            f"{' (' + html.escape(for_user['name']) + ')' if for_user.get('name') else ''}"
            f", for {html.escape(data.get('name') or data.get('sub', ''))}.</p>"
        )
        return _page("PyLTI1p3 test tool: submission review", "".join(body))
    if message_launch.has_ags():
        grade = (
            Grade()
            .set_score_given(STATE.score_given)
            .set_score_maximum(STATE.score_maximum)
            .set_timestamp(datetime.now(UTC).isoformat())
            .set_activity_progress("Completed")
            .set_grading_progress("FullyGraded")
            .set_user_id(data["sub"])
        )
        try:
            message_launch.get_ags().put_grade(grade)
        except Exception as exc:
            STATE.errors.append(f"ags: {exc}")
            body.append(f"<p id='tool-error'>Score not sent: {html.escape(str(exc))}</p>")
        else:
            body.append(
                f"<p id='tool-score'>Score sent: {STATE.score_given:g} / {STATE.score_maximum:g}</p>"
            )
    return _page("PyLTI1p3 test tool", "".join(body))


app_name = "lti13_test_tool"
urlpatterns = [
    path("login/", login, name="login"),
    path("launch/", launch, name="launch"),
]
