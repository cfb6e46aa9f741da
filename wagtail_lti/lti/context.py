"""The values a launch is built from, shared by LTI 1.1 and LTI 1.3.

The Django glue (the Django glue (``launch.context.build_launch_context``)) fills a :class:`LaunchContext` from
the request, the placement, the course and the enrollment; the protocol core turns it into LTI 1.1
form parameters (``lti11``) or LTI 1.3 claims (``lti13``). Privacy is already applied here: when a
provider may not receive the learner's name or email, those fields are empty strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


ContextRole = Literal["Learner", "Instructor", "Administrator", "ContentDeveloper", "Mentor"]


@dataclass(frozen=True)
class PlatformInfo:
    guid: str
    name: str
    description: str = ""
    url: str = ""
    contact_email: str = ""
    product_family_code: str = "wagtail-lti"
    version: str = ""


@dataclass(frozen=True)
class LaunchUser:
    """The person launching. ``id`` is opaque and stable per user (never a username or pk)."""

    id: str
    username: str = ""  # empty unless privacy allows the name
    full_name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class LaunchContext:
    user: LaunchUser
    roles: tuple[ContextRole, ...]
    context_id: str
    context_title: str
    context_label: str
    resource_link_id: str
    resource_link_title: str
    resource_link_description: str
    target_url: str
    platform: PlatformInfo
    # Custom parameters: the provider's merged with the link's (link wins), not yet substituted.
    custom: dict[str, str] = field(default_factory=dict)
    document_target: Literal["iframe", "window"] = "iframe"
    locale: str = "en-US"
    return_url: str = ""
    width: int | None = None
    height: int | None = None
    # ``$ResourceLink.id.history`` / ``$Context.id.history``: the ids of the resource link and
    # the context this launch's were copied from, most recent first, comma-separated; empty when
    # they are not copies.
    resource_link_id_history: str = ""
    context_id_history: str = ""
    # The resource link's ``available`` and ``submission`` windows as ISO 8601 date-times (UTC),
    # empty when open on that side: ``$ResourceLink.available.startDateTime`` and the others.
    available_start: str = ""
    available_end: str = ""
    submission_start: str = ""
    submission_end: str = ""
