"""Editors select content from a tool: LTI 1.3 Deep Linking 2.0 and LTI 1.1 Content-Item.

The Django side shared by both protocols (the protocol itself is in ``wagtail_lti.lti.deep_linking``
and ``wagtail_lti.lti.content_item``; the views in ``wagtail_lti.content_selection.views`` and
``wagtail_lti.admin.content_selection``):

* :func:`check_can_select` — may this editor ask this provider for content on behalf of this
  organization (the organization is managed by the editor and may use the provider, the editor may
  add resource links, the provider is set up for it);
* :func:`start` — records a :class:`~wagtail_lti.models.ContentSelection`: a random ``data`` value
  (only its hash is stored) bound to the editor, to a secret in the editor's session, to the
  provider and to the organization; single-use, expiring after ``CONTENT_SELECTION_TTL``;
* :func:`selection_for_answer` — the selection a tool's answer belongs to, refused unless it is
  this editor's, in this session, from this provider, unused and unexpired;
* :func:`create_links` — adds one LTI Resource Link per returned item (never replacing any), owned
  by the chosen organization, in one transaction that also marks the selection used.

Every refusal is a :class:`SelectionRefused` with a sentence for the editor; nothing is created.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import launch_log, scoping
from ..conf import lti_settings
from ..launch.autosubmit import autosubmit, form_value
from ..lti import content_item, deep_linking, lti11
from ..lti.context import LaunchContext
from ..lti.custom_params import parse_custom_parameters
from ..lti.deep_linking import ResourceLinkItem, custom_parameters_text
from ..lti.errors import CustomParameterError
from ..models import ContentSelection, LtiProvider, LtiResourceLink, Organization, ToolContent


logger = logging.getLogger(__name__)


#: Key, in the editor's session, of the secret selections are bound to.
SESSION_KEY = "wagtail_lti_content_selection"


class SelectionRefused(Exception):
    """A selection that may not start, or an answer that is refused. ``str(exc)`` is for the
    editor; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- Who may select what ----------------------------------------------------------------------


def selection_url(provider: LtiProvider) -> str:
    """Where the request goes: the content selection URL; for LTI 1.3, else the launch URL."""
    if provider.is_lti13:
        return provider.content_selection_url or provider.launch_url
    return provider.content_selection_url


def setup_problem(provider: LtiProvider) -> str | None:
    """Why ``provider`` cannot be asked for content (a sentence), or ``None`` when it can."""
    if not provider.is_enabled:
        return _("“%(provider)s” has not been enabled yet: review and enable it first.") % {
            "provider": provider
        }
    if provider.is_lti13:
        if not provider.login_url:
            return _("“%(provider)s” has no OIDC login initiation URL.") % {"provider": provider}
        if not selection_url(provider):
            return _(
                "“%(provider)s” has neither a content selection URL nor a target link URL."
            ) % {"provider": provider}
        if not (provider.jwks_url or provider.public_key_pem.strip()):
            return _(
                "“%(provider)s” has no public key (JWKS URL or PEM), so its answer could not be "
                "verified."
            ) % {"provider": provider}
        return None
    if not provider.content_selection_url:
        return _(
            "“%(provider)s” has no content selection URL: enter the tool's Content-Item URL on "
            "the provider first."
        ) % {"provider": provider}
    if not (provider.consumer_key and provider.has_secret):
        return _("“%(provider)s” has no LTI key or secret.") % {"provider": provider}
    return None


def may_add_links(user) -> bool:
    from ..permissions import resource_link_policy

    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and resource_link_policy.user_has_permission(user, "add")
    )


def check_can_select(user, provider: LtiProvider, organization: Organization) -> None:
    """Raise :class:`SelectionRefused` unless ``user`` may add links from ``provider`` to
    ``organization`` now."""
    if not may_add_links(user):
        raise SelectionRefused(_("You may not add LTI resource links."), status=403)
    if not scoping.user_manages(user, organization):
        raise SelectionRefused(
            _("You do not manage %(organization)s, so you cannot add links to it.")
            % {"organization": organization},
            status=403,
        )
    if not scoping.is_usable_by(provider, organization):
        raise SelectionRefused(
            _("“%(provider)s” may not be used by %(organization)s.")
            % {"provider": provider, "organization": organization},
            status=403,
        )
    problem = setup_problem(provider)
    if problem:
        raise SelectionRefused(problem)


# --- Starting a selection ---------------------------------------------------------------------


def _session_secret(request: HttpRequest, *, create: bool) -> str | None:
    session = getattr(request, "session", None)
    if session is None:
        return None
    secret = session.get(SESSION_KEY)
    if not secret and create:
        secret = secrets.token_urlsafe(32)
        session[SESSION_KEY] = secret
    return secret or None


def start(
    request: HttpRequest,
    provider: LtiProvider,
    organization: Organization,
    *,
    place: str = "resource_links",
) -> tuple[ContentSelection, str]:
    """Record a selection for ``request.user`` (checked here again); returns it and its ``data``.

    ``place``: where the editor came from (``lti.content_items.Place``), which decides what the
    tool is asked for and may return."""
    check_can_select(request.user, provider, organization)
    secret = _session_secret(request, create=True)
    if secret is None:  # pragma: no cover - the admin always has sessions
        raise SelectionRefused(_("Your browser session is needed to select content."))
    data = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # Old rows of this editor go here, so the table stays small without a scheduled job.
        ContentSelection.objects.filter(user=request.user, expires_at__lt=now).delete()
        selection = ContentSelection.objects.create(
            data_hash=_hash(data),
            user=request.user,
            session_hash=_hash(secret),
            provider=provider,
            organization=organization,
            lti_version=provider.lti_version,
            deployment_id=provider.deployment_id if provider.is_lti13 else "",
            place=place,
            expires_at=now + timedelta(seconds=lti_settings.CONTENT_SELECTION_TTL),
        )
    return selection, data


def editor_context(
    request: HttpRequest, provider: LtiProvider, *, target_url: str
) -> LaunchContext:
    """The launch values of an editor selecting content: no course, no resource link; the
    editor's roles are ``Instructor`` and ``ContentDeveloper``; name and email as the privacy
    rule allows (``launch.privacy.launch_user``); the provider's custom parameters."""
    from ..launch.context import platform_info, request_locale
    from ..launch.privacy import launch_user

    try:
        custom = parse_custom_parameters(provider.custom_parameters)
    except CustomParameterError:
        raise SelectionRefused(
            _("The custom parameters of “%(provider)s” are not valid; correct them first.")
            % {"provider": provider}
        ) from None
    return LaunchContext(
        user=launch_user(provider, request.user),
        roles=("Instructor", "ContentDeveloper"),
        context_id="",
        context_title="",
        context_label="",
        resource_link_id="",
        resource_link_title="",
        resource_link_description="",
        target_url=target_url,
        platform=platform_info(request),
        custom=custom,
        document_target="window",
        locale=request_locale(),
    )


# --- The tool's answer ------------------------------------------------------------------------


def find_selection(data: str) -> ContentSelection | None:
    """The selection whose ``data`` value is ``data`` (any state), or ``None``."""
    if not isinstance(data, str) or not data or len(data) > 255:
        return None
    return (
        ContentSelection.objects.select_related("provider", "organization")
        .filter(data_hash=_hash(data))
        .first()
    )


def check_answer_binding(
    request: HttpRequest, selection: ContentSelection | None, provider: LtiProvider
) -> ContentSelection:
    """The selection an answer of ``provider`` belongs to, if it is bound to this request.

    Refused: no such selection; one of another provider or another LTI version; already used;
    expired; started by another editor, or in another browser session.
    """
    if selection is None:
        raise SelectionRefused(
            _(
                "The tool's answer does not match any content selection started here (its data "
                "value is unknown). Start again from the admin."
            )
        )
    if selection.provider_id != provider.pk or selection.lti_version != provider.lti_version:
        raise SelectionRefused(
            _("The tool's answer belongs to a content selection started with another tool.")
        )
    if selection.used_at is not None:
        raise SelectionRefused(
            _(
                "This content selection was already completed; each can be completed once. "
                "Start again to add more."
            )
        )
    if selection.expires_at <= timezone.now():
        raise SelectionRefused(_("This content selection has expired. Start again."))
    user = request.user
    if not getattr(user, "is_authenticated", False) or selection.user_id != user.pk:
        raise SelectionRefused(
            _("This content selection was started by another user than the one signed in."),
            status=403,
        )
    secret = _session_secret(request, create=False)
    if secret is None or not hmac.compare_digest(_hash(secret), selection.session_hash):
        raise SelectionRefused(
            _(
                "This content selection was started in another browser session. Start again in "
                "this window."
            ),
            status=403,
        )
    return selection


def link_fields(
    item: ResourceLinkItem, provider: LtiProvider, *, default_url: str, number: int
) -> dict:
    """The fields of the resource link made from ``item``, checked like the admin form's."""
    from ..forms import validate_http_url

    what = f"“{item.name}”" if item.name else _("item %(number)s") % {"number": number}
    url = item.url or default_url
    if not url:
        raise SelectionRefused(
            _("%(item)s has no URL, and the provider has no URL to use instead.") % {"item": what}
        )
    try:
        validate_http_url(url)
    except ValidationError as exc:
        raise SelectionRefused(
            _("The URL of %(item)s is not usable: %(reason)s")
            % {"item": what, "reason": " ".join(exc.messages)}
        ) from None
    custom_text = custom_parameters_text(item.custom)
    try:
        parse_custom_parameters(custom_text)
    except CustomParameterError as exc:
        raise SelectionRefused(
            _(
                "%(item)s has custom parameters this platform cannot store (names must be "
                "lower-case letters, digits and single underscores): %(reason)s"
            )
            % {"item": what, "reason": exc}
        ) from None
    fields = {
        "name": item.name,
        "description": item.text,
        "provider": provider,
        "url": url,
        "custom_parameters": custom_text,
        "open_in": LtiResourceLink.OpenIn.WINDOW
        if item.open_in == "window"
        else LtiResourceLink.OpenIn.EMBED,
    }
    if item.score_maximum is not None:
        fields["requires_score"] = True
        fields["score_maximum"] = item.score_maximum
        # The line item each placement of the link gets (``courses.placements``); an empty
        # label: the activity's title there.
        fields["line_item_label"] = item.line_item_label
        fields["line_item_resource_id"] = item.line_item_resource_id
        fields["line_item_tag"] = item.line_item_tag
        fields["line_item_grades_released"] = item.line_item_grades_released
    for name in PRESENTATION_AND_DATES:
        value = getattr(item, name)
        if value not in (None, ""):
            fields[name] = value
    return fields


#: The item's fields copied as they are onto the resource link (Deep Linking 2.0 §3.4.1
#: ``available``, ``submission``, ``window``, ``iframe``; Content-Item's ``placementAdvice``).
PRESENTATION_AND_DATES = (
    "available_start",
    "available_end",
    "submission_start",
    "submission_end",
    "window_target_name",
    "window_width",
    "window_height",
    "window_features",
    "iframe_width",
    "iframe_height",
)


def create_links(
    request: HttpRequest,
    selection: ContentSelection,
    items: list,
    *,
    default_url: str,
    tool_message: str = "",
    tool_error_message: str = "",
    use_nonce=None,
) -> list[LtiResourceLink]:
    """Add one resource link per LTI resource link item, owned by the selection's organization;
    for a selection from a page (rich text, the "Tool content" block) also one
    :class:`~wagtail_lti.models.ToolContent` per item of any type
    (``content_selection/tool_content.py``); mark the selection used.

    Re-checks that the editor may still add links from the provider to the organization. Every
    item is checked (and every file fetched) before anything is written; ``use_nonce()`` (the
    answer's replay check, returning False on a replay) runs last, inside the transaction, so a
    refused answer records nothing. Existing links are never changed.
    """
    from wagtail.log_actions import log

    from . import tool_content

    provider = selection.provider
    check_can_select(request.user, provider, selection.organization)
    in_page = selection.place != "resource_links"
    prepared: list[tuple[str, object]] = []
    stored_files: list = []
    try:
        for number, item in enumerate(items, start=1):
            if isinstance(item, ResourceLinkItem):
                fields = link_fields(item, provider, default_url=default_url, number=number)
                prepared.append(("link", fields))
            elif not in_page:  # pragma: no cover - read_response refuses them
                raise SelectionRefused(_("Only LTI resource links can be added here."))
            else:
                content = tool_content.prepare(
                    item,
                    provider=provider,
                    organization=selection.organization,
                    number=number,
                    user=request.user,
                )
                stored_files.extend(f for f in (content.image, content.document) if f)
                prepared.append(("content", content))
    except tool_content.ContentRefused as exc:
        _discard(stored_files)
        raise SelectionRefused(str(exc)) from None
    except SelectionRefused:
        _discard(stored_files)
        raise
    links: list[LtiResourceLink] = []
    contents = []
    try:
        with transaction.atomic():
            if use_nonce is not None and not use_nonce():
                raise SelectionRefused(
                    _(
                        "The tool's answer was already received once (its nonce was used). "
                        "Start again."
                    )
                )
            now = timezone.now()
            marked = ContentSelection.objects.filter(
                pk=selection.pk, used_at__isnull=True, expires_at__gt=now
            ).update(used_at=now)
            if marked != 1:
                raise SelectionRefused(
                    _(
                        "This content selection was already completed; each can be completed "
                        "once. Start again to add more."
                    )
                )
            for what, prepared_item in prepared:
                if what == "content":
                    prepared_item.save()
                    contents.append(prepared_item)
                    continue
                link = LtiResourceLink(organization=selection.organization, **prepared_item)
                try:
                    link.full_clean()
                except ValidationError as exc:
                    raise SelectionRefused(
                        _("“%(item)s” cannot be stored: %(reason)s")
                        % {"item": link.name, "reason": " ".join(exc.messages)}
                    ) from None
                link.save()
                revision = link.save_revision(user=request.user, log_action=False, clean=False)
                log(link, "wagtail.create", user=request.user, revision=revision)
                links.append(link)
                if in_page:
                    contents.append(
                        ToolContent.objects.create(
                            kind=ToolContent.Kind.RESOURCE_LINK,
                            provider=provider,
                            organization=selection.organization,
                            title=link.name,
                            text=link.description,
                            resource_link=link,
                            created_by=request.user,
                        )
                    )
            selection.used_at = now
            selection.created_link_ids = [link.pk for link in links]
            selection.created_content_ids = [content.pk for content in contents]
            selection.tool_message = tool_message
            selection.tool_error_message = tool_error_message
            selection.save(
                update_fields=[
                    "created_link_ids",
                    "created_content_ids",
                    "tool_message",
                    "tool_error_message",
                ]
            )
    except BaseException:
        _discard(stored_files)
        raise
    return links


def _discard(stored_files) -> None:
    """Delete the documents and images fetched for an answer that was refused."""
    for stored in stored_files:
        try:
            stored.file.delete(save=False)
            stored.delete()
        except Exception:  # pragma: no cover - best effort
            logger.exception("Could not delete a file fetched for a refused answer.")


def purge_expired() -> int:
    """Delete expired selections (used or not); returns how many. Run from ``lti_cleanup``."""
    deleted, _count = ContentSelection.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


DEEP_LINKING_REQUEST = deep_linking.REQUEST_MESSAGE_TYPE


LOG_KIND = "content_selection"


def _request_values(request: HttpRequest, selection: ContentSelection, return_view: str):
    """What both requests start from: the provider, the URL the request goes to, the editor's
    launch values and the absolute URL of the answer's return view."""
    provider = selection.provider
    url = selection_url(provider)
    ctx = editor_context(request, provider, target_url=url)
    return provider, url, ctx, request.build_absolute_uri(reverse(return_view))


def _log_request(
    request: HttpRequest, selection: ContentSelection, *, ok: bool, action: str, **values
) -> None:
    """The launch log's row of a request sent (or not) to the tool (kind ``content_selection``)."""
    launch_log.record(
        LOG_KIND,
        ok=ok,
        provider=selection.provider,
        user=request.user,
        organization=selection.organization_id,
        action=f"{action} (selection {selection.pk})",
        **values,
    )


def _opening(provider: LtiProvider) -> dict[str, str]:
    """The words of the page that sends the editor to the tool."""
    return {
        "message": _("Opening %(tool)s…") % {"tool": provider.name},
        "button": _("Continue to the tool"),
    }


def start_deep_linking(
    request: HttpRequest, selection: ContentSelection, data: str, *, title: str, text: str = ""
) -> HttpResponse:
    """Send the editor to an LTI 1.3 tool with an ``LtiDeepLinkingRequest`` (OIDC login first,
    started by ``launch.lti13.start_message``)."""
    from ..launch.lti13 import start_message

    provider, _url, ctx, return_url = _request_values(
        request, selection, "wagtail_lti:lti13_deep_linking_return"
    )
    from .tool_content import place_of

    settings = deep_linking.deep_linking_settings(
        return_url=return_url, data=data, title=title, text=text, place=place_of(selection.place)
    )
    started = start_message(
        request,
        provider,
        ctx,
        message_type=DEEP_LINKING_REQUEST,
        keep={
            "content_selection_id": selection.pk,
            "extra_claims": deep_linking.settings_claim(settings),
        },
        deployment_id=selection.deployment_id,
        title=title,
        framable=False,  # an admin page: the site's default (DENY)
        **_opening(provider),
    )
    _log_request(
        request,
        selection,
        ok=True,
        action="LtiDeepLinkingRequest: LTI 1.3 login initiation",
        status=200,
        # As for launches, no debug data: the login initiation carries only the message hint;
        # the id_token's claims are in the authorization endpoint's entry.
    )
    return started.response


def start_content_item(
    request: HttpRequest, selection: ContentSelection, data: str, *, title: str, text: str = ""
) -> HttpResponse:
    """Send the editor to an LTI 1.1 tool with a signed ``ContentItemSelectionRequest``."""
    provider, url, ctx, return_url = _request_values(
        request, selection, "wagtail_lti:lti11_content_item_return"
    )
    from .tool_content import place_of

    params = content_item.build_request_params(
        ctx,
        return_url=return_url,
        data=data,
        title=title,
        text=text,
        place=place_of(selection.place),
    )
    params = {name: form_value(value) for name, value in params.items()}
    try:
        secret = provider.secret
    except Exception:  # the secret no longer decrypts (ENCRYPTION_KEY changed)
        logger.error("The secret of LTI provider %s cannot be decrypted.", provider.pk)
        refusal = _(
            "The secret of “%(provider)s” cannot be read; enter it again on the provider."
        ) % {"provider": provider}
        _log_request(
            request,
            selection,
            ok=False,
            action="ContentItemSelectionRequest not sent",
            error=refusal,
        )
        raise SelectionRefused(refusal) from None
    signed = lti11.sign_launch(url, params, provider.consumer_key, secret)
    _log_request(
        request,
        selection,
        ok=True,
        action="ContentItemSelectionRequest form signed",
        status=200,
        # The data value is left out of the parameters and of the base string (so that base
        # string is not the one signed); the signature and the secret never are there.
        debug=lambda: launch_log.lti11_debug(url, {**signed, "data": launch_log.REDACTED}),
    )
    return autosubmit(request, action=url, fields=signed, title=title, **_opening(provider))
