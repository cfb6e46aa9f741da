"""The launch log: one row per launch and per service call of a tool, kept for a while.

Also one row per content selection request sent to a tool and per answer (Deep Linking,
Content-Item).

Written by ``wagtail_lti.launch_log``; read in the admin (Reports → LTI launch log). A row never
holds a secret, an access token, a client assertion, a signature or an id_token; ``debug_data``
(the parameters or claims sent) is filled only for providers whose debug switch is on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .courses import PAGE_MODEL, Placement
from .organizations import Organization
from .providers import LtiProvider


class LaunchLogEntry(models.Model):
    class Kind(models.TextChoices):
        LAUNCH = "launch", _("Launch")
        ID_TOKEN = "id_token", _("LTI 1.3 authorization (id_token)")
        OUTCOMES = "outcomes", _("LTI 1.1 Basic Outcomes")
        TOKEN = "token", _("LTI 1.3 access token")
        AGS = "ags", _("Assignment and Grade Services")
        NRPS = "nrps", _("Names and Role Provisioning")
        # An editor's request to a tool (Deep Linking, Content-Item) and the tool's answer.
        CONTENT_SELECTION = "content_selection", _("Content selection (Deep Linking, Content-Item)")
        # Platform Notification Service: a tool's handler registrations, and each notice sent.
        NOTICE = "notice", _("Platform notices")

    class Outcome(models.TextChoices):
        OK = "ok", _("OK")
        ERROR = "error", _("Error")

    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    action = models.CharField(_("action"), max_length=100, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    provider = models.ForeignKey(
        LtiProvider,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("LTI provider"),
    )
    # The person: who launched, or whose score or result a tool sent or read.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    placement = models.ForeignKey(
        Placement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("activity"),
    )
    course = models.ForeignKey(
        PAGE_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("course"),
    )
    # The organization the person's data belongs to: the course's organization when the entry
    # was written (kept when the course is deleted or moved), or the organization a content
    # selection was made for. Who sees the person, the course and the debug data is decided
    # with it (``wagtail_lti.scoping.launch_log_details_q``).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization"),
    )
    # An editor's test launch (``launch/test_launch.py``), and what follows from it.
    is_test = models.BooleanField(_("test launch"), default=False)
    # What the tool said when it sent the person back (``lti_msg``, ``lti_errormsg``, ``lti_log``,
    # ``lti_errorlog`` on the launch's return URL), or answered a provider check.
    tool_messages = models.JSONField(_("what the tool said"), null=True, blank=True)
    # Only for providers with the debug switch on: the parameters (1.1) or claims (1.3) sent.
    debug_data = models.JSONField(_("debug data"), null=True, blank=True)

    class Meta:
        verbose_name = _("launch log entry")
        verbose_name_plural = _("launch log entries")
        ordering = ["-created_at", "-pk"]
        # Rows are written by the plugin only: viewing is the one permission there is.
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_outcome_display()} ({self.created_at:%Y-%m-%d %H:%M:%S})"
