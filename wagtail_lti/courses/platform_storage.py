"""LTI platform storage (LTI Client Side postMessages and Platform Storage, ``lti-cs-pm`` and
``lti-pm-s`` v0.1), the server side.

A tool inside an activity's iframe may lose its own cookies (third-party cookie blocking, Safari);
it can keep its OIDC ``state`` and ``nonce`` in the platform instead. The login initiation says
where to send the messages (``lti_storage_target=_parent``, ``wagtail_lti.lti.oidc``); the course
page answers them with ``wagtail_lti/static/wagtail_lti/platform_storage.js``, which stores values
in the learner's ``sessionStorage``, per tool origin.

The script only answers messages whose ``event.source`` is an activity iframe and whose
``event.origin`` is one of that activity's tool origins, given here: the origins of the provider's
login URL, launch URL and redirect URIs, and of the resource link's URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; else ``None``."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origins(urls: Iterable[str]) -> list[str]:
    found: list[str] = []
    for url in urls:
        origin = origin_of(url)
        if origin and origin not in found:
            found.append(origin)
    return found


def provider_origins(provider) -> list[str]:
    """The origins of a provider's login URL, launch URL and redirect URIs, in that order."""
    return origins([provider.login_url, provider.launch_url, *provider.get_redirect_uris()])


def tool_origins(link, known_provider_origins: list[str] | None = None) -> str:
    """The space-separated tool origins of a resource link (see the module docstring): its URL's,
    then its provider's (``provider_origins(link.provider)``, unless the caller already has them).
    """
    if link is None:
        return ""
    if known_provider_origins is None:
        known_provider_origins = provider_origins(link.provider)
    own = origin_of(link.url)
    found = [own] if own else []
    found.extend(origin for origin in known_provider_origins if origin != own)
    return " ".join(found)
