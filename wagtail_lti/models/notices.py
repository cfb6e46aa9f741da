"""Platform Notification Service: tools' notice handlers and the notices queued for them.

Written by ``wagtail_lti.services.notices``; a delivery is sent by the task engine's worker
(``django-tasks``) and every attempt is also written to the launch log.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .courses import PAGE_MODEL
from .providers import LtiProvider


class NoticeHandler(models.Model):
    """The URL a tool registered (through the service) to receive one type of notice."""

    provider = models.ForeignKey(
        LtiProvider, on_delete=models.CASCADE, related_name="notice_handlers"
    )
    notice_type = models.CharField(_("notice type"), max_length=64)
    url = models.URLField(_("handler URL"), max_length=1024)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notice handler")
        verbose_name_plural = _("notice handlers")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "notice_type"], name="wagtail_lti_one_handler_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_type} → {self.url}"


class NoticeDelivery(models.Model):
    """One notice to one handler: queued with the change it tells of, then sent and retried."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RETRYING = "retrying", _("Waiting to retry")
        DELIVERED = "delivered", _("Delivered")
        GIVEN_UP = "given_up", _("Given up")

    provider = models.ForeignKey(
        LtiProvider, on_delete=models.CASCADE, related_name="notice_deliveries"
    )
    notice_type = models.CharField(_("notice type"), max_length=64)
    #: The notice claim's ``id``: the same for every attempt.
    notice_id = models.UUIDField(default=uuid.uuid4, editable=False)
    handler_url = models.URLField(_("handler URL"), max_length=1024)
    #: The notice's own claims (context, origin contexts...), without iss/aud/iat/exp/jti.
    claims = models.JSONField(default=dict)
    deployment_id = models.CharField(max_length=255)
    course = models.ForeignKey(
        PAGE_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    #: The handler's last answer: HTTP status and the start of its body (shown to editors).
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notice delivery")
        verbose_name_plural = _("notice deliveries")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.notice_type} to {self.handler_url} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DELIVERED, self.Status.GIVEN_UP)
