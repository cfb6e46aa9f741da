"""Absolute URLs of the Assignment and Grade Services endpoints (for the id_token's AGS claim).

Line item URLs carry no query string and no trailing slash (tools append ``/scores`` and
``/results`` to them, some naively), and are lower-case ASCII so they survive clients that
lower-case ``Link`` headers. URLs are built on the issuer's scheme and host when ``ISSUER`` is set, else on the
request's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import reverse

from ..conf import lti_settings


def platform_origin(request: HttpRequest) -> str:
    """This platform's scheme and host: the ``ISSUER`` setting's if set, else the request's.

    The one rule for "this platform's URL": the issuer (:func:`platform_issuer`) and every
    absolute URL sent to tools (:func:`absolute_url`) are built from it.
    """
    if lti_settings.ISSUER:
        parts = urlsplit(lti_settings.ISSUER)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.scheme}://{request.get_host()}"


def absolute_url(request: HttpRequest, path: str) -> str:
    """``path`` on this platform: the issuer's scheme and host if configured, else the request's."""
    if lti_settings.ISSUER:
        return f"{platform_origin(request)}{path}"
    return request.build_absolute_uri(path)


def ags_lineitems_url(request: HttpRequest, course, provider) -> str:
    """The line items container of ``provider``'s deployment in ``course`` (a course page)."""
    return absolute_url(
        request,
        reverse(
            "wagtail_lti:ags_lineitems", kwargs={"course_id": course.pk, "provider_id": provider.pk}
        ),
    )


def _lineitem_kwargs(line_item) -> dict[str, int]:
    return {
        "course_id": line_item.course_id,
        "provider_id": line_item.provider_id,
        "line_item_id": line_item.pk,
    }


def ags_lineitem_url(request: HttpRequest, line_item) -> str:
    """The line item's ``id``: GET/PUT/DELETE; ``scores/`` and ``results/`` are appended to it."""
    return absolute_url(
        request, reverse("wagtail_lti:ags_lineitem", kwargs=_lineitem_kwargs(line_item))
    )


def ags_scores_url(request: HttpRequest, line_item) -> str:
    return absolute_url(
        request, reverse("wagtail_lti:ags_scores", kwargs=_lineitem_kwargs(line_item))
    )


def ags_results_url(request: HttpRequest, line_item) -> str:
    return absolute_url(
        request, reverse("wagtail_lti:ags_results", kwargs=_lineitem_kwargs(line_item))
    )


def platform_issuer(request: HttpRequest) -> str:
    """The LTI 1.3 issuer: the ``ISSUER`` setting, or this request's scheme and host."""
    return lti_settings.ISSUER or platform_origin(request)
