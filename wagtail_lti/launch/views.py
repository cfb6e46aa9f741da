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
        launch_log.note(
            request, placement=placement, provider=target.provider, course=target.course
        )
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


#: Marks a test launch's return URL loaded again from this site's own page (see below).
FOLLOWED_PARAM = "wagtail_lti_followed"

#: What a tool may say on the return URL (LTI 1.1 Implementation Guide §B; LTI Core 1.3 §6.1.2).
TOOL_MESSAGES = ("lti_msg", "lti_errormsg", "lti_log", "lti_errorlog")


def tool_said(request: HttpRequest, about: str) -> dict[str, str]:
    """What the tool said on the return URL (cleaned, cut), noted for the launch log's row
    (``tool_messages``; an ``lti_errormsg`` or ``lti_errorlog`` makes the row an error) and its
    logs written to the server log."""
    said = {
        name: _clean_message(request.GET.get(name, ""))
        for name in TOOL_MESSAGES
        if request.GET.get(name, "").strip()
    }
    for name in ("lti_log", "lti_errorlog"):
        if name in said:
            level = logging.WARNING if name == "lti_errorlog" else logging.INFO
            logger.log(level, "Tool %s for %s: %s", name, about, said[name])
    error = said.get("lti_errormsg") or said.get("lti_errorlog") or ""
    launch_log.note(request, action="Tool returned", tool_messages=said, error=error)
    return said


def _provider_of(placement: Placement):
    link = placement.resource_link
    return link.provider if link is not None else None


@never_cache
@frameable
@require_GET
@launch_log.logged("launch", user_from_session=True)
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
        launch_log.note(request, skip=True)  # recorded when the top window loads it
        return render(
            request, "wagtail_lti/launch/return_frame.html", {"top_url": request.get_full_path()}
        )

    said = tool_said(request, f"placement {placement.lti_id}")
    launch_log.note(request, placement=placement, provider=_provider_of(placement))
    msg, errormsg = said.get("lti_msg", ""), said.get("lti_errormsg", "")
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


@never_cache
@require_http_methods(["POST"])
@launch_log.logged("launch", user_from_session=True)
def review_submission(request: HttpRequest, result_id: str) -> HttpResponse:
    """``wagtail_lti:review_submission`` (``review/<result_id>/``, POST with the CSRF token):
    review a learner's submission with the tool (Submission Review 1.0). The rule and the launch
    are ``services/submission_review.py``'s (``check_review``, ``start_review``); a refusal gets a
    page saying why (403, or 404 for a result that does not exist)."""
    from ..services.submission_review import (
        ReviewRefused,
        check_review,
        find_result,
        start_review,
    )

    result = find_result(result_id)
    if result is not None:
        launch_log.note(
            request,
            placement=result.line_item.placement,
            provider=result.line_item.provider,
            action="LtiSubmissionReviewRequest: LTI 1.3 login initiation",
        )
    try:
        return start_review(request, check_review(request.user, result))
    except ReviewRefused as refused:
        launch_log.note(request, error=f"{refused.code}: {refused.message}")
        return render(
            request,
            "wagtail_lti/launch/review_refused.html",
            {"message": refused.message, "code": refused.code},
            status=refused.status,
        )


# --- An editor's test launch (launch/test_launch.py) ---------------------------------------------


@never_cache
@frameable
@require_GET
@launch_log.logged("launch", user_from_session=True)
def test_launch(request: HttpRequest) -> HttpResponse:
    """An editor's test launch (``?placement=``, ``?link=`` or ``?provider=``, ``&role=``),
    loaded into the test launch page's frame (``admin/test_launch.py``): a GET from this site's
    own page (``check_launch_request``: ``Sec-Fetch-Site: same-origin``)."""
    from . import test_launch as service

    params = request.GET
    launch_log.note(request, is_test=True)
    try:
        test = service.find_target(params)
        launch_log.note(request, provider=test.provider, placement=test.placement)
        role = service.role_of(params)
        service.check_may_test_launch(request.user, test)
        check_launch_request(request)
        return service.start(request, test, role)
    except LaunchRefused as refused:
        launch_log.note(request, error=f"{refused.code}: {refused.message}")
        return _refused(request, refused, None)


@never_cache
@frameable
@require_GET
@launch_log.logged("launch", user_from_session=True)
def test_launch_return(request: HttpRequest) -> HttpResponse:
    """The return URL of an editor's test launch: what the tool said, recorded in the launch log
    and shown to the editor (its logs too: the editor is trying the tool, not learning)."""
    from . import test_launch as service

    launch_log.note(request, is_test=True)
    if not request.user.is_authenticated and request.GET.get(FOLLOWED_PARAM) != "1":
        # The tool navigated the frame from its own site: the Lax session cookie was not sent.
        # Load the same URL again from this page (same-site, so the cookie comes along).
        launch_log.note(request, skip=True)
        query = request.GET.copy()
        query[FOLLOWED_PARAM] = "1"
        return render(
            request,
            "wagtail_lti/launch/follow.html",
            {"url": f"{request.path}?{query.urlencode()}"},
        )
    try:
        test = service.find_target(request.GET)
        role = service.role_of(request.GET)
        service.check_may_test_launch(request.user, test)
    except LaunchRefused as refused:
        launch_log.note(request, error=f"{refused.code}: {refused.message}")
        return _refused(request, refused, None)
    launch_log.note(request, provider=test.provider, placement=test.placement)
    said = tool_said(request, f"a test launch of {test.title}")
    return render(
        request,
        "wagtail_lti/launch/test_return.html",
        {
            "title": test.title,
            "role": service.role_label(role),
            "said": said,
        },
    )
