"""Where a provider, resource link or organization is used (what stops it being deleted)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.deletion import Collector, ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Page, ReferenceIndex

from .. import scoping
from ..models import LineItem, LtiProvider, LtiResourceLink, Organization, Placement


def _label(obj) -> str:
    obj = getattr(obj, "specific", obj)  # pages: "course page “…”" rather than "page “…”"
    name = (getattr(obj, "title", None) or str(obj)).strip()
    return f"{obj._meta.verbose_name} “{name}”"


def _referencing_objects(obj, skip_models=()) -> list:
    """Objects the reference index knows to refer to ``obj`` (pages' blocks, other snippets)."""
    sources = []
    try:
        for source, _refs in ReferenceIndex.get_references_to(obj).group_by_source_object():
            if isinstance(source, skip_models):
                continue
            sources.append(source)
    except ObjectDoesNotExist:  # a stale index row; the rest of the checks still apply
        pass
    return sources


def _hidden_count(hidden: int) -> list[str]:
    if not hidden:
        return []
    return [
        ngettext(
            "%(count)d record of an organization you do not manage",
            "%(count)d records of organizations you do not manage",
            hidden,
        )
        % {"count": hidden}
    ]


def nameable_labels(items, user) -> list[str]:
    """Labels of ``(record, label)`` pairs: the records the user may see are named
    (``scoping.may_name``), the others only counted; duplicates dropped."""
    labels: list[str] = []
    hidden: set = set()
    for record, label in items:
        if scoping.may_name(user, getattr(record, "specific", record)):
            if label not in labels:
                labels.append(label)
        else:
            hidden.add((type(record).__name__, record.pk))
    return labels + _hidden_count(len(hidden))


def _owned_records(records, user) -> list[str]:
    """Name the records the user manages; count the others without naming them."""
    labels, hidden = [], 0
    for record in records:
        if scoping.user_manages(user, record.organization):
            labels.append(_label(record))
        else:
            hidden += 1
    return labels + _hidden_count(hidden)


def usage_blockers(obj, user) -> list[str]:
    """Human-readable list of what uses ``obj``; empty when it may be deleted."""
    labels: list[str] = []
    if isinstance(obj, LtiProvider):
        links = LtiResourceLink.objects.filter(provider=obj).select_related("organization")
        labels += _owned_records(links, user)
        items = [
            (
                item,
                _("gradebook column “%(label)s” in “%(course)s”")
                % {"label": item.label, "course": item.course.title},
            )
            for item in LineItem.objects.filter(provider=obj).select_related("course")
        ]
        items += [
            (source, _label(source))
            for source in _referencing_objects(obj, skip_models=(LtiResourceLink,))
        ]
        labels += nameable_labels(items, user)
    elif isinstance(obj, LtiResourceLink):
        placements = Placement.objects.filter(resource_link=obj, is_active=True)
        pages = {p.page_id: p.page for p in placements.select_related("page")}
        sources = _referencing_objects(obj)
        pages.update({s.pk: s for s in sources if isinstance(s, Page)})
        others = [s for s in sources if not isinstance(s, Page)]
        items = [(page, _label(page)) for page in pages.values()]
        labels += nameable_labels(items + [(s, _label(s)) for s in others], user)
    elif isinstance(obj, Organization):
        children = obj.get_children()
        if children.exists():
            labels += nameable_labels(
                [
                    (child, _("sub-organization “%(name)s”") % {"name": child.name})
                    for child in children
                ],
                user,
            )
        else:
            collector = Collector(using="default")
            try:
                collector.collect([obj])
            except ProtectedError as exc:
                protected = sorted(exc.protected_objects, key=_label)
                labels += nameable_labels([(o, _label(o)) for o in protected], user)
    return labels


def describe_blockers(obj, blockers: list[str]) -> str:
    return _("“%(object)s” cannot be deleted because it is in use by: %(users)s.") % {
        "object": obj,
        "users": "; ".join(blockers),
    }
