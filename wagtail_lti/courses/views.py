"""The learner-facing course doors, thin: the course page's status endpoint
(``wagtail_lti:course_status``, the rule is ``courses/status.py: activity_status``) and "Enroll in
this course" (``wagtail_lti:self_enroll``, the rule is ``courses/enrollments.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from wagtail.models import Page

from ..models.courses import CoursePageMixin
from . import enrollments
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


@require_POST
def self_enroll(request, page_id: int):
    """POST (with the CSRF token) from a course page: enroll the visitor as a learner."""
    page = Page.objects.live().filter(pk=page_id).first()
    course = page.specific if page is not None else None
    if course is None or not isinstance(course, CoursePageMixin):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(course.url or "/")
    enrollment = enrollments.self_enroll(course, request.user)
    if enrollment is not None:
        messages.success(request, _("You are enrolled in “%(course)s”.") % {"course": course.title})
    elif not getattr(course, "allow_self_enrollment", False):
        messages.error(
            request,
            _(
                "This course does not take enrollments from learners: ask your instructor or "
                "training administrator."
            ),
        )
    return redirect(course.url or "/")
