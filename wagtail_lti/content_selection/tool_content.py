"""Content from tools in pages: storing what a tool returned, checking it again, rendering it.

The rules of "Insert from a tool" (rich text, feature ``lti-tool``) and the "Tool content" block
(``wagtail_lti.blocks.ToolContentBlock``) live here; the protocol side (which item types each
place takes) is ``wagtail_lti.lti.content_items``, the HTML sanitiser ``wagtail_lti.security.html``.

* :func:`place_of` — what the place a selection was started from takes (the site's file media
  types included);
* :func:`prepare` — an item of the tool's answer as an unsaved :class:`ToolContent`: HTML
  sanitised, a file fetched (``security.outbound.fetch``: size limit, media types, never after its
  ``expiresAt``) into a Wagtail document or image, an image imported when the site says so;
  refused items raise ``SelectionRefused`` and nothing is stored;
* :func:`content_problem` — the check made again whenever a page that holds the content is saved:
  the provider (and resource link) still usable by the page's organization, the provider
  enabled, the HTML still what the sanitiser passes;
* :func:`render` — the HTML of one item, made at render time (the stored HTML sanitised again).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .. import scoping
from ..conf import lti_settings
from ..lti import content_items
from ..lti.content_items import FileItem, HtmlItem, ImageItem, LinkItem, Place
from ..models import LtiProvider, Organization, ToolContent
from ..security.html import is_sanitised, sanitise


logger = logging.getLogger(__name__)

#: The rich-text feature name a site lists in ``features=[…]``.
FEATURE = "lti-tool"
#: The ``embedtype`` of the stored ``<embed>`` tag.
EMBED_TYPE = "lti-tool"
#: A file must still be valid this long after it is fetched (else it is refused as expiring).
EXPIRY_MARGIN = timedelta(seconds=30)


class ContentRefused(Exception):
    """An item that cannot be stored or kept; ``str(exc)`` is for the editor."""


def place_of(name: str) -> Place:
    """The place called ``name``, with the site's file media types."""
    return content_items.place_named(name, tuple(lti_settings.TOOL_CONTENT_FILE_MEDIA_TYPES))


def embed_hosts(provider: LtiProvider) -> frozenset[str]:
    """The hosts whose iframes a provider's HTML may keep: its own URLs' hosts, when the provider
    is trusted for embeds; else none."""
    if not provider.trusted_for_embeds:
        return frozenset()
    hosts = set()
    for url in (provider.launch_url, provider.login_url, provider.content_selection_url):
        host = urlsplit(url or "").hostname
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


# --- Storing what the tool returned ---------------------------------------------------------------


def _picture(picture) -> dict | None:
    if picture is None:
        return None
    return {"url": picture.url, "width": picture.width, "height": picture.height}


def _file_name(url: str, title: str, media_type: str) -> str:
    name = os.path.basename(unquote(urlsplit(url).path)) or ""
    if not name or "." not in name:
        extension = {
            "application/pdf": ".pdf",
            "image/png": ".png",
            "image/jpeg": ".jpg",
            "image/gif": ".gif",
            "image/webp": ".webp",
            "text/plain": ".txt",
            "text/csv": ".csv",
        }.get(media_type, "")
        name = (title or "file")[:80] + extension
    return "".join(c if c.isalnum() or c in "._- " else "_" for c in name)[:100]


def fetch_file(url: str, *, what: str, media_types, expires_at=None) -> tuple[bytes, str]:
    """The bytes and media type of a tool's file, fetched now under the outbound rules.

    Refused (:class:`ContentRefused`): a file already expired or about to (``expires_at``), a
    failed fetch (redirects are not followed), a file over ``TOOL_CONTENT_MAX_FILE_BYTES``, a media
    type (the answer's ``Content-Type``) not in ``media_types``.
    """
    from ..security.outbound import OutboundError, fetch

    if expires_at is not None and expires_at <= timezone.now() + EXPIRY_MARGIN:
        raise ContentRefused(
            _("%(item)s has expired (its link was valid until %(when)s), so it cannot be kept.")
            % {"item": what, "when": expires_at.isoformat()}
        )
    limit = int(lti_settings.TOOL_CONTENT_MAX_FILE_BYTES)
    try:
        response = fetch(
            url,
            max_bytes=limit,
            deadline=float(lti_settings.TOOL_CONTENT_FETCH_TIMEOUT),
            accept=", ".join(media_types) or "*/*",
            cache_failures=False,
        )
    except OutboundError as exc:
        if exc.reason.startswith("The answer is larger"):
            raise ContentRefused(
                _("%(item)s is larger than %(limit)s bytes, the most this site keeps.")
                % {"item": what, "limit": limit}
            ) from None
        raise ContentRefused(
            _("%(item)s could not be fetched from the tool: %(reason)s")
            % {"item": what, "reason": exc.reason}
        ) from None
    headers = {name.lower(): value for name, value in response.headers.items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not content_items.media_type_matches(media_type, media_types):
        raise ContentRefused(
            _("%(item)s is of type “%(type)s”, which this site does not accept from tools.")
            % {"item": what, "type": media_type or _("unknown")}
        )
    return response.content, media_type


def _store_file(content: bytes, media_type: str, *, title: str, url: str, user, what: str = ""):
    """A Wagtail image (an ``image/*`` file) or document made of a fetched file; an image that
    cannot be read as one is refused (:class:`ContentRefused`)."""
    import io

    from django.core.files.images import ImageFile

    name = _file_name(url, title, media_type)
    if media_type.startswith("image/"):
        from PIL import Image as PillowImage
        from wagtail.images import get_image_model

        unreadable = ContentRefused(
            _("%(item)s is not an image this site can read.") % {"item": what or name}
        )
        try:
            with PillowImage.open(io.BytesIO(content)) as opened:
                opened.load()
        except Exception:  # Pillow raises many kinds for a broken file
            raise unreadable from None
        picture = ImageFile(io.BytesIO(content), name=name)
        if picture.width is None or picture.height is None:
            raise unreadable
        image = get_image_model()(
            title=title or name,
            uploaded_by_user=user,
            file=picture,
            width=picture.width,
            height=picture.height,
        )
        image._set_image_file_metadata()
        image.save()
        return image
    from wagtail.documents import get_document_model

    document = get_document_model()(
        title=title or name, uploaded_by_user=user, file=ContentFile(content, name=name)
    )
    document._set_document_file_metadata()
    document.save()
    return document


def prepare(item, *, provider: LtiProvider, organization: Organization, number: int, user):
    """An unsaved :class:`ToolContent` for a ``link``, ``html``, ``image`` or ``file`` item.

    Files (and images, when ``TOOL_CONTENT_IMPORT_IMAGES``) are fetched and saved as Wagtail
    documents or images here, before the tool's link expires; an item refused raises
    :class:`ContentRefused`.
    """
    what = f"“{item.title}”" if item.title else _("Item %(number)s") % {"number": number}
    content = ToolContent(
        provider=provider,
        organization=organization,
        kind=item.kind,
        title=item.title[:255],
        text=item.text,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    hosts = embed_hosts(provider)
    if isinstance(item, LinkItem):
        content.url = item.url
        content.width, content.height = item.width, item.height
        content.html = sanitise(item.embed_html, embed_hosts=hosts)
        content.presentation = {
            "target": item.target,
            "icon": _picture(item.icon),
            "thumbnail": _picture(item.thumbnail),
        }
    elif isinstance(item, HtmlItem):
        content.html = sanitise(item.html, embed_hosts=hosts)
        if not content.html:
            raise ContentRefused(
                _("%(item)s holds no HTML this site can show once made safe.") % {"item": what}
            )
    elif isinstance(item, ImageItem):
        content.url = item.url
        content.width, content.height = item.width, item.height
        content.presentation = {"thumbnail": _picture(item.thumbnail)}
        if lti_settings.TOOL_CONTENT_IMPORT_IMAGES:
            data, media_type = fetch_file(item.url, what=what, media_types=("image/*",))
            content.media_type = media_type
            content.image = _store_file(
                data, media_type, title=item.title, url=item.url, user=user, what=what
            )
    elif isinstance(item, FileItem):
        allowed = tuple(lti_settings.TOOL_CONTENT_FILE_MEDIA_TYPES)
        if item.media_type:
            allowed = tuple(
                pattern
                for pattern in allowed
                if content_items.media_type_matches(item.media_type, (pattern,))
            ) and (item.media_type,)
        data, media_type = fetch_file(
            item.url, what=what, media_types=allowed, expires_at=item.expires_at
        )
        content.media_type = media_type
        stored = _store_file(data, media_type, title=item.title, url=item.url, user=user, what=what)
        if media_type.startswith("image/"):
            content.image = stored
        else:
            content.document = stored
        content.url = ""  # never the tool's link, which expires
    else:  # pragma: no cover - read_response returns no other kind
        raise ContentRefused(_("%(item)s is of a kind this site does not keep.") % {"item": what})
    return content


# --- Checking it again ---------------------------------------------------------------------------


def content_problem(content: ToolContent | None, organization: Organization | None) -> str | None:
    """Why a page of ``organization`` may not hold ``content`` (a sentence), or ``None``.

    Checked on every save of a page holding it: the content exists; its provider is enabled and
    usable by the organization; its resource link (for an LTI resource link) too; its HTML is
    still what the sanitiser passes.
    """
    if content is None:
        return _("The content from the tool no longer exists; insert it again.")
    provider = content.provider
    name = content.title or content.get_kind_display()
    if organization is None:
        return _("Choose the page's organization before adding content from a tool.")
    if not provider.is_enabled or not scoping.is_usable_by(provider, organization):
        return _(
            "“%(item)s” comes from “%(provider)s”, which %(organization)s may no longer use."
        ) % {"item": name, "provider": provider, "organization": organization}
    if content.kind == ToolContent.Kind.RESOURCE_LINK and not scoping.is_usable_by(
        content.resource_link, organization
    ):
        return _("The LTI resource link of “%(item)s” is not available to %(organization)s.") % {
            "item": name,
            "organization": organization,
        }
    if content.html and not is_sanitised(content.html, embed_hosts=embed_hosts(provider)):
        return _("The HTML of “%(item)s” is not safe to show; insert it again.") % {"item": name}
    return None


_EMBED_TAG = re.compile(r"<embed\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')


def ids_in_rich_text(html: str) -> list[int]:
    """The ids of the tool content embedded in stored rich text, in order."""
    found = []
    for tag in _EMBED_TAG.findall(html or ""):
        attrs = dict(_ATTRIBUTE.findall(tag))
        if attrs.get("embedtype") == EMBED_TYPE and attrs.get("id", "").isdigit():
            found.append(int(attrs["id"]))
    return found


def ids_in_value(value) -> list[int]:
    """The ids of the tool content in a field's value: rich text (a string or ``RichText``), or
    a stream's top-level "Tool content" blocks and rich-text blocks."""
    from wagtail.blocks import StreamValue
    from wagtail.rich_text import RichText

    from ..blocks import ToolContentBlock

    if isinstance(value, str):
        return ids_in_rich_text(value)
    if isinstance(value, RichText):
        return ids_in_rich_text(value.source)
    found: list[int] = []
    if isinstance(value, StreamValue):
        for child in value:
            if isinstance(child.block, ToolContentBlock):
                if child.value:
                    found.append(int(child.value))
            elif isinstance(child.value, RichText):
                found.extend(ids_in_rich_text(child.value.source))
    return found


def content_fields(model) -> list[str]:
    """The names of a page model's rich-text and stream fields."""
    from wagtail.fields import RichTextField, StreamField

    return [
        field.name
        for field in model._meta.get_fields()
        if isinstance(field, (RichTextField, StreamField))
    ]


def ids_on_page(page) -> list[int]:
    """The ids of the tool content a page holds (rich text and "Tool content" blocks)."""
    found: list[int] = []
    for name in content_fields(type(page)):
        for pk in ids_in_value(getattr(page, name)):
            if pk not in found:
                found.append(pk)
    return found


def contents_by_id(ids) -> dict[int, ToolContent]:
    wanted = {int(i) for i in ids if str(i).isdigit()}
    return ToolContent.objects.select_related("provider", "resource_link").in_bulk(wanted)


def preview(content: ToolContent) -> dict:
    """What the editor sees of an item in the editor (no HTML of the tool's): for the rich-text
    entity and the block's chooser."""
    return {
        "id": content.pk,
        "kind": content.kind,
        "kindLabel": str(content.get_kind_display()),
        "title": content.title or content.url or str(content.get_kind_display()),
        "provider": content.provider.name,
    }


# --- Rendering -----------------------------------------------------------------------------------

#: The template context of the page being rendered (set by ``CoursePageMixin.serve``), for rich
#: text, whose embeds are expanded without one: an LTI resource link then renders its launch.
_rendering: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "wagtail_lti_tool_content_rendering", default=None
)


@contextlib.contextmanager
def rendering(context):
    """While a page's template renders: its context is :func:`rendering_context`."""
    token = _rendering.set(context)
    try:
        yield
    finally:
        _rendering.reset(token)


def rendering_context() -> dict | None:
    return _rendering.get()


def _link_card(content: ToolContent) -> SafeString:
    thumbnail = (content.presentation or {}).get("thumbnail") or {}
    new_window = (content.presentation or {}).get("target") == "window"
    picture = (
        format_html(
            '<img class="lti-tool-content__thumbnail" src="{}" alt="" loading="lazy">',
            thumbnail["url"],
        )
        if thumbnail.get("url")
        else ""
    )
    text = (
        format_html('<p class="lti-tool-content__text">{}</p>', content.text)
        if content.text
        else ""
    )
    return format_html(
        '<div class="lti-tool-content lti-tool-content--link">{}<p><a href="{}" '
        'rel="noopener noreferrer"{}>{}</a></p>{}</div>',
        picture,
        content.url,
        mark_safe(' target="_blank"') if new_window else "",  # noqa: S308 - a constant
        content.title or content.url,
        text,
    )


def render(content: ToolContent | None, *, context=None) -> SafeString:
    """The HTML of one item. The stored HTML is sanitised again here; nothing else of the tool's
    is written unescaped. ``context`` (a template context with ``request`` and ``page``) lets an
    LTI resource link render as the course activity launch."""
    if content is None:
        return mark_safe("")  # noqa: S308 - empty
    hosts = embed_hosts(content.provider)
    kind = content.kind
    if kind == ToolContent.Kind.HTML:
        return format_html(
            '<div class="lti-tool-content lti-tool-content--html">{}</div>',
            mark_safe(sanitise(content.html, embed_hosts=hosts)),  # noqa: S308 - sanitised
        )
    if kind == ToolContent.Kind.LINK:
        if content.html:
            return format_html(
                '<div class="lti-tool-content lti-tool-content--embed">{}</div>',
                mark_safe(sanitise(content.html, embed_hosts=hosts)),  # noqa: S308 - sanitised
            )
        return _link_card(content)
    if kind == ToolContent.Kind.IMAGE:
        if content.image_id:
            from wagtail.images.shortcuts import get_rendition_or_not_found

            rendition = get_rendition_or_not_found(content.image, "max-1200x1200")
            src = rendition.url
        else:
            src = content.url
        size = format_html(' width="{}"', content.width) if content.width else ""
        size += format_html(' height="{}"', content.height) if content.height else ""
        return format_html(
            '<figure class="lti-tool-content lti-tool-content--image"><img src="{}" alt="{}"{} '
            'loading="lazy">{}</figure>',
            src,
            content.title,
            size,
            format_html("<figcaption>{}</figcaption>", content.text) if content.text else "",
        )
    if kind == ToolContent.Kind.FILE:
        stored = content.document or content.image
        if stored is None:
            return mark_safe("")  # noqa: S308 - empty
        url = stored.url if content.document_id else stored.file.url
        return format_html(
            '<p class="lti-tool-content lti-tool-content--file"><a href="{}" download>{}</a> '
            '<span class="lti-tool-content__type">({})</span></p>',
            url,
            content.title or stored.title,
            content.media_type,
        )
    if kind == ToolContent.Kind.RESOURCE_LINK:
        return render_activity(content, context=context)
    return mark_safe("")  # noqa: S308 - empty


def activity_block_id(content: ToolContent) -> str:
    """The placement key (``Placement.block_id``) of an LTI resource link inserted from a tool."""
    return f"tool-content-{content.pk}"


def render_activity(content: ToolContent, *, context=None) -> SafeString:
    """An LTI resource link item: the course activity launch (``blocks.render_activity``, the same
    rules, status and results as an activity block) on a course page; elsewhere its name."""
    from ..blocks import render_activity as render_block
    from ..courses.view import course_view

    link = content.resource_link
    context = context or {}
    page = context.get("page")
    request = context.get("request")
    if link is None or page is None or request is None or not hasattr(page, "course_organization"):
        return format_html(
            '<p class="lti-tool-content lti-tool-content--activity">{}</p>',
            content.title or (link.name if link else ""),
        )
    course = context.get("lti_course") or course_view(request, page)
    value = {"resource_link": link, "title": content.title}
    activity = course.activity(activity_block_id(content), value)
    return render_block(activity, link, course)
