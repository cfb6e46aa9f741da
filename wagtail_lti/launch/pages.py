"""The page a learner sees when a launch is refused (``launch/refused.html``): which base template
it extends.

:func:`base_template` is the one rule: a page shown in the browser's own window or tab (an
activity that opens in a new window, or a launch URL opened directly) extends the site's base
template ``PAGE_BASE_TEMPLATE`` (default ``"base.html"``), so it carries the site's header and
styles; a page shown inside an activity's frame on the course page (``Sec-Fetch-Dest: iframe``,
:func:`in_frame`), or on a site without that template, extends wagtail-lti's own plain page. The
template names it as ``{% extends base_template|default:"<the plain page>" %}``. (The LTI 1.3
authorization's error page stays a plain page with no form at all: it answers a request the tool
started.)
"""

from __future__ import annotations

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from ..conf import lti_settings


def in_frame(request: HttpRequest) -> bool:
    """Whether the browser says ``request`` loads a frame (``Sec-Fetch-Dest``)."""
    return request.headers.get("Sec-Fetch-Dest") in {"iframe", "frame"}


def in_own_window(request: HttpRequest) -> bool:
    """Whether the browser says ``request`` loads a window or tab of its own (``Sec-Fetch-Dest``)."""
    return request.headers.get("Sec-Fetch-Dest") == "document"


@functools.cache
def _usable(name: str) -> bool:
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def base_template(request: HttpRequest) -> str:
    """The template a refused launch's page extends for ``request``: the site's
    ``PAGE_BASE_TEMPLATE`` in a window of its own, "" (the plain page) otherwise or when the
    site has no such template."""
    name = lti_settings.PAGE_BASE_TEMPLATE
    if not name or not in_own_window(request) or not _usable(name):
        return ""
    return name


@receiver(setting_changed)
def _templates_changed(*, setting, **kwargs):
    if setting in ("TEMPLATES", "INSTALLED_APPS", "WAGTAIL_LTI"):
        _usable.cache_clear()
