"""Names and Role Provisioning Services 2.0: the membership claim and the membership container.

Pure functions over plain values; the Django glue (``services.nrps``) does storage, privacy and access
control. Section numbers refer to the NRPS 2.0 specification (LTI Advantage).

* A launch of a tool allowed the service carries :data:`NRPS_CLAIM` (:func:`membership_claim`).
* The tool GETs ``context_memberships_url`` (scope :data:`SCOPE`) and receives a membership
  container (:func:`container_json`) of :func:`member_json` entries; ``role`` filters by a role
  (full URI or short name, :func:`parse_role_filter`), ``limit`` pages (``Link: rel="next"``),
  ``rlid`` narrows to one resource link and adds each member's ``message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from . import ags
from .errors import LtiError


NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SERVICE_VERSIONS: tuple[str, ...] = ("2.0",)

MEMBERSHIP_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
#: LTI 1.1 context role URNs, accepted in the ``role`` filter as their LIS v2 equivalent.
LTI11_ROLE_URN = "urn:lti:role:ims/lis/"
#: The context (membership) roles of LIS v2, as short names.
CONTEXT_ROLES: tuple[str, ...] = (
    "Administrator",
    "ContentDeveloper",
    "Instructor",
    "Learner",
    "Mentor",
    "Manager",
    "Member",
    "Officer",
)
MESSAGE_TYPE_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/message_type"
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"

Status = Literal["Active", "Inactive", "Deleted"]
MAX_FILTER_LENGTH = 255


class NrpsError(LtiError):
    """A request the service refuses; ``status`` is the HTTP status, ``str()`` the description."""

    def __init__(self, message: str, status: int = 400, error: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.error = error


def membership_claim(context_memberships_url: str) -> dict[str, Any]:
    """The launch's NRPS claim (NRPS §3.6.1): ``{NRPS_CLAIM: {context_memberships_url, ...}}``."""
    if not context_memberships_url:
        raise ValueError("The membership claim needs a context_memberships_url")
    return {
        NRPS_CLAIM: {
            "context_memberships_url": context_memberships_url,
            "service_versions": list(SERVICE_VERSIONS),
        }
    }


def role_uri(role: str) -> str:
    """A context role short name (``Learner``) as its LIS v2 membership URI; URIs pass through."""
    if "://" in role or role.startswith("urn:"):
        return role
    return MEMBERSHIP_ROLE + role


def parse_role_filter(value: str) -> str:
    """The role URI a ``role`` query parameter asks for (NRPS §2.3.1).

    Accepted: a full role URI (``http://purl.imsglobal.org/vocab/lis/v2/membership#Learner``),
    a context role short name in any case (``Learner``, ``learner``), and an LTI 1.1 role URN
    (``urn:lti:role:ims/lis/Learner``). Other URIs are returned as given: they match no member.
    """
    value = (value or "").strip()
    if not value:
        raise NrpsError("role must not be empty.")
    if len(value) > MAX_FILTER_LENGTH:
        raise NrpsError(f"role is longer than {MAX_FILTER_LENGTH} characters.")
    if value.startswith(LTI11_ROLE_URN):
        value = value[len(LTI11_ROLE_URN) :]
    if "://" in value or value.startswith("urn:"):
        return value
    for name in CONTEXT_ROLES:
        if name.lower() == value.lower():
            return MEMBERSHIP_ROLE + name
    return MEMBERSHIP_ROLE + value


def _clean(value: str | None) -> str:
    return (value or "").strip()


def member_json(
    *,
    user_id: str,
    roles: Iterable[str],
    status: Status = "Active",
    name: str = "",
    given_name: str = "",
    family_name: str = "",
    email: str = "",
    message: Mapping[str, Any] | None = None,
    lti11_legacy_user_id: str = "",
) -> dict[str, Any]:
    """One member (NRPS §2.2). Empty personal fields are left out: privacy is the caller's.

    ``lti11_legacy_user_id``: the member's LTI 1.1 ``user_id``, for a tool moved from LTI 1.1
    (left out when empty).
    """
    if not user_id:
        raise ValueError("A member needs a user_id")
    member: dict[str, Any] = {
        "status": status,
        "user_id": user_id,
        "roles": [role_uri(role) for role in roles],
    }
    for key, value in (
        ("name", name),
        ("given_name", given_name),
        ("family_name", family_name),
        ("email", email),
    ):
        if _clean(value):
            member[key] = _clean(value)
    if _clean(lti11_legacy_user_id):
        member["lti11_legacy_user_id"] = _clean(lti11_legacy_user_id)
    if message is not None:
        member["message"] = [dict(message)]
    return member


def member_message(custom: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The per-member ``message`` of an ``rlid`` request (NRPS §2.4): the claims a launch of the
    resource link by that member would carry and that differ per member (custom parameters with
    the member's substitution values)."""
    message: dict[str, Any] = {MESSAGE_TYPE_CLAIM: "LtiResourceLinkRequest"}
    if custom:
        message[CUSTOM_CLAIM] = {str(k): "" if v is None else str(v) for k, v in custom.items()}
    return message


def container_json(
    *, container_id: str, context: Mapping[str, str], members: list[dict[str, Any]]
) -> dict[str, Any]:
    """The membership container (NRPS §2.2): ``{id, context{id, label, title}, members}``."""
    return {
        "id": container_id,
        "context": {key: value for key, value in context.items() if value},
        "members": members,
    }


# --- Paging ------------------------------------------------------------------------------------


def parse_limit(value: str | None, maximum: int) -> int:
    """The page size: ``limit`` (1 or more), capped at ``maximum``; ``maximum`` when absent."""
    try:
        return ags.parse_limit(value, maximum)
    except ags.AgsError as exc:
        raise NrpsError(str(exc)) from exc


def encode_cursor(state: Mapping[str, Any]) -> str:
    """An opaque page cursor of lower-case hex (PyLTI1p3 lower-cases the ``Link`` header, and
    filter values such as an ``rlid`` are case-sensitive: they travel inside the cursor)."""
    return ags.encode_cursor(dict(state))


def decode_cursor(value: str, filter_names: Iterable[str]) -> tuple[dict[str, str], int, int]:
    """(filters, limit, after) from a cursor made by :func:`encode_cursor`.

    The state is ``{"f": {name: value}, "l": limit, "a": last primary key of the page before}``.
    """
    try:
        state = ags.decode_cursor(value)
    except ags.AgsError as exc:
        raise NrpsError("cursor is not valid.") from exc
    names = set(filter_names)
    filters, limit, after = state.get("f", {}), state.get("l"), state.get("a", 0)
    if (
        not isinstance(filters, dict)
        or not all(k in names and isinstance(v, str) for k, v in filters.items())
        or isinstance(limit, bool)
        or not isinstance(limit, int)
        or limit < 1
        or isinstance(after, bool)
        or not isinstance(after, int)
    ):
        raise NrpsError("cursor is not valid.")
    return filters, limit, after


def next_link(url: str, state: Mapping[str, Any]) -> str:
    """The ``Link`` header value of the next page (NRPS §2.4.2)."""
    return f'<{url}?cursor={encode_cursor(state)}>; rel="next"'
