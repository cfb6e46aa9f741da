"""The learner's launch of a course activity, and the tool's way back (the return URL).

``wagtail_lti:launch`` (``launch/<placement_id>/``) is what an activity block's form posts to (into
the activity's iframe or a new window). It re-checks that the visitor may launch and that the
request comes from this site's own pages (``wagtail_lti.launch.rules``: ``check_can_launch``,
``check_launch_request``), then:

* LTI 1.1: answers with a form signed with OAuth 1.0a (HMAC-SHA1) that submits itself to the
  tool's URL (a visible button does it when JavaScript is off), and records the launch;
* LTI 1.3: hands over to ``wagtail_lti.launch.lti13.start_login``.

A refused launch gets a small page explaining why (403 or 404), never an error 500; a request
from another site records nothing and gets a page with a button that starts the activity.

``wagtail_lti:launch_return`` (``launch/<placement_id>/return/``) is the
``launch_presentation_return_url``: the tool sends the learner there with ``lti_msg`` /
``lti_errormsg`` (shown on the course page, next to the activity) and ``lti_log`` /
``lti_errorlog`` (logged). It always goes back to the placement's own course page, never to a URL
taken from the request.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .. import launch_log
from ..courses.framing import frameable
from ..courses.view import message_tags_for
from ..models import Placement
from .context import build_launch_context
from .lti11 import launch_form as lti11_launch_form
from .pages import base_template, in_frame
from .rules import LaunchRefused, check_can_launch, check_launch_request, course_of
from .targets import launch_target


logger = logging.getLogger(__name__)

#: Longest lti_msg / lti_errormsg shown to the learner; longer ones are cut.
MAX_MESSAGE_LENGTH = 1000


def _placement(placement_id: str) -> Placement | None:
    return (
        Placement.objects.select_related("resource_link__provider", "page")
        .filter(lti_id=placement_id)
        .first()
    )


def _refused(request: HttpRequest, refused: LaunchRefused, placement: Placement | None):
    course_url = ""
    if placement is not None and refused.status != 404:
        try:
            course_url = course_of(placement).get_url(request) or ""
        except Exception:  # noqa: BLE001 - an explanation page must not fail on a link
            course_url = ""
    login_url = ""
    if refused.code == "login_required":
        from django.contrib.auth.views import redirect_to_login

        # Back to the course page after logging in (the top window), not to this launch.
        login_url = redirect_to_login(course_url or request.get_full_path())["Location"]
    return render(
        request,
        "wagtail_lti/launch/refused.html",
        {
            "base_template": base_template(request),
            "message": refused.message,
            "code": refused.code,
            "course_url": course_url,
            "login_url": login_url,
            # A launch refused for coming from elsewhere: the learner may start it from here.
            "retry_url": request.path if refused.code == "cross_site" else "",
        },
        status=refused.status,
    )


@csrf_exempt  # checked by check_launch_request, which answers with the launch's own page
@never_cache
@frameable
@require_http_methods(["GET", "POST"])
@launch_log.logged("launch", user_from_session=True)
def launch(request: HttpRequest, placement_id: str) -> HttpResponse:
    """Launch placement ``placement_id`` (its ``lti_id``) for the logged-in learner."""
    target = launch_target(lti_id=placement_id)
    placement = target.placement if target is not None else None
    if target is not None:
        launch_log.note(request, placement=placement, provider=target.provider)
    try:
        enrollment = check_can_launch(request.user, target, request)
        check_launch_request(request)
        ctx = build_launch_context(request, target, enrollment)
        if target.provider.is_lti13:
            from .lti13 import start_login

            launch_log.note(request, action="LTI 1.3 login initiation")
            return start_login(request, placement, ctx)
        return lti11_launch_form(request, target, ctx)
    except LaunchRefused as refused:
        launch_log.note(request, error=f"{refused.code}: {refused.message}")
        return _refused(request, refused, placement)


def _clean_message(value: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > MAX_MESSAGE_LENGTH:
        value = value[: MAX_MESSAGE_LENGTH - 1] + "…"
    return value


@never_cache
@frameable
@require_GET
def launch_return(request: HttpRequest, placement_id: str) -> HttpResponse:
    """The ``launch_presentation_return_url`` of a placement (LTI 1.1 §B, LTI Core 1.3 §6.1.2)."""
    placement = _placement(placement_id)
    course_url = ""
    if placement is not None:
        course = course_of(placement)
        if course.live:
            course_url = course.get_url(request) or ""
    if not course_url:
        return render(
            request,
            "wagtail_lti/launch/refused.html",
            {
                "base_template": base_template(request),
                "message": _("This activity does not exist (any more)."),
                "code": "not_found",
            },
            status=404,
        )

    if in_frame(request):
        # The tool navigated the activity's iframe. Leave the frame by loading this same URL in
        # the top window: a navigation our own page starts, so the browser treats it as same-site
        # (cookies, and the message stored below, are kept even when the tool is on another site).
        return render(
            request, "wagtail_lti/launch/return_frame.html", {"top_url": request.get_full_path()}
        )

    msg = _clean_message(request.GET.get("lti_msg", ""))
    errormsg = _clean_message(request.GET.get("lti_errormsg", ""))
    for name in ("lti_log", "lti_errorlog"):
        if request.GET.get(name):
            level = logging.WARNING if name == "lti_errorlog" else logging.INFO
            logger.log(
                level,
                "Tool %s for placement %s: %s",
                name,
                placement.lti_id,
                _clean_message(request.GET[name]),
            )
    tags = message_tags_for(placement)
    if errormsg:
        messages.error(request, errormsg, extra_tags=tags, fail_silently=True)
    if msg:
        messages.info(request, msg, extra_tags=tags, fail_silently=True)
    target = f"{course_url}#lti-activity-{placement.block_id}"
    return HttpResponseRedirect(target)


@csrf_exempt
@launch_log.logged("id_token", user_from_session=True)
def authorize(request: HttpRequest) -> HttpResponse:
    """The OIDC authorization endpoint of LTI 1.3 launches (``wagtail_lti.launch.lti13``)."""
    from .lti13 import authorize as handle_authorization_request

    return handle_authorization_request(request)
