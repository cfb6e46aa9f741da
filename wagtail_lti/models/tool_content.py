"""Content a tool returned for a page: what rich text and the "Tool content" block point to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents import get_document_model_string
from wagtail.images import get_image_model_string

from .organizations import Organization
from .providers import LtiProvider, LtiResourceLink


class ToolContent(models.Model):
    """One item a tool returned to an editor's "Insert from a tool" (rich text) or "Tool content"
    block: a link, an HTML fragment, an image, a file or an LTI resource link.

    Rich text and blocks store only this row's id (``<embed embedtype="lti-tool" id="…"/>``, the
    block's value); the HTML shown is made when the page is rendered
    (``wagtail_lti.content_selection.tool_content.render``). ``html`` holds the tool's HTML as the
    sanitiser (``wagtail_lti.security.html``) passed it; it is sanitised again on every render.
    A file is kept as a Wagtail document (``document``) or image (``image``), never as the tool's
    URL; an image is by URL unless the site imports images (``TOOL_CONTENT_IMPORT_IMAGES``).
    """

    class Kind(models.TextChoices):
        LINK = "link", _("Link")
        HTML = "html", _("HTML")
        IMAGE = "image", _("Image")
        FILE = "file", _("File")
        RESOURCE_LINK = "ltiResourceLink", _("LTI resource link")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    provider = models.ForeignKey(LtiProvider, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1024, blank=True)
    html = models.TextField(blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    media_type = models.CharField(max_length=255, blank=True)
    #: ``target`` (iframe, window, embed), ``icon`` and ``thumbnail`` (url, width, height).
    presentation = models.JSONField(default=dict, blank=True)
    resource_link = models.ForeignKey(
        LtiResourceLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image = models.ForeignKey(
        get_image_model_string(),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    document = models.ForeignKey(
        get_document_model_string(),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("content from a tool")
        verbose_name_plural = _("content from tools")

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.pk}"
