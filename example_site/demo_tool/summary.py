"""Turn what a platform sent (LTI 1.1 parameters or LTI 1.3 claims) into one readable summary.

The launch page shows the same sections for both versions: platform, learner, roles, course,
resource link, custom parameters, services offered, presentation. Values are shown as received;
nothing here is trusted for anything but display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .lti13 import AGS_CLAIM, CLAIM, NRPS_CLAIM


@dataclass
class Service:
    name: str
    rows: list[tuple[str, Any]]
    offered: bool = True


@dataclass
class Summary:
    version: str  # "1.1" or "1.3"
    message_type: str = ""
    platform: list[tuple[str, Any]] = field(default_factory=list)
    learner: list[tuple[str, Any]] = field(default_factory=list)
    learner_name: str = ""
    roles: list[dict[str, str]] = field(default_factory=list)
    context: list[tuple[str, Any]] = field(default_factory=list)
    resource_link: list[tuple[str, Any]] = field(default_factory=list)
    resource_link_title: str = ""
    custom: list[tuple[str, str]] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    presentation: list[tuple[str, Any]] = field(default_factory=list)
    return_url: str = ""
    score_service: str = ""  # "" when the platform offered no way to send a score
    raw: str = ""


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _rows(*pairs: tuple[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` for each value that was sent (lists joined with commas)."""
    return [(label, _text(value)) for label, value in pairs if value not in (None, "", [], {})]


def role_label(role: str) -> str:
    """A short name for a role URI: ``…/membership#Learner`` → ``Learner``."""
    for sep in ("#", "/", ":"):
        if sep in role:
            role = role.rsplit(sep, 1)[-1]
    return role or "?"


def _roles(values: list[str]) -> list[dict[str, str]]:
    return [{"label": role_label(value), "uri": value} for value in values if value]


def safe_return_url(url: Any) -> str:
    """The URL if it is an absolute http(s) URL, else ``""`` (never a ``javascript:`` link)."""
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    return url.strip()


def with_message(return_url: str, **messages: str) -> str:
    """``return_url`` with ``lti_msg`` / ``lti_errormsg`` added to its query."""
    if not return_url:
        return ""
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in messages]
    query += [(k, v) for k, v in messages.items() if v]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def summarize_lti11(params: dict[str, str], consumer_key: str = "") -> Summary:
    p = params.get
    summary = Summary(version="1.1", message_type=p("lti_message_type", ""))
    summary.platform = _rows(
        ("Name", p("tool_consumer_instance_name")),
        ("Description", p("tool_consumer_instance_description")),
        ("Instance GUID", p("tool_consumer_instance_guid")),
        (
            "Product",
            " ".join(
                filter(
                    None,
                    [p("tool_consumer_info_product_family_code"), p("tool_consumer_info_version")],
                )
            ),
        ),
        ("Contact", p("tool_consumer_instance_contact_email")),
        ("Consumer key", consumer_key),
        ("LTI version", p("lti_version")),
    )
    summary.learner_name = p("lis_person_name_full") or " ".join(
        filter(None, [p("lis_person_name_given"), p("lis_person_name_family")])
    )
    summary.learner = _rows(
        ("Name", summary.learner_name),
        ("Email", p("lis_person_contact_email_primary")),
        ("User ID (opaque)", p("user_id")),
        ("Person sourcedid", p("lis_person_sourcedid")),
    )
    summary.roles = _roles([r.strip() for r in p("roles", "").split(",")])
    summary.context = _rows(
        ("Title", p("context_title")),
        ("Label", p("context_label")),
        ("ID", p("context_id")),
        ("Type", p("context_type")),
    )
    summary.resource_link_title = p("resource_link_title", "")
    summary.resource_link = _rows(
        ("Title", p("resource_link_title")),
        ("Description", p("resource_link_description")),
        ("ID", p("resource_link_id")),
    )
    summary.custom = sorted(
        (key[len("custom_") :], value) for key, value in params.items() if key.startswith("custom_")
    )
    outcomes = bool(p("lis_outcome_service_url") and p("lis_result_sourcedid"))
    summary.services = [
        Service(
            "Basic Outcomes (LTI 1.1)",
            _rows(
                ("Outcome service URL", p("lis_outcome_service_url")),
                ("Result sourcedid", p("lis_result_sourcedid")),
            ),
            offered=outcomes,
        )
    ]
    if p("ext_ims_lis_memberships_url"):
        summary.services.append(
            Service("Memberships (extension)", _rows(("URL", p("ext_ims_lis_memberships_url"))))
        )
    summary.presentation = _rows(
        ("Document target", p("launch_presentation_document_target")),
        ("Locale", p("launch_presentation_locale")),
        ("Width", p("launch_presentation_width")),
        ("Height", p("launch_presentation_height")),
        ("Return URL", p("launch_presentation_return_url")),
    )
    summary.return_url = safe_return_url(p("launch_presentation_return_url"))
    summary.score_service = "Basic Outcomes" if outcomes else ""
    summary.raw = json.dumps(dict(sorted(params.items())), indent=2, ensure_ascii=False)
    return summary


def summarize_lti13(claims: dict[str, Any]) -> Summary:
    def claim(name: str, default: Any = None) -> Any:
        value = claims.get(CLAIM + name, default)
        return value if value is not None else default

    def sub(name: str) -> dict[str, Any]:
        value = claim(name, {})
        return value if isinstance(value, dict) else {}

    summary = Summary(version="1.3", message_type=str(claim("message_type", "")))
    platform = sub("tool_platform")
    aud = claims.get("aud")
    summary.platform = _rows(
        ("Name", platform.get("name")),
        ("Description", platform.get("description")),
        ("Instance GUID", platform.get("guid")),
        (
            "Product",
            " ".join(filter(None, [platform.get("product_family_code"), platform.get("version")])),
        ),
        ("Contact", platform.get("contact_email")),
        ("Issuer", claims.get("iss")),
        ("Client ID", aud[0] if isinstance(aud, list) and aud else aud),
        ("Deployment ID", claim("deployment_id")),
        ("LTI version", claim("version")),
    )
    summary.learner_name = str(
        claims.get("name")
        or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
    )
    lis = sub("lis")
    summary.learner = _rows(
        ("Name", summary.learner_name),
        ("Email", claims.get("email")),
        ("User ID (sub, opaque)", claims.get("sub")),
        ("Person sourcedid", lis.get("person_sourcedid")),
    )
    roles = claim("roles", [])
    summary.roles = _roles(
        [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else []
    )
    context = sub("context")
    types = context.get("type")
    summary.context = _rows(
        ("Title", context.get("title")),
        ("Label", context.get("label")),
        ("ID", context.get("id")),
        ("Type", ", ".join(role_label(t) for t in types) if isinstance(types, list) else types),
    )
    link = sub("resource_link")
    summary.resource_link_title = str(link.get("title") or "")
    summary.resource_link = _rows(
        ("Title", link.get("title")),
        ("Description", link.get("description")),
        ("ID", link.get("id")),
        ("Target link URI", claim("target_link_uri")),
    )
    custom = sub("custom")
    summary.custom = sorted((str(k), str(v)) for k, v in custom.items())

    ags = claims.get(AGS_CLAIM)
    ags = ags if isinstance(ags, dict) else None
    scopes = ags.get("scope", []) if ags else []
    summary.services = [
        Service(
            "Assignment and Grade Services",
            _rows(
                ("Line item", ags.get("lineitem")),
                ("Line items", ags.get("lineitems")),
                ("Scopes", [role_label(s) for s in scopes] if isinstance(scopes, list) else scopes),
            )
            if ags
            else [],
            offered=ags is not None,
        )
    ]
    nrps = claims.get(NRPS_CLAIM)
    nrps = nrps if isinstance(nrps, dict) else None
    summary.services.append(
        Service(
            "Names and Role Provisioning Services",
            _rows(
                ("Memberships URL", nrps.get("context_memberships_url")),
                ("Versions", nrps.get("service_versions")),
            )
            if nrps
            else [],
            offered=nrps is not None,
        )
    )
    if lis.get("outcome_service_url") or lis.get("result_sourcedid"):
        summary.services.append(
            Service(
                "LIS (LTI 1.1 outcomes, for migration)",
                _rows(
                    ("Outcome service URL", lis.get("outcome_service_url")),
                    ("Result sourcedid", lis.get("result_sourcedid")),
                ),
            )
        )
    presentation = sub("launch_presentation")
    summary.presentation = _rows(
        ("Document target", presentation.get("document_target")),
        ("Locale", presentation.get("locale")),
        ("Width", presentation.get("width")),
        ("Height", presentation.get("height")),
        ("Return URL", presentation.get("return_url")),
    )
    summary.return_url = safe_return_url(presentation.get("return_url"))
    can_score = bool(
        ags
        and isinstance(scopes, list)
        and "https://purl.imsglobal.org/spec/lti-ags/scope/score" in scopes
        and (ags.get("lineitem") or ags.get("lineitems"))
    )
    summary.score_service = "Assignment and Grade Services" if can_score else ""
    summary.raw = json.dumps(claims, indent=2, sort_keys=True, ensure_ascii=False)
    return summary
