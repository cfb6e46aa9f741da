"""An editor's request for content from a tool (LTI 1.3 Deep Linking, LTI 1.1 Content-Item)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .organizations import Organization
from .providers import LtiProvider


class ContentSelection(models.Model):
    """One "select content from the tool" started by an editor, awaiting the tool's answer.

    The ``data`` value sent to the tool is random and stored only as its SHA-256
    (``data_hash``); the answer must echo it. The row binds that value to the editor, to a secret
    kept in the editor's session (``session_hash``), to the provider and to the organization that
    will own the resource links. It is used once (``used_at``) and expires (``expires_at``). After a
    successful answer it remembers what was created and the tool's messages, for the result page.
    """

    data_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_hash = models.CharField(max_length=64)
    provider = models.ForeignKey(LtiProvider, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    lti_version = models.CharField(max_length=8)
    #: Where the editor came from, so what the tool may return (``lti.content_items.Place``):
    #: ``resource_links`` (the admin's "Add from a tool"), ``rich_text`` or ``block``.
    place = models.CharField(max_length=20, default="resource_links")
    deployment_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_link_ids = models.JSONField(default=list, blank=True)
    created_content_ids = models.JSONField(default=list, blank=True)
    tool_message = models.TextField(blank=True)
    tool_error_message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Content selection {self.pk} ({self.provider_id})"
