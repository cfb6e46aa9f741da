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
from django.views.decorators.csrf import csrf_exempt

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


def noop(request: HttpRequest) -> HttpResponse:
    """What ``_wrk.py`` asks for when it must send something that is no line (not counted): the
    request wrk makes before the run to check the script, or after a thread's last line was given
    up in ``once`` mode."""
    response = HttpResponse("")
    response["X-Bench-Noop"] = "1"
    return response


_score_inputs: dict = {}


def _user_of(opaque_id: str) -> int | None:
    """The floors' learner lookup: the opaque id of every user, computed once per process (the
    real endpoint keeps the same answer in the shared cache after the first lookup)."""
    if not _score_inputs:
        from django.contrib.auth import get_user_model

        from wagtail_lti.security.identifiers import opaque_user_id

        for user in get_user_model().objects.all():
            _score_inputs[opaque_user_id(user)] = user.pk
    return _score_inputs.get(opaque_id)


def _upsert_result(line_item_id: int, user_id: int, fields: dict, *, source: str) -> None:
    """One upsert of the learner's result and its history row, in the plainest ORM."""
    from django.db import transaction

    from wagtail_lti.models import Result, ScoreEvent

    with transaction.atomic():
        result, _ = Result.objects.update_or_create(
            line_item_id=line_item_id, user_id=user_id, defaults=fields
        )
        ScoreEvent.objects.create(result=result, source=source, **fields)


@csrf_exempt
def floor_score(request: HttpRequest, line_item_id: int) -> HttpResponse:
    """The floor of the AGS score endpoint: the bearer token found by its hash (one ``SELECT``),
    the body read as JSON, the learner found (kept per process), one upsert of the result with
    its history row. No scope, course or membership check, no timestamp order, no course page."""
    import hashlib
    import json

    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from wagtail_lti.models import AccessToken

    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    provider_id = (
        AccessToken.objects.filter(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), expires_at__gt=timezone.now()
        )
        .values_list("provider_id", flat=True)
        .first()
    )
    if provider_id is None:
        return HttpResponse("refused", status=401)
    data = json.loads(request.body)
    user_id = _user_of(data["userId"])
    if user_id is None:
        return HttpResponse("unknown user", status=400)
    fields = {
        "score_given": data.get("scoreGiven"),
        "score_maximum": data.get("scoreMaximum"),
        "activity_progress": data.get("activityProgress", ""),
        "grading_progress": data.get("gradingProgress", ""),
        "comment": data.get("comment", ""),
        "timestamp": parse_datetime(data["timestamp"]),
    }
    _upsert_result(line_item_id, user_id, fields, source="ags")
    return HttpResponse("{}", content_type="application/json")


_outcome_secrets: dict = {}


@csrf_exempt
def floor_outcome(request: HttpRequest, line_item_id: int) -> HttpResponse:
    """The floor of Basic Outcomes ``replaceResult``: the POX body parsed, the sourcedid
    decrypted, the OAuth 1.0a signature and body hash checked with the provider's secret (kept
    per process) and the nonce recorded once (one ``INSERT``), one upsert of the result with its
    history row, the POX answer. No provider, course or enrollment check."""
    from wagtail_lti.lti import lti11
    from wagtail_lti.lti import outcomes as pox
    from wagtail_lti.models import LtiProvider
    from wagtail_lti.security.single_use import use_once
    from wagtail_lti.security.sourcedid import read_sourcedid

    body = request.body
    message = pox.parse_request(body)
    ref = read_sourcedid(message.sourcedid)
    if ref.provider_id not in _outcome_secrets:
        provider = LtiProvider.objects.get(pk=ref.provider_id)
        _outcome_secrets[ref.provider_id] = (provider.consumer_key, provider.secret)
    key, secret = _outcome_secrets[ref.provider_id]
    lti11.verify_request(
        "POST",
        request.build_absolute_uri(),
        dict(request.headers),
        body,
        get_secret=lambda consumer_key: secret if consumer_key == key else None,
        timestamp_window=300,
        use_nonce=lambda consumer_key, nonce, ts: use_once("floor", f"{key}\n{nonce}", 660),
    )
    score = float(pox.parse_score(message))
    fields = {
        "score_given": score,
        "score_maximum": 1.0,
        "activity_progress": "Completed",
        "grading_progress": "FullyGraded",
        "comment": "",
        "timestamp": None,
    }
    _upsert_result(line_item_id, ref.user_id, fields, source="lti11_outcomes")
    answer = pox.build_response(
        code_major="success",
        description=f"Score {score} recorded.",
        message_ref_identifier=message.message_identifier,
        operation=message.operation,
    )
    return HttpResponse(answer, content_type="application/xml")


urlpatterns = [
    path("bench/noop/", noop),
    path("bench/floor-score/<int:line_item_id>/", floor_score),
    path("bench/floor-outcome/<int:line_item_id>/", floor_outcome),
    path("bench/sign-id-token/", sign_id_token_only),
    path("bench/floor-id-token/", floor_id_token),
    path("bench/signed-in-id-token/", signed_in_id_token),
    path("bench/sign-lti11/<str:placement_id>/", sign_lti11_launch_only),
    path("bench/floor-lti11/<str:placement_id>/", floor_lti11),
    *site_urlpatterns,
]
