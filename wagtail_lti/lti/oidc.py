"""LTI 1.3 OpenID Connect launch: login initiation and the authorization request.

The platform starts a launch with a *third-party initiated login* (LTI Core 1.3 §4.1; OIDC Core
§4): it sends the tool's login URL ``iss``, ``login_hint``, ``target_link_uri``,
``lti_message_hint``, ``client_id`` and ``lti_deployment_id``. The tool answers with an OIDC
*authentication request* (implicit flow, OIDC Core §3.2.2.1) to our authorization endpoint, which
this module validates.

Errors are :class:`OidcError` subclasses carrying the OIDC ``error`` code and whether the answer
may go back to the tool's ``redirect_uri`` (OAuth 2.0 RFC 6749 §4.1.2.1: when the client is
unknown or the redirect URI is not registered, the server must not redirect; it informs the person
instead).

Pure: no Django, no database. The view looks the client and the pending launch up and passes plain
values in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import LtiError


#: Maximum length accepted for the values a tool sends back (defence against oversized input).
MAX_PARAM_LENGTH = 2048


class OidcError(LtiError):
    """An authorization request refused.

    ``error`` is the OIDC / OAuth 2.0 error code; ``description`` is a sentence for the tool's
    developer (sent as ``error_description``); ``redirectable`` says whether the answer may be
    posted to the request's ``redirect_uri`` (only ever to a registered one).
    """

    error = "invalid_request"
    redirectable = True

    def __init__(self, description: str, *, error: str | None = None):
        if error is not None:
            self.error = error
        self.description = description
        super().__init__(f"{self.error}: {description}")


class UnknownClient(OidcError):
    """``client_id`` missing or not the client ID of an LTI 1.3 provider: error page."""

    error = "unauthorized_client"
    redirectable = False


class InvalidRedirectUri(OidcError):
    """``redirect_uri`` missing or not exactly a registered URI: error page, never a redirect."""

    error = "invalid_request"
    redirectable = False


class InvalidRequest(OidcError):
    error = "invalid_request"


class InvalidScope(OidcError):
    error = "invalid_scope"


class UnsupportedResponseType(OidcError):
    error = "unsupported_response_type"


class LoginRequired(OidcError):
    """Nobody is signed in to the platform in this browser (or the session cookie did not arrive)."""

    error = "login_required"


class AccessDenied(OidcError):
    """The signed-in person is not the one the launch was started for."""

    error = "access_denied"


class InvalidMessageHint(OidcError):
    """``lti_message_hint`` unknown, expired, already used, or for another client."""

    error = "invalid_request"


# --- Login initiation ---------------------------------------------------------------------------


def login_initiation_params(
    *,
    issuer: str,
    login_hint: str,
    target_link_uri: str,
    lti_message_hint: str,
    client_id: str,
    deployment_id: str,
    lti_storage_target: str = "",
) -> dict[str, str]:
    """The parameters of a third-party initiated login (LTI Core 1.3 §4.1.1).

    ``lti_deployment_id`` is always sent, and must equal the id_token's ``deployment_id`` claim;
    ``client_id`` is sent so tools with several registrations for one issuer find the right one.
    ``lti_storage_target`` (LTI Client Side postMessages, platform storage) names the window the
    tool sends ``lti.put_data`` / ``lti.get_data`` to, e.g. ``_parent``; not sent when empty.
    """
    params = {
        "iss": issuer,
        "login_hint": login_hint,
        "target_link_uri": target_link_uri,
        "lti_message_hint": lti_message_hint,
        "client_id": client_id,
        "lti_deployment_id": deployment_id,
    }
    missing = [name for name, value in params.items() if not value]
    if missing:
        raise ValueError(f"Login initiation needs a value for: {', '.join(missing)}")
    if lti_storage_target:
        params["lti_storage_target"] = lti_storage_target
    return params


# --- Authorization request ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated OIDC authentication request from a tool."""

    client_id: str
    redirect_uri: str
    scope: str
    response_type: str
    response_mode: str
    prompt: str
    login_hint: str
    lti_message_hint: str
    nonce: str
    state: str


def _get(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if not isinstance(value, str):  # pragma: no cover - QueryDict.get always gives str
        value = str(value)
    return value


def redirect_target(
    params: Mapping[str, str], registered_redirect_uris: Sequence[str] | None
) -> str | None:
    """The ``redirect_uri`` an error may be posted to, or ``None`` (then: an error page).

    Only a URI that exactly (character for character, no trailing-slash or case leniency) equals
    one of the client's registered redirect URIs qualifies.
    """
    redirect_uri = _get(params, "redirect_uri")
    if registered_redirect_uris is None or not redirect_uri:
        return None
    return redirect_uri if redirect_uri in registered_redirect_uris else None


def validate_authorization_request(
    params: Mapping[str, str], *, registered_redirect_uris: Sequence[str] | None
) -> AuthorizationRequest:
    """Validate the fields of an authentication request that need no session or stored launch.

    ``registered_redirect_uris`` are the redirect URIs of the LTI 1.3 provider whose client ID is
    ``params["client_id"]``, or ``None`` when no such provider exists.

    Checks, in this order (the first failure is raised):

    1. ``client_id`` present and known, else :class:`UnknownClient` (error page);
    2. ``redirect_uri`` exactly one of the registered URIs, else :class:`InvalidRedirectUri`
       (error page);
    3. ``response_type`` is ``id_token``: :class:`UnsupportedResponseType`;
    4. ``scope`` contains ``openid``: :class:`InvalidScope`;
    5. ``response_mode`` is ``form_post``; ``prompt`` is ``none`` or absent; ``login_hint``,
       ``lti_message_hint`` and ``nonce`` present: :class:`InvalidRequest`.

    Errors from 3 on may be posted back to the redirect URI.
    """
    client_id = _get(params, "client_id")
    if len(client_id) > MAX_PARAM_LENGTH:
        raise UnknownClient("The client_id parameter is too long.", error="invalid_request")
    if not client_id:
        raise UnknownClient("The client_id parameter is missing.", error="invalid_request")
    if registered_redirect_uris is None:
        raise UnknownClient(f"No LTI 1.3 tool is registered with client_id “{client_id}”.")

    redirect_uri = _get(params, "redirect_uri")
    if not redirect_uri:
        raise InvalidRedirectUri("The redirect_uri parameter is missing.")
    if redirect_uri not in registered_redirect_uris:
        raise InvalidRedirectUri(
            f"The redirect_uri “{redirect_uri}” is not one of the redirect URIs registered for this "
            "tool (they must match exactly, including any trailing slash)."
        )

    for name in (
        "state",
        "nonce",
        "login_hint",
        "lti_message_hint",
        "scope",
        "prompt",
        "response_mode",
        "response_type",
    ):
        if len(_get(params, name)) > MAX_PARAM_LENGTH:
            raise InvalidRequest(f"The {name} parameter is too long.")

    response_type = _get(params, "response_type")
    if response_type != "id_token":
        raise UnsupportedResponseType(
            f"response_type must be “id_token”, not “{response_type}”."
            if response_type
            else "The response_type parameter is missing; it must be “id_token”."
        )

    scope = _get(params, "scope")
    if "openid" not in scope.split():
        raise InvalidScope("The scope parameter must contain “openid”.")

    response_mode = _get(params, "response_mode")
    if response_mode != "form_post":
        raise InvalidRequest(
            f"response_mode must be “form_post”, not “{response_mode}”."
            if response_mode
            else "The response_mode parameter is missing; it must be “form_post”."
        )

    prompt = _get(params, "prompt")
    if prompt and prompt != "none":
        raise InvalidRequest(f"prompt must be “none” (or absent), not “{prompt}”.")

    login_hint = _get(params, "login_hint")
    if not login_hint:
        raise InvalidRequest("The login_hint parameter is missing.")
    lti_message_hint = _get(params, "lti_message_hint")
    if not lti_message_hint:
        raise InvalidMessageHint("The lti_message_hint parameter is missing.")
    nonce = _get(params, "nonce")
    if not nonce:
        raise InvalidRequest("The nonce parameter is missing.")

    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        response_type=response_type,
        response_mode=response_mode,
        prompt=prompt,
        login_hint=login_hint,
        lti_message_hint=lti_message_hint,
        nonce=nonce,
        state=_get(params, "state"),
    )


# --- The started launch the message hint points to ----------------------------------------------


@dataclass(frozen=True)
class PendingMessage:
    """What the platform stored when it started the launch (looked up by ``lti_message_hint``).

    ``user_key`` identifies the platform user the launch was started for (any stable string, e.g.
    the primary key); ``login_hint`` is the value sent to the tool for that user.
    """

    user_key: str
    login_hint: str
    client_id: str
    expires_at: int
    used: bool


def check_message_hint(
    request: AuthorizationRequest, pending: PendingMessage | None, *, now: int
) -> None:
    """The message hint resolves to a launch of this client that is neither used nor expired."""
    if pending is None:
        raise InvalidMessageHint("The lti_message_hint is not one this platform issued.")
    if pending.client_id != request.client_id:
        raise InvalidMessageHint("The lti_message_hint was issued for another tool.")
    if pending.used:
        raise InvalidMessageHint(
            "The lti_message_hint has already been used; each launch can be used once. "
            "Launch the activity again."
        )
    if pending.expires_at <= now:
        raise InvalidMessageHint("The lti_message_hint has expired. Launch the activity again.")


def check_session_user(
    request: AuthorizationRequest, pending: PendingMessage, *, session_user_key: str | None
) -> None:
    """The person signed in here is the one the launch was started for, and ``login_hint`` is theirs.

    ``session_user_key`` is ``None`` when nobody is signed in (or the session cookie did not
    arrive): :class:`LoginRequired`. Another person, or a ``login_hint`` that is not the signed-in
    person's: :class:`AccessDenied`.
    """
    if session_user_key is None:
        raise LoginRequired("Nobody is signed in to the platform in this browser.")
    if session_user_key != pending.user_key:
        raise AccessDenied("The launch was started by another user than the one signed in.")
    if request.login_hint != pending.login_hint:
        raise AccessDenied("The login_hint does not identify the signed-in user.")


def error_response_params(error: OidcError, *, state: str) -> dict[str, str]:
    """The fields of an error posted back to the tool's redirect URI (OIDC Core §3.1.2.6)."""
    params = {"error": error.error, "error_description": error.description}
    if state and len(state) <= MAX_PARAM_LENGTH:
        params["state"] = state
    return params
