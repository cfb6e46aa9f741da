"""Differences between the Wagtail versions wagtail-lti supports (7.4 and 8.x), in one place."""

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
