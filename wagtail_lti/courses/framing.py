"""Which pages may be shown inside a frame.

By default nothing may be framed by another site: Django's ``XFrameOptionsMiddleware`` sends
``X-Frame-Options: DENY`` (``X_FRAME_OPTIONS``) on every response, the Wagtail admin included.

Two kinds of pages are exceptions, and both go through :func:`allow_framing`:

- **course pages** (pages whose model uses ``CoursePageMixin``), through the ``on_serve_page`` hook
  registered below;
- the **pages of a launch** that run inside an activity's iframe on a course page (the
  auto-submitting launch forms, the OIDC authorization response, the return page); their views call
  :func:`allow_framing` on their response.

They may be framed by this site itself (``X-Frame-Options: SAMEORIGIN``) and, when the
``FRAME_ANCESTORS`` setting lists origins (say, an LMS or intranet that embeds course pages), also
by those origins: the response then carries ``Content-Security-Policy: frame-ancestors 'self'
<origins>`` instead of ``X-Frame-Options``, which cannot name other origins. The admin, the login
page and every other page keep ``DENY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

from ..conf import lti_settings


def frame_ancestors() -> list[str]:
    """The origins from the ``FRAME_ANCESTORS`` setting, checked (``https://host[:port]`` each)."""
    value = lti_settings.FRAME_ANCESTORS
    if isinstance(value, str):
        value = value.split()
    origins: list[str] = []
    for origin in value:
        parts = urlsplit(origin)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or any(c in origin for c in " ;,'\"")
        ):
            raise ImproperlyConfigured(
                f"WAGTAIL_LTI['FRAME_ANCESTORS']: {origin!r} is not an origin like https://lms.example.com"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def allow_framing(response: HttpResponse) -> HttpResponse:
    """Let this site, and the origins in ``FRAME_ANCESTORS``, show ``response`` in a frame."""
    origins = frame_ancestors()
    if origins:
        directive = "frame-ancestors 'self' " + " ".join(origins)
        existing = response.get("Content-Security-Policy", "")
        if "frame-ancestors" not in existing:
            response["Content-Security-Policy"] = (
                f"{existing}; {directive}" if existing else directive
            )
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
        # Tells Django's XFrameOptionsMiddleware not to add X-Frame-Options: DENY.
        response.xframe_options_exempt = True
    else:
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def frameable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """View decorator: :func:`allow_framing` on every response of ``view``."""
    from functools import wraps

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> HttpResponse:
        return allow_framing(view(*args, **kwargs))

    return wrapped


def private_to_the_visitor(response: HttpResponse) -> HttpResponse:
    """``Cache-Control: private`` and ``Vary: Cookie``: a course page shows the visitor's own
    progress, messages and launch forms (with their CSRF token), so no shared cache (a proxy, a
    CDN, Django's cache middleware) may keep it and serve it to someone else, even one that
    ignores ``Vary``. A ``public`` the site set is replaced; its other directives are kept."""
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ("Cookie",))
    return response


def is_course_page(page: Any) -> bool:
    from ..models.courses import CoursePageMixin

    return isinstance(page, CoursePageMixin)


def course_page_framing(
    next_serve_page: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """``on_serve_page`` hook: course pages may be framed (see the module's docstring), and are
    never kept by a shared cache (:func:`private_to_the_visitor`)."""

    def serve(page: Any, request: Any, args: Any, kwargs: Any) -> HttpResponse:
        response = next_serve_page(page, request, args, kwargs)
        if is_course_page(page):
            allow_framing(response)
            private_to_the_visitor(response)
        return response

    return serve
