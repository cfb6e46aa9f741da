"""Platform Notification Service 1.0: who may use it, tools' handlers, and delivering notices.

The rules, in one place:

* **Who**: every enabled LTI 1.3 provider (:func:`may_use`). Its launches carry the service
  claim (:func:`pns_claim`, added where the other claims are gathered in ``launch/lti13.py``);
  the token endpoint grants it the ``noticehandlers`` scope (``access_tokens.provider_scopes``).
* **Handlers**: one URL per provider and notice type (:func:`set_handler`), checked by the
  outbound rules (``security/outbound.check_url``: https and a public address, unless
  ``OUTBOUND_ALLOW_LOCAL``), listed by :func:`handlers_of`. The service endpoint is
  ``services/views/notices.py``.
* **Queueing** (:func:`queue_notice`): one :class:`~wagtail_lti.models.NoticeDelivery` row per
  handler, written in the caller's transaction (with the change the notice tells of); the task
  that sends it is enqueued on commit (``django-tasks``, backend ``NOTICE_TASK_BACKEND``), so
  nothing is sent for a change rolled back and the editor's request never waits for a tool.
  :func:`send_hello_world` (the provider's "Send a test notice" button) and
  :func:`queue_context_copy` (a course page copied: ``signals.py``) use it.
* **Delivery** (:func:`attempt_delivery`, run by the worker as :data:`deliver_notice`): a notice
  JWT signed with the platform's current key (``security/platform_keys.get_signing_key``), POSTed
  through ``security/outbound.fetch`` (no private addresses, no redirects, at most
  ``NOTICE_MAX_RESPONSE_BYTES`` read, ``NOTICE_DELIVERY_TIMEOUT`` seconds in all). A failure
  (error, timeout, non-2xx answer) is retried after :func:`retry_delay` until
  ``NOTICE_DELIVERY_ATTEMPTS`` attempts, then given up. Every attempt is written to the launch
  log (kind ``notice``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone


try:  # Django 6: the tasks framework is built in; before, its backport django-tasks.
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

from .. import launch_log
from ..conf import lti_settings
from ..lti import notices as protocol
from ..models import LaunchLogEntry, LtiProvider, NoticeDelivery, NoticeHandler, Placement
from ..security import outbound
from .urls import absolute_url, platform_issuer


logger = logging.getLogger(__name__)

RESPONSE_KEPT = 2000
NOTICE = LaunchLogEntry.Kind.NOTICE


# --- Who may use the service, and where it is ----------------------------------------------------


def may_use(provider: LtiProvider) -> bool:
    """Whether ``provider`` may register handlers and receive notices: enabled, LTI 1.3."""
    return bool(provider.is_lti13 and provider.is_enabled)


def service_url(request: HttpRequest, provider: LtiProvider) -> str:
    """The ``platform_notification_service_url`` of ``provider``'s deployment."""
    return absolute_url(
        request, reverse("wagtail_lti:pns_handlers", kwargs={"provider_id": provider.pk})
    )


def pns_claim(request: HttpRequest, provider: LtiProvider) -> dict[str, Any]:
    """The launch's PNS claim (as ``{claim name: value}``) when the provider may use PNS."""
    if not may_use(provider):
        return {}
    return protocol.service_claim(service_url(request, provider))


# --- Handlers -------------------------------------------------------------------------------------


def handlers_of(provider: LtiProvider) -> dict[str, str]:
    """``{notice type: handler URL}`` of the provider's registered handlers."""
    return dict(NoticeHandler.objects.filter(provider=provider).values_list("notice_type", "url"))


def check_handler_url(url: str) -> None:
    """Raise :class:`~wagtail_lti.lti.notices.NoticeError` unless the platform may post to ``url``."""
    try:
        outbound.check_url(url)
    except outbound.OutboundError as exc:
        raise protocol.NoticeError(f"The handler URL is refused: {exc.reason}") from exc


def set_handler(provider: LtiProvider, notice_type: str, url: str) -> NoticeHandler | None:
    """Register ``url`` as the provider's handler of ``notice_type`` (replacing any), or remove
    it when ``url`` is empty. Returns the handler (``None`` when removed)."""
    if notice_type not in protocol.NOTICE_TYPES:
        raise protocol.NoticeError(f"The platform does not send {notice_type!r} notices.")
    if not url:
        NoticeHandler.objects.filter(provider=provider, notice_type=notice_type).delete()
        return None
    check_handler_url(url)
    handler, _ = NoticeHandler.objects.update_or_create(
        provider=provider, notice_type=notice_type, defaults={"url": url}
    )
    return handler


# --- Queueing -------------------------------------------------------------------------------------


def default_issuer(page=None) -> str:
    """The ``iss`` of notices queued outside a request: ``ISSUER``, else the root URL of the
    page's Wagtail site (or the default site's). Set ``ISSUER`` so notices and launches agree."""
    if lti_settings.ISSUER:
        return lti_settings.ISSUER
    from wagtail.models import Site

    site = page.get_site() if page is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    return site.root_url if site is not None else ""


def queue_notice(
    provider: LtiProvider,
    notice_type: str,
    *,
    issuer: str,
    claims: Mapping[str, Any] | None = None,
    course=None,
    user=None,
) -> NoticeDelivery | None:
    """Queue ``notice_type`` for the provider's handler of that type (``None``: no handler, or
    the provider may not use the service). The row is written in the caller's transaction; its
    delivery task is enqueued when that transaction commits."""
    if not may_use(provider):
        return None
    handler = NoticeHandler.objects.filter(provider=provider, notice_type=notice_type).first()
    if handler is None:
        return None
    delivery = NoticeDelivery.objects.create(
        provider=provider,
        notice_type=notice_type,
        handler_url=handler.url,
        claims={"iss": issuer, **dict(claims or {})},
        deployment_id=provider.deployment_id,
        course=course,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    launch_log.record(
        NOTICE,
        ok=True,
        provider=provider,
        course=course,
        user=user,
        action=f"{notice_type} queued",
    )
    transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return delivery


def enqueue_delivery(delivery_id: int, *, delay: float = 0) -> None:
    """Hand the delivery to the task engine (after ``delay`` seconds, if the backend can defer)."""
    options: dict[str, Any] = {
        "backend": lti_settings.NOTICE_TASK_BACKEND,
        "queue_name": lti_settings.NOTICE_TASK_QUEUE,
    }
    configured = deliver_notice.using(**options)
    if delay > 0 and configured.get_backend().supports_defer:
        configured = configured.using(run_after=timezone.now() + timedelta(seconds=delay))
    try:
        configured.enqueue(delivery_id)
    except Exception:  # noqa: BLE001 - the row stays queued; lti_cleanup enqueues it again
        logger.exception("Could not enqueue the delivery of notice %s", delivery_id)


def send_hello_world(request: HttpRequest, provider: LtiProvider) -> NoticeDelivery | None:
    """Queue an ``LtiHelloWorldNotice`` for the provider (an editor's test of its handler)."""
    with transaction.atomic():
        return queue_notice(
            provider,
            protocol.HELLO_WORLD,
            issuer=platform_issuer(request),
            user=request.user,
        )


def queue_context_copy(original, copy, *, user=None) -> list[NoticeDelivery]:
    """Queue an ``LtiContextCopyNotice`` about ``copy`` (a course page just copied from
    ``original``) for each tool with an activity in the original course and a handler."""
    from ..security.identifiers import context_id

    provider_ids = (
        Placement.objects.filter(page_id=original.pk, is_active=True)
        .values_list("resource_link__provider_id", flat=True)
        .distinct()
    )
    providers = LtiProvider.objects.filter(
        pk__in=provider_ids, notice_handlers__notice_type=protocol.CONTEXT_COPY
    ).distinct()
    claims = protocol.context_copy_claims(
        context=protocol.context_claim(
            context_id(copy),
            title=copy.title,
            label=getattr(copy, "course_code", "") or "",
        ),
        origin_context_ids=[context_id(original)],
    )
    issuer = default_issuer(copy)
    deliveries = []
    with transaction.atomic():
        for provider in providers:
            delivery = queue_notice(
                provider,
                protocol.CONTEXT_COPY,
                issuer=issuer,
                claims=claims,
                course=copy,
                user=user,
            )
            if delivery is not None:
                deliveries.append(delivery)
    return deliveries


# --- Delivery -------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``NOTICE_RETRY_DELAY`` doubled
    for each earlier failure, at most ``NOTICE_RETRY_MAX_DELAY``."""
    base = float(lti_settings.NOTICE_RETRY_DELAY)
    return min(base * (2 ** max(attempts - 1, 0)), float(lti_settings.NOTICE_RETRY_MAX_DELAY))


def sign_notice(delivery: NoticeDelivery) -> tuple[str, dict[str, Any]]:
    """The notice JWT of ``delivery`` (a new ``jti`` and ``iat`` each time) and its claims."""
    from ..lti.lti13 import sign_id_token
    from ..security.platform_keys import get_signing_key

    stored = dict(delivery.claims)
    issuer = stored.pop("iss", "")
    claims = protocol.notice_claims(
        issuer=issuer,
        client_id=delivery.provider.client_id,
        deployment_id=delivery.deployment_id,
        notice_type=delivery.notice_type,
        notice_id=str(delivery.notice_id),
        timestamp=delivery.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        jti=str(uuid.uuid4()),
        now=int(time.time()),
        ttl=int(lti_settings.NOTICE_TOKEN_TTL),
        extra=stored,
    )
    kid, key = get_signing_key()
    return sign_id_token(claims, kid, key), claims


def _claim(delivery_id: int) -> NoticeDelivery | None:
    """Count one more attempt of a delivery still to be sent; ``None`` when there is none."""
    with transaction.atomic():
        delivery = (
            NoticeDelivery.objects.select_for_update()
            .filter(
                pk=delivery_id,
                status__in=(NoticeDelivery.Status.QUEUED, NoticeDelivery.Status.RETRYING),
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = None
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return NoticeDelivery.objects.select_related("provider").get(pk=delivery_id)


def attempt_delivery(delivery_id: int) -> str:
    """Send the delivery once; on failure schedule the next attempt or give up. Returns the
    delivery's status afterwards ("" when there was nothing to send)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return ""
    provider = delivery.provider
    debug = None
    status: int | None = None
    try:
        if not may_use(provider):
            raise outbound.OutboundError("The tool is disabled or no longer an LTI 1.3 tool.")
        token, claims = sign_notice(delivery)
        debug = launch_log.lti13_debug(claims)
        response = outbound.fetch(
            delivery.handler_url,
            method="POST",
            body=protocol.notices_body([token]),
            content_type="application/json",
            accept="application/json, text/plain, */*",
            max_bytes=int(lti_settings.NOTICE_MAX_RESPONSE_BYTES),
            deadline=float(lti_settings.NOTICE_DELIVERY_TIMEOUT),
            ok_statuses=tuple(range(200, 300)),
            cache_failures=False,
        )
    except outbound.OutboundError as exc:
        return _failed(delivery, exc.reason, debug)
    except Exception as exc:  # noqa: BLE001 - a delivery must end in a recorded outcome
        logger.exception("Notice delivery %s failed", delivery.pk)
        return _failed(delivery, f"The notice could not be sent ({type(exc).__name__}).", debug)
    status = response.status
    delivery.status = NoticeDelivery.Status.DELIVERED
    delivery.finished_at = timezone.now()
    delivery.last_error = ""
    delivery.response_status = status
    delivery.response_body = response.content.decode("utf-8", "replace")[:RESPONSE_KEPT]
    delivery.save(
        update_fields=[
            "status",
            "finished_at",
            "last_error",
            "response_status",
            "response_body",
        ]
    )
    launch_log.record(
        NOTICE,
        ok=True,
        provider=provider,
        course=delivery.course,
        action=f"{delivery.notice_type} delivered (attempt {delivery.attempts})",
        status=status,
        debug=debug,
    )
    return delivery.status


def _failed(delivery: NoticeDelivery, reason: str, debug) -> str:
    maximum = max(int(lti_settings.NOTICE_DELIVERY_ATTEMPTS), 1)
    delivery.last_error = reason
    if delivery.attempts >= maximum:
        delivery.status = NoticeDelivery.Status.GIVEN_UP
        delivery.finished_at = timezone.now()
        action = f"{delivery.notice_type} given up after {delivery.attempts} attempts"
        delay = None
    else:
        delay = retry_delay(delivery.attempts)
        delivery.status = NoticeDelivery.Status.RETRYING
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        action = (
            f"{delivery.notice_type} attempt {delivery.attempts} of {maximum} failed, "
            f"retry in {delay:g} s"
        )
    delivery.save(update_fields=["status", "finished_at", "last_error", "next_attempt_at"])
    launch_log.record(
        NOTICE,
        ok=False,
        provider=delivery.provider,
        course=delivery.course,
        action=action,
        error=reason,
        debug=debug,
    )
    if delay is not None:
        enqueue_delivery(delivery.pk, delay=delay)
    return delivery.status


def enqueue_due() -> int:
    """Enqueue again each unfinished delivery that should have been attempted more than
    ``NOTICE_RETRY_MAX_DELAY`` seconds ago (its task lost, e.g. the process ended between the
    commit and the enqueue); ``manage.py lti_cleanup`` calls it. Returns how many."""
    from django.db.models import Q

    late = timezone.now() - timedelta(seconds=float(lti_settings.NOTICE_RETRY_MAX_DELAY))
    due = NoticeDelivery.objects.filter(
        Q(next_attempt_at__isnull=True, created_at__lt=late) | Q(next_attempt_at__lt=late),
        status__in=(NoticeDelivery.Status.QUEUED, NoticeDelivery.Status.RETRYING),
    )
    count = 0
    for pk in due.values_list("pk", flat=True):
        enqueue_delivery(pk)
        count += 1
    return count


@task()
def deliver_notice(delivery_id: int) -> str:
    """The task engine's task: one delivery attempt (:func:`attempt_delivery`)."""
    return attempt_delivery(delivery_id)
