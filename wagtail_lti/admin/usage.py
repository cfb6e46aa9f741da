"""Where a provider, resource link or organization is used (what stops it being deleted)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.deletion import Collector, ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import ReferenceIndex

from .. import scoping
from ..models import LineItem, LtiProvider, LtiResourceLink, Organization, Placement


def _label(obj) -> str:
    obj = getattr(obj, "specific", obj)  # pages: "course page “…”" rather than "page “…”"
    name = (getattr(obj, "title", None) or str(obj)).strip()
    return f"{obj._meta.verbose_name} “{name}”"


def _referencing_objects(obj, skip_models=()) -> list[str]:
    """Objects the reference index knows to refer to ``obj`` (pages' blocks, other snippets)."""
    labels = []
    try:
        for source, _refs in ReferenceIndex.get_references_to(obj).group_by_source_object():
            if isinstance(source, skip_models):
                continue
            labels.append(_label(source))
    except ObjectDoesNotExist:  # a stale index row; the rest of the checks still apply
        pass
    return labels


def _owned_records(records, user) -> list[str]:
    """Name the records the user manages; count the others without naming them."""
    labels, hidden = [], 0
    for record in records:
        if scoping.user_manages(user, record.organization):
            labels.append(_label(record))
        else:
            hidden += 1
    if hidden:
        labels.append(
            ngettext(
                "%(count)d record of an organization you do not manage",
                "%(count)d records of organizations you do not manage",
                hidden,
            )
            % {"count": hidden}
        )
    return labels


def usage_blockers(obj, user) -> list[str]:
    """Human-readable list of what uses ``obj``; empty when it may be deleted."""
    labels: list[str] = []
    if isinstance(obj, LtiProvider):
        links = LtiResourceLink.objects.filter(provider=obj).select_related("organization")
        labels += _owned_records(links, user)
        for item in LineItem.objects.filter(provider=obj).select_related("course"):
            labels.append(
                _("gradebook column “%(label)s” in “%(course)s”")
                % {"label": item.label, "course": item.course.title}
            )
        labels += _referencing_objects(obj, skip_models=(LtiResourceLink,))
    elif isinstance(obj, LtiResourceLink):
        pages = {}
        placements = Placement.objects.filter(resource_link=obj, is_active=True)
        for placement in placements.select_related("page"):
            pages[placement.page_id] = _label(placement.page)
        labels += list(pages.values())
        for label in _referencing_objects(obj):
            if label not in labels:
                labels.append(label)
    elif isinstance(obj, Organization):
        children = obj.get_children()
        if children.exists():
            labels += [
                _("sub-organization “%(name)s”") % {"name": child.name} for child in children
            ]
        else:
            collector = Collector(using="default")
            try:
                collector.collect([obj])
            except ProtectedError as exc:
                labels += sorted({_label(o) for o in exc.protected_objects})
    return labels


def describe_blockers(obj, blockers: list[str]) -> str:
    return _("“%(object)s” cannot be deleted because it is in use by: %(users)s.") % {
        "object": obj,
        "users": "; ".join(blockers),
    }
