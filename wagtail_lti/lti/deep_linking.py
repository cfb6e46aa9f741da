"""LTI Deep Linking 2.0 on the platform side: the request's settings claim and the tool's response.

An editor asks a tool for content: the platform launches the tool with an
``LtiDeepLinkingRequest`` whose ``deep_linking_settings`` claim (Deep Linking 2.0 §4.4) says where
to answer (``deep_link_return_url``), what may come back (``accept_types``, presentation targets,
several items or one) and carries an opaque ``data`` value the tool must echo. The tool answers by
form-POSTing a JWT named ``JWT`` to the return URL: an ``LtiDeepLinkingResponse`` (§4.5) signed with
the tool's key, carrying the chosen ``content_items``.

This module builds the settings claim and reads a response whose signature, ``iss``, ``aud``,
``exp`` and ``iat`` were already verified (the Django glue (``security.tool_keys.verify_tool_jwt``)). It checks the
message itself and turns each ``ltiResourceLink`` item into a :class:`ResourceLinkItem`. Any item
of a type that was not accepted refuses the whole response (nothing is created). The replay check
of the ``nonce`` and the binding of ``data`` to the editor's session are the caller's (they need
the database).

Pure: no Django, no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from .content_items import RESOURCE_LINKS, Place, read_deep_linking_item
from .errors import LtiError


LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS_CLAIM = DL_CLAIM + "deep_linking_settings"
CONTENT_ITEMS_CLAIM = DL_CLAIM + "content_items"
DATA_CLAIM = DL_CLAIM + "data"

REQUEST_MESSAGE_TYPE = "LtiDeepLinkingRequest"
RESPONSE_MESSAGE_TYPE = "LtiDeepLinkingResponse"
VERSION = "1.3.0"

RESOURCE_LINK_TYPE = "ltiResourceLink"
#: What this platform accepts: LTI resource links (they become LTI Resource Link records).
ACCEPT_TYPES: tuple[str, ...] = (RESOURCE_LINK_TYPE,)
ACCEPT_PRESENTATION_TARGETS: tuple[str, ...] = ("iframe", "window")

#: The most items one response may carry.
MAX_ITEMS = 100
MAX_NAME_LENGTH = 255
MAX_URL_LENGTH = 1024
MAX_TEXT_LENGTH = 10_000
MAX_MESSAGE_LENGTH = 2_000
MAX_NONCE_LENGTH = 255
#: The largest window or frame size accepted, in pixels.
MAX_SIZE = 10_000
MAX_WINDOW_NAME_LENGTH = 64
MAX_WINDOW_FEATURES_LENGTH = 255

OpenIn = Literal["embed", "window"]


class DeepLinkingError(LtiError):
    """A deep-linking response refused. ``str(error)`` is a sentence for the editor."""


@dataclass(frozen=True)
class ResourceLinkItem:
    """One ``ltiResourceLink`` content item, checked (Deep Linking 2.0 §3.2).

    ``url`` is empty when the tool gave none (the platform then uses the tool's launch URL).
    ``custom`` holds the item's custom parameters as the tool named them (string values).
    ``score_maximum`` is set when the item has a ``lineItem``: the link then requires a score,
    and the line item's ``resourceId``, ``tag`` and ``gradesReleased`` are kept for the line item
    each placement of the link gets. ``available_*`` and ``submission_*`` are the item's
    ``available`` and ``submission`` windows (timezone-aware, ``None``: open on that side);
    ``window_*`` and ``iframe_*`` its ``window`` and ``iframe`` presentation (§3.4.1).
    """

    title: str
    url: str = ""
    text: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    line_item_label: str = ""
    score_maximum: float | None = None
    line_item_resource_id: str = ""
    line_item_tag: str = ""
    line_item_grades_released: bool | None = None
    open_in: OpenIn = "embed"
    available_start: datetime | None = None
    available_end: datetime | None = None
    submission_start: datetime | None = None
    submission_end: datetime | None = None
    window_target_name: str = ""
    window_width: int | None = None
    window_height: int | None = None
    window_features: str = ""
    iframe_width: int | None = None
    iframe_height: int | None = None

    @property
    def name(self) -> str:
        """The name for the resource link: the title, else the line item's label."""
        return (self.title or self.line_item_label)[:MAX_NAME_LENGTH]


@dataclass(frozen=True)
class DeepLinkingResponse:
    """A checked ``LtiDeepLinkingResponse``. ``msg`` and ``errormsg`` are for the editor; the
    ``log`` and ``errorlog`` values for the platform's log."""

    nonce: str
    data: str
    deployment_id: str
    items: list  # ResourceLinkItem, and with a place content_items' LinkItem, HtmlItem…
    msg: str = ""
    log: str = ""
    errormsg: str = ""
    errorlog: str = ""


# --- The request --------------------------------------------------------------------------------


def deep_linking_settings(
    *,
    return_url: str,
    data: str,
    title: str = "",
    text: str = "",
    accept_multiple: bool = True,
    place: Place = RESOURCE_LINKS,
) -> dict[str, Any]:
    """The ``deep_linking_settings`` claim of an ``LtiDeepLinkingRequest`` (Deep Linking 2.0 §4.4).

    What the ``place`` the editor came from can take (``content_items.Place``): by default LTI
    resource links only, shown in an iframe or a new window, with their line item
    (``accept_lineitem``); ``accept_media_types`` when the place takes files. ``auto_create`` is
    true: the platform adds what the tool returns at once, without another confirmation. ``data``
    is echoed by the tool in its response.
    """
    if not return_url or not data:
        raise ValueError("A deep linking request needs a return URL and a data value")
    settings: dict[str, Any] = {
        "deep_link_return_url": return_url,
        "accept_types": list(place.accept_types),
        "accept_presentation_document_targets": list(place.presentation_targets),
        "accept_multiple": bool(accept_multiple and place.accept_multiple),
        "accept_lineitem": True,
        "auto_create": place.auto_create,
        "data": data,
    }
    if place.file_media_types:
        settings["accept_media_types"] = ",".join(place.file_media_types)
    if title:
        settings["title"] = title
    if text:
        settings["text"] = text
    return settings


def settings_claim(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The claim as it goes into the id_token's extra claims."""
    return {SETTINGS_CLAIM: dict(settings)}


# --- The response -------------------------------------------------------------------------------


def _message_claim(claims: Mapping[str, Any], name: str) -> str:
    """An optional ``msg``/``log``/``errormsg``/``errorlog`` claim.

    Lenient about a trailing space in the claim name: ltijs-derived tools send ``…/errormsg ``.
    """
    for key in (DL_CLAIM + name, DL_CLAIM + name + " "):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_MESSAGE_LENGTH]
    return ""


def unverified_audience_matches(claims: Mapping[str, Any], issuer: str) -> bool:
    """Whether ``aud`` (a string or an array) names ``issuer``: for a precise refusal message
    before the signature is checked (the full check follows)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return aud == issuer
    if isinstance(aud, list):
        return issuer in aud
    return False


def _string(item: Mapping[str, Any], name: str, *, what: str, limit: int) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DeepLinkingError(f"The {name} of {what} is not text.")
    value = value.strip()
    if len(value) > limit:
        raise DeepLinkingError(f"The {name} of {what} is too long (over {limit} characters).")
    return value


def check_http_url(url: str, *, what: str) -> str:
    """``url`` if it is an absolute ``http``/``https`` URL, else :class:`DeepLinkingError`."""
    if len(url) > MAX_URL_LENGTH:
        raise DeepLinkingError(f"The URL of {what} is too long.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DeepLinkingError(f"The URL of {what} is not a valid web address.") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        raise DeepLinkingError(f"The URL of {what} is not an http(s) web address: “{url[:100]}”.")
    if any(c in url for c in " \t\r\n"):
        raise DeepLinkingError(f"The URL of {what} contains spaces.")
    return url


def read_custom(value: Any, *, what: str) -> dict[str, str]:
    """The ``custom`` map of an item: names to string values (numbers and booleans are written
    as text, as tools sometimes send them); anything else is refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DeepLinkingError(f"The custom parameters of {what} are not a JSON object.")
    custom: dict[str, str] = {}
    for name, raw in value.items():
        if not isinstance(name, str) or not name:
            raise DeepLinkingError(f"A custom parameter of {what} has no name.")
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, str):
            text = raw
        elif isinstance(raw, (int, float)) and math.isfinite(raw):
            text = str(raw)
        else:
            raise DeepLinkingError(
                f"The custom parameter “{name}” of {what} is not text (a custom value must be a "
                "string)."
            )
        if "\n" in text or "\r" in text:
            raise DeepLinkingError(
                f"The custom parameter “{name}” of {what} spans several lines, which this "
                "platform cannot store."
            )
        custom[name] = text
    return custom


def read_score_maximum(value: Any, *, what: str) -> float:
    """A line item's maximum score: a finite number above zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        else:
            value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise DeepLinkingError(f"The maximum score of {what} must be a number greater than zero.")
    return float(value)


def read_date_time(value: Any, *, what: str) -> datetime | None:
    """An ISO 8601 date and time with its offset (``2026-12-03T14:00:00Z``), as an aware
    ``datetime``; ``None`` when absent. A time without a zone is refused: it could mean anything."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise DeepLinkingError(f"The {what} is not an ISO 8601 date and time.")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DeepLinkingError(
            f"The {what} is not an ISO 8601 date and time: “{value[:40]}”."
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DeepLinkingError(
            f"The {what} has no time zone (“{value[:40]}”); add one, such as Z for UTC."
        )
    return moment


def read_window(value: Any, *, what: str) -> tuple[datetime | None, datetime | None]:
    """The ``startDateTime`` and ``endDateTime`` of an ``available`` or ``submission`` object
    (§3.4.1); the end must come after the start."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise DeepLinkingError(f"The {what} is not a JSON object.")
    start = read_date_time(value.get("startDateTime"), what=f"start of the {what}")
    end = read_date_time(value.get("endDateTime"), what=f"end of the {what}")
    if start is not None and end is not None and end <= start:
        raise DeepLinkingError(f"The {what} ends before it starts.")
    return start, end


def read_size(value: Any, *, what: str) -> int | None:
    """A width or height in pixels: a whole number from 1 to :data:`MAX_SIZE`; ``None`` when
    absent."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE:
        raise DeepLinkingError(f"The {what} must be a whole number of pixels from 1 to {MAX_SIZE}.")
    return value


_WINDOW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def window_name(value: str) -> str:
    """A tool's ``targetName`` as a safe browser window name: letters, digits, ``-`` and ``_``
    (other characters become ``_``), at most :data:`MAX_WINDOW_NAME_LENGTH`; a name starting
    with ``_`` or ``-`` (``_blank``, ``_self``, ``_parent``, ``_top``: names a browser treats
    specially) and an empty name give ``""`` (a new window each time)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", (value or "").strip())[:MAX_WINDOW_NAME_LENGTH]
    # A name starting with "_" is a browser keyword (or one): a new window each time.
    return cleaned if _WINDOW_NAME.fullmatch(cleaned) else ""


def _presentation(item: Mapping[str, Any], what: str) -> dict[str, Any]:
    """The item's ``window`` and ``iframe`` objects (§3.4.1) as resource link fields; a
    ``window`` object means the link opens in a new window."""
    values: dict[str, Any] = {"open_in": "embed"}
    window = item.get("window")
    iframe = item.get("iframe")
    if window is not None and not isinstance(window, Mapping):
        raise DeepLinkingError(f"The window of {what} is not a JSON object.")
    if iframe is not None and not isinstance(iframe, Mapping):
        raise DeepLinkingError(f"The iframe of {what} is not a JSON object.")
    if window is not None:
        values["open_in"] = "window"
        values["window_target_name"] = window_name(
            _string(window, "targetName", what=f"the window of {what}", limit=MAX_TEXT_LENGTH)
        )
        values["window_width"] = read_size(window.get("width"), what=f"window width of {what}")
        values["window_height"] = read_size(window.get("height"), what=f"window height of {what}")
        features = _string(
            window, "windowFeatures", what=f"the window of {what}", limit=MAX_TEXT_LENGTH
        )
        values["window_features"] = features[:MAX_WINDOW_FEATURES_LENGTH]
    if iframe is not None:
        values["iframe_width"] = read_size(iframe.get("width"), what=f"frame width of {what}")
        values["iframe_height"] = read_size(iframe.get("height"), what=f"frame height of {what}")
    return values


def _resource_link_item(item: Mapping[str, Any], number: int) -> ResourceLinkItem:
    what = f"item {number}"
    title = _string(item, "title", what=what, limit=MAX_TEXT_LENGTH)
    if title:
        what = f"item {number} (“{title[:80]}”)"
    url = _string(item, "url", what=what, limit=MAX_URL_LENGTH)
    if url:
        check_http_url(url, what=what)
    text = _string(item, "text", what=what, limit=MAX_TEXT_LENGTH)
    custom = read_custom(item.get("custom"), what=what)

    label = ""
    score_maximum = None
    line_item_values: dict[str, Any] = {}
    line_item = item.get("lineItem")
    if line_item is not None:
        if not isinstance(line_item, Mapping):
            raise DeepLinkingError(f"The lineItem of {what} is not a JSON object.")
        of = f"the line item of {what}"
        label = _string(line_item, "label", what=of, limit=MAX_TEXT_LENGTH)
        score_maximum = read_score_maximum(line_item.get("scoreMaximum"), what=what)
        line_item_values["line_item_resource_id"] = _string(
            line_item, "resourceId", what=of, limit=MAX_NAME_LENGTH
        )
        line_item_values["line_item_tag"] = _string(
            line_item, "tag", what=of, limit=MAX_NAME_LENGTH
        )
        released = line_item.get("gradesReleased")
        if released is not None and not isinstance(released, bool):
            raise DeepLinkingError(f"The gradesReleased of {of} is not true or false.")
        line_item_values["line_item_grades_released"] = released

    available_start, available_end = read_window(
        item.get("available"), what=f"availability of {what}"
    )
    submission_start, submission_end = read_window(
        item.get("submission"), what=f"submission window of {what}"
    )

    if not (title or label):
        raise DeepLinkingError(f"{what.capitalize()} has no title.")
    return ResourceLinkItem(
        title=title[:MAX_NAME_LENGTH],
        url=url,
        text=text,
        custom=custom,
        line_item_label=label[:MAX_NAME_LENGTH],
        score_maximum=score_maximum,
        available_start=available_start,
        available_end=available_end,
        submission_start=submission_start,
        submission_end=submission_end,
        **line_item_values,
        **_presentation(item, what),
    )


def read_response(
    claims: Mapping[str, Any],
    *,
    deployment_id: str,
    accept_types: Sequence[str] = ACCEPT_TYPES,
    accept_multiple: bool = True,
    max_items: int = MAX_ITEMS,
    place: Place | None = None,
) -> DeepLinkingResponse:
    """Check a verified ``LtiDeepLinkingResponse`` and read its items (Deep Linking 2.0 §4.5).

    Checked: ``message_type`` is ``LtiDeepLinkingResponse``; ``version`` is ``1.3.0``;
    ``deployment_id`` is the one the request was sent with; with a ``place``, its accepted types
    and ``accept_multiple`` replace the arguments, and its ``link``, ``html``, ``image`` and
    ``file`` items are read too (``content_items.read_deep_linking_item``); ``nonce`` and the ``data`` claim are
    present (their single use and session binding are the caller's); ``content_items`` is an
    array (or absent: the tool returned nothing); every item's ``type`` is one of
    ``accept_types``; each ``ltiResourceLink`` item is well formed. The first problem is raised as
    :class:`DeepLinkingError`.
    """
    message_type = claims.get(LTI_CLAIM + "message_type")
    if message_type != RESPONSE_MESSAGE_TYPE:
        raise DeepLinkingError(
            f"The tool's answer is not a deep linking response (its message type is "
            f"“{message_type}”, not “{RESPONSE_MESSAGE_TYPE}”)."
            if message_type
            else "The tool's answer has no message type; a deep linking response was expected."
        )
    version = claims.get(LTI_CLAIM + "version")
    if version != VERSION:
        raise DeepLinkingError(f"The tool's answer is for LTI version “{version}”, not {VERSION}.")
    if claims.get(LTI_CLAIM + "deployment_id") != deployment_id:
        raise DeepLinkingError(
            "The tool's answer names another deployment than the one the request was sent to."
        )
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce.strip() or len(nonce) > MAX_NONCE_LENGTH:
        raise DeepLinkingError("The tool's answer has no usable nonce.")
    data = claims.get(DATA_CLAIM)
    if not isinstance(data, str) or not data:
        raise DeepLinkingError(
            "The tool's answer does not echo the data value of the request, so it cannot be "
            "matched to your request."
        )

    if place is not None:
        accept_types = place.accept_types
        accept_multiple = place.accept_multiple
    raw_items = claims.get(CONTENT_ITEMS_CLAIM)
    if raw_items is None:
        raw_items = []
    if not isinstance(raw_items, list):
        raise DeepLinkingError("The content items in the tool's answer are not a list.")
    if len(raw_items) > max_items:
        raise DeepLinkingError(
            f"The tool returned {len(raw_items)} items; at most {max_items} can be added at once."
        )
    if len(raw_items) > 1 and not accept_multiple:
        raise DeepLinkingError("The tool returned several items; only one was asked for.")
    for number, item in enumerate(raw_items, start=1):
        if not isinstance(item, Mapping):
            raise DeepLinkingError(f"Item {number} of the tool's answer is not a JSON object.")
        item_type = item.get("type")
        if item_type not in accept_types:
            raise DeepLinkingError(
                f"The tool returned an item of type “{item_type}” (item {number}); only "
                + ", ".join(f"“{t}”" for t in accept_types)
                + (
                    " items (LTI resource links)"
                    if tuple(accept_types) == ACCEPT_TYPES
                    else " items"
                )
                + " can be added here. Nothing was added."
            )
    items = [
        _resource_link_item(item, number)
        if item.get("type") == RESOURCE_LINK_TYPE
        else read_deep_linking_item(item, number, place=place)
        for number, item in enumerate(raw_items, start=1)
        if item.get("type") == RESOURCE_LINK_TYPE or place is not None
    ]
    return DeepLinkingResponse(
        nonce=nonce,
        data=data,
        deployment_id=deployment_id,
        items=items,
        msg=_message_claim(claims, "msg"),
        log=_message_claim(claims, "log"),
        errormsg=_message_claim(claims, "errormsg"),
        errorlog=_message_claim(claims, "errorlog"),
    )


def custom_parameters_text(custom: Mapping[str, str]) -> str:
    """Item custom parameters in the platform's text form, one ``custom_<name>=value`` a line.

    The name is kept as the tool sent it, behind ``custom_``, so a launch sends it back unchanged
    (LTI 1.3 strips the ``custom_``; LTI 1.1 sends ``custom_<name>``). Validate the result with
    ``custom_params.parse_custom_parameters``: names that are not in snake case
    cannot be stored.
    """
    return "\n".join(f"custom_{name}={value}" for name, value in custom.items())
