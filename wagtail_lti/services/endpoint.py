"""What every service endpoint answers with: JSON bodies and errors, and the token endpoint's URLs.

Shared by the token endpoint (``services/views/token.py``) and the AGS and NRPS views.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from .urls import absolute_url


def token_endpoint_urls(request: HttpRequest) -> list[str]:
    """Values a client assertion's ``aud`` may name: this token endpoint's absolute URL.

    The first is the canonical one (on the issuer's host when ``ISSUER`` is set); the URL on the
    request's own host is accepted too, for sites reachable under one name only.
    """
    path = reverse("wagtail_lti:lti13_token")
    urls = [absolute_url(request, path)]
    own = request.build_absolute_uri(path)
    if own not in urls:
        urls.append(own)
    return urls


def service_json(
    data, *, status: int = 200, content_type: str = "application/json"
) -> JsonResponse:
    """A JSON answer of a tool-facing service (AGS, NRPS), never cached."""
    response = JsonResponse(data, status=status, safe=False, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def service_error(status: int, error: str, description: str) -> JsonResponse:
    """A service's JSON error: ``error`` and ``error_description``."""
    return service_json({"error": error, "error_description": description}, status=status)
