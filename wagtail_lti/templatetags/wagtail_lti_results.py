"""Template tags of pages that list learners' results (the results report, a class view, the
course page): ``{% lti_review_action result as review %}``.

The rule is ``services/submission_review.py: may_review``; the markup is the include
``wagtail_lti/courses/includes/result_actions.html``.
"""

from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse

from ..services.submission_review import may_review, review_label


register = template.Library()


@register.simple_tag(takes_context=True)
def lti_review_action(context, result):
    """``{"url", "label", "csrf_token"}`` of the "Review submission" button of ``result`` for the
    request's user, or ``None`` when :func:`may_review` says no (or there is no request)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if result is None or request is None or not may_review(user, result):
        return None
    return {
        "url": reverse("wagtail_lti:review_submission", args=[result.pk]),
        "label": review_label(result, user),
        "csrf_token": get_token(request),
    }
