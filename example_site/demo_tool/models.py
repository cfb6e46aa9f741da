"""What the demo tool remembers: its registrations with platforms, and its own launch state.

These are the *tool's* records. The platform's side of the same registrations lives in the
platform's own models (``wagtail_lti.LtiProvider``); the tool never reads them, it only talks to
the platform over HTTP.
"""

from __future__ import annotations

from django.db import models


class ToolRegistration(models.Model):
    """One registration of the demo tool with a platform (an LMS, or this site's wagtail-lti).

    LTI 1.1 rows hold the consumer key and shared secret. LTI 1.3 rows hold the platform's
    identity and endpoints (issuer, client ID, deployment ID, authorization, token and JWKS URLs)
    and the tool's own RSA private key for that registration (its public half is published at
    the tool's JWKS URL).

    The demo stores secrets in clear text, as a throw-away test tool may; a production tool would
    encrypt them.
    """

    class Version(models.TextChoices):
        LTI_1P1 = "1.1", "LTI 1.1"
        LTI_1P3 = "1.3", "LTI 1.3"

    slug = models.SlugField(unique=True, help_text="A stable name for this registration.")
    name = models.CharField(max_length=255)
    lti_version = models.CharField(max_length=8, choices=Version.choices)
    active = models.BooleanField(default=True)

    # LTI 1.1
    consumer_key = models.CharField(max_length=255, blank=True)
    shared_secret = models.CharField(max_length=255, blank=True)

    # LTI 1.3: the platform
    issuer = models.CharField(max_length=1024, blank=True)
    client_id = models.CharField(max_length=255, blank=True)
    deployment_id = models.CharField(max_length=255, blank=True)
    auth_login_url = models.URLField("platform authorization URL", max_length=1024, blank=True)
    auth_token_url = models.URLField("platform token URL", max_length=1024, blank=True)
    key_set_url = models.URLField("platform JWKS URL", max_length=1024, blank=True)
    # LTI 1.3: the tool
    private_key_pem = models.TextField("tool private key (PEM)", blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["consumer_key"],
                condition=models.Q(lti_version="1.1"),
                name="demo_tool_unique_consumer_key",
            ),
            models.UniqueConstraint(
                fields=["issuer", "client_id"],
                condition=models.Q(lti_version="1.3"),
                name="demo_tool_unique_issuer_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_lti_version_display()})"


class UsedNonce(models.Model):
    """An OAuth 1.0a nonce of an accepted LTI 1.1 launch (unique per consumer key).

    Inserting the row is the replay check: a second launch with the same key and nonce violates
    the unique constraint. Rows older than the accepted timestamp window are deleted as new ones
    arrive.
    """

    consumer_key = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)
    timestamp = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer_key", "nonce"], name="demo_tool_unique_nonce")
        ]

    def __str__(self) -> str:
        return f"{self.consumer_key}:{self.nonce}"


class LaunchRecord(models.Model):
    """A key/value entry of the tool's launch state, kept in the database.

    Used by PyLTI1p3 (OIDC nonces, state, validated LTI 1.3 launches, see
    ``demo_tool.storage``) and by the LTI 1.1 side (verified launches), so the score form can find
    its launch again in any server process.
    """

    key = models.CharField(max_length=255, unique=True)
    value = models.JSONField()
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return self.key
