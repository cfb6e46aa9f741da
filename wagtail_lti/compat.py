"""Differences between the Wagtail (7.4 and 8.x) and Django (5.2 to 6.1) versions wagtail-lti
supports, in one place."""

from __future__ import annotations

import copy
from typing import Any


def chooser_widget(chooser_viewset: Any, **attrs: Any):
    """A chooser widget of ``chooser_viewset`` with ``attrs`` (e.g. ``linked_fields``) set.

    Wagtail 8's ``ChooserViewSet.widget_class`` is a widget class; Wagtail 7's snippet chooser
    viewset holds a ready widget instance there instead.
    """
    widget_class = chooser_viewset.widget_class
    if isinstance(widget_class, type):
        return widget_class(**attrs)
    widget = copy.deepcopy(widget_class)
    for name, value in attrs.items():
        setattr(widget, name, value)
    return widget


def without_ordered_parts(queryset):
    """``queryset`` with no ORDER BY in the queries it combines (``union()`` and the like).

    Django 6.1 gives a combined queryset its model's default ordering back (``Meta.ordering``,
    applied after the combination), so a union that is itself combined again (``a.union(b).union(c)``,
    as Wagtail's Site history report builds its query with three log models or more) carries an
    ORDER BY inside the compound statement: SQLite refuses it ("ORDER BY not allowed in subqueries
    of compound statements"). An ORDER BY without LIMIT inside a compound statement decides nothing
    (the combination has no order of its own; the outer ORDER BY does), so it is dropped from each
    combined query, at every depth. A sliced part keeps its ordering (it decides which rows the
    LIMIT keeps). The outer ordering, limits and selected columns are kept. A queryset that
    combines nothing is returned as it is. On Django 5.2 the parts carry no ordering already.
    """
    if not queryset.query.combinator:
        return queryset
    clone = queryset.all()
    clone.query.combined_queries = tuple(_unordered(part) for part in clone.query.combined_queries)
    return clone


def _unordered(query):
    query = query.clone()
    # force=False: a sliced query keeps its ordering.
    query.clear_ordering(force=False, clear_default=True)
    if query.combinator:
        query.combined_queries = tuple(_unordered(part) for part in query.combined_queries)
    return query
