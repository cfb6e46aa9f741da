"""A small LTI 1.3 tool that registers itself by LTI Dynamic Registration 1.0 (tests only).

PyLTI1p3 has no dynamic registration helper, so the tool side is written from the spec, as in
``tests/registration/test_dynamic_registration.py``. Served on the live server by
``tests/tooling/registration_urls.py`` at ``/reg-tool/``:

* ``register/`` (GET) — the registration initiation URL the editor pastes (DR §3.3): reads
  ``openid_configuration`` and ``registration_token`` from its URL, fetches the platform's OpenID
  configuration with ``requests`` and checks it (§3.4, §3.5.1), then shows what it will register
  with a "Register" button;
* ``register/`` (POST) — posts its client metadata to the ``registration_endpoint`` with the
  registration token as bearer token (§3.5), shows the ``client_id`` and ``deployment_id`` it got
  (§3.6) and a "Done" button that posts ``{subject: "org.imsglobal.lti.close"}`` to the window
  that opened it (§3.7);
* ``jwks/`` — the tool's public key set (the ``jwks_uri`` it registers).

The launch URLs it registers are the PyLTI1p3 test tool's (``/test-tool/``, ``lti13_tool``).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from jwcrypto.jwk import JWK


TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
ROSTER_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class ToolState:
    public_pem: str = ""
    name: str = "Fire Quiz"
    #: The platform's OpenID configuration as the tool read it, and the registration it got.
    configurations: list[dict] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STATE = ToolState()


def configure(public_pem: str, *, name: str = "Fire Quiz") -> ToolState:
    STATE.public_pem = public_pem
    STATE.name = name
    STATE.configurations.clear()
    STATE.registrations.clear()
    STATE.errors.clear()
    return STATE


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:sans-serif;margin:1.5rem'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status=status,
    )


def _error(message: str) -> HttpResponse:
    STATE.errors.append(message)
    return _page("Registration failed", f"<p id='tool-error'>{html.escape(message)}</p>", 400)


def _read_configuration(url: str) -> dict:
    """DR §3.4/§3.5.1: fetch the platform's configuration and check what a tool relies on."""
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    config = answer.json()
    if urlsplit(config["issuer"]).netloc != urlsplit(url).netloc:
        raise ValueError("the issuer is not on the host the configuration came from")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        if not config.get(name):
            raise ValueError(f"the configuration has no {name}")
    if "private_key_jwt" not in config.get("token_endpoint_auth_methods_supported", []):
        raise ValueError("the platform does not accept private_key_jwt")
    return config


def _metadata(base: str, config: dict) -> dict:
    """The client metadata the tool registers (DR §3.5.1): the PyLTI1p3 test tool's URLs."""
    offered = set(config.get("scopes_supported", []))
    wanted = [s for s in (SCORE_SCOPE, LINEITEM_SCOPE, ROSTER_SCOPE) if s in offered]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{base}/test-tool/login/",
        "redirect_uris": [f"{base}/test-tool/launch/"],
        "client_name": STATE.name,
        "jwks_uri": f"{base}/reg-tool/jwks/",
        "token_endpoint_auth_method": "private_key_jwt",
        "contacts": ["support@fire-quiz.example"],
        "scope": " ".join(wanted),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": "Short quizzes about fire safety, graded automatically.",
            "target_link_uri": f"{base}/test-tool/launch/",
            "custom_parameters": {"unit": "fire"},
            "claims": ["iss", "sub", "name", "email"],
            "messages": [{"type": "LtiResourceLinkRequest"}],
        },
    }


@csrf_exempt
@xframe_options_exempt
def register(request):
    if request.method == "GET":
        config_url = request.GET.get("openid_configuration", "")
        token = request.GET.get("registration_token", "")
        if not config_url:
            return _error("No openid_configuration in the registration URL.")
        try:
            config = _read_configuration(config_url)
        except Exception as exc:  # noqa: BLE001 - shown on the tool's page
            return _error(f"Cannot read the platform's configuration: {exc}")
        STATE.configurations.append(config)
        platform = config.get(PLATFORM_CONFIGURATION, {})
        return _page(
            f"Register {STATE.name}",
            f"<p id='tool-platform'>Platform: {html.escape(platform.get('product_family_code', ''))}"
            f" at {html.escape(config['issuer'])}</p>"
            "<p>This registers the tool for launches, scores and rosters.</p>"
            "<form method='post'>"
            f"<input type='hidden' name='openid_configuration' value='{html.escape(config_url)}'>"
            f"<input type='hidden' name='registration_token' value='{html.escape(token)}'>"
            "<button type='submit' id='tool-register'>Register</button></form>",
        )
    config_url = request.POST.get("openid_configuration", "")
    token = request.POST.get("registration_token", "")
    try:
        config = _read_configuration(config_url)
        base = f"{request.scheme}://{request.get_host()}"
        headers = {"Content-Type": "application/json"}
        if token:  # DR §3.5: the token, when the platform gave one, as a bearer token
            headers["Authorization"] = f"Bearer {token}"
        answer = requests.post(
            config["registration_endpoint"],
            data=json.dumps(_metadata(base, config)),
            headers=headers,
            timeout=10,
        )
    except Exception as exc:  # noqa: BLE001 - shown on the tool's page
        return _error(f"Registration failed: {exc}")
    if answer.status_code != 200:
        return _error(
            f"The platform refused the registration ({answer.status_code}): {answer.text}"
        )
    registered = answer.json()
    STATE.registrations.append(registered)
    deployment = registered.get(TOOL_CONFIGURATION, {}).get("deployment_id", "")
    return _page(
        f"{STATE.name} is registered",
        f"<p id='tool-registered'>Client ID <code>{html.escape(registered['client_id'])}</code>, "
        f"deployment <code>{html.escape(deployment)}</code>.</p>"
        "<button type='button' id='tool-done'>Done</button>"
        "<script>document.getElementById('tool-done').addEventListener('click', function () {"
        "(window.opener || window.parent).postMessage({subject: 'org.imsglobal.lti.close'}, '*');"
        "});</script>",
    )


def jwks(request):
    key = JWK.from_pem(STATE.public_pem.encode())
    public = {**key.export_public(as_dict=True), "alg": "RS256", "use": "sig"}
    return JsonResponse({"keys": [public]})


app_name = "registration_test_tool"
urlpatterns = [
    path("register/", register, name="register"),
    path("jwks/", jwks, name="jwks"),
]
