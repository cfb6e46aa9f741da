"""Platform keys, access tokens and single-use values, all kept in the database.

Nothing that guards security lives in process memory: every app server process of a site sees the
same rows, and a restart of one process loses nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .providers import LtiProvider


class PlatformKey(models.Model):
    """An RSA key pair the platform signs LTI 1.3 messages with; the private key is encrypted."""

    class State(models.TextChoices):
        NEXT = "next", _("Next (published, not yet signing)")
        CURRENT = "current", _("Current (signing)")
        RETIRED = "retired", _("Retired (published during the overlap)")

    kid = models.CharField(max_length=64, unique=True)
    public_pem = models.TextField()
    private_pem_encrypted = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEXT)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one key signs and at most one waits to sign: creating the first key on
            # demand and rotating stay correct when several processes race (the loser's insert
            # or update fails and it re-reads).
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state__in=["current", "next"]),
                name="wagtail_lti_one_current_one_next_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.state})"


class AccessToken(models.Model):
    """An OAuth 2 access token issued to a tool; only its SHA-256 hash is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    provider = models.ForeignKey(LtiProvider, on_delete=models.CASCADE, related_name="+")
    scopes = models.TextField()
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        # Only the hash is stored; show who holds the token and until when.
        return f"access token of provider {self.provider_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class SingleUseValue(models.Model):
    """A value that may be used once (1.1 nonce, client assertion jti, deep-linking nonce, ...).

    The unique constraint makes "use" atomic across processes: inserting a value a second time
    fails. Expired rows are deleted by ``wagtail_lti.security.single_use.purge_expired``.
    """

    namespace = models.CharField(max_length=32)
    value = models.CharField(max_length=128)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "value"], name="wagtail_lti_unique_single_use"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace} value used until {self.expires_at:%Y-%m-%d %H:%M}"


class PendingLaunch(models.Model):
    """A started LTI 1.3 launch: the ``lti_message_hint`` sent in the login initiation.

    Random, short-lived, single-use, bound to a user and a placement (or another message, such as
    a deep-linking request, described in ``data``).
    """

    hint = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(LtiProvider, on_delete=models.CASCADE, related_name="+")
    message_type = models.CharField(max_length=64, default="LtiResourceLinkRequest")
    data = models.JSONField(default=dict)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "used" if self.used_at else "pending"
        return f"{self.message_type} for user {self.user_id} ({state})"
