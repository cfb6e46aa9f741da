"""The provider check: a key, secret or registration mismatch told to an editor before learners
meet it, as far as the protocol lets a platform find out.

:func:`check_provider` runs every check of a provider's LTI version and returns a
:class:`CheckReport` (a list of :class:`CheckItem`: what was checked, ``ok`` / ``warning`` /
``failed``, and what was found). Every request goes through ``security/outbound.fetch`` (public
addresses only unless ``OUTBOUND_ALLOW_LOCAL``, no redirect followed, bounded size and time; a
check's failure is not remembered, so running it again reaches the tool again). The run is one
row of the launch log (``is_test``, the report's failures as its error, what the tool said as its
``tool_messages``).

LTI 1.3:

* the tool's keys: its JWKS URL fetched, each key read as ``security/tool_keys.py`` reads it
  (RSA, RS256, ``use`` sig, at least the minimum size) and each needing a ``kid``; or its PEM key;
* its login initiation URL: a login initiation (this platform's issuer, the provider's client id
  and deployment id, a hint that launches nothing) sent by GET; the tool should answer with a
  redirect to this platform's authorization endpoint (``wagtail_lti:lti13_authorize``) for the
  same client id; another answer is reported with its status (and ``Location`` or text);
* its redirect URIs (or target link URI) set, and the launch URL among the redirect URIs.

LTI 1.1: the key and secret set, and a signed launch (``lti/lti11``, the person the editor with
the ``Instructor`` role, a test context as in ``launch/test_launch.catalogue_context``) POSTed to
the tool's launch URL (the provider's, else its first resource link's). A tool that refuses a
launch sends the browser to ``launch_presentation_return_url`` with ``lti_errormsg`` (LTI 1.1
§4.4): that redirect is read and the tool's words reported; a 401 or 403 is reported as a
refusal (a key or secret mismatch, most likely).
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from .. import launch_log
from ..conf import lti_settings
from ..models import LtiProvider
from ..security import outbound


OK = "ok"
WARNING = "warning"
FAILED = "failed"
#: The most of a tool's answer kept for the report.
MAX_ANSWER = 300
#: The most bytes read of a tool's answer.
MAX_BYTES = 256 * 1024
#: Every HTTP status is an answer the check reports (redirects are read, never followed).
ANY_STATUS = tuple(range(100, 600))


@dataclass
class CheckItem:
    name: str
    status: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass
class CheckReport:
    provider: LtiProvider
    items: list[CheckItem] = field(default_factory=list)
    #: What the tool said (``lti_errormsg`` … on the return URL of the LTI 1.1 check launch).
    tool_messages: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, status: str, detail: str) -> None:
        self.items.append(CheckItem(name, status, detail))

    @property
    def failed(self) -> list[CheckItem]:
        return [item for item in self.items if item.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed


_TAG = re.compile(r"<[^>]*>")
_HIDDEN_HTML = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _answer_text(response: outbound.OutboundResponse) -> str:
    """The start of a tool's answer as text: an HTML page's visible words, not its markup."""
    text = response.content[: MAX_ANSWER * 20].decode("utf-8", "replace")
    if "html" in (response.headers.get("Content-Type") or "") or text.lstrip().startswith("<"):
        text = html.unescape(_TAG.sub(" ", _HIDDEN_HTML.sub(" ", text)))
    text = " ".join(text.split())
    return text[:MAX_ANSWER] + ("…" if len(text) > MAX_ANSWER else "")


def _fetch(url: str, **kwargs) -> outbound.OutboundResponse:
    return outbound.fetch(
        url,
        max_bytes=MAX_BYTES,
        deadline=lti_settings.JWKS_FETCH_TIMEOUT,
        ok_statuses=ANY_STATUS,
        cache_failures=False,
        answer_redirects=True,
        **kwargs,
    )


# --- LTI 1.3 ----------------------------------------------------------------------------------


def _check_keys(report: CheckReport, provider: LtiProvider) -> None:
    from ..security.tool_keys import usable_signing_key

    name = _("The tool's public keys")
    if provider.jwks_url:
        try:
            response = _fetch(
                provider.jwks_url, accept="application/json, application/jwk-set+json"
            )
        except outbound.OutboundError as exc:
            report.add(name, FAILED, _("The JWKS URL could not be read: %s") % exc.reason)
            return
        if response.status != 200:
            report.add(
                name,
                FAILED,
                _("The JWKS URL answered HTTP %(status)s.") % {"status": response.status},
            )
            return
        try:
            keyset = response.json()
        except Exception:  # noqa: BLE001 - any answer that is not JSON
            keyset = None
        keys = keyset.get("keys") if isinstance(keyset, dict) else None
        if not isinstance(keys, list):
            report.add(name, FAILED, _('The JWKS URL\'s answer has no "keys" array.'))
            return
        usable = [k for k in keys if isinstance(k, dict) and usable_signing_key(k) is not None]
        without_kid = [k for k in usable if not k.get("kid")]
        if not usable:
            report.add(
                name,
                FAILED,
                _(
                    "The keyset holds %(count)s key(s), none usable: this platform needs RSA "
                    "keys for RS256 signatures (use “sig”, at least 2048 bits)."
                )
                % {"count": len(keys)},
            )
        elif without_kid:
            report.add(
                name,
                FAILED,
                _(
                    "%(count)s usable key(s) have no “kid”: the tool's signed requests cannot "
                    "name their key."
                )
                % {"count": len(without_kid)},
            )
        else:
            kids = ", ".join(sorted(str(k["kid"]) for k in usable))
            report.add(
                name,
                OK,
                _("%(count)s usable RS256 key(s): %(kids)s.")
                % {"count": len(usable), "kids": kids},
            )
        return
    if provider.public_key_pem:
        from ..lti.keys import load_public_key

        try:
            load_public_key(provider.public_key_pem)
        except Exception:  # noqa: BLE001 - reported, whatever is wrong with it
            report.add(name, FAILED, _("The pasted public key cannot be read."))
        else:
            report.add(name, OK, _("A public key is pasted (PEM); it can be read."))
        return
    report.add(name, FAILED, _("Neither a JWKS URL nor a public key is set."))


def _check_login(report: CheckReport, request: HttpRequest, provider: LtiProvider) -> None:
    from ..lti import oidc
    from ..services.urls import platform_issuer

    name = _("The tool's login initiation URL")
    if not provider.login_url:
        report.add(name, FAILED, _("No login initiation URL is set."))
        return
    params = oidc.login_initiation_params(
        issuer=platform_issuer(request),
        login_hint="wagtail-lti-provider-check",
        target_link_uri=provider.launch_url or provider.login_url,
        # Launches nothing: no pending launch is stored for it.
        lti_message_hint=secrets.token_urlsafe(16),
        client_id=provider.client_id,
        deployment_id=provider.deployment_id,
    )
    separator = "&" if "?" in provider.login_url else "?"
    try:
        response = _fetch(f"{provider.login_url}{separator}{urlencode(params)}", accept="text/html")
    except outbound.OutboundError as exc:
        report.add(name, FAILED, _("The login URL could not be reached: %s") % exc.reason)
        return
    location = response.headers.get("Location") or response.headers.get("location") or ""
    authorize = request.build_absolute_uri(reverse("wagtail_lti:lti13_authorize"))
    if 300 <= response.status < 400 and location:
        query = parse_qs(urlsplit(location).query)
        if location.split("?")[0] == authorize and query.get("client_id") == [provider.client_id]:
            report.add(
                name,
                OK,
                _(
                    "The tool answered the login initiation with a redirect to this platform's "
                    "authorization endpoint for client ID %(client_id)s."
                )
                % {"client_id": provider.client_id},
            )
            return
        report.add(
            name,
            WARNING,
            _(
                "The tool answered HTTP %(status)s, a redirect to %(location)s, not to this "
                "platform's authorization endpoint (%(authorize)s): check the platform details "
                "the tool was given."
            )
            % {
                "status": response.status,
                "location": location[:MAX_ANSWER],
                "authorize": authorize,
            },
        )
        return
    if response.status >= 400:
        report.add(
            name,
            FAILED,
            _(
                "The tool refused the login initiation (HTTP %(status)s): it may not know this "
                "platform's issuer, client ID %(client_id)s or deployment ID. It said: %(answer)s"
            )
            % {
                "status": response.status,
                "client_id": provider.client_id,
                "answer": _answer_text(response) or "—",
            },
        )
        return
    report.add(
        name,
        WARNING,
        _(
            "The tool answered HTTP %(status)s (a page, no redirect): it is reachable; whether it "
            "accepts the registration shows in a test launch."
        )
        % {"status": response.status},
    )


def _check_redirect_uris(report: CheckReport, provider: LtiProvider) -> None:
    name = _("Redirect URIs")
    uris = provider.get_redirect_uris()
    if uris:
        report.add(name, OK, ", ".join(uris))
    elif provider.launch_url:
        report.add(
            name,
            OK,
            _("None listed: the launch URL %(url)s is the only one accepted.")
            % {"url": provider.launch_url},
        )
    else:
        report.add(name, FAILED, _("No redirect URI and no launch URL are set."))


# --- LTI 1.1 ----------------------------------------------------------------------------------


def _launch_url_11(provider: LtiProvider) -> str:
    if provider.launch_url:
        return provider.launch_url
    link = provider.resource_links.exclude(url="").order_by("pk").first()
    return link.url if link is not None else ""


def _check_signed_launch(report: CheckReport, request: HttpRequest, provider: LtiProvider) -> None:
    from ..lti.lti11 import build_launch_params, sign_launch
    from .autosubmit import form_value
    from .test_launch import INSTRUCTOR, TestTarget, catalogue_context

    if not (provider.consumer_key and provider.has_secret):
        report.add(_("Key and secret"), FAILED, _("The LTI key or the secret is missing."))
        return
    report.add(_("Key and secret"), OK, _("Key %s and a secret are set.") % provider.consumer_key)
    name = _("A signed launch")
    url = _launch_url_11(provider)
    if not url:
        report.add(name, FAILED, _("No launch URL: set one on the provider or a resource link."))
        return
    test = TestTarget(provider=provider)
    ctx = catalogue_context(request, test, request.user, INSTRUCTOR)
    params = {k: form_value(v) for k, v in build_launch_params(ctx).items()}
    try:
        signed = sign_launch(url, params, provider.consumer_key, provider.secret)
    except Exception:  # noqa: BLE001 - e.g. a secret that no longer decrypts
        report.add(name, FAILED, _("The launch cannot be signed: the secret cannot be read."))
        return
    try:
        response = _fetch(
            url,
            method="POST",
            accept="text/html",
            body=urlencode(signed),
            content_type="application/x-www-form-urlencoded",
        )
    except outbound.OutboundError as exc:
        report.add(
            name,
            FAILED,
            _("The launch URL %(url)s could not be reached: %(reason)s")
            % {
                "url": url,
                "reason": exc.reason,
            },
        )
        return
    location = response.headers.get("Location") or response.headers.get("location") or ""
    if 300 <= response.status < 400 and location:
        query = parse_qs(urlsplit(location).query)
        said = {
            name_: " ".join(query[name_][0].split())[:MAX_ANSWER]
            for name_ in ("lti_msg", "lti_errormsg", "lti_log", "lti_errorlog")
            if query.get(name_)
        }
        report.tool_messages.update(said)
        if said.get("lti_errormsg") or said.get("lti_errorlog"):
            report.add(
                name,
                FAILED,
                _("The tool refused the launch and said: %(message)s")
                % {"message": said.get("lti_errormsg") or said.get("lti_errorlog")},
            )
            return
        report.add(
            name,
            OK,
            _("The tool accepted the launch and sent the browser on to %(location)s.")
            % {"location": location[:MAX_ANSWER]},
        )
        return
    if response.status in (401, 403):
        report.add(
            name,
            FAILED,
            _(
                "The tool refused the signed launch (HTTP %(status)s): the key or the secret "
                "probably does not match the tool's. It said: %(answer)s"
            )
            % {"status": response.status, "answer": _answer_text(response) or "—"},
        )
        return
    if response.status >= 400:
        report.add(
            name,
            FAILED,
            _("The tool answered HTTP %(status)s. It said: %(answer)s")
            % {"status": response.status, "answer": _answer_text(response) or "—"},
        )
        return
    report.add(
        name,
        OK,
        _("The tool accepted the signed launch (HTTP %(status)s).") % {"status": response.status},
    )


# --- The check --------------------------------------------------------------------------------


def check_provider(request: HttpRequest, provider: LtiProvider) -> CheckReport:
    """Check ``provider`` for ``request.user`` (who may edit it: the caller checks) and record
    the run in the launch log."""
    report = CheckReport(provider)
    if not provider.is_enabled:
        report.add(
            _("Enabled"), WARNING, _("The provider is not enabled: learners cannot launch it.")
        )
    if provider.is_lti13:
        _check_keys(report, provider)
        _check_login(report, request, provider)
        _check_redirect_uris(report, provider)
    else:
        _check_signed_launch(report, request, provider)
    launch_log.record(
        "launch",
        ok=report.ok,
        provider=provider,
        user=request.user,
        organization=provider.organization_id,
        action="Provider check",
        error="; ".join(f"{item.name}: {item.detail}" for item in report.failed),
        is_test=True,
        tool_messages=report.tool_messages,
    )
    return report
