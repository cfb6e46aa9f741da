"""Placements: each course-activity block of a published course page, as a row tools can refer to.

A placement is identified by its page and the block's id in the page's ``StreamField`` (the
block's UUID), so it survives edits, reordering and republishing; its ``lti_id`` is what tools
receive as the resource link id. Placements are synchronised when a course page is published
(``sync_placements``, connected to Wagtail's ``page_published`` signal in
``wagtail_lti.signals``):

* every activity block gets its placement (created, or updated with the block's resource link and
  title); placements whose block was removed are kept, inactive, with their results;
* a new placement of a copied course page remembers the placement it was copied from and its
  resource link id history (``wagtail_lti.courses.copies``);
* a placement whose resource link requires a score gets its automatic line item (a gradebook
  column for that tool in that course), which LTI 1.1 Basic Outcomes and LTI 1.3 AGS write to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from wagtail.fields import StreamField

from ..models import LineItem, LtiResourceLink, Placement
from ..services.results import line_item_for
from .copies import placement_origin


def placement_for(page, block_id: str) -> Placement:
    """The placement of block ``block_id`` on ``page``, created if it does not exist yet."""
    placement = Placement.objects.filter(page_id=page.pk, block_id=str(block_id)).first()
    if placement is None:
        copied_from, history = placement_origin(page.pk, block_id)
        placement, _ = Placement.objects.get_or_create(
            page_id=page.pk,
            block_id=str(block_id),
            defaults={"copied_from_id": copied_from, "lti_id_history": history},
        )
    return placement


def activity_block_values(page) -> Iterator[tuple[str, Any]]:
    """Yield ``(block_id, value)`` for each top-level course-activity block of ``page``, then for
    each LTI resource link inserted from a tool (rich text, "Tool content" blocks), whose
    ``block_id`` is ``tool-content-<id>`` (``content_selection.tool_content.activity_block_id``)
    and whose value is that of an activity block.

    Looks through every ``StreamField`` of the page's (specific) model; blocks without an id and
    repeated ids are skipped.
    """
    from ..blocks import activity_blocks
    from ..content_selection.tool_content import activity_block_id, contents_by_id, ids_on_page

    seen: set[str] = set()
    for field in page._meta.get_fields():
        if not isinstance(field, StreamField):
            continue
        for _, child in activity_blocks(getattr(page, field.name)):
            if not child.id or child.id in seen:
                continue
            seen.add(child.id)
            yield child.id, child.value
    contents = contents_by_id(ids_on_page(page))
    for content in contents.values():
        if content.kind != content.Kind.RESOURCE_LINK or content.resource_link is None:
            continue
        block_id = activity_block_id(content)
        if block_id not in seen:
            seen.add(block_id)
            yield block_id, {"resource_link": content.resource_link, "title": content.title}


def block_title(value, link: LtiResourceLink | None) -> str:
    """The title an activity block shows: its own title, else the resource link's name."""
    return (value.get("title") or "").strip() or (link.name if link is not None else "")


def line_item_values(placement: Placement, link: LtiResourceLink) -> dict:
    """What the placement's automatic line item says, from its resource link: the link's line
    item label (from a tool's Deep Linking ``lineItem`` or the form) else the activity's title,
    the maximum score, the ``resourceId``, ``tag`` and ``gradesReleased``, and the submission
    window as ``startDateTime``/``endDateTime`` (AGS 2.0 line item properties)."""
    return {
        "label": link.line_item_label or placement.title or link.name,
        "score_maximum": link.score_maximum,
        "resource_id": link.line_item_resource_id,
        "tag": link.line_item_tag,
        "grades_released": link.line_item_grades_released,
        "start_date_time": link.submission_start,
        "end_date_time": link.submission_end,
    }


def _ensure_line_item(page, placement: Placement, link: LtiResourceLink) -> LineItem:
    """The placement's automatic line item (``results.line_item_for``), created or updated."""
    values = line_item_values(placement, link)
    item = line_item_for(placement)
    if item is None:
        return LineItem.objects.create(
            provider_id=link.provider_id, course_id=page.pk, placement=placement, **values
        )
    # On an existing line item, what the link leaves empty is not written: a tool may have set
    # it through AGS (its resourceId, tag, dates), and a republish must not undo that.
    values = {
        name: value
        for name, value in values.items()
        if name in ("label", "score_maximum") or value not in (None, "")
    }
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    for name in changed:
        setattr(item, name, values[name])
    if changed:
        item.save(update_fields=changed)
    return item


def sync_placements(page) -> list[Placement]:
    """Make the placements of ``page`` match its activity blocks; returns the active ones."""
    blocks = list(activity_block_values(page))
    active: list[Placement] = []
    with transaction.atomic():
        existing = {
            placement.block_id: placement
            for placement in Placement.objects.select_for_update().filter(page_id=page.pk)
        }
        for block_id, value in blocks:
            link = value.get("resource_link")
            title = block_title(value, link)[:255]
            placement = existing.pop(block_id, None)
            if placement is None:
                copied_from, history = placement_origin(page.pk, block_id)
                placement = Placement.objects.create(
                    page_id=page.pk,
                    block_id=block_id,
                    resource_link=link,
                    title=title,
                    copied_from_id=copied_from,
                    lti_id_history=history,
                )
            else:
                new = {
                    "resource_link_id": link.pk if link is not None else None,
                    "title": title,
                    "is_active": True,
                }
                changed = [name for name, v in new.items() if getattr(placement, name) != v]
                for name in changed:
                    setattr(placement, name, new[name])
                if changed:
                    placement.save(update_fields=[n.removesuffix("_id") for n in changed])
            if link is not None and link.requires_score:
                _ensure_line_item(page, placement, link)
            active.append(placement)
        for placement in existing.values():
            if placement.is_active:
                placement.is_active = False
                placement.save(update_fields=["is_active"])
    return active


def on_page_published(sender, instance, **kwargs) -> None:
    """``page_published`` receiver: synchronise the placements of course pages."""
    from ..models import CoursePageMixin

    if isinstance(instance, CoursePageMixin):
        sync_placements(instance)
