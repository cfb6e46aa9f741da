"""The demo tool registers itself with a platform: LTI Dynamic Registration 1.0, the tool's side.

The platform opens the tool's initiation URL (``/demo-tool/register/``) with two query parameters
(DR §3.3): ``openid_configuration`` (the URL of the platform's OpenID configuration) and
``registration_token`` (to send back as bearer token). :func:`read_configuration` fetches and
checks that configuration (§3.4, §3.5.1), :func:`register` posts the tool's client metadata to
its ``registration_endpoint`` (§3.5) and stores what the platform answered (§3.6) as a new LTI 1.3
:class:`~demo_tool.models.ToolRegistration` with its own key pair: from then on the tool's PyLTI1p3
configuration (``demo_tool.lti13.tool_conf``) accepts launches and deep linking requests from the
new client ID and deployment ID. The page then posts ``{subject: "org.imsglobal.lti.close"}``
(§3.7) to the window that opened it.

Everything goes over HTTP with the tool's own session (``demo_tool.http``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.urls import reverse

from .http import http_session
from .lti13 import generate_private_key_pem
from .models import ToolRegistration


TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
#: The services the tool would like (only those the platform offers are asked for).
WANTED_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
CLIENT_NAME = "Demo LTI tool"
TIMEOUT = 10  # seconds
MAX_ANSWER = 200_000  # bytes


class RegistrationFailed(Exception):
    """The registration cannot go on; ``str(exc)`` is a sentence for the person registering."""


@dataclass(frozen=True)
class Registered:
    registration: ToolRegistration
    platform: str  # the platform's product family code, for the page
    scopes: list[str]
    claims: list[str]


def _get_json(response: requests.Response, what: str) -> dict:
    if len(response.content) > MAX_ANSWER:
        raise RegistrationFailed(f"{what} is too large.")
    try:
        data = response.json()
    except ValueError:
        raise RegistrationFailed(f"{what} is not JSON.") from None
    if not isinstance(data, dict):
        raise RegistrationFailed(f"{what} is not a JSON object.")
    return data


def read_configuration(url: str) -> dict:
    """Fetch the platform's OpenID configuration at ``url`` and check what the tool relies on."""
    parts = urlsplit(url or "")
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise RegistrationFailed(
            "The registration URL has no openid_configuration parameter with the platform's "
            "configuration URL. Start the registration from the platform again."
        )
    try:
        response = http_session().get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise RegistrationFailed(
            f"The platform's configuration could not be fetched: {exc}"
        ) from None
    if response.status_code != 200:
        raise RegistrationFailed(
            f"The platform's configuration could not be fetched (HTTP {response.status_code})."
        )
    config = _get_json(response, "The platform's configuration")
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or urlsplit(issuer).netloc != parts.netloc:
        raise RegistrationFailed(
            "The platform's issuer is not on the host its configuration came from (DR §3.5.1)."
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        value = config.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise RegistrationFailed(f"The platform's configuration has no {name}.")
    methods = config.get("token_endpoint_auth_methods_supported") or []
    if "private_key_jwt" not in methods:
        raise RegistrationFailed("The platform does not accept private_key_jwt client assertions.")
    return config


def platform_name(config: dict) -> str:
    platform = config.get(PLATFORM_CONFIGURATION) or {}
    name = platform.get("product_family_code") if isinstance(platform, dict) else ""
    return name if isinstance(name, str) and name else "the platform"


def client_metadata(base_url: str, config: dict) -> dict:
    """What the tool registers (DR §3.5.1): its URLs on ``base_url``, the services it wants
    among those offered, its claims and messages (resource links and deep linking)."""
    base = base_url.rstrip("/")
    launch = base + reverse("demo_tool:lti13_launch")
    offered = set(config.get("scopes_supported") or [])
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + reverse("demo_tool:lti13_login"),
        "redirect_uris": [launch],
        "client_name": CLIENT_NAME,
        "jwks_uri": base + reverse("demo_tool:lti13_jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scope for scope in WANTED_SCOPES if scope in offered),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": "The example site's demo tool: shows what a launch contains, sends "
            "scores back and offers a few activities to add.",
            "target_link_uri": launch,
            "claims": list(CLAIMS),
            "messages": [
                {"type": RESOURCE_LINK_REQUEST},
                {
                    "type": DEEP_LINKING_REQUEST,
                    "target_link_uri": launch,
                    "label": "Add activities from the demo tool",
                },
            ],
        },
    }


def register(config: dict, token: str, base_url: str) -> Registered:
    """Post the client metadata with ``token``; store the registration the platform answers."""
    private_key = generate_private_key_pem()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:  # DR §3.5: the token, when the platform gave one, as a bearer token
        headers["Authorization"] = f"Bearer {token}"
    metadata = client_metadata(base_url, config)
    try:
        response = http_session().post(
            config["registration_endpoint"],
            data=json.dumps(metadata),
            headers=headers,
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise RegistrationFailed(f"The platform could not be reached: {exc}") from None
    if response.status_code not in (200, 201):
        detail = ""
        try:
            answer = response.json()
            detail = str(answer.get("error_description") or answer.get("error") or "")
        except (ValueError, AttributeError):
            pass
        raise RegistrationFailed(
            f"The platform refused the registration (HTTP {response.status_code})"
            + (f": {detail}" if detail else ".")
        )
    answer = _get_json(response, "The platform's answer")
    client_id = answer.get("client_id")
    tool = answer.get(TOOL_CONFIGURATION) or {}
    deployment_id = tool.get("deployment_id") if isinstance(tool, dict) else None
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationFailed("The platform's answer has no client_id.")
    if not isinstance(deployment_id, str) or not deployment_id:
        raise RegistrationFailed("The platform's answer has no deployment_id.")
    with transaction.atomic():
        registration, _created = ToolRegistration.objects.update_or_create(
            lti_version=ToolRegistration.Version.LTI_1P3,
            issuer=config["issuer"],
            client_id=client_id,
            defaults={
                "slug": "registered-" + uuid.uuid4().hex[:12],
                "name": f"{platform_name(config)} at {config['issuer']}",
                "active": True,
                "deployment_id": deployment_id,
                "auth_login_url": config["authorization_endpoint"],
                "auth_token_url": config["token_endpoint"],
                "key_set_url": config["jwks_uri"],
                "private_key_pem": private_key,
            },
        )
    scope = answer.get("scope")
    return Registered(
        registration=registration,
        platform=platform_name(config),
        scopes=scope.split() if isinstance(scope, str) else [],
        claims=[c for c in (tool.get("claims") or []) if isinstance(c, str)],
    )
