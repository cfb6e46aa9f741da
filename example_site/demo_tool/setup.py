"""Register the demo tool with this site's platform, on both sides, in one idempotent call.

:func:`ensure_demo_registrations` is what a person would otherwise do by hand in two admin
screens: create the LTI providers on the platform (wagtail-lti's ``LtiProvider``) and copy the
platform's details into the tool (the tool's :class:`~demo_tool.models.ToolRegistration`), and
the reverse. Run it again at any time (with another ``base_url`` too, e.g. a test server's): it
updates URLs and keeps keys, secrets and the platform-issued client and deployment IDs.

This module is the only part of the demo tool that touches the platform's models, because it
plays the site administrator. The tool's LTI traffic itself goes over HTTP only.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.urls import reverse

from .lti13 import generate_private_key_pem, public_key_pem
from .models import ToolRegistration


# The tool's registration rows (the same slugs as the example site's load_demo_data command).
LTI11_SLUG = "wagtail-lti-1-1"
LTI13_SLUG = "wagtail-lti-1-3"
LTI11_CONSUMER_KEY = "wagtail-lti-demo"
LTI11_PROVIDER_NAME = "Demo tool (LTI 1.1)"
LTI13_PROVIDER_NAME = "Demo tool (LTI 1.3)"
PROVIDER_CUSTOM_PARAMETERS = "custom_source=provider\ncustom_course_title=$Context.title"


def tool_urls(base_url: str) -> dict[str, str]:
    """The demo tool's endpoint URLs on ``base_url`` (e.g. ``http://127.0.0.1:8000``)."""
    base = base_url.rstrip("/")
    return {
        "lti11_launch": base + reverse("demo_tool:lti11_launch"),
        "lti13_login": base + reverse("demo_tool:lti13_login"),
        "lti13_launch": base + reverse("demo_tool:lti13_launch"),
        "lti13_jwks": base + reverse("demo_tool:lti13_jwks"),
        "lti11_content_item": base + reverse("demo_tool:lti11_content_item"),
        "register": base + reverse("demo_tool:register"),
    }


def platform_urls(base_url: str) -> dict[str, str]:
    """The platform's issuer and LTI 1.3 endpoint URLs, as a tool must register them."""
    from wagtail_lti.conf import lti_settings

    base = base_url.rstrip("/")
    return {
        "issuer": lti_settings.ISSUER or base,
        "authorize": base + reverse("wagtail_lti:lti13_authorize"),
        "token": base + reverse("wagtail_lti:lti13_token"),
        "jwks": base + reverse("wagtail_lti:lti13_jwks"),
    }


def _default_organization():
    from wagtail_lti.models import Organization

    root = Organization.get_first_root_node()
    if root is None:
        root = Organization.add_root(name="Demo organization")
    return root


def _save(instance, changes: dict[str, Any]) -> bool:
    """Set ``changes`` on ``instance``; save only when something differs. True if saved."""
    changed = False
    for field, value in changes.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed = True
    if changed:
        instance.save()
    return changed


def _ensure_lti11(base_url: str, organization, created: list[str]) -> dict[str, Any]:
    from wagtail_lti.models import LtiProvider

    urls = tool_urls(base_url)
    tool = ToolRegistration.objects.filter(slug=LTI11_SLUG).first()
    consumer_key = tool.consumer_key if tool is not None else LTI11_CONSUMER_KEY
    provider = (
        LtiProvider.objects.filter(
            lti_version=LtiProvider.Version.LTI_1P1, consumer_key=consumer_key
        )
        .order_by("pk")
        .first()
    )
    if tool is None:
        # The platform's provider is the source of its own secret: a tool joining an existing
        # provider takes its secret; otherwise both sides get a new random one.
        secret = provider.secret if provider is not None and provider.has_secret else ""
        tool = ToolRegistration.objects.create(
            slug=LTI11_SLUG,
            name="This site's wagtail-lti (LTI 1.1)",
            lti_version=ToolRegistration.Version.LTI_1P1,
            consumer_key=consumer_key,
            shared_secret=secret or secrets.token_urlsafe(24),
        )
        created.append("tool registration (LTI 1.1)")
    else:
        _save(tool, {"active": True, "lti_version": ToolRegistration.Version.LTI_1P1})

    if provider is None:
        provider = LtiProvider(
            name=LTI11_PROVIDER_NAME,
            organization=organization,
            lti_version=LtiProvider.Version.LTI_1P1,
            consumer_key=tool.consumer_key,
            custom_parameters=PROVIDER_CUSTOM_PARAMETERS,
            send_name=True,
            send_email=True,
        )
        provider.secret = tool.shared_secret
        provider.save()
        created.append("platform provider (LTI 1.1)")
    elif not provider.has_secret or provider.secret != tool.shared_secret:
        provider.secret = tool.shared_secret
        provider.save()
    # The tool's Content-Item URL ("Add from a tool"), unless someone entered another one.
    current = provider.content_selection_url
    if not current or current.endswith(reverse("demo_tool:lti11_content_item")):
        _save(provider, {"content_selection_url": urls["lti11_content_item"]})
    return {
        "provider": provider,
        "registration": tool,
        "consumer_key": tool.consumer_key,
        "secret": tool.shared_secret,
        "launch_url": urls["lti11_launch"],
        "content_item_url": urls["lti11_content_item"],
    }


def _ensure_lti13(base_url: str, organization, created: list[str]) -> dict[str, Any]:
    from wagtail_lti.models import LtiProvider

    urls = tool_urls(base_url)
    platform = platform_urls(base_url)
    tool = ToolRegistration.objects.filter(slug=LTI13_SLUG).first()
    if tool is None:
        tool = ToolRegistration(
            slug=LTI13_SLUG,
            name="This site's wagtail-lti (LTI 1.3)",
            lti_version=ToolRegistration.Version.LTI_1P3,
            private_key_pem=generate_private_key_pem(),
        )
        created.append("tool registration (LTI 1.3)")
    if not tool.private_key_pem.strip():
        tool.private_key_pem = generate_private_key_pem()

    lti13 = LtiProvider.objects.filter(lti_version=LtiProvider.Version.LTI_1P3)
    provider = lti13.filter(client_id=tool.client_id).first() if tool.client_id else None
    if provider is None:
        # A provider already pointing at the demo tool's login URL (on any host) is this one.
        provider = (
            lti13.filter(login_url__endswith=reverse("demo_tool:lti13_login"))
            .order_by("pk")
            .first()
        )
    provider_fields = {
        "login_url": urls["lti13_login"],
        "launch_url": urls["lti13_launch"],
        "redirect_uris": urls["lti13_launch"],
        "jwks_url": urls["lti13_jwks"],
        # Also the PEM: the platform falls back to it if fetching the JWKS URL fails (e.g. a
        # single-threaded server cannot answer its own request while serving the token call).
        "public_key_pem": public_key_pem(tool.private_key_pem),
        "allow_ags": True,
    }
    if provider is None:
        provider = LtiProvider(
            name=LTI13_PROVIDER_NAME,
            organization=organization,
            lti_version=LtiProvider.Version.LTI_1P3,
            custom_parameters=PROVIDER_CUSTOM_PARAMETERS,
            send_name=True,
            send_email=True,
            **provider_fields,
        )
        provider.save()
        created.append("platform provider (LTI 1.3)")
    else:
        _save(provider, provider_fields)

    # The platform issued the client ID and deployment ID: copy them into the tool.
    tool_fields = {
        "active": True,
        "lti_version": ToolRegistration.Version.LTI_1P3,
        "issuer": platform["issuer"],
        "client_id": provider.client_id,
        "deployment_id": provider.deployment_id,
        "auth_login_url": platform["authorize"],
        "auth_token_url": platform["token"],
        "key_set_url": platform["jwks"],
    }
    if tool.pk is None:
        for field, value in tool_fields.items():
            setattr(tool, field, value)
        tool.save()
    else:
        _save(tool, tool_fields)
    return {
        "provider": provider,
        "registration": tool,
        "issuer": tool.issuer,
        "client_id": tool.client_id,
        "deployment_id": tool.deployment_id,
        "login_url": urls["lti13_login"],
        "launch_url": urls["lti13_launch"],
        "jwks_url": urls["lti13_jwks"],
    }


def ensure_demo_registrations(base_url: str, organization=None) -> dict[str, Any]:
    """Create or update both sides of the demo tool's LTI 1.1 and LTI 1.3 registrations.

    ``base_url`` is the site's scheme and host, e.g. ``http://127.0.0.1:8000``; the platform's
    issuer is ``WAGTAIL_LTI["ISSUER"]`` when set, else ``base_url``. New platform providers are
    owned by ``organization`` (default: the first root organization, created if there is none);
    existing ones keep their owner.

    Returns ``{"lti11": {...}, "lti13": {...}, "created": [...]}``: each version's ``provider``
    (``wagtail_lti.LtiProvider``), the tool's ``registration``, and the values a person would
    copy (``consumer_key``/``secret``/``launch_url``; ``issuer``/``client_id``/``deployment_id``/
    ``login_url``/``launch_url``/``jwks_url``); ``created`` names what did not exist before.
    """
    created: list[str] = []
    with transaction.atomic():
        if organization is None:
            organization = _default_organization()
        lti11 = _ensure_lti11(base_url, organization, created)
        lti13 = _ensure_lti13(base_url, organization, created)
    return {"lti11": lti11, "lti13": lti13, "created": created}


def register_provider_with_tool(provider, base_url: str) -> ToolRegistration:
    """Give the demo tool a registration for an existing platform ``LtiProvider``.

    What a tool administrator does by hand after an editor created a provider for the demo tool
    in the admin: LTI 1.1, the same consumer key and secret; LTI 1.3, the platform's issuer,
    endpoints and the provider's client and deployment IDs (and a new key pair for the tool,
    published at its JWKS URL). Idempotent; returns the tool's registration.
    """
    if provider.is_lti13:
        platform = platform_urls(base_url)
        tool = ToolRegistration.objects.filter(
            lti_version=ToolRegistration.Version.LTI_1P3,
            issuer=platform["issuer"],
            client_id=provider.client_id,
        ).first()
        if tool is None:
            tool = ToolRegistration(
                slug=f"provider-{provider.pk}-lti13",
                name=provider.name,
                lti_version=ToolRegistration.Version.LTI_1P3,
                private_key_pem=generate_private_key_pem(),
            )
        for field, value in {
            "active": True,
            "issuer": platform["issuer"],
            "client_id": provider.client_id,
            "deployment_id": provider.deployment_id,
            "auth_login_url": platform["authorize"],
            "auth_token_url": platform["token"],
            "key_set_url": platform["jwks"],
        }.items():
            setattr(tool, field, value)
        tool.save()
        return tool
    tool = ToolRegistration.objects.filter(
        lti_version=ToolRegistration.Version.LTI_1P1, consumer_key=provider.consumer_key
    ).first()
    if tool is None:
        tool = ToolRegistration(
            slug=f"provider-{provider.pk}-lti11",
            name=provider.name,
            lti_version=ToolRegistration.Version.LTI_1P1,
            consumer_key=provider.consumer_key,
        )
    tool.active = True
    tool.shared_secret = provider.secret
    tool.save()
    return tool
