"""LTI 1.3 launches: the login initiation and the OIDC authorization endpoint.

The flow (LTI Core 1.3 §4.1; checklist §2)::

    course page ─▶ launch view ─▶ start_login()  ── auto-POST iss, login_hint, lti_message_hint… ─▶ tool login URL
    tool ── authentication request (GET or POST) ─▶ wagtail_lti:lti13_authorize ─▶ authorize()
    authorize() ── auto-POST id_token + state ─▶ the tool's registered redirect_uri

:func:`start_message` (the one way any LTI 1.3 message starts: :func:`start_login` for a
learner's launch, ``content_selection.service.start_deep_linking`` for an editor's Deep Linking
request) stores a :class:`~wagtail_lti.models.PendingLaunch`: a random, single-use, short-lived
message hint bound to the user, the provider and the placement (or selection), holding everything
the id_token needs (the launch context as built when the learner clicked), so the authorization
step trusts nothing the tool sends except what it checks. Only the SHA-256 of the hint is stored.

:func:`authorize` validates the request (``wagtail_lti.lti.oidc``), re-checks that the user may
still launch, signs the id_token at the last moment, then consumes the hint (one statement: once
only) and records the launch, and answers with an auto-submitting form. Errors go back the OIDC
way: posted to the redirect URI when it is registered, otherwise an error page (HTTP 400).

**Cookies.** The authorization request reaches us inside the activity's iframe, after a redirect
by the tool, i.e. a cross-site navigation: browsers do not send a ``SameSite=Lax`` session cookie
with it, and those that block third-party cookies send none when the course page is itself
embedded elsewhere. When a valid launch arrives without a signed-in user we do not answer
``login_required`` at once (a dead end for the learner): we first re-post the request to ourselves
from our own page (a same-site request, which carries the Lax cookie, as Moodle does); if the
session still does not arrive, the learner gets a button that opens the activity in a new window.
Sites that embed activities over HTTPS should also set ``SESSION_COOKIE_SAMESITE = "None"`` and
``SESSION_COOKIE_SECURE = True`` (see the production documentation).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import launch_log
from ..conf import lti_settings
from ..lti import oidc
from ..lti.context import LaunchContext
from ..lti.lti13 import (
    AGS_LAUNCH_SCOPES,
    build_id_token_claims,
    context_from_data,
    context_to_data,
    sign_id_token,
)
from ..models import LtiProvider, PendingLaunch, Placement
from ..security.request_body import BodyRefused, read_body
from ..services.urls import platform_issuer
from .autosubmit import autosubmit, protect
from .targets import LaunchTarget, launch_target, lti13_provider


if TYPE_CHECKING:
    from ..models import LtiResourceLink

logger = logging.getLogger(__name__)

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
#: Marks an authorization request we re-posted to ourselves (``"1"``: same-site re-post).
REPOST_PARAM = "wagtail_lti_repost"


# --- Helpers shared by both steps ---------------------------------------------------------------


def hash_hint(hint: str) -> str:
    """What is stored for a message hint (its SHA-256), never the hint itself."""
    return hashlib.sha256(hint.encode()).hexdigest()


def _error_page(
    request: HttpRequest, message: str, *, code: str = "", status: int = 400
) -> HttpResponse:
    response = render(
        request,
        "wagtail_lti/lti13/error.html",
        {"message": message, "code": code},
        status=status,
    )
    return protect(response, framable=True)


def purge_expired_pending_launches() -> int:
    """Delete started launches that expired; returns how many (for a cleanup command)."""
    deleted, _count = PendingLaunch.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


# --- Step 1: login initiation -------------------------------------------------------------------


def target_link_uri_for(link: LtiResourceLink) -> str:
    """The link's URL, or its provider's launch URL when the link has none."""
    return link.url or link.provider.launch_url


class StartedMessage(NamedTuple):
    """A started LTI 1.3 message: its pending launch row and the login initiation form."""

    pending: PendingLaunch
    response: HttpResponse


def start_message(
    request: HttpRequest,
    provider: LtiProvider,
    ctx: LaunchContext,
    *,
    message_type: str,
    keep: dict,
    deployment_id: str,
    title: str,
    message: str,
    button: str,
    framable: bool,
) -> StartedMessage:
    """Start an LTI 1.3 message of ``message_type`` from ``request.user`` to ``provider``.

    The one way every LTI 1.3 message starts (a learner's resource link launch, an editor's Deep
    Linking request, and any later one): the caller has checked that the user may send it.
    Stores a :class:`PendingLaunch` (only the SHA-256 of a random message hint; single use; expires
    after ``MESSAGE_HINT_TTL``) holding ``keep`` (what the authorization step needs besides the
    context: ``placement_id``, ``content_selection_id``, ``extra_claims``…), the login hint
    (``ctx.user.id``), the target link URI (``ctx.target_url``), ``deployment_id`` and the launch
    context; then answers with the auto-submitting form that posts the OIDC login initiation
    parameters to the provider's login URL (``framable``: shown in an activity's iframe).
    """
    target_link_uri = ctx.target_url
    hint = secrets.token_urlsafe(32)
    now = timezone.now()
    # Each started message replaces nothing: a learner may have several tabs. Old rows of this
    # user are dropped here so the table stays small without a scheduled job.
    with transaction.atomic():  # one commit for both statements
        PendingLaunch.objects.filter(user=request.user, expires_at__lt=now).delete()
        pending = PendingLaunch.objects.create(
            hint=hash_hint(hint),
            user=request.user,
            provider=provider,
            message_type=message_type,
            data={
                **keep,
                "login_hint": ctx.user.id,
                "target_link_uri": target_link_uri,
                "deployment_id": deployment_id,
                "context": context_to_data(ctx),
            },
            expires_at=now + timedelta(seconds=lti_settings.MESSAGE_HINT_TTL),
        )
    params = oidc.login_initiation_params(
        issuer=platform_issuer(request),
        login_hint=ctx.user.id,
        target_link_uri=target_link_uri,
        lti_message_hint=hint,
        client_id=provider.client_id,
        deployment_id=deployment_id,
        # Embedded activities: the course page answers platform storage messages
        # (wagtail_lti/static/wagtail_lti/platform_storage.js).
        lti_storage_target="_parent" if ctx.document_target == "iframe" else "",
    )
    response = autosubmit(
        request,
        action=provider.login_url,
        fields=params,
        title=title,
        message=message,
        button=button,
        framable=framable,
    )
    return StartedMessage(pending, response)


def start_login(
    request: HttpRequest, placement: Placement, ctx: LaunchContext, *, keep: dict | None = None
) -> HttpResponse:
    """Start an LTI 1.3 launch of ``placement`` for ``request.user`` (already checked by the caller).

    An ``LtiResourceLinkRequest`` started by :func:`start_message` (submitted by a script, or by a
    button without JavaScript), after checking that the provider can be reached. ``keep``: more
    for the authorization step (an editor's test launch: ``{"test": ...}``, ``launch.test_launch``).
    """
    link = placement.resource_link
    provider = link.provider if link is not None else None
    if provider is None or not provider.is_lti13:
        return _error_page(request, _("This activity is not an LTI 1.3 activity."), status=400)
    if not provider.login_url:
        return _error_page(
            request,
            _(
                "This activity cannot be opened: its LTI provider has no login URL set up. "
                "Please tell the course administrator."
            ),
            status=400,
        )
    target_link_uri = target_link_uri_for(link)
    if not target_link_uri:
        return _error_page(
            request,
            _(
                "This activity cannot be opened: neither the resource link nor its provider has a "
                "URL. Please tell the course administrator."
            ),
            status=400,
        )
    started = start_message(
        request,
        provider,
        dataclasses.replace(ctx, target_url=target_link_uri),
        message_type=RESOURCE_LINK_REQUEST,
        keep={**(keep or {}), "placement_id": placement.pk},
        deployment_id=provider.deployment_id,
        title=ctx.resource_link_title or provider.name,
        message=_("Opening the activity…"),
        button=_("Continue to the activity"),
        framable=True,
    )
    return started.response


# --- Step 2: the authorization endpoint ---------------------------------------------------------


def _pending_message(pending: PendingLaunch | None) -> oidc.PendingMessage | None:
    if pending is None:
        return None
    return oidc.PendingMessage(
        user_key=str(pending.user_id),
        login_hint=str(pending.data.get("login_hint", "")),
        client_id=pending.provider.client_id,
        expires_at=int(pending.expires_at.timestamp()),
        used=pending.used_at is not None,
    )


def _cookie_fallback(request: HttpRequest, params, pending: PendingLaunch) -> HttpResponse | None:
    """A way through when a valid launch arrives without the platform's session cookie.

    First answer: re-post the same request to ourselves from our own page (same-site, so a
    ``SameSite=Lax`` session cookie is sent). Second: offer to open the activity in a new
    window. ``None`` when the request was already re-posted from a new window: then nobody is
    signed in, and the tool is told ``login_required``.
    """
    stage = params.get(REPOST_PARAM, "")
    if not stage:
        fields = {key: value for key, value in params.items() if key != REPOST_PARAM}
        fields[REPOST_PARAM] = "1"
        return autosubmit(
            request,
            action=request.path,
            fields=fields,
            title=_("Opening the activity"),
            message=_("Checking that you are signed in…"),
            button=_("Continue to the activity"),
            framable=True,
        )
    if stage != "1":
        return None
    launch_url = ""
    placement = Placement.objects.filter(pk=pending.data.get("placement_id")).first()
    if placement is not None:
        try:
            launch_url = reverse("wagtail_lti:launch", args=[placement.lti_id])
        except NoReverseMatch:
            launch_url = ""
    fields = {key: value for key, value in params.items() if key != REPOST_PARAM}
    fields[REPOST_PARAM] = "window"
    response = render(
        request,
        "wagtail_lti/lti13/new_window.html",
        {"launch_url": launch_url, "action": request.path, "fields": list(fields.items())},
    )
    return protect(response, framable=True)


def _ags_claim(
    request: HttpRequest, target: LaunchTarget | None, provider: LtiProvider
) -> dict | None:
    """The AGS endpoint claim when the placement's link requires a score and AGS is allowed."""
    link = target.link if target is not None else None
    if link is None or not link.requires_score or not provider.allow_ags:
        return None
    from ..services import urls as ags_urls

    line_item = target.line_item
    return {
        "scope": list(AGS_LAUNCH_SCOPES),
        "lineitems": ags_urls.ags_lineitems_url(request, target.placement.page, provider),
        "lineitem": ags_urls.ags_lineitem_url(request, line_item)
        if line_item is not None
        else None,
    }


def _target_for_launch(pending: PendingLaunch, provider: LtiProvider) -> LaunchTarget | None:
    placement_id = pending.data.get("placement_id")
    if placement_id is None:
        return None
    target = launch_target(pk=placement_id)
    if target is None or target.link is None or target.link.provider_id != provider.pk:
        raise oidc.AccessDenied("The activity this launch was started for is no longer available.")
    return target


def _issue(
    request: HttpRequest,
    auth: oidc.AuthorizationRequest,
    provider: LtiProvider,
    pending: PendingLaunch,
) -> HttpResponse:
    launch_log.note(request, provider=provider)
    target = _target_for_launch(pending, provider)
    placement = target.placement if target is not None else None
    launch_log.note(
        request, placement=placement, course=target.course if target is not None else None
    )
    # An editor's test launch: its own rule instead of a learner's enrollment (launch.test_launch).
    test = pending.data.get("test")
    if test:
        launch_log.note(request, is_test=True)
    from .rules import LaunchRefused

    try:
        if test:
            from .test_launch import recheck

            recheck(request.user, test, target)
        elif target is not None:
            from .rules import check_can_launch

            check_can_launch(request.user, target, request)
    except LaunchRefused as refused:
        raise oidc.AccessDenied(str(refused)) from refused
    from ..services.submission_review import ReviewRefused
    from ..services.submission_review import recheck as recheck_review

    try:
        # A submission review (services/submission_review.py): the rule is asked again.
        review = recheck_review(request.user, pending.data)
    except ReviewRefused as refused:
        raise oidc.AccessDenied(refused.message) from refused
    if review is not None:
        launch_log.note(request, placement=review.result.line_item.placement)
    ctx = context_from_data(pending.data["context"])
    try:
        ags = _ags_claim(request, target, provider)
        from ..services.nrps import nrps_claim

        extra = {**(pending.data.get("extra_claims") or {})}
        extra.update(nrps_claim(request, placement, provider))
        from ..services.notices import pns_claim

        extra.update(pns_claim(request, provider))
        from ..security.platform_keys import get_signing_key

        kid, private_key = get_signing_key()
        claims = build_id_token_claims(
            ctx,
            issuer=platform_issuer(request),
            client_id=provider.client_id,
            deployment_id=pending.data.get("deployment_id") or provider.deployment_id,
            nonce=auth.nonce,
            message_type=pending.message_type,
            ags=ags,
            extra=extra or None,
            # A tool moved from LTI 1.1: the signed lti1p1 claim (lti/migration.py).
            lti1p1=provider.lti11_credentials(),
            now=int(time.time()),
            ttl=lti_settings.LAUNCH_TOKEN_TTL,
            iat_backdate=lti_settings.IAT_BACKDATE,
        )
        id_token = sign_id_token(claims, kid, private_key)
        # Signed: now the hint is consumed (one statement, so once only, however many requests
        # race for it), then the launch recorded. A failure before this leaves the hint usable;
        # a failure after it spends the hint and records nothing on the learner's activity. No
        # transaction around the two: a BEGIN and a COMMIT are two more round trips per launch.
        used_at = timezone.now()
        consumed = PendingLaunch.objects.filter(
            pk=pending.pk, used_at__isnull=True, expires_at__gt=used_at
        ).update(used_at=used_at)
        if consumed != 1:
            raise oidc.InvalidMessageHint(
                "The lti_message_hint has already been used; each launch can be used once."
            )
        learner = request.user
        if test:
            from .test_launch import progress_of

            learner = progress_of(test, request.user)
        if target is not None and learner is not None:
            from ..services.results import record_launch

            record_launch(placement, learner)
        launch_log.note(
            request,
            action=(
                "id_token issued"
                if pending.message_type == RESOURCE_LINK_REQUEST
                else f"id_token issued ({pending.message_type})"
            ),
            debug=lambda: launch_log.lti13_debug(claims, kid=kid),
        )
    except oidc.OidcError:
        raise
    except Exception as exc:
        logger.exception("LTI 1.3 launch for provider %s could not be signed", provider.pk)
        raise oidc.OidcError(
            "The platform could not complete the launch; please try again.", error="server_error"
        ) from exc
    fields = {"id_token": id_token}
    if auth.state:
        fields["state"] = auth.state
    return autosubmit(
        request,
        action=auth.redirect_uri,
        fields=fields,
        title=ctx.resource_link_title or provider.name,
        message=_("Opening the activity…"),
        button=_("Continue to the activity"),
        framable=True,
    )


def _error_response(
    request: HttpRequest, error: oidc.OidcError, params, registered: list[str] | None
) -> HttpResponse:
    redirect_uri = oidc.redirect_target(params, registered) if error.redirectable else None
    if redirect_uri is None:
        return _error_page(
            request,
            _(
                "The tool sent a sign-in request this site cannot accept. %(reason)s "
                "Please tell the course's administrator: the tool's registration may need fixing."
            )
            % {"reason": error.description},
            code=error.error,
            status=400,
        )
    return autosubmit(
        request,
        action=redirect_uri,
        fields=oidc.error_response_params(error, state=params.get("state", "")),
        title=_("Opening the activity"),
        message=_("Returning to the activity…"),
        button=_("Continue"),
        framable=True,
    )


def authorize(request: HttpRequest) -> HttpResponse:
    """The OIDC authorization endpoint (``wagtail_lti:lti13_authorize``), GET or POST."""
    if request.method not in ("GET", "POST"):
        response = _error_page(request, _("Use GET or POST."), code="invalid_request", status=405)
        response["Allow"] = "GET, POST"
        return response
    try:
        read_body(request)  # request.POST below is parsed from it
    except BodyRefused as exc:
        if exc.too_large:
            return _error_page(
                request, _("The request is too large."), code="invalid_request", status=413
            )
        return _error_page(request, str(exc), code="invalid_request", status=400)
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    provider = None
    if client_id and len(client_id) <= 255:
        provider = lti13_provider(client_id)  # kept (launch/targets.py)
    registered = provider.get_redirect_uris() if provider is not None else None
    try:
        auth = oidc.validate_authorization_request(params, registered_redirect_uris=registered)
        pending = PendingLaunch.objects.filter(hint=hash_hint(auth.lti_message_hint)).first()
        if pending is not None and provider is not None and pending.provider_id == provider.pk:
            pending.provider = provider  # already loaded (another tool's is read when needed)
        message = _pending_message(pending)
        oidc.check_message_hint(auth, message, now=int(time.time()))
        user = request.user
        if not user.is_authenticated:
            fallback = _cookie_fallback(request, params, pending)
            if fallback is not None:
                launch_log.note(request, provider=provider, action="re-posted: no session cookie")
                return fallback
        oidc.check_session_user(
            auth, message, session_user_key=str(user.pk) if user.is_authenticated else None
        )
        return _issue(request, auth, provider, pending)
    except oidc.OidcError as error:
        if error.error == "server_error" or not error.redirectable:
            logger.info("LTI 1.3 authorization request refused: %s", error)
        launch_log.note(request, provider=provider, error=f"{error.error}: {error.description}")
        return _error_response(request, error, params, registered)
