"""Names and Role Provisioning Services: the launch claim (the roster endpoint is ``services/views/nrps.py``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from ..lti import nrps
from ..models import LtiProvider, Placement
from .urls import absolute_url


def context_memberships_url(request: HttpRequest, course, provider: LtiProvider) -> str:
    """The ``context_memberships_url`` of ``provider``'s deployment in ``course`` (a course page)."""
    return absolute_url(
        request,
        reverse(
            "wagtail_lti:nrps_memberships",
            kwargs={"course_id": course.pk, "provider_id": provider.pk},
        ),
    )


def nrps_claim(request: HttpRequest, placement: Placement | None, provider: LtiProvider) -> dict:
    """The launch's NRPS claim (as ``{claim name: value}``) when the provider may use NRPS."""
    if placement is None or not provider.allow_nrps or not provider.is_lti13:
        return {}
    return nrps.membership_claim(context_memberships_url(request, placement.page, provider))
