"""Selecting content from a tool: sending the editor to the tool, and the tool's answer.

Starting (called by the admin view ``wagtail_lti.admin.content_selection``, after its checks):

* LTI 1.3 — :func:`start_deep_linking`: a :class:`~wagtail_lti.models.PendingLaunch` with message
  type ``LtiDeepLinkingRequest`` and the ``deep_linking_settings`` claim, then the usual OIDC login
  initiation (``wagtail_lti.launch.lti13``): the tool authenticates at
  ``wagtail_lti:lti13_authorize``, which posts the id_token to the tool's registered redirect URI,
  never to the return URL;
* LTI 1.1 — :func:`start_content_item`: a signed ``ContentItemSelectionRequest`` form POST.

The answers (public, CSRF-exempt, POST):

* ``wagtail_lti:lti13_deep_linking_return`` (``1.3/deep-linking/return/``) takes the form field
  ``JWT``: an ``LtiDeepLinkingResponse`` checked fully (signature by the tool's key, ``iss`` = its
  client ID, ``aud`` = our issuer, ``exp``/``iat``, nonce once, message type, version,
  ``deployment_id``, ``data`` bound to the editor's session, every item's type accepted);
* ``wagtail_lti:lti11_content_item_return`` (``1.1/content-item/return/``) takes a
  ``ContentItemSelection`` signed with OAuth 1.0a by the provider's key and secret (checked by
  ``wagtail_lti.security.lti11_requests``: timestamp, nonce once, provider enabled), ``data``
  bound to the editor's session, only LTI links.

Both then add the resource links and send the editor (303) to the result page in the admin.

**Launch log.** Each request to the tool and each answer from it is a row of kind
``content_selection``: the request when the editor is sent to the tool (for LTI 1.3 the login
initiation; the ``LtiDeepLinkingRequest`` id_token itself is logged by the authorization endpoint,
kind ``id_token``), the answer with what it added or why it was refused. Never stored: the
``data`` value, the message hint, the OAuth signature, the tool's JWT; debug data (providers with
the debug switch on) holds the parameters or the answer's claims without them.

**Cookies.** The tool's answer is a cross-site form POST: browsers do not send a ``SameSite=Lax``
session cookie with it. Such an answer is re-posted once from our own page (a same-site POST, which
carries the cookie), as the authorization endpoint does; nothing is checked or consumed before.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import jwt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from .. import launch_log
from ..conf import lti_settings
from ..launch.autosubmit import autosubmit, protect
from ..lti import content_item, deep_linking
from ..lti.client_assertion import ToolJwtError, unverified_header
from ..lti.deep_linking import DATA_CLAIM
from ..models import ContentSelection, LtiProvider
from ..security.lti11_requests import SignedRequestRefused, verify_signed_request
from ..security.request_body import BodyRefused, read_body
from ..security.single_use import use_once
from ..security.tool_keys import verify_tool_jwt
from ..services.urls import platform_issuer
from . import service as selection_service
from .service import LOG_KIND, SelectionRefused


logger = logging.getLogger(__name__)

#: Marks an answer we re-posted to ourselves to get the session cookie.
REPOST_FIELD = "wagtail_lti_repost"
DL_NONCE_NAMESPACE = "lti13_dl_nonce"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _refused(request, message: str, *, status: int = 400, tool_message: str = "") -> HttpResponse:
    launch_log.note(request, error=message)
    list_url = ""
    if getattr(request.user, "is_authenticated", False):
        from ..models import LtiResourceLink

        list_url = reverse(LtiResourceLink.snippet_viewset.get_url_name("list"))
    response = render(
        request,
        "wagtail_lti/content_selection/refused.html",
        {"message": message, "tool_message": tool_message, "list_url": list_url},
        status=status,
    )
    return protect(response)


def result_url(selection: ContentSelection) -> str:
    if selection.place != "resource_links":
        return reverse("wagtail_lti_tool_content_done", args=[selection.pk])
    return reverse("wagtail_lti_select_content_result", args=[selection.pk])


def _place(selection: ContentSelection | None):
    """What the selection's place takes (``None``, resource links only, for the admin's "Add from
    a tool" and for an answer matching no selection, which is refused later)."""
    from .tool_content import place_of

    if selection is None or selection.place == "resource_links":
        return None
    return place_of(selection.place)


# --- Starting -----------------------------------------------------------------------------------


# --- The answers --------------------------------------------------------------------------------


def _redacted(params) -> dict:
    """Form parameters for the log's debug data: one value per name, secrets and data left out."""
    return {
        name: (launch_log.REDACTED if name in NOT_LOGGED else value)
        for name, value in sorted(params.items())
        if name != REPOST_FIELD
    }


#: Parameters never kept in the log's debug data (the selection's ``data`` is stored only hashed).
NOT_LOGGED = launch_log.SECRET_PARAMETERS | {"data"}


def _deep_linking_answer_debug(token: str) -> dict:
    """The answer's JWT header and claims (as sent; ``data`` left out), never the JWT itself."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    if DATA_CLAIM in claims:
        claims[DATA_CLAIM] = launch_log.REDACTED
    return {"header": header, "claims": claims}


def _repost_or_refuse(request: HttpRequest) -> HttpResponse:
    """An answer without a signed-in user: re-post it once from our own page, then give up."""
    if request.POST.get(REPOST_FIELD) != "1":
        launch_log.note(request, action=f"{_answer_name(request)} re-posted: no session cookie")
        fields = [
            (name, value)
            for name, values in request.POST.lists()
            if name != REPOST_FIELD
            for value in values
        ]
        fields.append((REPOST_FIELD, "1"))
        return autosubmit(
            request,
            action=request.path,
            fields=fields,
            title=_("Adding the selected content"),
            message=_("Checking that you are signed in…"),
            button=_("Continue"),
        )
    return _refused(
        request,
        _(
            "You are not signed in to the admin in this browser (or your browser did not send "
            "its session cookie back with the tool's answer), so nothing was added. Sign in, "
            "then start again from the LTI resource links."
        ),
        status=403,
    )


def _nonce_ttl(claims: dict) -> int:
    exp = claims.get("exp")
    remaining = int(exp) - int(time.time()) if isinstance(exp, (int, float)) else 0
    return max(remaining, 0) + lti_settings.CLIENT_ASSERTION_LEEWAY + 60


def _answer_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if getattr(match, "url_name", "") == "lti11_content_item_return":
        return "ContentItemSelection"
    return "LtiDeepLinkingResponse"


def _not_posted(request: HttpRequest) -> HttpResponse:
    """405 for a tool's answer that was not POSTed."""
    response = _refused(request, _("The tool's answer must be POSTed."), status=405)
    response["Allow"] = "POST"
    return response


def _body_refused(request: HttpRequest) -> HttpResponse | None:
    """The refusal page for an answer whose body is refused (``security.request_body``)."""
    try:
        read_body(request)
    except BodyRefused as exc:
        if exc.too_large:
            return _refused(request, _("The tool's answer is too large."), status=413)
        return _refused(request, _("The tool's answer has an invalid Content-Length."))
    return None


def _log_added(request: HttpRequest, selection: ContentSelection, links: list) -> None:
    contents = len(selection.created_content_ids or [])
    launch_log.note(
        request,
        action=f"{_answer_name(request)}: {len(links)} resource link(s) added"
        + (f", {contents} item(s) of content for a page" if contents else "")
        + f" (selection {selection.pk})",
    )


@csrf_exempt
@launch_log.logged(LOG_KIND, user_from_session=True)
def deep_linking_return(request: HttpRequest) -> HttpResponse:
    """``wagtail_lti:lti13_deep_linking_return``: an ``LtiDeepLinkingResponse`` from a tool."""
    launch_log.note(request, action="LtiDeepLinkingResponse")
    if request.method != "POST":
        return _not_posted(request)
    refused = _body_refused(request)
    if refused is not None:
        return refused
    token = request.POST.get("JWT", "")
    if not token:
        return _refused(request, _("The tool's answer has no JWT."))
    if not request.user.is_authenticated:
        return _repost_or_refuse(request)
    issuer = platform_issuer(request)
    tool_message = ""
    try:
        unverified_header(token)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise ToolJwtError("The JWT's claims cannot be decoded.") from None
        client_id = unverified.get("iss")
        provider = None
        if isinstance(client_id, str) and client_id and len(client_id) <= 255:
            provider = LtiProvider.objects.filter(
                client_id=client_id, lti_version=LtiProvider.Version.LTI_1P3
            ).first()
        if provider is None:
            raise SelectionRefused(
                _("The tool's answer comes from a client ID (iss) no LTI 1.3 provider here has.")
            )
        launch_log.note(request, provider=provider, debug=lambda: _deep_linking_answer_debug(token))
        if not deep_linking.unverified_audience_matches(unverified, issuer):
            raise SelectionRefused(
                _("The tool's answer is addressed to another platform (its aud is not %(issuer)s).")
                % {"issuer": issuer}
            )
        claims = verify_tool_jwt(provider, token, audience=issuer)
        pending = selection_service.find_selection(
            claims.get(DATA_CLAIM) if isinstance(claims.get(DATA_CLAIM), str) else ""
        )
        answer = deep_linking.read_response(
            claims, deployment_id=provider.deployment_id, place=_place(pending)
        )
        tool_message = answer.errormsg
        if answer.log or answer.errorlog:
            logger.info(
                "Deep linking answer of provider %s: log=%r errorlog=%r",
                provider.pk,
                answer.log,
                answer.errorlog,
            )
        selection = selection_service.check_answer_binding(
            request, selection_service.find_selection(answer.data), provider
        )
        launch_log.note(request, organization=selection.organization_id)
        if answer.deployment_id != selection.deployment_id:
            raise SelectionRefused(_("The tool's answer names another deployment."))
        added = selection_service.create_links(
            request,
            selection,
            answer.items,
            default_url=provider.launch_url,
            tool_message=answer.msg,
            tool_error_message=answer.errormsg,
            use_nonce=lambda: use_once(
                DL_NONCE_NAMESPACE, f"{provider.pk}\n{answer.nonce}", _nonce_ttl(claims)
            ),
        )
        _log_added(request, selection, added)
    except ToolJwtError as exc:
        detail = getattr(exc, "detail", "")
        logger.info("Deep linking answer refused: %s %s", exc, detail)
        message = _("The tool's answer could not be verified, so nothing was added: %(reason)s") % {
            "reason": _jwt_reason(exc)
        }
        response = _refused(request, message)
        if detail:  # what the outbound request met: for the launch log, not the page
            launch_log.note(request, error=f"{message} {detail}")
        return response
    except (deep_linking.DeepLinkingError, SelectionRefused) as exc:
        return _nothing_added(request, "Deep linking", exc, tool_message)
    return _see_other(selection)


def _nothing_added(request: HttpRequest, answer: str, exc: Exception, tool_message) -> HttpResponse:
    """A tool's answer refused for what it holds (or its selection): nothing was added."""
    logger.info("%s answer refused: %s", answer, exc)
    return _refused(
        request,
        _("Nothing was added: %(reason)s") % {"reason": exc},
        status=getattr(exc, "status", 400),
        tool_message=tool_message,
    )


def _see_other(selection: ContentSelection) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = result_url(selection)
    return protect(response)


def _jwt_reason(exc: ToolJwtError) -> str:
    """The verification error in words for an editor (the core speaks of "assertions")."""
    return str(exc).replace("The assertion's", "The JWT's").replace("The assertion", "The JWT")


@csrf_exempt
@launch_log.logged(LOG_KIND, user_from_session=True)
def content_item_return(request: HttpRequest) -> HttpResponse:
    """``wagtail_lti:lti11_content_item_return``: a ``ContentItemSelection`` from an LTI 1.1 tool."""
    launch_log.note(request, action="ContentItemSelection")
    if request.method != "POST":
        return _not_posted(request)
    content_type = (request.content_type or "").lower()
    if content_type != FORM_CONTENT_TYPE:
        return _refused(request, _("The tool's answer must be a form (%s).") % FORM_CONTENT_TYPE)
    refused = _body_refused(request)
    if refused is not None:
        return refused
    if not request.user.is_authenticated:
        return _repost_or_refuse(request)
    params = request.POST
    if REPOST_FIELD in params:
        # Re-posted by our own page: the fields the tool signed, without our marker.
        body = urlencode(
            [
                (name, value)
                for name, values in params.lists()
                if name != REPOST_FIELD
                for value in values
            ]
        ).encode()
    else:
        body = read_body(request)  # already read, within the limit
    tool_message = ""  # shown only once the answer's signature is verified
    try:
        selection = selection_service.find_selection(params.get("data", ""))
        if selection is None or selection.lti_version != LtiProvider.Version.LTI_1P1:
            raise SelectionRefused(
                _(
                    "The tool's answer does not match any content selection started here (its "
                    "data value is unknown). Start again from the admin."
                )
            )
        provider = selection.provider
        launch_log.note(
            request,
            provider=provider,
            debug=lambda: {
                "method": "POST",
                "url": request.build_absolute_uri(),
                "parameters": _redacted(params),
            },
        )
        verify_signed_request(request, body, provider)
        tool_message = (params.get("lti_errormsg") or "").strip()[:2000]
        answer = content_item.read_selection(params, place=_place(selection))
        if answer.log or answer.errorlog:
            logger.info(
                "Content-Item answer of provider %s: log=%r errorlog=%r",
                provider.pk,
                answer.log,
                answer.errorlog,
            )
        selection = selection_service.check_answer_binding(request, selection, provider)
        launch_log.note(request, organization=selection.organization_id)
        added = selection_service.create_links(
            request,
            selection,
            answer.items,
            default_url=selection_service.selection_url(provider),
            tool_message=answer.msg,
            tool_error_message=answer.errormsg,
        )
        _log_added(request, selection, added)
    except SignedRequestRefused as exc:
        logger.info("Content-Item answer refused: %s", exc.reason)
        if exc.authenticated:  # signed by a provider that is not enabled
            message = _("Nothing was added: %(reason)s") % {"reason": exc.message}
        else:
            message = _(
                "The tool's answer could not be verified, so nothing was added: %(reason)s"
            ) % {"reason": exc.message}
        return _refused(request, message, tool_message=tool_message)
    except (content_item.ContentItemError, SelectionRefused) as exc:
        return _nothing_added(request, "Content-Item", exc, tool_message)
    return _see_other(selection)
