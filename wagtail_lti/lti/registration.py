"""LTI Dynamic Registration 1.0 (``https://www.imsglobal.org/spec/lti-dr/v1p0``), platform side.

1. The platform opens the tool's registration (initiation) URL with ``openid_configuration`` and
   ``registration_token`` (DR §3.3): :func:`initiation_url`.
2. The tool fetches the platform's OpenID configuration (DR §3.4, OIDC Discovery):
   :func:`openid_configuration`.
3. The tool POSTs its OIDC client metadata with the LTI tool configuration (DR §3.5, OIDC Dynamic
   Client Registration §2) to the registration endpoint, with the token as a bearer token:
   :func:`validate_client_metadata` checks it and returns a :class:`ToolRegistration`;
4. the platform answers with the registration it made (DR §3.6): :func:`registration_response`.

Pure: no Django, no database. Errors are :class:`RegistrationError` with the OAuth 2 Dynamic
Client Registration error codes (RFC 7591 §3.2.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"

#: Claims of an LTI 1.3 id_token that carry no personal data; always sent.
BASE_CLAIMS: tuple[str, ...] = ("iss", "sub", "aud", "exp", "iat", "nonce", "locale")
NAME_CLAIMS: tuple[str, ...] = ("name", "given_name", "family_name")
EMAIL_CLAIMS: tuple[str, ...] = ("email",)
#: Every claim this platform may send (OIDC ``claims_supported``).
SUPPORTED_CLAIMS: tuple[str, ...] = BASE_CLAIMS + NAME_CLAIMS + EMAIL_CLAIMS

#: Hosts a tool may use plain ``http`` on when insecure URLs are allowed (development, tests).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})

MAX_URL_LENGTH = 1024
MAX_NAME_LENGTH = 255


class RegistrationError(Exception):
    """A registration request refused: ``error`` (RFC 7591 §3.2.2) and a sentence for the tool's
    developer (``error_description``)."""

    error = "invalid_client_metadata"

    def __init__(self, description: str, *, error: str | None = None):
        if error is not None:
            self.error = error
        self.description = description
        super().__init__(f"{self.error}: {description}")


class InvalidClientMetadata(RegistrationError):
    error = "invalid_client_metadata"


class InvalidRedirectUri(RegistrationError):
    error = "invalid_redirect_uri"


# --- Step 1: opening the tool --------------------------------------------------------------------


def initiation_url(tool_url: str, *, openid_configuration_url: str, registration_token: str) -> str:
    """The tool's registration URL with ``openid_configuration`` and ``registration_token`` added
    to its query (existing query parameters are kept; ours replace any of the same name)."""
    parts = urlsplit(tool_url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name not in ("openid_configuration", "registration_token")
    ]
    query += [
        ("openid_configuration", openid_configuration_url),
        ("registration_token", registration_token),
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def check_tool_url(url: str, *, allow_insecure_local: bool) -> str:
    """``url`` stripped, if it is an absolute https URL (http only on a local host when allowed);
    else :class:`InvalidClientMetadata` with a sentence for the editor."""
    url = (url or "").strip()
    _check_url(url, "The registration URL", allow_insecure_local=allow_insecure_local)
    return url


# --- Step 2: the platform's OpenID configuration ------------------------------------------------


def openid_configuration(
    *,
    issuer: str,
    authorization_endpoint: str,
    token_endpoint: str,
    jwks_uri: str,
    registration_endpoint: str,
    scopes_supported: Sequence[str],
    product_family_code: str,
    version: str,
    message_types: Sequence[str] = (RESOURCE_LINK_REQUEST,),
    variables: Sequence[str] = (),
    notice_types: Sequence[str] = (),
) -> dict[str, Any]:
    """The OpenID configuration of the platform (DR §3.4.1, OIDC Discovery §3).

    ``notice_types``: the Platform Notification Service's notice types the platform sends
    (``notice_types_supported`` of the platform configuration), if any.
    """
    return {
        "issuer": issuer,
        "authorization_endpoint": authorization_endpoint,
        "token_endpoint": token_endpoint,
        "jwks_uri": jwks_uri,
        "registration_endpoint": registration_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *scopes_supported],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": list(SUPPORTED_CLAIMS),
        PLATFORM_CONFIGURATION: {
            "product_family_code": product_family_code,
            "version": version,
            "messages_supported": [{"type": message_type} for message_type in message_types],
            "variables": list(variables),
            **({"notice_types_supported": list(notice_types)} if notice_types else {}),
        },
    }


# --- Step 3: the tool's registration request ------------------------------------------------------


@dataclass(frozen=True)
class ToolRegistration:
    """What a valid registration request asks for, in the platform's terms."""

    client_name: str
    initiate_login_uri: str
    redirect_uris: tuple[str, ...]
    jwks_uri: str
    target_link_uri: str
    domain: str
    #: The requested scopes this platform offers (others are left out, DR §3.6).
    scopes: tuple[str, ...]
    #: The claims the tool asked for (``lti-tool-configuration.claims``).
    claims: tuple[str, ...]
    #: The ``target_link_uri`` of an ``LtiDeepLinkingRequest`` message, if the tool declared one.
    deep_linking_uri: str = ""
    custom_parameters: dict[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def wants_name(self) -> bool:
        return any(claim in self.claims for claim in NAME_CLAIMS)

    @property
    def wants_email(self) -> bool:
        return any(claim in self.claims for claim in EMAIL_CLAIMS)


def _is_local(host: str | None) -> bool:
    return (host or "").lower() in LOCAL_HOSTS


def _check_url(
    value: Any,
    name: str,
    *,
    allow_insecure_local: bool,
    error: type[RegistrationError] = InvalidClientMetadata,
) -> str:
    if not isinstance(value, str) or not value:
        raise error(f"{name} is missing.")
    if len(value) > MAX_URL_LENGTH:
        raise error(f"{name} is longer than {MAX_URL_LENGTH} characters.")
    if value != value.strip():
        raise error(f"{name} has leading or trailing whitespace.")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        raise error(f"{name} is not a valid URL.") from None
    if not hostname:
        raise error(f"{name} must be an absolute URL.")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and allow_insecure_local and _is_local(hostname):
        return value
    raise error(f"{name} must be an https URL.")


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings.")
    return value


def _optional_string(data: Mapping[str, Any], name: str, *, limit: int = MAX_NAME_LENGTH) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string.")
    return value.strip()[:limit]


def _custom_parameters(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise InvalidClientMetadata(f"{name} must be an object of string values.")
    return {key.strip(): item.strip() for key, item in value.items() if key.strip()}


def validate_client_metadata(
    data: Any, *, offered_scopes: Iterable[str], allow_insecure_local: bool = False
) -> ToolRegistration:
    """Check a tool's registration request (DR §3.5; OIDC Dynamic Client Registration §2).

    Required: ``application_type`` "web"; ``grant_types`` containing ``client_credentials`` and
    ``implicit``; ``response_types`` containing ``id_token``; ``redirect_uris`` a non-empty array
    of https URLs; ``initiate_login_uri`` and ``jwks_uri`` https URLs;
    ``token_endpoint_auth_method`` "private_key_jwt"; the LTI tool configuration object with
    ``domain`` and an https ``target_link_uri``. ``allow_insecure_local`` also accepts ``http``
    URLs on ``localhost`` / ``127.0.0.1`` (development and tests only).

    The requested ``scope`` is kept as far as it is offered; other scopes are not granted (the
    response reports what was). Raises :class:`InvalidClientMetadata` or
    :class:`InvalidRedirectUri`.
    """
    if not isinstance(data, Mapping):
        raise InvalidClientMetadata("The request body must be a JSON object.")
    if data.get("application_type") != "web":
        raise InvalidClientMetadata("application_type must be “web”.")
    grant_types = _string_list(data.get("grant_types"), "grant_types")
    missing = [g for g in ("client_credentials", "implicit") if g not in grant_types]
    if missing:
        raise InvalidClientMetadata(
            "grant_types must include “client_credentials” and “implicit” (missing: "
            + ", ".join(missing)
            + ")."
        )
    response_types = _string_list(data.get("response_types"), "response_types")
    if "id_token" not in response_types:
        raise InvalidClientMetadata("response_types must include “id_token”.")
    if data.get("token_endpoint_auth_method") != "private_key_jwt":
        raise InvalidClientMetadata("token_endpoint_auth_method must be “private_key_jwt”.")

    redirect_uris = data.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise InvalidRedirectUri("redirect_uris must be a non-empty array of URLs.")
    checked_redirects: list[str] = []
    for uri in redirect_uris:
        _check_url(
            uri,
            "Each of redirect_uris",
            allow_insecure_local=allow_insecure_local,
            error=InvalidRedirectUri,
        )
        if "#" in uri:
            raise InvalidRedirectUri("redirect_uris must not have a fragment.")
        if uri not in checked_redirects:
            checked_redirects.append(uri)

    initiate_login_uri = _check_url(
        data.get("initiate_login_uri"),
        "initiate_login_uri",
        allow_insecure_local=allow_insecure_local,
    )
    jwks_uri = _check_url(
        data.get("jwks_uri"), "jwks_uri", allow_insecure_local=allow_insecure_local
    )

    tool = data.get(TOOL_CONFIGURATION)
    if not isinstance(tool, Mapping):
        raise InvalidClientMetadata(f"The {TOOL_CONFIGURATION} object is missing.")
    domain = tool.get("domain")
    if not isinstance(domain, str) or not domain.strip():
        raise InvalidClientMetadata("The tool configuration's domain is missing.")
    target_link_uri = _check_url(
        tool.get("target_link_uri"),
        "The tool configuration's target_link_uri",
        allow_insecure_local=allow_insecure_local,
    )
    claims = tool.get("claims", [])
    claims = _string_list(claims if claims is not None else [], "The tool configuration's claims")
    custom = _custom_parameters(tool.get("custom_parameters"), "custom_parameters")

    deep_linking_uri = ""
    messages = tool.get("messages", [])
    if messages is None:
        messages = []
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise InvalidClientMetadata(
            "The tool configuration's messages must be an array of objects."
        )
    for message in messages:
        if message.get("type") == DEEP_LINKING_REQUEST and message.get("target_link_uri"):
            deep_linking_uri = _check_url(
                message.get("target_link_uri"),
                "The deep linking message's target_link_uri",
                allow_insecure_local=allow_insecure_local,
            )

    scope = data.get("scope", "")
    if scope is None:
        scope = ""
    if not isinstance(scope, str):
        raise InvalidClientMetadata("scope must be a space-separated string.")
    offered = list(offered_scopes)
    scopes = tuple(s for s in dict.fromkeys(scope.split()) if s in offered)

    client_name = _optional_string(data, "client_name") or domain.strip()[:MAX_NAME_LENGTH]
    return ToolRegistration(
        client_name=client_name,
        initiate_login_uri=initiate_login_uri,
        redirect_uris=tuple(checked_redirects),
        jwks_uri=jwks_uri,
        target_link_uri=target_link_uri,
        domain=domain.strip(),
        scopes=scopes,
        claims=tuple(dict.fromkeys(claims)),
        deep_linking_uri=deep_linking_uri,
        custom_parameters=custom,
        description=_optional_string(tool, "description", limit=2000),
    )


# --- Step 4: the answer -----------------------------------------------------------------------


def granted_claims(requested: Iterable[str], *, send_name: bool, send_email: bool) -> list[str]:
    """The requested claims the platform will actually send, given its privacy decisions.

    Name claims only when ``send_name``, the email only when ``send_email`` (Moodle's registration
    code once reported them whatever was decided; checklist pitfall 17).
    """
    allowed = set(BASE_CLAIMS)
    if send_name is True:
        allowed.update(NAME_CLAIMS)
    if send_email is True:
        allowed.update(EMAIL_CLAIMS)
    return [claim for claim in dict.fromkeys(requested) if claim in allowed]


def registration_response(
    data: Mapping[str, Any],
    *,
    client_id: str,
    deployment_id: str,
    scopes: Sequence[str],
    claims: Sequence[str],
) -> dict[str, Any]:
    """The registration made (DR §3.6): the tool's request echoed, with ``client_id``, the granted
    ``scope``, and in the tool configuration the ``deployment_id`` and the granted ``claims``."""
    response = dict(data)
    tool = dict(data.get(TOOL_CONFIGURATION) or {})
    tool["deployment_id"] = deployment_id
    tool["claims"] = list(claims)
    response[TOOL_CONFIGURATION] = tool
    response["client_id"] = client_id
    response["scope"] = " ".join(scopes)
    response.pop("registration_access_token", None)
    return response
