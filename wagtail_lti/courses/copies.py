"""Copying a course page: what the copy becomes, and what it remembers of where it came from.

The rule (:func:`record_copy`): a copy of a course page is a **new course**. Its context id is its
own (``security.identifiers.context_id`` is derived from the page's primary key), its activity
blocks get new placements with new resource link ids when it is published (``placements.
sync_placements``, as for a new page, automatic line items included), and it has no enrollments,
no learner activity and no results (those rows belong to the original page and are never copied).
What the copy remembers is recorded in a :class:`~wagtail_lti.models.CourseCopy` row:

* its ``context_id_history``, ``$Context.id.history`` of LTI 1.3 Core: the context id of the
  course it was copied from, then that course's own history (most recent first,
  comma-separated, each id URL-encoded);
* for each activity block it took over from the original, the placement it was copied from and
  that placement's ``$ResourceLink.id.history`` (its ``lti_id``, then its own history). A
  placement of the copy gets them when it is created (``sync_placements`` asks
  :func:`placement_origin`), or at once when the copy was published while being made. A block
  added to the copy later has no history (the spec's empty value). A live copy (or alias) gets
  its placements when it is recorded; an unpublished one when it is first published.

The histories are stored as text, so they outlive the deletion of the original.

The doors that record a copy, each for every course page in the copied tree:

* the admin's Copy (with or without subpages, published or not) and its "create alias"
  (``after_copy_page`` hook: :func:`after_copy_page`);
* a copy for translation (Wagtail's ``copy_for_translation_done`` signal, sent by
  ``Page.copy_for_translation``, which ``wagtail.contrib.simple_translation`` uses; a
  translation tool that creates pages another way calls :func:`record_copy`);
* code that copies pages with ``Page.copy()``/``CopyPageAction`` calls :func:`record_copy`.

An alias (``alias_of``) is its own course too: another page, with its own roster, context id and
placements; it remembers the page it is an alias of like a copy does (``kind="alias"``), and an
activity block added to the original later (Wagtail updates aliases when the original is
published) comes from the original's placement too. Moving
a page changes nothing (same primary key: same context id, same placements).

When a copy has been recorded, :data:`course_copied` is sent once the transaction commits
(``sender=CourseCopy``, ``course`` the new course page, ``source`` the page it was copied from,
``record`` the :class:`CourseCopy`): what other parts (a copy notice to tools) hook onto.
"""

from __future__ import annotations

from urllib.parse import quote

from django.db import transaction
from django.dispatch import Signal


#: Sent after commit when a course page was copied: ``sender=CourseCopy``, ``course``, ``source``,
#: ``record`` (the :class:`~wagtail_lti.models.CourseCopy`).
course_copied = Signal()


def history_of(latest: str, older: str = "") -> str:
    """A history value: ``latest`` (URL-encoded) followed by the ``older`` history, if any."""
    head = quote(latest, safe="")
    return f"{head},{older}" if older else head


def context_id_history(course) -> str:
    """``$Context.id.history`` of ``course`` (a page or its primary key): empty when not a copy."""
    from ..models import CourseCopy

    pk = getattr(course, "pk", course)
    record = CourseCopy.objects.filter(course_id=pk).only("context_id_history").first()
    return record.context_id_history if record is not None else ""


def placement_origin(page_id, block_id: str) -> tuple[int | None, str]:
    """``(placement it was copied from, its lti_id history)`` for a new placement of block
    ``block_id`` on page ``page_id``; ``(None, "")`` when the block was not copied."""
    from ..models import CourseCopy, Placement

    record = (
        CourseCopy.objects.filter(course_id=page_id)
        .only("link_histories", "kind", "source_id")
        .first()
    )
    if record is None:
        return None, ""
    entry = (record.link_histories or {}).get(str(block_id))
    if not entry and record.kind == CourseCopy.Kind.ALIAS and record.source_id is not None:
        # An alias follows its original: a block added there later comes from there too.
        original = Placement.objects.filter(
            page_id=record.source_id, block_id=str(block_id)
        ).first()
        if original is not None:
            return original.pk, history_of(original.lti_id, original.lti_id_history)
    if not entry:
        return None, ""
    origin = entry.get("placement")
    if origin is not None and not Placement.objects.filter(pk=origin).exists():
        origin = None  # the original is gone; its id stays in the history
    return origin, entry.get("history", "")


def _course_pairs(source, copy, *, recursive: bool) -> list[tuple[object, object]]:
    """The ``(original, copy)`` pairs of pages in the copied tree (specific instances)."""
    pairs = [(source, copy)]
    if recursive:
        originals = list(source.get_descendants().order_by("path"))
        copies = list(copy.get_descendants().order_by("path"))
        if len(originals) == len(copies):
            pairs += [
                (original, made)
                for original, made in zip(originals, copies, strict=True)
                if original.content_type_id == made.content_type_id
            ]
    return [(original.specific, made.specific) for original, made in pairs]


def record_copy(source, copy, *, kind: str = "copy", recursive: bool = False) -> list:
    """Record that page ``copy`` was made from page ``source`` (and, with ``recursive``, each
    descendant from its counterpart); returns the :class:`CourseCopy` rows written (course pages
    only). Safe to call twice."""
    from ..models import CourseCopy, CoursePageMixin, Placement
    from ..security.identifiers import context_id
    from .placements import sync_placements

    records = []
    with transaction.atomic():
        for original, made in _course_pairs(source, copy, recursive=recursive):
            if not isinstance(made, CoursePageMixin) or original.pk == made.pk:
                continue
            if not isinstance(original, CoursePageMixin):
                continue
            links = {
                placement.block_id: {
                    "placement": placement.pk,
                    "history": history_of(placement.lti_id, placement.lti_id_history),
                }
                for placement in Placement.objects.filter(page_id=original.pk)
            }
            record, _created = CourseCopy.objects.update_or_create(
                course_id=made.pk,
                defaults={
                    "source_id": original.pk,
                    "kind": kind,
                    "context_id_history": history_of(
                        context_id(original), context_id_history(original)
                    ),
                    "link_histories": links,
                },
            )
            # A live copy launches at once: its placements exist (Wagtail publishes a live copy
            # before this runs, but not an alias), each with its history.
            if made.live:
                sync_placements(made)
            # A copy published while being made got its placements before this record: give
            # them their history.
            for placement in Placement.objects.filter(page_id=made.pk, block_id__in=list(links)):
                entry = links[placement.block_id]
                if (placement.copied_from_id, placement.lti_id_history) != (
                    entry["placement"],
                    entry["history"],
                ):
                    placement.copied_from_id = entry["placement"]
                    placement.lti_id_history = entry["history"]
                    placement.save(update_fields=["copied_from", "lti_id_history"])
            records.append(record)
            transaction.on_commit(
                lambda record=record, made=made, original=original: course_copied.send(
                    sender=CourseCopy, course=made, source=original, record=record
                )
            )
    return records


# --- Doors ---------------------------------------------------------------------------------------


def after_copy_page(request, page, new_page):
    """``after_copy_page`` hook: the admin's Copy (and its "alias" option) of ``page``."""
    recursive = bool(request.POST.get("copy_subpages"))
    kind = "alias" if new_page.alias_of_id else "copy"
    record_copy(page.specific, new_page.specific, kind=kind, recursive=recursive)


def on_copy_for_translation(sender, source_obj=None, target_obj=None, **kwargs) -> None:
    """``copy_for_translation_done`` receiver: a translation of a course page is a copy of it."""
    from wagtail.models import Page

    if isinstance(source_obj, Page) and isinstance(target_obj, Page):
        record_copy(source_obj.specific, target_obj.specific, kind="translation")


__all__ = [
    "after_copy_page",
    "context_id_history",
    "course_copied",
    "history_of",
    "placement_origin",
    "record_copy",
]
