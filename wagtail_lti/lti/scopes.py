"""OAuth 2 scopes of the LTI Advantage services, and which a tool may be granted."""

from __future__ import annotations

from collections.abc import Iterable


AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_CONTEXT_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
# Platform Notification Service 1.0: registering notice handlers.
NOTICE_HANDLERS = "https://purl.imsglobal.org/spec/lti/scope/noticehandlers"

AGS_SCOPES: tuple[str, ...] = (AGS_LINEITEM, AGS_LINEITEM_READONLY, AGS_RESULT_READONLY, AGS_SCORE)
NRPS_SCOPES: tuple[str, ...] = (NRPS_CONTEXT_MEMBERSHIP_READONLY,)
PNS_SCOPES: tuple[str, ...] = (NOTICE_HANDLERS,)


def allowed_scopes(
    *, allow_ags: bool, allow_nrps: bool, allow_pns: bool = False
) -> tuple[str, ...]:
    """Every scope a tool with these service permissions may be granted."""
    return (
        (AGS_SCOPES if allow_ags else ())
        + (NRPS_SCOPES if allow_nrps else ())
        + (PNS_SCOPES if allow_pns else ())
    )


def grant(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested scopes that are allowed, in the order asked, without duplicates."""
    allowed_set = set(allowed)
    granted: list[str] = []
    for scope in requested:
        if scope in allowed_set and scope not in granted:
            granted.append(scope)
    return granted
