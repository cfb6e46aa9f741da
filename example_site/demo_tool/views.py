"""The demo tool's pages and LTI endpoints.

LTI 1.3 (PyLTI1p3): ``1.3/login/`` (OIDC login initiation, GET or POST), ``1.3/launch/`` (the
redirect URI the platform posts the ``id_token`` to), ``1.3/score/`` (sends a score with
Assignment and Grade Services), ``1.3/jwks/`` (the tool's public keys).

LTI 1.1: ``1.1/launch/`` (verifies the OAuth-signed launch) and ``1.1/score/`` (Basic Outcomes
``replaceResult``).

**Framing.** Every page may be shown in a frame (``xframe_options_exempt``): the platform embeds
the tool in an iframe of its course page.

**Cookies and CSRF.** The platform posts launches to the tool from its own page, so the launch
endpoints are CSRF-exempt (their signatures are the protection). The score forms are CSRF-exempt
too: they carry the launch id, a random value only the learner's page knows, which is what finds
the launch (and its platform credentials); without it nothing can be sent. This keeps the forms
working inside an iframe even when the browser does not send the tool's cookies there. The LTI 1.3
login still needs PyLTI1p3's state cookie to come back with the launch: in the demo the platform
and the tool share one host, so a ``SameSite=Lax`` cookie is sent; a tool on another site needs
HTTPS (PyLTI1p3 then sets ``SameSite=None; Secure``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import validate_host
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, LtiServiceException, OIDCException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from . import lti11, picker, registration, storage
from .forms import PlatformRegistrationForm, ScoreForm
from .http import http_session
from .lti13 import (
    FOR_USER_CLAIM,
    SUBMISSION_REVIEW_REQUEST,
    declare_reviewable,
    generate_private_key_pem,
    lti13_registrations,
    tool_conf,
    tool_jwks,
)
from .models import ToolRegistration
from .picker import PickerForm
from .summary import Summary, summarize_lti11, summarize_lti13, with_message


logger = logging.getLogger(__name__)

LTI11_LAUNCH_PREFIX = "lti11-launch-"
LAUNCH_LIFETIME = 24 * 3600  # seconds a launch can still send scores
MAX_BODY_SHOWN = 2000
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
LTI11_SELECTION_PREFIX = "lti11-selection-"
SELECTION_LIFETIME = 3600  # seconds an editor has to choose


# --- Helpers ---------------------------------------------------------------------------------


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "origin"
    return response


def _error(
    request: HttpRequest, title: str, message: str, *, status: int = 400, return_url: str = ""
) -> HttpResponse:
    return _page(
        request,
        "demo_tool/error.html",
        {
            "title": title,
            "message": message,
            "return_url": with_message(return_url, lti_errormsg=f"The demo tool: {message}"),
        },
        status=status,
    )


def _method_not_allowed(request: HttpRequest, allowed: str, what: str) -> HttpResponse:
    response = _error(request, "Wrong method", what, status=405)
    response["Allow"] = allowed
    return response


def _launch_page(
    request: HttpRequest,
    summary: Summary,
    *,
    launch_id: str,
    form: ScoreForm | None = None,
    answer: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    score_url = reverse(
        "demo_tool:lti13_score" if summary.version == "1.3" else "demo_tool:lti11_score"
    )
    if form is None:
        form = ScoreForm(initial={"launch_id": launch_id})
    if answer and answer.get("rows"):
        answer["rows"] = [
            (label, str(value)) for label, value in answer["rows"] if value not in (None, "")
        ]
    if answer and answer.get("ok"):
        back = with_message(
            summary.return_url, lti_msg=f"The demo tool sent your score: {answer['score']} %."
        )
    else:
        back = with_message(summary.return_url, lti_msg="You came back from the demo tool.")
    return _page(
        request,
        "demo_tool/launch.html",
        {
            "summary": summary,
            "launch_id": launch_id,
            "form": form,
            "score_url": score_url,
            "answer": answer,
            "back_url": back,
        },
        status=status,
    )


def _format_score(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_BODY_SHOWN else text[:MAX_BODY_SHOWN] + "…"


# --- Home and JWKS -----------------------------------------------------------------------------


def can_manage(request: HttpRequest) -> bool:
    """Who may see the tool's LTI 1.1 credentials and register platforms: anyone while the site
    runs with ``DEBUG`` (the local demo), else superusers only."""
    return settings.DEBUG or (request.user.is_authenticated and request.user.is_superuser)


@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """What the tool is, the URLs to register it with, and its registrations.

    People who may manage the tool (:func:`can_manage`) also see the LTI 1.1 consumer key and
    secret (what a platform's provider form asks for) and can register an LTI 1.3 platform by
    pasting the details the platform shows.
    """
    manage = can_manage(request)
    base = request.build_absolute_uri("/").rstrip("/")
    form = None
    registered = None
    if manage:
        if request.method == "POST":
            form = PlatformRegistrationForm(request.POST)
            if form.is_valid():
                registered = form.save(commit=False)
                registered.lti_version = ToolRegistration.Version.LTI_1P3
                registered.slug = "platform-" + uuid.uuid4().hex[:12]
                registered.private_key_pem = generate_private_key_pem()
                registered.save()
                form = None
        if form is None:
            form = PlatformRegistrationForm(initial={"issuer": base})
    elif request.method == "POST":
        return _error(
            request, "Not allowed", "Only administrators may register platforms.", status=403
        )
    urls = {
        "lti11_launch": base + reverse("demo_tool:lti11_launch"),
        "lti13_login": base + reverse("demo_tool:lti13_login"),
        "lti13_launch": base + reverse("demo_tool:lti13_launch"),
        "lti13_jwks": base + reverse("demo_tool:lti13_jwks"),
        "lti11_content_item": base + reverse("demo_tool:lti11_content_item"),
        "register": base + reverse("demo_tool:register"),
    }
    registrations = ToolRegistration.objects.filter(active=True)
    return _page(
        request,
        "demo_tool/index.html",
        {
            "urls": urls,
            "registrations": registrations,
            "manage": manage,
            "form": form,
            "registered": registered,
        },
        status=400 if form is not None and form.is_bound else 200,
    )


@require_GET
def lti13_jwks(request: HttpRequest) -> HttpResponse:
    """The tool's public keys (RFC 7517), used by platforms to check its client assertions."""
    response = JsonResponse(tool_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- LTI 1.1 -----------------------------------------------------------------------------------


def _remember_lti11(prefix: str, registration, params: dict, lifetime: int) -> str:
    """Keep a verified LTI 1.1 request (its registration and parameters) under a new id."""
    record_id = prefix + str(uuid.uuid4())
    storage.put(record_id, {"registration": registration.pk, "params": params}, lifetime)
    return record_id


def _recalled_lti11(record_id: str, prefix: str) -> dict | None:
    """What ``_remember_lti11`` kept under ``record_id`` (an id with ``prefix``), if anything."""
    record = storage.get(record_id) if record_id.startswith(prefix) else None
    return record if isinstance(record, dict) else None


def _lti11_registration(record: dict) -> ToolRegistration | None:
    """The record's LTI 1.1 registration, while it is still active."""
    return ToolRegistration.objects.filter(
        pk=record.get("registration"), lti_version=ToolRegistration.Version.LTI_1P1, active=True
    ).first()


def _lti11_headers(request: HttpRequest) -> dict[str, str]:
    headers = {"Content-Type": request.META.get("CONTENT_TYPE", "")}
    if request.META.get("HTTP_AUTHORIZATION"):
        headers["Authorization"] = request.META["HTTP_AUTHORIZATION"]
    return headers


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti11_launch(request: HttpRequest) -> HttpResponse:
    """Verify an LTI 1.1 launch and show what it contains."""
    if request.method != "POST":
        return _method_not_allowed(
            request, "POST", "An LTI 1.1 launch is a signed POST from the platform."
        )
    body = request.body.decode("utf-8", "replace")
    try:
        registration, params = lti11.verify_launch(
            request.build_absolute_uri(), body, _lti11_headers(request)
        )
    except lti11.LaunchRejected as exc:
        logger.info("LTI 1.1 launch refused: %s", exc)
        return _error(request, "The launch was refused", str(exc), status=401)
    launch_id = _remember_lti11(LTI11_LAUNCH_PREFIX, registration, params, LAUNCH_LIFETIME)
    return _launch_page(
        request, summarize_lti11(params, registration.consumer_key), launch_id=launch_id
    )


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti11_score(request: HttpRequest) -> HttpResponse:
    """Send the chosen score to the platform with Basic Outcomes ``replaceResult``."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST", "Scores are sent from the activity's page.")
    form = ScoreForm(request.POST)
    launch_id = str(request.POST.get("launch_id", ""))[:255]
    record = _recalled_lti11(launch_id, LTI11_LAUNCH_PREFIX)
    if record is None:
        return _error(
            request,
            "This launch has expired",
            "The demo tool no longer knows this launch. Open the activity again from the course.",
        )
    params = record.get("params") or {}
    summary = summarize_lti11(params)
    registration = _lti11_registration(record)
    if registration is None:
        return _error(
            request,
            "The registration is gone",
            "The demo tool's registration for this platform was removed.",
            return_url=summary.return_url,
        )
    summary = summarize_lti11(params, registration.consumer_key)
    if not form.is_valid():
        return _launch_page(request, summary, launch_id=launch_id, form=form, status=400)
    if not summary.score_service:
        answer = {
            "ok": False,
            "title": "No grade service",
            "detail": "The platform did not offer Basic Outcomes for this launch.",
        }
        return _launch_page(
            request, summary, launch_id=launch_id, form=form, answer=answer, status=400
        )
    percent = form.cleaned_data["score"]
    result = lti11.post_replace_result(
        http_session(),
        url=params["lis_outcome_service_url"],
        sourcedid=params["lis_result_sourcedid"],
        percent=percent,
        consumer_key=registration.consumer_key,
        shared_secret=registration.shared_secret,
    )
    answer = {
        "ok": result.ok,
        "score": _format_score(percent),
        "title": "The platform accepted the score"
        if result.ok
        else "The platform did not accept the score",
        "rows": [
            (
                "Sent",
                f"replaceResult, score {lti11.score_text(percent)} ({_format_score(percent)} %)",
            ),
            ("HTTP status", result.http_status),
            ("imsx_codeMajor", result.code_major),
            ("imsx_severity", result.severity),
            ("imsx_description", result.description),
        ],
        "body": _shorten(result.body),
    }
    form = ScoreForm(initial={"launch_id": launch_id, "score": percent})
    return _launch_page(request, summary, launch_id=launch_id, form=form, answer=answer)


# --- LTI 1.3 -----------------------------------------------------------------------------------


def _redirect_uri_for(target_link_uri: str) -> str | None:
    """The tool's launch URL on the host the platform knows the tool by; ``None`` if not ours."""
    parts = urlsplit(target_link_uri)
    prefix = reverse("demo_tool:index")
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or not parts.path.startswith(prefix)
    ):
        return None
    return urlunsplit((parts.scheme, parts.netloc, reverse("demo_tool:lti13_launch"), "", ""))


def _message_launch(request: HttpRequest, conf) -> DjangoMessageLaunch:
    return DjangoMessageLaunch(
        request,
        conf,
        session_service=storage.SingleUseNonceSessionService(request),
        launch_data_storage=storage.DatabaseLaunchDataStorage(),
        requests_session=http_session(),
    )


def _restored_launch(request: HttpRequest, launch_id: str) -> DjangoMessageLaunch | None:
    """The launch PyLTI1p3 cached under ``launch_id``, or None when it is unknown or expired."""
    if not launch_id.startswith("lti1p3-launch-"):
        return None
    try:
        return DjangoMessageLaunch.from_cache(
            launch_id,
            request,
            tool_conf(),
            session_service=storage.SingleUseNonceSessionService(request),
            launch_data_storage=storage.DatabaseLaunchDataStorage(),
            requests_session=http_session(),
        )
    except Exception as exc:
        logger.info("LTI 1.3 launch %s not restored: %s", launch_id, exc)
        return None


def _pylti_message(exc: Exception) -> str | None:
    """PyLTI1p3's own explanation, when the exception is one of its (it raises bare Exception too)."""
    if isinstance(exc, LtiException | OIDCException) or type(exc) is Exception:
        return str(exc) or exc.__class__.__name__
    return None


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti13_login(request: HttpRequest) -> HttpResponse:
    """OIDC login initiation (LTI Core 1.3 §5.1.1): answer with a redirect to the platform."""
    if request.method not in {"GET", "POST"}:
        return _method_not_allowed(
            request, "GET, POST", "Login initiation is a GET or POST from the platform."
        )
    params = request.POST if request.method == "POST" else request.GET
    iss = params.get("iss", "")
    client_id = params.get("client_id", "")
    rows = lti13_registrations().filter(issuer=iss)
    if client_id:
        rows = rows.filter(client_id=client_id)
    if not iss or not rows.exists():
        return _error(
            request,
            "Unknown platform",
            f"The demo tool has no LTI 1.3 registration for the issuer {iss!r}"
            + (f" and client ID {client_id!r}." if client_id else "."),
        )
    target_link_uri = params.get("target_link_uri", "")
    redirect_uri = _redirect_uri_for(target_link_uri)
    if redirect_uri is None:
        return _error(
            request,
            "Unknown target",
            f"The target link URI {target_link_uri!r} is not a page of the demo tool.",
        )
    try:
        login = DjangoOIDCLogin(
            request,
            tool_conf(),
            session_service=storage.SingleUseNonceSessionService(request),
            launch_data_storage=storage.DatabaseLaunchDataStorage(),
        )
        return login.redirect(redirect_uri)
    except Exception as exc:
        message = _pylti_message(exc)
        if message is None:
            logger.exception("LTI 1.3 login initiation failed")
            message = "The login request could not be processed."
        return _error(request, "The login was refused", message)


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti13_launch(request: HttpRequest) -> HttpResponse:
    """The redirect URI: validate the platform's ``id_token`` (PyLTI1p3) and show the launch."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST", "The platform posts the LTI 1.3 launch here.")
    if request.POST.get("error"):
        # An OIDC error response from the platform's authorization endpoint.
        detail = request.POST.get("error_description") or request.POST["error"]
        return _error(
            request, "The platform refused the launch", f"{detail} ({request.POST['error']})"
        )
    launch = _message_launch(request, tool_conf())
    try:
        claims = launch.get_launch_data()
    except Exception as exc:
        message = _pylti_message(exc)
        if message is None:
            logger.exception("LTI 1.3 launch validation failed")
            message = "The launch could not be verified."
        return _error(request, "The launch was refused", message, status=401)
    summary = summarize_lti13(claims)
    if summary.message_type == DEEP_LINKING_REQUEST:
        settings = claims.get(DEEP_LINKING_SETTINGS) or {}
        return _picker_page(
            request,
            PickerForm(
                initial={"launch_id": launch.get_launch_id()},
                accepts=picker.accepted_kinds_13(settings),
            ),
            version="1.3",
            settings=settings,
        )
    if summary.message_type == SUBMISSION_REVIEW_REQUEST:
        # Submission Review 1.0: whose submission (for_user) is reviewed, by whom (sub).
        for_user = claims.get(FOR_USER_CLAIM) or {}
        return _page(
            request,
            "demo_tool/review.html",
            {"summary": summary, "for_user": for_user if isinstance(for_user, dict) else {}},
        )
    if summary.message_type != RESOURCE_LINK_REQUEST:
        return _error(
            request,
            "Not supported",
            f"The demo tool handles resource link launches only, not {summary.message_type}.",
            return_url=summary.return_url,
        )
    return _launch_page(request, summary, launch_id=launch.get_launch_id())


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti13_score(request: HttpRequest) -> HttpResponse:
    """Send the chosen score to the platform with AGS (PyLTI1p3's ``put_grade``)."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST", "Scores are sent from the activity's page.")
    form = ScoreForm(request.POST)
    launch_id = str(request.POST.get("launch_id", ""))[:255]
    launch = _restored_launch(request, launch_id)
    if launch is None:
        return _error(
            request,
            "This launch has expired",
            "The demo tool no longer knows this launch. Open the activity again from the course.",
        )
    claims = launch.get_launch_data()
    summary = summarize_lti13(claims)
    if not form.is_valid():
        return _launch_page(request, summary, launch_id=launch_id, form=form, status=400)
    if not summary.score_service:
        answer = {
            "ok": False,
            "title": "No grade service",
            "detail": "The platform did not offer Assignment and Grade Services (with the score scope) for this launch.",
        }
        return _launch_page(
            request, summary, launch_id=launch_id, form=form, answer=answer, status=400
        )

    percent = form.cleaned_data["score"]
    ags_claim = claims.get("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint") or {}
    grade = (
        Grade()
        .set_score_given(float(percent))
        .set_score_maximum(100)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(datetime.now(UTC).isoformat(timespec="milliseconds"))
        .set_user_id(claims.get("sub"))
        .set_comment("Sent from the demo tool.")
    )
    rows: list[tuple[str, object]] = [
        (
            "Sent",
            f"scoreGiven {_format_score(percent)} of scoreMaximum 100, Completed, FullyGraded",
        ),
    ]
    try:
        ags = launch.get_ags()
        if ags_claim.get("lineitem"):
            rows.append(("Line item", ags_claim["lineitem"]))
            response = ags.put_grade(grade)
            rows.append(("Submission review", _declare_review(claims, ags_claim["lineitem"])))
        else:
            # No line item in the claim: find ours by tag among the line items, or create it.
            link_id = str(
                (claims.get("https://purl.imsglobal.org/spec/lti/claim/resource_link") or {}).get(
                    "id", ""
                )
            )
            wanted = (
                LineItem()
                .set_tag(f"demo-tool:{link_id}")
                .set_label(summary.resource_link_title or "Demo tool score")
                .set_score_maximum(100)
                .set_resource_link_id(link_id)
            )
            line_item = ags.find_or_create_lineitem(wanted)
            rows.append(("Line item (found or created by tag)", line_item.get_id()))
            response = ags.put_grade(grade, line_item)
        ok, detail, body = True, "", response.get("body")
    except LtiServiceException as exc:
        ok = False
        detail = f"HTTP {exc.response.status_code} from {exc.response.url}"
        body = exc.response.text
    except Exception as exc:
        message = _pylti_message(exc)
        if message is None:
            logger.exception("Sending an AGS score failed")
            message = f"{exc.__class__.__name__}: {exc}"
        ok, detail, body = False, message, ""
    rows.append(("Platform's answer", detail or "accepted (2xx)"))
    answer = {
        "ok": ok,
        "score": _format_score(percent),
        "title": "The platform accepted the score"
        if ok
        else "The platform did not accept the score",
        "rows": rows,
        "body": _shorten(body if isinstance(body, str) else ("" if body is None else repr(body))),
    }
    form = ScoreForm(initial={"launch_id": launch_id, "score": percent})
    return _launch_page(request, summary, launch_id=launch_id, form=form, answer=answer)


def _declare_review(claims: dict, lineitem_url: str) -> str:
    """Declare the scored line item reviewable (Submission Review 1.0); what happened, in words.
    A failure does not undo the score."""
    try:
        declared = declare_reviewable(claims, lineitem_url)
    except Exception as exc:  # noqa: BLE001 - shown on the page, the score stands
        logger.info("Declaring the line item reviewable failed: %s", exc)
        return f"not declared ({exc.__class__.__name__})"
    return "declared on the line item" if declared else "already declared"


# --- Selecting content: LTI 1.3 Deep Linking, LTI 1.1 Content-Item ----------------------------


# Where each version's picker posts the chosen items.
_PICKER_ACTIONS = {
    "1.3": "demo_tool:lti13_deep_link",
    "1.1": "demo_tool:lti11_content_item_respond",
}


def _picker_page(
    request: HttpRequest,
    form: PickerForm,
    *,
    version: str,
    settings: dict,
    status: int = 200,
) -> HttpResponse:
    return _page(
        request,
        "demo_tool/picker.html",
        {
            "form": form,
            "version": version,
            "action": reverse(_PICKER_ACTIONS[version]),
            "title": str(settings.get("title") or ""),
            "text": str(settings.get("text") or ""),
        },
        status=status,
    )


def _autosubmit(request: HttpRequest, action: str, fields: dict[str, str], count: int):
    return _page(
        request,
        "demo_tool/autosubmit.html",
        {"action": action, "fields": sorted(fields.items()), "count": count},
    )


def _selection_expired(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        "This request has expired",
        "The demo tool no longer knows this content request. Start again from the platform.",
    )


def _added_message(count: int) -> str:
    if not count:
        return "Nothing was chosen in the demo tool."
    return f"The demo tool added {count} item{'s' if count != 1 else ''}."


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti13_deep_link(request: HttpRequest) -> HttpResponse:
    """The picker's answer to a Deep Linking request: PyLTI1p3's signed LtiDeepLinkingResponse."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST", "The picker posts the chosen items here.")
    launch_id = str(request.POST.get("launch_id", ""))[:255]
    launch = _restored_launch(request, launch_id)
    if launch is None or not launch.is_deep_link_launch():
        return _selection_expired(request)
    claims = launch.get_launch_data()
    settings = claims.get(DEEP_LINKING_SETTINGS) or {}
    form = PickerForm(request.POST, accepts=picker.accepted_kinds_13(settings))
    if not form.is_valid():
        return _picker_page(
            request,
            form,
            version="1.3",
            settings=settings,
            status=400,
        )
    launch_url = request.build_absolute_uri(reverse("demo_tool:lti13_launch"))
    resources = picker.deep_link_resources(form, launch_url)
    deep_link = launch.get_deep_link()
    message = deep_link.get_message_jwt(resources)
    content = picker.deep_link_content(form, _content_base(request), _content_expiry())
    message[DEEP_LINKING_CONTENT_ITEMS] = message[DEEP_LINKING_CONTENT_ITEMS] + content
    count = len(resources) + len(content)
    message[DEEP_LINKING_MSG] = _added_message(count)
    return _autosubmit(
        request,
        settings["deep_link_return_url"],
        {"JWT": deep_link.encode_jwt(message)},
        count,
    )


DEEP_LINKING_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
#: How long the links to the demo tool's files are said to be valid (``expiresAt``).
CONTENT_LINK_LIFETIME = timedelta(hours=1)


def _content_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("demo_tool:content", args=["x"])).removesuffix("x/")


def _content_expiry() -> str:
    return (timezone.now() + CONTENT_LINK_LIFETIME).isoformat()


@never_cache
def content(request: HttpRequest, item_id: str) -> HttpResponse:
    """The demo tool's own content for pages: a page, an image, a text file."""
    found = picker.content_body(item_id)
    if found is None:
        return _error(request, "No such content", "The demo tool has no such item.", status=404)
    body, media_type = found
    return HttpResponse(body, content_type=media_type)


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti11_content_item(request: HttpRequest) -> HttpResponse:
    """A signed Content-Item selection request (LTI 1.1): verify it and show the picker."""
    if request.method != "POST":
        return _method_not_allowed(
            request, "POST", "A content-item request is a signed POST from the platform."
        )
    body = request.body.decode("utf-8", "replace")
    try:
        registration_row, params = lti11.verify_content_item_request(
            request.build_absolute_uri(), body, _lti11_headers(request)
        )
    except lti11.LaunchRejected as exc:
        logger.info("Content-Item request refused: %s", exc)
        return _error(request, "The request was refused", str(exc), status=401)
    selection_id = _remember_lti11(
        LTI11_SELECTION_PREFIX, registration_row, params, SELECTION_LIFETIME
    )
    return _picker_page(
        request,
        PickerForm(initial={"launch_id": selection_id}, accepts=picker.accepted_kinds_11(params)),
        version="1.1",
        settings=params,
    )


@never_cache
@xframe_options_exempt
@csrf_exempt
def lti11_content_item_respond(request: HttpRequest) -> HttpResponse:
    """The picker's answer to a Content-Item request: a signed ContentItemSelection form."""
    if request.method != "POST":
        return _method_not_allowed(request, "POST", "The picker posts the chosen items here.")
    selection_id = str(request.POST.get("launch_id", ""))[:255]
    record = _recalled_lti11(selection_id, LTI11_SELECTION_PREFIX)
    row = _lti11_registration(record) if record is not None else None
    if row is None:
        return _selection_expired(request)
    params = record.get("params") or {}
    form = PickerForm(request.POST, accepts=picker.accepted_kinds_11(params))
    if not form.is_valid():
        return _picker_page(
            request,
            form,
            version="1.1",
            settings=params,
            status=400,
        )
    if not storage.pop(selection_id):  # answered once only
        return _error(
            request,
            "Already answered",
            "The demo tool already answered this content request. Start again from the platform.",
        )
    launch_url = request.build_absolute_uri(reverse("demo_tool:lti11_launch"))
    items = picker.content_items(form, launch_url)
    items["@graph"] += picker.content_item_content(form, _content_base(request), _content_expiry())
    count = len(items["@graph"])
    fields = lti11.sign_content_item_selection(
        row,
        return_url=params["content_item_return_url"],
        content_items=items,
        data=params.get("data", ""),
        message=_added_message(count),
    )
    return _autosubmit(request, params["content_item_return_url"], fields, count)


# --- Dynamic Registration ------------------------------------------------------------------------


@never_cache
@xframe_options_exempt
@csrf_exempt
def register(request: HttpRequest) -> HttpResponse:
    """LTI Dynamic Registration: GET shows what will be registered, POST registers the tool.

    The platform opens this page (in a frame or a new tab) with ``openid_configuration`` and
    ``registration_token``; both travel on in the form's hidden fields. No cookie is needed.
    """
    if request.method not in {"GET", "POST"}:
        return _method_not_allowed(request, "GET, POST", "Open this page from the platform.")
    params = request.POST if request.method == "POST" else request.GET
    config_url = str(params.get("openid_configuration", ""))[:2048]
    token = str(params.get("registration_token", ""))[:2048]
    base = request.build_absolute_uri("/").rstrip("/")
    try:
        # The demo tool is part of the site: it registers with this site only (a host name the
        # site answers to, ALLOWED_HOSTS), and never makes the server fetch a URL a visitor chose.
        config_host = urlsplit(config_url).hostname or ""
        if config_host and not validate_host(config_host, settings.ALLOWED_HOSTS):
            raise registration.RegistrationFailed(
                "The demo tool registers only with the platform it is part of: start the "
                "registration from this site's admin (LTI providers → Register a tool by URL)."
            )
        config = registration.read_configuration(config_url)
        if request.method == "POST":
            registered = registration.register(config, token, base)
        else:
            registered = None
    except registration.RegistrationFailed as exc:
        return _error(request, "The registration failed", str(exc))
    context = {
        "config": config,
        "platform": registration.platform_name(config),
        "config_url": config_url,
        "token": token,
        "metadata": registration.client_metadata(base, config),
        "registered": registered,
    }
    response = _page(request, "demo_tool/register.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    # Opened in a new tab by a platform on another origin, the page must stay in the platform's
    # browsing context group, or window.opener is severed and the close message cannot be sent
    # (the site's default, Django's "same-origin", would sever it).
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
