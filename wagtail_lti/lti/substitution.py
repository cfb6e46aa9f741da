"""Substitution variables in custom parameters, shared by LTI 1.1 and LTI 1.3.

A custom parameter whose whole value is a variable name, such as ``custom_uid=$User.id``, is sent
with the variable's value for this launch. The supported variables are those of LTI Core 1.3
Appendix B (also defined for LTI 1.1) listed in :data:`VARIABLES`.

Two rules from the spec (LTI Core 1.3 §5.4.6.1; LTI 1.1 Implementation Guide §B.1):

* a variable the platform does not support is passed through unchanged, ``$`` included;
* a variable the platform supports but has no value for (for example ``$Person.email.primary``
  when the provider may not receive the learner's email) is also passed through unchanged, so
  privacy settings cannot be bypassed through a custom parameter.

The exception: ``$ResourceLink.id.history`` and ``$Context.id.history`` (LTI Core 1.3, custom
property substitution, "ResourceLink" and "Context" variables) are the ids of the resource link's / context's
ancestors, most recent first, comma-separated, each URL-encoded; the spec gives a resource link
or context that is not a copy an *empty value*, so they are always substituted (:data:`EMPTY_ALLOWED`).

``$ResourceLink.available.startDateTime``, ``...endDateTime`` and
``$ResourceLink.submission.startDateTime``, ``...endDateTime`` (LTI Core 1.3, "ResourceLink"
variables) are the resource link's windows as ISO 8601 date-times; a side without a date has no
value, so the variable is passed through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from .context import LaunchContext


LtiVersion = Literal["1.1", "1.3"]

# LIS v2 context role vocabulary, used by LTI 1.3 (LTI Core 1.3 §A.2.2).
LIS_MEMBERSHIP_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def membership_roles(ctx: LaunchContext, lti_version: LtiVersion = "1.1") -> list[str]:
    """The launching user's context roles in the vocabulary of ``lti_version``.

    LTI 1.1 uses the LIS short names (``Learner``, ``Instructor``) that every 1.1 tool
    understands; LTI 1.3 uses the full LIS v2 membership URIs.
    """
    if lti_version == "1.3":
        return [LIS_MEMBERSHIP_PREFIX + role for role in ctx.roles]
    return list(ctx.roles)


def _values(ctx: LaunchContext, lti_version: LtiVersion) -> dict[str, Callable[[], str]]:
    user = ctx.user
    return {
        "$User.id": lambda: user.id,
        "$User.username": lambda: user.username,
        "$Person.name.full": lambda: user.full_name,
        "$Person.name.given": lambda: user.given_name,
        "$Person.name.family": lambda: user.family_name,
        "$Person.email.primary": lambda: user.email,
        "$Context.id": lambda: ctx.context_id,
        "$Context.title": lambda: ctx.context_title,
        "$ResourceLink.id": lambda: ctx.resource_link_id,
        "$ResourceLink.title": lambda: ctx.resource_link_title,
        "$ResourceLink.id.history": lambda: ctx.resource_link_id_history,
        "$Context.id.history": lambda: ctx.context_id_history,
        "$Membership.role": lambda: ",".join(membership_roles(ctx, lti_version)),
        "$ResourceLink.available.startDateTime": lambda: ctx.available_start,
        "$ResourceLink.available.endDateTime": lambda: ctx.available_end,
        "$ResourceLink.submission.startDateTime": lambda: ctx.submission_start,
        "$ResourceLink.submission.endDateTime": lambda: ctx.submission_end,
    }


#: The variable names this platform substitutes.
VARIABLES: tuple[str, ...] = (
    "$User.id",
    "$User.username",
    "$Person.name.full",
    "$Person.name.given",
    "$Person.name.family",
    "$Person.email.primary",
    "$Context.id",
    "$Context.title",
    "$ResourceLink.id",
    "$ResourceLink.title",
    "$ResourceLink.id.history",
    "$Context.id.history",
    "$Membership.role",
    "$ResourceLink.available.startDateTime",
    "$ResourceLink.available.endDateTime",
    "$ResourceLink.submission.startDateTime",
    "$ResourceLink.submission.endDateTime",
)

#: The variables whose empty value is a value (substituted, not passed through).
EMPTY_ALLOWED: frozenset[str] = frozenset({"$ResourceLink.id.history", "$Context.id.history"})


def substitute(
    custom: dict[str, str], ctx: LaunchContext, *, lti_version: LtiVersion = "1.1"
) -> dict[str, str]:
    """Return ``custom`` with every supported, known variable replaced by its value.

    Only a value that is exactly a variable name (surrounding spaces ignored) is replaced; any
    other value, an unknown ``$Variable`` or a variable without a value in ``ctx`` is kept
    verbatim (except the history variables, whose empty value is sent). Keys are not changed. ``lti_version`` selects the role vocabulary of
    ``$Membership.role``.
    """
    values = _values(ctx, lti_version)
    result: dict[str, str] = {}
    for name, value in custom.items():
        variable = value.strip()
        getter = values.get(variable)
        substituted = (getter() or "") if getter is not None else ""
        result[name] = substituted if substituted or variable in EMPTY_ALLOWED else value
    return result
