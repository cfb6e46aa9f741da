"""Who may change the LTI part of a course page: one rule, asked by every door.

The *LTI part* of a course page (a page using ``CoursePageMixin``) is what decides whose course
it is and what it launches: its organization (``course_organization``, which decides whose
editors see its roster and results) and its course-activity blocks (each block's id, which
identifies its placement, and its value: resource link, title), and the LTI resource links
inserted from a tool into its rich text or "Tool content" blocks. The rest of the page (title,
slug, course code, text, position in the tree) is ordinary page content under Wagtail's page
permissions.

The rule (:func:`may_change_course_lti`): a user may take a course page from one LTI state to
another when the two are the same, when the user is a superuser, or when the user manages the
organization of both (a new page has no old state; a deleted page no new one). So an editor who
manages only organization A can never pull organization B's course into A, give B's course other
activities, remove them, or create (copy) or delete a course of B, whatever page permissions
Wagtail gives them.

The doors that ask it:

* the course page form (``wagtail_lti.courses.forms``): add, edit (draft, publish, workflow
  submission) and revert to an earlier revision, comparing the submitted page with the page as it
  is now (the live row and its latest revision), not with the revision shown in the form;
* copying a page (``before_copy_page``): each course the copy would create, the page itself and,
  when subpages are copied, its descendants;
* deleting pages (``before_delete_page``, ``before_bulk_action`` "delete"): each course the
  deletion would remove with its roster and results.

Moving and unpublishing change no LTI state (the organization is a field of the page, not its
place in the tree) and stay under Wagtail's page permissions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.fields import StreamField


@dataclass(frozen=True)
class CourseLtiState:
    """The LTI part of a course page at one moment."""

    organization_id: int | None
    #: ``(stream field name, block id, block value as stored)`` per activity block, in order.
    activities: tuple[tuple[str, str | None, str], ...]


def _activity_entries(field_name: str, stream_value) -> list[tuple[str, str | None, str]]:
    from wagtail_lti.blocks import activity_blocks

    entries = []
    for _index, child in activity_blocks(stream_value):
        prepared = child.block.get_prep_value(child.value)
        entries.append(
            (field_name, child.id, json.dumps(prepared, sort_keys=True, cls=DjangoJSONEncoder))
        )
    return entries


def course_lti_state(page, overrides: dict | None = None) -> CourseLtiState | None:
    """The LTI state of ``page`` (``None`` when it is not a course page).

    ``overrides`` maps field names to values that replace the page's own (a form's cleaned data:
    the organization, stream values).
    """
    from wagtail_lti.models.courses import CoursePageMixin

    page = getattr(page, "specific", page) if not isinstance(page, CoursePageMixin) else page
    if not isinstance(page, CoursePageMixin):
        return None
    overrides = overrides or {}
    if "course_organization" in overrides:
        organization = overrides["course_organization"]
        organization_id = organization.pk if organization is not None else None
    else:
        organization_id = page.course_organization_id
    activities: list[tuple[str, str | None, str]] = []
    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            value = overrides.get(field.name, getattr(page, field.name))
            activities += _activity_entries(field.name, value)
    activities += _tool_activity_entries(page, overrides)
    return CourseLtiState(organization_id=organization_id, activities=tuple(activities))


def _tool_activity_entries(page, overrides: dict) -> list[tuple[str, str | None, str]]:
    """The LTI resource links inserted from a tool (rich text, "Tool content" blocks): each is an
    activity of the course too (``content_selection.tool_content``), so part of its LTI state."""
    from wagtail_lti.content_selection.tool_content import (
        activity_block_id,
        content_fields,
        contents_by_id,
        ids_in_value,
    )

    entries = []
    for name in content_fields(type(page)):
        ids = ids_in_value(overrides.get(name, getattr(page, name)))
        found = contents_by_id(ids)
        for pk in ids:
            content = found.get(pk)
            if content is None or content.kind != content.Kind.RESOURCE_LINK:
                continue
            value = json.dumps({"resource_link": content.resource_link_id})
            entries.append((name, activity_block_id(content), value))
    return entries


def _organizations_not_managed(user, organization_ids: Iterable[int | None]):
    from wagtail_lti.models import Organization
    from wagtail_lti.scoping import user_manages

    ids = {pk for pk in organization_ids if pk is not None}
    if not ids:
        return []
    return [
        org
        for org in Organization.objects.filter(pk__in=ids).order_by("path")
        if not user_manages(user, org)
    ]


def lti_change_refusal(user, old: CourseLtiState | None, new: CourseLtiState | None) -> str | None:
    """Why ``user`` may not take a course from ``old`` to ``new``; ``None`` when they may.

    ``old`` is ``None`` for a course being created (added, copied), ``new`` for one being deleted.
    """
    if old == new or (getattr(user, "is_superuser", False) and user.is_active):
        return None
    old_id = old.organization_id if old is not None else None
    new_id = new.organization_id if new is not None else None
    refused = _organizations_not_managed(user, [old_id, new_id])
    if not refused:
        return None
    names = {org.pk: org for org in refused}
    if old_id in names:
        return _(
            "This course belongs to “%(organization)s”, which you don't manage: you can't "
            "change its organization or its LTI activities."
        ) % {"organization": names[old_id]}
    return _("You don't manage “%(organization)s”; choose an organization you manage.") % {
        "organization": names[new_id]
    }


def may_change_course_lti(user, old: CourseLtiState | None, new: CourseLtiState | None) -> bool:
    """The rule: the LTI part is unchanged, or the user manages the old and the new organization
    (superusers may do anything)."""
    return lti_change_refusal(user, old, new) is None


# --- Page doors ------------------------------------------------------------------------------------


def current_states(page) -> list[CourseLtiState]:
    """The states a change of an existing course page starts from: its live row and its latest
    revision (a draft may differ from what is live)."""
    from wagtail_lti.models.courses import CoursePageMixin

    if page is None or page.pk is None:
        return []
    model = type(page) if isinstance(page, CoursePageMixin) else page.specific_class
    stored = model._default_manager.filter(pk=page.pk).first()
    if stored is None:
        return []
    states = [course_lti_state(stored)]
    if stored.latest_revision_id is not None:
        draft = stored.get_latest_revision_as_object()
        states.append(course_lti_state(draft))
    return [state for state in states if state is not None]


def _course_pages_in(page, *, with_descendants: bool) -> list:
    """The course pages among ``page`` (and its descendants): specific instances."""
    from wagtail_lti.models.courses import get_course_page_models

    pages = []
    for model in get_course_page_models():
        queryset = model._default_manager.all()
        if with_descendants:
            queryset = queryset.descendant_of(page, inclusive=True)
        else:
            queryset = queryset.filter(pk=page.pk)
        pages += list(queryset)
    return sorted(pages, key=lambda p: p.path)


def copy_refusal(user, page, *, with_descendants: bool) -> str | None:
    """Why ``user`` may not copy ``page`` (each course copied is a new course of its organization)."""
    for course in _course_pages_in(page, with_descendants=with_descendants):
        refusal = lti_change_refusal(user, None, course_lti_state(course))
        if refusal is not None:
            return _("“%(page)s” can't be copied: %(reason)s") % {
                "page": course.get_admin_display_title(),
                "reason": _copy_or_delete_reason(user, course),
            }
    return None


def delete_refusal(user, page) -> str | None:
    """Why ``user`` may not delete ``page`` and its descendants (courses with their rosters and
    results)."""
    for course in _course_pages_in(page, with_descendants=True):
        for state in current_states(course):
            if lti_change_refusal(user, state, None) is not None:
                return _("“%(page)s” can't be deleted: %(reason)s") % {
                    "page": page.get_admin_display_title(),
                    "reason": _copy_or_delete_reason(user, course),
                }
    return None


def _copy_or_delete_reason(user, course) -> str:
    if course.course_organization_id is None:  # pragma: no cover - only a draft may differ
        return _("it contains a course of an organization you don't manage.")
    return _("the course “%(course)s” belongs to an organization you don't manage.") % {
        "course": course.get_admin_display_title()
    }


def _refuse(request, page, message: str):
    messages.error(request, message)
    next_url = get_valid_next_url_from_request(request)
    if next_url:
        return redirect(next_url)
    parent = page.get_parent()
    return redirect("wagtailadmin_explore", parent.pk if parent is not None else page.pk)


def guard_copy_page(request, page):
    """``before_copy_page`` hook: refuse to copy courses of organizations the user doesn't manage."""
    with_descendants = request.method == "POST" and bool(request.POST.get("copy_subpages"))
    refusal = copy_refusal(request.user, page, with_descendants=with_descendants)
    if refusal is not None:
        return _refuse(request, page, refusal)
    return None


def guard_delete_page(request, page):
    """``before_delete_page`` hook: refuse to delete courses of organizations the user doesn't
    manage (their rosters and results would go with them)."""
    refusal = delete_refusal(request.user, page)
    if refusal is not None:
        return _refuse(request, page, refusal)
    return None


def guard_bulk_action(request, action_type, objects, action_class_instance):
    """``before_bulk_action`` hook: the page bulk "delete" asks the same rule for every page."""
    from wagtail.models import Page

    if action_type != "delete":
        return None
    for obj in objects:
        if not isinstance(obj, Page):
            return None
        refusal = delete_refusal(request.user, obj)
        if refusal is not None:
            messages.error(request, refusal)
            next_url = get_valid_next_url_from_request(request)
            return redirect(next_url or "wagtailadmin_explore_root")
    return None


__all__ = [
    "CourseLtiState",
    "copy_refusal",
    "course_lti_state",
    "current_states",
    "delete_refusal",
    "lti_change_refusal",
    "may_change_course_lti",
]
