"""The learner-facing course view: "Enroll in this course" (thin; the rule is
``courses/enrollments.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.models import Page

from ..models.courses import CoursePageMixin
from . import enrollments


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
