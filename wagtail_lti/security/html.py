"""The one sanitiser of HTML that comes from tools: :func:`sanitise`.

A tool's Deep Linking ``html`` item, a ``link`` item's ``embed`` HTML and a Content-Item HTML
fragment are written by the tool, not by an editor of this site. Before such HTML is stored, when
a page that uses it is saved, and again each time it is rendered, it goes through
:func:`sanitise`: `nh3 <https://nh3.readthedocs.io/>`_ (the Python binding of the maintained Rust
sanitiser Ammonia) with an allow-list of tags and attributes.

What never survives: ``<script>``, ``<style>``, ``<object>``, ``<embed>``, forms and their
controls (removed with their content), event handler attributes (``onerror``, ``onclick``…),
``style`` attributes, URLs whose scheme is not ``http``, ``https`` or ``mailto`` (so
``javascript:`` and ``data:`` URLs are dropped), HTML comments. Links get
``rel="noopener noreferrer"``.

Iframes: removed, unless ``embed_hosts`` names the host of the iframe's ``src`` (an ``https``
URL). The caller passes the hosts of a provider trusted for embeds
(``LtiProvider.trusted_for_embeds``: the hosts of its own URLs); an iframe of any other host is
removed, content and all. A kept iframe keeps only ``src``, ``title``, ``width``, ``height``,
``allow`` and ``allowfullscreen``, and always gets ``sandbox="allow-scripts allow-same-origin
allow-forms allow-popups"`` and ``loading="lazy"``.

Pure apart from nh3: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

import nh3


#: Tags kept (their text is kept when a tag is not allowed, except for ``_REMOVED_WITH_CONTENT``).
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
_REMOVED_WITH_CONTENT = frozenset(
    {"script", "style", "object", "embed", "form", "select", "textarea", "button", "template"}
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
_IFRAME_ATTRIBUTES = {"src", "title", "width", "height", "allow", "allowfullscreen"}
IFRAME_SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups"
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# nh3 serialises a kept element as ``<iframe attr="…" …></iframe>``; an iframe whose ``src`` was
# dropped (a foreign host) is removed whole.
_IFRAME_WITHOUT_SRC = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.DOTALL)


def _embed_host_allowed(url: str, embed_hosts: Collection[str]) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and (parts.hostname or "").lower() in embed_hosts


def sanitise(html: str, *, embed_hosts: Collection[str] = ()) -> str:
    """``html`` with everything not on the allow-list removed (see the module's text).

    ``embed_hosts``: lower-case host names whose ``https`` iframes are kept; empty (the default):
    no iframe is kept.
    """
    if not html:
        return ""
    hosts = frozenset(host.lower() for host in embed_hosts if host)
    tags = set(ALLOWED_TAGS)
    removed = set(_REMOVED_WITH_CONTENT)
    attributes = {name: set(values) for name, values in ALLOWED_ATTRIBUTES.items()}
    if hosts:
        tags.add("iframe")
        attributes["iframe"] = set(_IFRAME_ATTRIBUTES)
    else:
        removed.add("iframe")

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "iframe" and attribute == "src" and not _embed_host_allowed(value, hosts):
            return None
        return value

    cleaned = nh3.clean(
        html,
        tags=tags,
        clean_content_tags=removed,
        attributes=attributes,
        attribute_filter=attribute_filter,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        set_tag_attribute_values=(
            {"iframe": {"sandbox": IFRAME_SANDBOX, "loading": "lazy"}} if hosts else None
        ),
    )
    if hosts:
        cleaned = _IFRAME_WITHOUT_SRC.sub("", cleaned)
    return cleaned.strip()


def is_sanitised(html: str, *, embed_hosts: Collection[str] = ()) -> bool:
    """Whether ``html`` is already what :func:`sanitise` makes of it."""
    return sanitise(html, embed_hosts=embed_hosts) == (html or "").strip()
