"""The launch log: recording each launch and each service call of a tool.

Views are hooked in with two calls:

* ``@launch_log.logged(kind)`` on the view: after it answers, one row is written with the
  outcome (an error when the status is 400 or more, or when the view noted one), the HTTP status,
  and the error description (the view's note, else the ``error_description`` of a JSON answer);
* ``launch_log.note(request, provider=..., placement=..., user=..., action=..., error=...,
  debug=...)`` inside the view, whenever it learns who and what the request is about.

:func:`record` writes one row directly. Recording is one INSERT (inside a savepoint when a
transaction is open) and never breaks the request: a failure is logged and forgotten.

**What is never stored**: secrets, access tokens, client assertions, message hints, signatures,
id_tokens. ``debug`` (a value or a callable that returns one) is only evaluated, and stored, for
providers whose debug switch (``LtiProvider.debug_launches``) is on: the exact LTI 1.1 launch
parameters with the OAuth signature base string (:func:`lti11_debug`; the ``oauth_signature``
itself is left out: with the base string next to it, it would let whoever reads the log test
guesses of the secret) or the LTI 1.3 id_token's header and claims (:func:`lti13_debug`; never
the signed token). Switching a provider's debug off deletes the debug data already stored for it.

Refused requests without a signed-in person (anyone can send them) are bounded: per caller (client
IP address), kind and minute, ``LAUNCH_LOG_REFUSALS_PER_MINUTE`` rows, counted in the shared cache
(:func:`refusal_budget`); one more row says that the rest of that minute's refusals are not kept.

Rows older than ``LAUNCH_LOG_RETENTION_DAYS`` are deleted by ``manage.py lti_cleanup``
(:func:`purge_expired`); a retention of 0 turns the log off.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import transaction
from django.utils import timezone

from .conf import lti_settings


logger = logging.getLogger(__name__)

_NOTES = "_wagtail_lti_launch_log"
MAX_ERROR_LENGTH = 1000
MAX_ACTION_LENGTH = 100
#: Launch parameters never stored, even in debug data.
SECRET_PARAMETERS = frozenset({"oauth_signature", "lti_message_hint", "id_token"})
REDACTED = "(not stored)"


def enabled() -> bool:
    return int(lti_settings.LAUNCH_LOG_RETENTION_DAYS) > 0


def _truncate(value: Any, length: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _debug_value(provider, debug: Any) -> Any:
    if debug is None or provider is None or not getattr(provider, "debug_launches", False):
        return None
    try:
        value = debug() if callable(debug) else debug
        # A JSON round trip: what is stored is exactly what can be shown, and nothing else.
        return json.loads(json.dumps(value, default=str))
    except Exception:  # noqa: BLE001 - the entry is still worth writing without it
        logger.exception("Could not make the launch log's debug data")
        return {"error": "The debug data could not be recorded."}


def _tool_messages_value(tool_messages: Mapping[str, str] | None) -> dict[str, str] | None:
    kept = {
        str(name): _truncate(value, MAX_ERROR_LENGTH)
        for name, value in (tool_messages or {}).items()
        if value
    }
    return kept or None


def _organization_value(organization, course, course_id):
    """The entry's ``organization_id``: the one given, else the course's organization.

    With only a course's primary key, a subquery inside the INSERT (no extra round trip).
    """
    if organization is not None:
        return getattr(organization, "pk", organization)
    if course is not None and hasattr(course, "course_organization_id"):
        return course.course_organization_id
    if course_id is None:
        return None
    from django.db.models import Subquery
    from django.db.models.functions import Coalesce

    from .models.courses import get_course_page_models

    lookups = [
        Subquery(model._default_manager.filter(pk=course_id).values("course_organization_id")[:1])
        for model in get_course_page_models()
    ]
    if not lookups:
        return None
    return lookups[0] if len(lookups) == 1 else Coalesce(*lookups)


def record(
    kind: str,
    *,
    ok: bool,
    provider=None,
    user=None,
    placement=None,
    course=None,
    organization=None,
    action: str = "",
    error: str = "",
    status: int | None = None,
    debug: Any = None,
    is_test: bool = False,
    tool_messages: Mapping[str, str] | None = None,
):
    """Write one log row; returns it, or ``None`` when the log is off or the write failed.

    ``organization``: whose data the row holds when there is no course (a content selection's
    organization); with a course (or a placement), the course's organization. ``is_test``: an
    editor's test launch (``launch/test_launch.py``). ``tool_messages``: what the tool said
    (``lti_msg``, ``lti_errormsg``, ``lti_log``, ``lti_errorlog``), each value cut to
    ``MAX_ERROR_LENGTH``.
    """
    if not enabled():
        return None
    from .models import LaunchLogEntry

    try:
        if course is None and placement is not None:
            course_id = placement.page_id
        else:
            course_id = getattr(course, "pk", None)
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        # Inside a transaction, a savepoint keeps a failed INSERT from breaking the request's
        # transaction; outside one, the INSERT is its own transaction (no BEGIN/COMMIT needed).
        guard = (
            transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
        )
        organization_value = _organization_value(organization, course, course_id)
        with guard:
            entry = LaunchLogEntry.objects.create(
                kind=kind,
                outcome=LaunchLogEntry.Outcome.OK if ok else LaunchLogEntry.Outcome.ERROR,
                action=_truncate(action, MAX_ACTION_LENGTH),
                error="" if ok and not error else _truncate(error, MAX_ERROR_LENGTH),
                http_status=status,
                provider_id=getattr(provider, "pk", None),
                user_id=getattr(user, "pk", None),
                placement_id=getattr(placement, "pk", None),
                course_id=course_id,
                organization_id=organization_value,
                debug_data=_debug_value(provider, debug),
                is_test=bool(is_test),
                tool_messages=_tool_messages_value(tool_messages),
            )
        if hasattr(organization_value, "resolve_expression"):
            # Computed by the database: read again when asked for.
            entry.__dict__.pop("organization_id", None)
        return entry
    except Exception:  # noqa: BLE001 - the log must never break a launch or a service call
        logger.exception("Could not write a launch log entry (%s)", kind)
        return None


def note(request, **fields: Any) -> None:
    """Remember facts about ``request`` for the row :func:`logged` writes after the view.

    Names: ``provider``, ``placement``, ``course``, ``organization``, ``user``, ``action``,
    ``error``, ``debug``, ``is_test``, ``tool_messages``;
    ``skip=True`` writes no row (an intermediate step).
    """
    try:
        request.__dict__.setdefault(_NOTES, {}).update(fields)
    except Exception:  # noqa: BLE001
        logger.exception("Could not note launch log facts")


def score_action(operation: str, score_given: float | None, score_maximum: float | None) -> str:
    """The action of a row that records a score: the operation and the score the tool sent,
    e.g. "replaceResult: 0.85 (85%)" (LTI 1.1 Basic Outcomes, out of 1) or "…: 8 / 10 (80%)"
    (a score with its own maximum); "…: cleared" when the tool sent none."""
    if score_given is None:
        return f"{operation}: cleared"
    given = f"{score_given:g}"
    if score_maximum is None or score_maximum == 1:
        percent = f"{round(score_given * 100, 1):g}%"
        return f"{operation}: {given} ({percent})"
    percent = f"{round(score_given / score_maximum * 100, 1):g}%" if score_maximum else ""
    return f"{operation}: {given} / {score_maximum:g}" + (f" ({percent})" if percent else "")


def _error_from_response(response) -> str:
    status = getattr(response, "status_code", 500)
    content_type = response.get("Content-Type", "") if hasattr(response, "get") else ""
    if "json" in content_type and not getattr(response, "streaming", False):
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict):
            description = body.get("error_description") or body.get("error")
            if description:
                return f"{body.get('error', '')}: {description}".lstrip(": ")
    return f"HTTP {status}"


def _default_action(request) -> str:
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", "") or ""
    return f"{request.method} {name}".strip()


OVER_BUDGET_NOTE = "Further refused requests from this address this minute are not recorded."


def _minute() -> int:
    import time

    return int(time.time() // 60)


def refusal_budget(kind: str, caller: str) -> str:
    """Whether a refused request of ``kind`` from ``caller`` (an IP address) is recorded:
    ``"record"``, ``"last"`` (record it with :data:`OVER_BUDGET_NOTE`) or ``"skip"``.

    Counted per minute in the shared cache, so every process shares the budget. When the cache
    cannot be used, the row is recorded.
    """
    limit = int(lti_settings.LAUNCH_LOG_REFUSALS_PER_MINUTE)
    if limit <= 0:
        return "record"
    import hashlib

    from django.core.cache import caches

    minute = _minute()
    digest = hashlib.sha256(f"{kind}|{caller}".encode()).hexdigest()[:32]
    key = f"wagtail_lti:launch_log_refusals:{minute}:{digest}"
    try:
        cache = caches[lti_settings.CACHE_ALIAS]
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - the cache is down: record, as without a budget
        logger.warning("The launch log's refusal budget could not be read from the cache.")
        return "record"
    if count <= limit:
        return "record"
    return "last" if count == limit + 1 else "skip"


def _record_response(kind: str, request, response, user_from_session: bool) -> None:
    notes = request.__dict__.pop(_NOTES, {})
    if notes.get("skip"):
        return
    status = getattr(response, "status_code", None)
    error = notes.get("error", "")
    ok = not error and status is not None and status < 400
    if not ok and not error:
        error = _error_from_response(response)
    user = notes.get("user")
    if user is None and user_from_session:
        user = getattr(request, "user", None)
    if not ok and not getattr(user, "is_authenticated", False):
        budget = refusal_budget(kind, request.META.get("REMOTE_ADDR", ""))
        if budget == "skip":
            return
        if budget == "last":
            error = f"{error} ({OVER_BUDGET_NOTE})"
    record(
        kind,
        ok=ok,
        provider=notes.get("provider"),
        user=user,
        placement=notes.get("placement"),
        course=notes.get("course"),
        organization=notes.get("organization"),
        action=notes.get("action") or _default_action(request),
        error=error,
        status=status,
        debug=notes.get("debug"),
        is_test=notes.get("is_test", False),
        tool_messages=notes.get("tool_messages"),
    )


def logged(kind: str, *, user_from_session: bool = False) -> Callable:
    """Decorate a view so that each of its answers is logged as ``kind``.

    ``user_from_session``: the signed-in user is the person of the row (launches); service calls
    name the person with ``note(request, user=...)``.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                response = view(request, *args, **kwargs)
            except Exception as exc:
                note(request, error=f"Server error ({type(exc).__name__})")
                _safe_record(kind, request, None, user_from_session)
                raise
            _safe_record(kind, request, response, user_from_session)
            return response

        return wrapped

    return decorator


def _safe_record(kind: str, request, response, user_from_session: bool) -> None:
    if not enabled():
        request.__dict__.pop(_NOTES, None)
        return
    try:
        _record_response(kind, request, response, user_from_session)
    except Exception:  # noqa: BLE001
        logger.exception("Could not write a launch log entry (%s)", kind)


# --- Debug data ---------------------------------------------------------------------------------


def lti11_debug(url: str, signed_params: Mapping[str, str]) -> dict[str, Any]:
    """What an LTI 1.1 launch sent: URL, parameters and OAuth signature base string.

    The ``oauth_signature`` is not kept (see the module docstring); the secret never is.
    """
    from .lti.lti11 import signature_base_string

    params = {
        name: (REDACTED if name in SECRET_PARAMETERS else value)
        for name, value in signed_params.items()
    }
    unsigned = {k: v for k, v in signed_params.items() if k != "oauth_signature"}
    return {
        "method": "POST",
        "url": url,
        "parameters": dict(sorted(params.items())),
        "oauth_base_string": signature_base_string("POST", url, unsigned),
    }


#: The Deep Linking settings claim, whose ``data`` (a content selection's binding value, stored
#: elsewhere only hashed) is not kept.
DEEP_LINKING_SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


#: The LTI 1.1 migration claim, whose ``oauth_consumer_key_sign`` (an HMAC keyed with the LTI 1.1
#: secret, so a way to guess it offline) is not kept.
LTI1P1_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lti1p1"


def lti13_debug(claims: Mapping[str, Any], *, kid: str = "") -> dict[str, Any]:
    """What an LTI 1.3 launch sent: the id_token's header and claims (never the token; a Deep
    Linking request's ``data`` and the ``lti1p1`` claim's signature left out)."""
    kept = dict(claims)
    dl_settings = kept.get(DEEP_LINKING_SETTINGS_CLAIM)
    if isinstance(dl_settings, Mapping) and "data" in dl_settings:
        kept[DEEP_LINKING_SETTINGS_CLAIM] = {**dl_settings, "data": REDACTED}
    migration = kept.get(LTI1P1_CLAIM)
    if isinstance(migration, Mapping) and "oauth_consumer_key_sign" in migration:
        kept[LTI1P1_CLAIM] = {**migration, "oauth_consumer_key_sign": REDACTED}
    return {"header": {"alg": "RS256", "kid": kid, "typ": "JWT"}, "claims": kept}


# --- Upkeep -------------------------------------------------------------------------------------


def purge_expired() -> int:
    """Delete rows older than ``LAUNCH_LOG_RETENTION_DAYS`` (all rows when it is 0)."""
    from .models import LaunchLogEntry

    days = int(lti_settings.LAUNCH_LOG_RETENTION_DAYS)
    entries = LaunchLogEntry.objects.all()
    if days > 0:
        entries = entries.filter(created_at__lt=timezone.now() - timedelta(days=days))
    deleted, _counts = entries.delete()
    return deleted


def forget_debug_data(sender, instance, **kwargs) -> None:
    """``post_save`` of a provider: with its debug switch off, drop the debug data kept for it."""
    if getattr(instance, "debug_launches", True):
        return
    from .models import LaunchLogEntry

    try:
        with transaction.atomic():
            LaunchLogEntry.objects.filter(provider_id=instance.pk, debug_data__isnull=False).update(
                debug_data=None
            )
    except Exception:  # noqa: BLE001
        logger.exception("Could not drop the launch log's debug data of provider %s", instance.pk)
