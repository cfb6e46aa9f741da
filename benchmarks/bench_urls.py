"""The example site's URLs plus the bare Django views ``launch_throughput.py`` compares with.

The two baselines sign exactly what the real launch signs (the same claims or parameters, the
same key or secret), but do nothing else: no validation, no database, no template. The floors
(:func:`floor_id_token`, :func:`floor_lti11`) add to the baselines the database steps a correct
launch cannot skip. Their throughput is the
ceiling the real endpoints are measured against. The inputs are read once per process, from the
first request (whose learner is the one the launch was started for) and the database.
"""

from __future__ import annotations

import time
from html import escape

from django.http import HttpRequest, HttpResponse
from django.urls import path

from example_site.urls import urlpatterns as site_urlpatterns


_inputs: dict = {}


def _form(action: str, fields: dict[str, str]) -> HttpResponse:
    inputs = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    return HttpResponse(
        f'<!DOCTYPE html><html><body><form method="post" action="{escape(action)}">{inputs}'
        '<button type="submit">Continue</button></form></body></html>'
    )


def _lti13_inputs(request: HttpRequest) -> dict:
    if "lti13" not in _inputs:
        from wagtail_lti.lti.lti13 import AGS_LAUNCH_SCOPES, context_from_data
        from wagtail_lti.models import PendingLaunch
        from wagtail_lti.security.platform_keys import get_signing_key
        from wagtail_lti.services import urls as ags_urls
        from wagtail_lti.services.results import line_item_for
        from wagtail_lti.services.urls import platform_issuer

        pending = PendingLaunch.objects.select_related("provider").order_by("pk").first()
        provider = pending.provider
        from wagtail_lti.models import Placement

        placement = Placement.objects.get(pk=pending.data["placement_id"])
        try:
            from wagtail_lti.services.nrps import nrps_claim

            extra = nrps_claim(request, placement, provider)
        except ImportError:
            extra = {}
        kid, key = get_signing_key()
        _inputs["lti13"] = {
            "ctx": context_from_data(pending.data["context"]),
            "issuer": platform_issuer(request),
            "client_id": provider.client_id,
            "deployment_id": pending.data.get("deployment_id") or provider.deployment_id,
            "message_type": pending.message_type,
            "ags": {
                "scope": list(AGS_LAUNCH_SCOPES),
                "lineitems": ags_urls.ags_lineitems_url(request, placement.page, provider),
                "lineitem": ags_urls.ags_lineitem_url(request, line_item_for(placement)),
            },
            "extra": extra or None,
            "kid": kid,
            "key": key,
            "redirect_uri": provider.get_redirect_uris()[0],
            "placement_id": placement.pk,
            "course_id": placement.page_id,
            "provider_id": provider.pk,
        }
    return _inputs["lti13"]


def _sign_id_token(request: HttpRequest, given: dict) -> HttpResponse:
    from wagtail_lti.lti.lti13 import build_id_token_claims, sign_id_token

    claims = build_id_token_claims(
        given["ctx"],
        issuer=given["issuer"],
        client_id=given["client_id"],
        deployment_id=given["deployment_id"],
        nonce=request.GET.get("nonce", ""),
        message_type=given["message_type"],
        ags=given["ags"],
        extra=given["extra"],
        now=int(time.time()),
        ttl=300,
        iat_backdate=5,
    )
    token = sign_id_token(claims, given["kid"], given["key"])
    return _form(given["redirect_uri"], {"id_token": token, "state": request.GET.get("state", "")})


def sign_id_token_only(request: HttpRequest) -> HttpResponse:
    """Baseline of the authorization endpoint: build the same claims, sign, answer the form."""
    return _sign_id_token(request, _lti13_inputs(request))


def signed_in_id_token(request: HttpRequest) -> HttpResponse:
    """The 1.3 baseline plus one thing every launch needs: who the signed-in learner is (the
    session and the user, read by Django's middleware)."""
    if not request.user.is_authenticated:
        return HttpResponse("refused", status=403)
    return sign_id_token_only(request)


def _enrolled_and_recorded(given: dict, user, *, kind: str) -> bool:
    """The floors' common steps: the enrollment as of now (one ``SELECT``); if there is one, the
    launch recorded on the learner's activity (one ``UPDATE``) and in the launch log (one
    ``INSERT``)."""
    from django.db.models import F
    from django.utils import timezone

    from wagtail_lti.models import Enrollment, LaunchLogEntry, LearnerActivity

    placement_id, course_id = given["placement_id"], given["course_id"]
    if not Enrollment.objects.filter(course_id=course_id, user_id=user.pk, is_active=True).exists():
        return False
    LearnerActivity.objects.filter(placement_id=placement_id, user_id=user.pk).update(
        launch_count=F("launch_count") + 1, last_launched_at=timezone.now()
    )
    LaunchLogEntry.objects.create(
        kind=kind,
        outcome="ok",
        action="floor",
        http_status=200,
        provider_id=given["provider_id"],
        user_id=user.pk,
        placement_id=placement_id,
        course_id=course_id,
    )
    return True


def floor_id_token(request: HttpRequest) -> HttpResponse:
    """The floor of the authorization endpoint: only the steps no correct platform can skip, each
    with the ORM in its plainest form, then the same signing as the baseline.

    The signed-in user (session and user, through the same middleware); the message hint consumed
    once (one ``UPDATE``); the learner's enrollment as of now (one ``SELECT``); the launch recorded
    on the learner's activity (one ``UPDATE``) and in the launch log (one ``INSERT``). No request
    validation, no availability check, no claims built from the database.
    """
    from django.utils import timezone

    from wagtail_lti.launch.lti13 import hash_hint
    from wagtail_lti.models import PendingLaunch

    given = _lti13_inputs(request)
    user = request.user
    now = timezone.now()
    consumed = PendingLaunch.objects.filter(
        hint=hash_hint(request.GET.get("lti_message_hint", "")),
        user_id=user.pk,
        used_at__isnull=True,
        expires_at__gt=now,
    ).update(used_at=now)
    if consumed != 1 or not _enrolled_and_recorded(given, user, kind="id_token"):
        return HttpResponse("refused", status=403)
    return _sign_id_token(request, given)


def _lti11_inputs(request: HttpRequest, placement_id: str) -> dict:
    if "lti11" not in _inputs:
        from django.urls import reverse

        from wagtail_lti.launch.context import build_launch_context
        from wagtail_lti.launch.rules import check_can_launch
        from wagtail_lti.launch.targets import launch_target
        from wagtail_lti.lti.lti11 import build_launch_params
        from wagtail_lti.security.sourcedid import make_sourcedid

        target = launch_target(lti_id=placement_id)
        placement = target.placement
        link = placement.resource_link
        ctx = build_launch_context(request, target, check_can_launch(request.user, target))
        params = build_launch_params(
            ctx,
            outcome_service_url=request.build_absolute_uri(reverse("wagtail_lti:lti11_outcomes")),
            result_sourcedid=make_sourcedid(placement, request.user),
        )
        _inputs["lti11"] = {
            "url": link.url,
            "params": params,
            "key": link.provider.consumer_key,
            "secret": link.provider.secret,
            "placement_id": placement.pk,
            "course_id": placement.page_id,
            "provider_id": link.provider_id,
        }
    return _inputs["lti11"]


def sign_lti11_launch_only(request: HttpRequest, placement_id: str) -> HttpResponse:
    """Baseline of the LTI 1.1 launch view: sign the same parameters, answer the form."""
    from wagtail_lti.lti.lti11 import sign_launch

    given = _lti11_inputs(request, placement_id)
    signed = sign_launch(given["url"], given["params"], given["key"], given["secret"])
    return _form(given["url"], signed)


def floor_lti11(request: HttpRequest, placement_id: str) -> HttpResponse:
    """The floor of the LTI 1.1 launch view: the signed-in user, the enrollment as of now, the
    launch recorded on the learner's activity and in the launch log, then the baseline's signing."""

    from wagtail_lti.lti.lti11 import sign_launch

    given = _lti11_inputs(request, placement_id)
    if not _enrolled_and_recorded(given, request.user, kind="launch"):
        return HttpResponse("refused", status=403)
    signed = sign_launch(given["url"], given["params"], given["key"], given["secret"])
    return _form(given["url"], signed)


urlpatterns = [
    path("bench/sign-id-token/", sign_id_token_only),
    path("bench/floor-id-token/", floor_id_token),
    path("bench/signed-in-id-token/", signed_in_id_token),
    path("bench/sign-lti11/<str:placement_id>/", sign_lti11_launch_only),
    path("bench/floor-lti11/<str:placement_id>/", floor_lti11),
    *site_urlpatterns,
]
