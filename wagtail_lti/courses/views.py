"""The course page's status endpoint (``wagtail_lti:course_status``): thin, the rule is
``courses/status.py: activity_status``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .status import StatusRefused, activity_status


@never_cache
@require_GET
def course_status(request: HttpRequest, page_id: int) -> JsonResponse:
    """The logged-in learner's status and score on each activity of course page ``page_id``."""
    try:
        response = JsonResponse(activity_status(request, page_id))
    except StatusRefused as refused:
        response = JsonResponse(
            {"error": refused.code, "error_description": refused.message}, status=refused.status
        )
    patch_vary_headers(response, ("Cookie",))
    return response
