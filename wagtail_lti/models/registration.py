"""LTI Dynamic Registration: the single-use token an editor's registration hands to a tool."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .organizations import Organization
from .providers import LtiProvider


class ToolRegistration(models.Model):
    """One "Register a tool by URL" started by an editor.

    The registration token sent to the tool is random and stored only as its SHA-256
    (``token_hash``). It binds the registration to the editor and to the organization that will
    own the new provider; it is used once (``used_at``) and expires (``expires_at``). A successful
    registration remembers the provider it created and what the tool asked for (``requested``:
    its ``scope`` and ``claims``), shown to the editor who reviews the provider.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    tool_url = models.URLField(max_length=1024)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    provider = models.ForeignKey(
        LtiProvider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Tool registration {self.pk} ({self.tool_url})"
