"""Custom edit-handler panels of the LTI catalogue."""

from __future__ import annotations

from urllib.parse import urljoin

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from ..conf import lti_settings


def platform_base_url(request) -> str:
    """The issuer: the ``ISSUER`` setting, or the request's scheme and host."""
    return lti_settings.ISSUER or f"{request.scheme}://{request.get_host()}"


def platform_details(request, provider=None) -> list[dict[str, str]]:
    """What an editor copies into an LTI 1.3 tool's registration: label, value, slug."""
    issuer = platform_base_url(request)

    def endpoint(name: str) -> str:
        return urljoin(issuer + "/", reverse(f"wagtail_lti:{name}"))

    rows = []
    saved = provider is not None and provider.pk
    rows.append(
        {
            "slug": "client-id",
            "label": _("Client ID"),
            "value": provider.client_id if saved else "",
        }
    )
    rows.append(
        {
            "slug": "deployment-id",
            "label": _("Deployment ID"),
            "value": provider.deployment_id if saved else "",
        }
    )
    rows += [
        {"slug": "issuer", "label": _("Issuer (platform ID)"), "value": issuer},
        {
            "slug": "authorization-endpoint",
            "label": _("Authorization endpoint (OIDC auth URL)"),
            "value": endpoint("lti13_authorize"),
        },
        {
            "slug": "token-endpoint",
            "label": _("Access token endpoint"),
            "value": endpoint("lti13_token"),
        },
        {
            "slug": "jwks-url",
            "label": _("Platform keyset (JWKS) URL"),
            "value": endpoint("lti13_jwks"),
        },
    ]
    return rows


class PlatformDetailsPanel(Panel):
    """Read-only values the editor gives to an LTI 1.3 tool, each with a copy button.

    The client ID and deployment ID are issued by the platform when the provider is first saved.
    """

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/platform_details.html"

        class Media:
            css = {"all": ["wagtail_lti/css/catalogue.css"]}

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance if getattr(self.instance, "pk", None) else None
            context["rows"] = platform_details(self.request, instance)
            context["prefix"] = self.prefix
            return context


class AvailabilityNotePanel(Panel):
    """Explains the availability rule and lists organizations others shared the record with."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/availability_note.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["kept"] = getattr(self.form, "kept_availability", [])
            return context


class MovingFromLti11Panel(Panel):
    """What moving a provider from LTI 1.1 to LTI 1.3 keeps, and what the tool is then told."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/moving_from_lti11.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance if getattr(self.instance, "pk", None) else None
            context["offered"] = getattr(self.form, "offers_lti11_move", False)
            context["consumer_key"] = instance.consumer_key if instance is not None else ""
            context["was_lti11"] = instance is not None and not instance.is_lti13
            return context
