"""Every kind of content a tool can return, and what each place in the platform accepts.

Deep Linking 2.0 (§3) has five content item types: ``ltiResourceLink`` (read by
``deep_linking``), ``link``, ``html``, ``image`` and ``file``. Content-Item 1.0 (§5) has
``LtiLinkItem`` (read by ``content_item``), ``ContentItem`` (a link, an image, or an HTML fragment
to embed, by its ``mediaType`` and ``placementAdvice``) and ``FileItem``. This module reads the
non-LTI-link items of both into the same checked values: :class:`LinkItem`, :class:`HtmlItem`,
:class:`ImageItem`, :class:`FileItem`.

A :class:`Place` says what the place an editor came from can take, and is what the request
tells the tool (``accept_types``, ``accept_presentation_document_targets``,
``accept_media_types``, ``accept_multiple``, ``auto_create``):

* :data:`RESOURCE_LINKS` — the admin's "Add resource links from a tool": LTI resource links only;
* :func:`rich_text` — a Draftail field's "Insert from a tool": links, HTML, images, resource
  links, and files when the site accepts some media types; several at once;
* :func:`block` — the "Tool content" StreamField block: any one item.

HTML is returned as the tool sent it: sanitising is the platform's (``security/html.py``).

Pure: no Django, no database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .errors import LtiError


RESOURCE_LINK = "ltiResourceLink"
LINK = "link"
HTML = "html"
IMAGE = "image"
FILE = "file"
ALL_TYPES: tuple[str, ...] = (RESOURCE_LINK, LINK, HTML, IMAGE, FILE)

LTI_LINK_MEDIA_TYPE = "application/vnd.ims.lti.v1.ltilink"
HTML_MEDIA_TYPE = "text/html"
IMAGE_MEDIA_TYPES = "image/*"

MAX_HTML_LENGTH = 100_000
MAX_DIMENSION = 10_000

Target = Literal["", "iframe", "window", "embed"]


class ContentItemsError(LtiError):
    """An item refused. ``str(error)`` is a sentence for the editor."""


# --- Places --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """What one place of the platform can take from a tool."""

    name: str
    accept_types: tuple[str, ...]
    presentation_targets: tuple[str, ...]
    #: Content-Item's ``accept_media_types`` (and Deep Linking's, for ``file`` items).
    media_types: tuple[str, ...]
    #: The media types of ``file`` items (Deep Linking's ``accept_media_types``).
    file_media_types: tuple[str, ...] = ()
    accept_multiple: bool = True
    auto_create: bool = True

    @property
    def only_resource_links(self) -> bool:
        return self.accept_types == (RESOURCE_LINK,)

    def accepts_media_type(self, media_type: str) -> bool:
        return media_type_matches(media_type, self.media_types)


RESOURCE_LINKS = Place(
    name="resource_links",
    accept_types=(RESOURCE_LINK,),
    presentation_targets=("iframe", "window"),
    media_types=(LTI_LINK_MEDIA_TYPE,),
)


def _content_place(name: str, file_media_types: Sequence[str], *, multiple: bool) -> Place:
    files = tuple(file_media_types)
    types = (RESOURCE_LINK, LINK, HTML, IMAGE) + ((FILE,) if files else ())
    return Place(
        name=name,
        accept_types=types,
        presentation_targets=("iframe", "window", "embed"),
        media_types=(LTI_LINK_MEDIA_TYPE, HTML_MEDIA_TYPE, IMAGE_MEDIA_TYPES) + files,
        file_media_types=files,
        accept_multiple=multiple,
    )


def rich_text(file_media_types: Sequence[str] = ()) -> Place:
    """A rich-text field: several items of any type; files only of ``file_media_types``."""
    return _content_place("rich_text", file_media_types, multiple=True)


def block(file_media_types: Sequence[str] = ()) -> Place:
    """The "Tool content" block: one item of any type; files only of ``file_media_types``."""
    return _content_place("block", file_media_types, multiple=False)


def place_named(name: str, file_media_types: Sequence[str] = ()) -> Place:
    """The place called ``name`` (``resource_links``, ``rich_text``, ``block``)."""
    if name == "rich_text":
        return rich_text(file_media_types)
    if name == "block":
        return block(file_media_types)
    if name == RESOURCE_LINKS.name:
        return RESOURCE_LINKS
    raise ValueError(f"Unknown place: {name!r}")


def media_type_matches(media_type: str, patterns: Sequence[str]) -> bool:
    """Whether ``media_type`` (parameters ignored) matches one of ``patterns`` (``type/*`` too)."""
    value = (media_type or "").split(";", 1)[0].strip().lower()
    if "/" not in value:
        return False
    major = value.split("/", 1)[0]
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern in (value, "*/*") or pattern == f"{major}/*":
            return True
    return False


# --- The items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """An icon or a thumbnail: its URL and size, if given."""

    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class LinkItem:
    """A link to a web page (DL ``link``; CI ``ContentItem`` with a URL)."""

    url: str
    title: str = ""
    text: str = ""
    icon: Picture | None = None
    thumbnail: Picture | None = None
    embed_html: str = ""  # as the tool sent it: sanitise before use
    target: Target = ""
    width: int | None = None
    height: int | None = None
    kind: str = LINK


@dataclass(frozen=True)
class HtmlItem:
    """An HTML fragment (DL ``html``; CI ``ContentItem`` ``text/html`` embedded, without URL)."""

    html: str  # as the tool sent it: sanitise before use
    title: str = ""
    text: str = ""
    kind: str = HTML


@dataclass(frozen=True)
class ImageItem:
    """An image by URL (DL ``image``; CI ``ContentItem`` of an ``image/*`` media type)."""

    url: str
    title: str = ""
    text: str = ""
    width: int | None = None
    height: int | None = None
    thumbnail: Picture | None = None
    kind: str = IMAGE


@dataclass(frozen=True)
class FileItem:
    """A file to download (DL ``file``; CI ``FileItem``). ``expires_at``: when its URL stops
    working (``expiresAt``), if the tool says."""

    url: str
    title: str = ""
    text: str = ""
    media_type: str = ""
    expires_at: datetime | None = None
    kind: str = FILE


# --- Reading values -------------------------------------------------------------------------------


def _text(item: Mapping[str, Any], name: str, *, what: str, limit: int) -> str:
    from .deep_linking import DeepLinkingError

    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DeepLinkingError(f"The {name} of {what} is not text.")
    value = value.strip()
    if len(value) > limit:
        raise DeepLinkingError(f"The {name} of {what} is too long (over {limit} characters).")
    return value


def _url(value: Any, *, what: str, required: bool) -> str:
    from .deep_linking import DeepLinkingError, check_http_url

    if value is None or value == "":
        if required:
            raise DeepLinkingError(f"{what[0].upper()}{what[1:]} has no URL.")
        return ""
    if not isinstance(value, str):
        raise DeepLinkingError(f"The URL of {what} is not text.")
    return check_http_url(value.strip(), what=what)


def _dimension(value: Any, *, what: str) -> int | None:
    from .deep_linking import DeepLinkingError

    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DeepLinkingError(f"A width or height of {what} is not a number.")
    number = int(value)
    if number <= 0 or number > MAX_DIMENSION:
        raise DeepLinkingError(f"A width or height of {what} is out of range.")
    return number


def _picture(value: Any, *, what: str, url_key: str = "url") -> Picture | None:
    from .deep_linking import DeepLinkingError

    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise DeepLinkingError(f"An icon or thumbnail of {what} is not a JSON object.")
    url = _url(value.get(url_key), what=what, required=True)
    return Picture(
        url=url,
        width=_dimension(value.get("width"), what=what),
        height=_dimension(value.get("height"), what=what),
    )


def read_expires_at(value: Any, *, what: str) -> datetime | None:
    """An ``expiresAt`` (ISO 8601); a time without a zone is taken as UTC."""
    from .deep_linking import DeepLinkingError

    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DeepLinkingError(f"The expiresAt of {what} is not a date and time.")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DeepLinkingError(f"The expiresAt of {what} is not a date and time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _what(item: Mapping[str, Any], number: int) -> tuple[str, str]:
    title = _text(item, "title", what=f"item {number}", limit=10_000)
    what = f"item {number}" + (f" (“{title[:80]}”)" if title else "")
    return title[:255], what


# --- Deep Linking 2.0 -----------------------------------------------------------------------------


def read_deep_linking_item(item: Mapping[str, Any], number: int, *, place: Place):
    """A checked ``link``/``html``/``image``/``file`` item of a Deep Linking response."""
    from .deep_linking import DeepLinkingError

    item_type = item.get("type")
    title, what = _what(item, number)
    text = _text(item, "text", what=what, limit=10_000)
    if item_type == LINK:
        embed = item.get("embed")
        embed_html = ""
        if embed is not None:
            if not isinstance(embed, Mapping):
                raise DeepLinkingError(f"The embed of {what} is not a JSON object.")
            embed_html = _text(embed, "html", what=what, limit=MAX_HTML_LENGTH)
        target: Target = ""
        width = height = None
        for name in ("iframe", "window"):
            frame = item.get(name)
            if frame is None:
                continue
            if not isinstance(frame, Mapping):
                raise DeepLinkingError(f"The {name} of {what} is not a JSON object.")
            if name not in place.presentation_targets:
                raise DeepLinkingError(f"{what.capitalize()} asks to be shown in a {name}.")
            target = target or name
            width = width or _dimension(frame.get("width"), what=what)
            height = height or _dimension(frame.get("height"), what=what)
        if embed_html and not target:
            target = "embed"
        return LinkItem(
            url=_url(item.get("url"), what=what, required=True),
            title=title,
            text=text,
            icon=_picture(item.get("icon"), what=what),
            thumbnail=_picture(item.get("thumbnail"), what=what),
            embed_html=embed_html,
            target=target,
            width=width,
            height=height,
        )
    if item_type == HTML:
        html = _text(item, "html", what=what, limit=MAX_HTML_LENGTH)
        if not html:
            raise DeepLinkingError(f"{what.capitalize()} is an HTML item without HTML.")
        return HtmlItem(html=html, title=title, text=text)
    if item_type == IMAGE:
        return ImageItem(
            url=_url(item.get("url"), what=what, required=True),
            title=title,
            text=text,
            width=_dimension(item.get("width"), what=what),
            height=_dimension(item.get("height"), what=what),
            thumbnail=_picture(item.get("thumbnail"), what=what),
        )
    if item_type == FILE:
        media_type = _text(item, "mediaType", what=what, limit=255)
        if media_type and not media_type_matches(media_type, place.file_media_types):
            raise DeepLinkingError(
                f"{what.capitalize()} is a file of type “{media_type}”, which cannot be added "
                "here. Nothing was added."
            )
        return FileItem(
            url=_url(item.get("url"), what=what, required=True),
            title=title,
            text=text,
            media_type=media_type,
            expires_at=read_expires_at(item.get("expiresAt"), what=what),
        )
    raise DeepLinkingError(f"Item {number} has an unknown type “{item_type}”.")


# --- Content-Item 1.0 -----------------------------------------------------------------------------


def is_lti_link(item: Mapping[str, Any]) -> bool:
    """Whether a Content-Item item is an LTI link (``LtiLinkItem``, or its media type)."""
    item_type = item.get("@type")
    media_type = item.get("mediaType")
    if item_type == "LtiLinkItem":
        return media_type in (None, LTI_LINK_MEDIA_TYPE)
    return item_type == "ContentItem" and media_type == LTI_LINK_MEDIA_TYPE


def content_item_kind(item: Mapping[str, Any]) -> str:
    """The Deep Linking type a Content-Item item amounts to."""
    if is_lti_link(item):
        return RESOURCE_LINK
    item_type = item.get("@type")
    media_type = str(item.get("mediaType") or "")
    if item_type == "FileItem":
        return FILE
    if media_type_matches(media_type, (IMAGE_MEDIA_TYPES,)):
        return IMAGE
    advice = item.get("placementAdvice")
    target = ""
    if isinstance(advice, Mapping):
        target = str(advice.get("presentationDocumentTarget") or "").lower()
    if (
        media_type_matches(media_type, (HTML_MEDIA_TYPE,))
        and target == "embed"
        and not item.get("url")
    ):
        return HTML
    return LINK


def read_content_item(item: Mapping[str, Any], number: int, *, place: Place):
    """A checked non-LTI-link item of a ``ContentItemSelection`` (a link, HTML, image or file).

    The item's ``mediaType`` must be one the place accepts; its ``placementAdvice`` target one of
    the place's presentation targets.
    """
    from .deep_linking import DeepLinkingError

    title, what = _what(item, number)
    text = _text(item, "text", what=what, limit=MAX_HTML_LENGTH)
    media_type = _text(item, "mediaType", what=what, limit=255)
    kind = content_item_kind(item)
    if kind == FILE:
        accepted = media_type_matches(media_type, place.file_media_types)
    else:
        accepted = bool(media_type) and place.accepts_media_type(media_type)
    if kind not in place.accept_types or not accepted:
        raise DeepLinkingError(
            f"The tool returned an item of type “{media_type or item.get('@type')}” (item "
            f"{number}), which cannot be added here. Nothing was added."
        )
    advice = item.get("placementAdvice")
    target: Target = ""
    width = height = None
    if advice is not None:
        if not isinstance(advice, Mapping):
            raise DeepLinkingError(f"The placementAdvice of {what} is not a JSON object.")
        raw = str(advice.get("presentationDocumentTarget") or "").lower()
        mapped = {"iframe": "iframe", "frame": "iframe", "embed": "embed", "window": "window"}
        mapped.update({"popup": "window", "overlay": "window"})
        if raw and (raw not in mapped or mapped[raw] not in place.presentation_targets):
            raise DeepLinkingError(f"{what.capitalize()} asks to be shown as “{raw}”.")
        target = mapped.get(raw, "")  # type: ignore[assignment]
        width = _dimension(advice.get("displayWidth"), what=what)
        height = _dimension(advice.get("displayHeight"), what=what)
    if kind == HTML:
        if not text:
            raise DeepLinkingError(f"{what.capitalize()} is an HTML fragment without HTML.")
        return HtmlItem(html=text, title=title)
    url = _url(item.get("url"), what=what, required=True)
    thumbnail = _picture(item.get("thumbnail"), what=what, url_key="@id")
    if kind == IMAGE:
        return ImageItem(
            url=url, title=title, text=text, width=width, height=height, thumbnail=thumbnail
        )
    if kind == FILE:
        return FileItem(
            url=url,
            title=title,
            text=text,
            media_type=media_type,
            expires_at=read_expires_at(item.get("expiresAt"), what=what),
        )
    return LinkItem(
        url=url,
        title=title,
        text=text,
        icon=_picture(item.get("icon"), what=what, url_key="@id"),
        thumbnail=thumbnail,
        target=target,
        width=width,
        height=height,
    )
