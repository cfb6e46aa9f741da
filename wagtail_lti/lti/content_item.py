"""LTI 1.1 Content-Item Message (1.0) on the platform side: the selection request and its answer.

The editor's browser POSTs a signed ``ContentItemSelectionRequest`` (OAuth 1.0a, like a launch) to
the tool's content selection URL, carrying ``content_item_return_url``, the accepted media types and
presentation targets, and an opaque ``data`` value. The tool answers with a form POST of a signed
``ContentItemSelection`` to the return URL, with the chosen items as JSON-LD in ``content_items``
(``@graph`` of ``LtiLinkItem``, ``ContentItem``, ``FileItem``...). Spec: IMS Content-Item Message
1.0 (``imsglobal.org/specs/lticiv1p0``), §3 (request), §4 (response), §5 (items).

This module builds the request's parameters and reads a response whose OAuth signature, timestamp
and nonce were already verified (``lti11.verify_request``). Only LTI links
(``application/vnd.ims.lti.v1.ltilink``) are accepted; any other item refuses the whole answer. The
binding of ``data`` to the editor's session is the caller's.

Pure: no Django, no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .content_items import RESOURCE_LINKS, Place, is_lti_link, read_content_item
from .context import LaunchContext
from .deep_linking import (
    MAX_ITEMS,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_URL_LENGTH,
    DeepLinkingError,
    OpenIn,
    ResourceLinkItem,
    check_http_url,
    read_custom,
    read_score_maximum,
    read_size,
    window_name,
)
from .lti11 import LTI_VERSION, build_launch_params


REQUEST_MESSAGE_TYPE = "ContentItemSelectionRequest"
RESPONSE_MESSAGE_TYPE = "ContentItemSelection"
LTI_LINK_MEDIA_TYPE = "application/vnd.ims.lti.v1.ltilink"
ACCEPT_MEDIA_TYPES: tuple[str, ...] = (LTI_LINK_MEDIA_TYPE,)
ACCEPT_PRESENTATION_TARGETS: tuple[str, ...] = ("iframe", "window")
CONTEXT_URL = "http://purl.imsglobal.org/ctx/lti/v1/ContentItem"
MAX_CONTENT_ITEMS_LENGTH = 200_000

# Launch parameters that describe a placed link or a course: a selection request has neither.
_NOT_IN_A_SELECTION = (
    "resource_link_id",
    "resource_link_title",
    "resource_link_description",
    "launch_presentation_return_url",
    "launch_presentation_width",
    "launch_presentation_height",
    "lis_outcome_service_url",
    "lis_result_sourcedid",
)
# Presentation targets of placementAdvice that mean "in the page" and "in its own window".
_EMBEDDED_TARGETS = {"iframe", "frame", "embed"}
_WINDOW_TARGETS = {"window", "popup", "overlay"}


class ContentItemError(DeepLinkingError):
    """A ``ContentItemSelection`` refused. ``str(error)`` is a sentence for the editor."""


@dataclass(frozen=True)
class ContentItemSelection:
    """A checked ``ContentItemSelection``: its LTI link items and the tool's messages."""

    data: str
    items: list  # ResourceLinkItem, and with a place content_items' LinkItem, HtmlItem…
    msg: str = ""
    log: str = ""
    errormsg: str = ""
    errorlog: str = ""


# --- The request --------------------------------------------------------------------------------


def build_request_params(
    ctx: LaunchContext,
    *,
    return_url: str,
    data: str,
    title: str = "",
    text: str = "",
    accept_multiple: bool = True,
    place: Place = RESOURCE_LINKS,
) -> dict[str, str]:
    """The unsigned form parameters of a ``ContentItemSelectionRequest`` (Content-Item §3.1).

    ``accept_media_types``, the presentation targets and ``accept_multiple`` say what ``place``
    (``content_items.Place``) can take: by default LTI links only.

    The person and platform parameters are those of a launch (``lti11.build_launch_params``:
    ``user_id``, ``roles``, the ``lis_person_*`` the provider may receive, ``tool_consumer_*``,
    custom parameters after substitution); a selection has no resource link, course or outcome
    service. Sign the result with ``lti11.sign_launch``.
    """
    if not return_url or not data:
        raise ValueError("A content-item selection request needs a return URL and a data value")
    params = build_launch_params(ctx)
    for name in _NOT_IN_A_SELECTION:
        params.pop(name, None)
    params.update(
        {
            "lti_message_type": REQUEST_MESSAGE_TYPE,
            "lti_version": LTI_VERSION,
            "content_item_return_url": return_url,
            "accept_media_types": ",".join(place.media_types),
            "accept_presentation_document_targets": ",".join(place.presentation_targets),
            "accept_multiple": "true" if accept_multiple and place.accept_multiple else "false",
            "accept_unsigned": "false",
            "auto_create": "true" if place.auto_create else "false",
            "can_confirm": "false",
            "data": data,
        }
    )
    if title:
        params["title"] = title
    if text:
        params["text"] = text
    return params


# --- The response -------------------------------------------------------------------------------


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    return value.strip()[:MAX_MESSAGE_LENGTH] if isinstance(value, str) else ""


def _text(item: Mapping[str, Any], name: str, *, what: str, limit: int) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ContentItemError(f"The {name} of {what} is not text.")
    value = value.strip()
    if len(value) > limit:
        raise ContentItemError(f"The {name} of {what} is too long (over {limit} characters).")
    return value


def _score_maximum(line_item: Mapping[str, Any], *, what: str) -> float | None:
    """The maximum of a Content-Item ``lineItem``: ``scoreConstraints.totalMaximum``, else
    ``normalMaximum`` (+ ``extraCreditMaximum``); ``None`` when the line item gives none."""
    constraints = line_item.get("scoreConstraints")
    if constraints is None:
        return None
    if not isinstance(constraints, Mapping):
        raise ContentItemError(f"The scoreConstraints of {what} are not a JSON object.")
    if constraints.get("totalMaximum") is not None:
        return read_score_maximum(constraints["totalMaximum"], what=what)
    if constraints.get("normalMaximum") is None:
        return None
    total = read_score_maximum(constraints["normalMaximum"], what=what)
    extra = constraints.get("extraCreditMaximum")
    if extra is not None:
        total += read_score_maximum(extra, what=what) if extra != 0 else 0
    return total


def _link_item(item: Mapping[str, Any], number: int) -> ResourceLinkItem:
    what = f"item {number}"
    title = _text(item, "title", what=what, limit=MAX_TEXT_LENGTH)
    if title:
        what = f"item {number} (“{title[:80]}”)"
    url = _text(item, "url", what=what, limit=MAX_URL_LENGTH)
    if url:
        try:
            check_http_url(url, what=what)
        except DeepLinkingError as exc:
            raise ContentItemError(str(exc)) from None
    text = _text(item, "text", what=what, limit=MAX_TEXT_LENGTH)
    try:
        custom = read_custom(item.get("custom"), what=what)
    except DeepLinkingError as exc:
        raise ContentItemError(str(exc)) from None

    label = ""
    score_maximum = None
    resource_id = ""
    line_item = item.get("lineItem")
    if line_item is not None:
        if not isinstance(line_item, Mapping):
            raise ContentItemError(f"The lineItem of {what} is not a JSON object.")
        label = _text(line_item, "label", what=f"the line item of {what}", limit=MAX_TEXT_LENGTH)
        try:
            score_maximum = _score_maximum(line_item, what=what)
        except DeepLinkingError as exc:
            raise ContentItemError(str(exc)) from None
        if score_maximum is None:
            score_maximum = 1.0  # a line item without constraints: scores between 0 and 1
        # The activity the line item is for: the equivalent of Deep Linking's resourceId.
        activity = line_item.get("assignedActivity")
        if isinstance(activity, Mapping):
            resource_id = _text(
                activity, "activityId", what=f"the line item of {what}", limit=MAX_NAME_LENGTH
            )

    open_in: OpenIn = "embed"
    presentation: dict[str, Any] = {}
    advice = item.get("placementAdvice")
    if isinstance(advice, Mapping):
        target = str(advice.get("presentationDocumentTarget") or "").lower()
        if target in _WINDOW_TARGETS:
            open_in = "window"
        elif target and target not in _EMBEDDED_TARGETS:
            raise ContentItemError(
                f"{what.capitalize()} asks to be shown as “{target}”; only "
                + " and ".join(f"“{t}”" for t in ACCEPT_PRESENTATION_TARGETS)
                + " are accepted."
            )
        # displayWidth/displayHeight (and windowTarget) map to Deep Linking's window/iframe.
        try:
            width = read_size(advice.get("displayWidth"), what=f"display width of {what}")
            height = read_size(advice.get("displayHeight"), what=f"display height of {what}")
        except DeepLinkingError as exc:
            raise ContentItemError(str(exc)) from None
        if open_in == "window":
            presentation = {
                "window_width": width,
                "window_height": height,
                "window_target_name": window_name(str(advice.get("windowTarget") or "")),
            }
        else:
            presentation = {"iframe_width": width, "iframe_height": height}

    if not (title or label):
        raise ContentItemError(f"{what.capitalize()} has no title.")
    return ResourceLinkItem(
        title=title[:MAX_NAME_LENGTH],
        url=url,
        text=text,
        custom=custom,
        line_item_label=label[:MAX_NAME_LENGTH],
        score_maximum=score_maximum,
        line_item_resource_id=resource_id,
        open_in=open_in,
        **presentation,
    )


_is_lti_link = is_lti_link


def read_selection(
    params: Mapping[str, str], *, max_items: int = MAX_ITEMS, place: Place | None = None
) -> ContentItemSelection:
    """Check a verified ``ContentItemSelection`` (its form parameters) and read its LTI links.

    Checked: ``lti_message_type`` is ``ContentItemSelection``; ``lti_version`` is ``LTI-1p0``;
    ``data`` is echoed; ``content_items`` (absent or empty: nothing was chosen) is JSON-LD with an
    ``@graph`` array in which every item is an LTI link (``LtiLinkItem``, media type
    ``application/vnd.ims.lti.v1.ltilink``), or, with a ``place``, an item that place takes
    (``content_items.read_content_item``: links, HTML, images, files). Raises
    :class:`ContentItemError`.
    """
    message_type = params.get("lti_message_type") or ""
    if message_type != RESPONSE_MESSAGE_TYPE:
        raise ContentItemError(
            f"The tool's answer is not a content-item selection (its message type is "
            f"“{message_type}”, not “{RESPONSE_MESSAGE_TYPE}”)."
            if message_type
            else "The tool's answer has no lti_message_type; a content-item selection was expected."
        )
    version = params.get("lti_version") or ""
    if version != LTI_VERSION:
        raise ContentItemError(
            f"The tool's answer is for LTI version “{version}”, not {LTI_VERSION}."
        )
    data = params.get("data") or ""
    if not data:
        raise ContentItemError(
            "The tool's answer does not echo the data value of the request, so it cannot be "
            "matched to your request."
        )

    raw = params.get("content_items") or ""
    graph: list[Any] = []
    if raw.strip():
        if len(raw) > MAX_CONTENT_ITEMS_LENGTH:
            raise ContentItemError("The content items in the tool's answer are too large.")
        try:
            document = json.loads(raw)
        except ValueError:
            raise ContentItemError("The content items in the tool's answer are not JSON.") from None
        if not isinstance(document, Mapping):
            raise ContentItemError("The content items in the tool's answer are not a JSON object.")
        graph = document.get("@graph", [])
        if not isinstance(graph, list):
            raise ContentItemError("The @graph of the tool's content items is not a list.")
    if len(graph) > max_items:
        raise ContentItemError(
            f"The tool returned {len(graph)} items; at most {max_items} can be added at once."
        )
    if place is not None and len(graph) > 1 and not place.accept_multiple:
        raise ContentItemError("The tool returned several items; only one was asked for.")
    for number, item in enumerate(graph, start=1):
        if not isinstance(item, Mapping):
            raise ContentItemError(f"Item {number} of the tool's answer is not a JSON object.")
        if not _is_lti_link(item) and place is None:
            kind = item.get("mediaType") or item.get("@type") or "unknown"
            raise ContentItemError(
                f"The tool returned an item of type “{kind}” (item {number}); only LTI links "
                f"(“{LTI_LINK_MEDIA_TYPE}”) can be added here. Nothing was added."
            )
    items = []
    for number, item in enumerate(graph, start=1):
        if _is_lti_link(item):
            items.append(_link_item(item, number))
            continue
        try:
            items.append(read_content_item(item, number, place=place))
        except DeepLinkingError as exc:
            raise ContentItemError(str(exc)) from None
    return ContentItemSelection(
        data=data,
        items=items,
        msg=_param(params, "lti_msg"),
        log=_param(params, "lti_log"),
        errormsg=_param(params, "lti_errormsg"),
        errorlog=_param(params, "lti_errorlog"),
    )
