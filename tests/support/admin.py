"""Helpers for the admin catalogue tests: URLs, POST bodies, keys and reading answers.

The records themselves come from ``tests.support.factories``.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.urls import reverse
from wagtail.test.utils.form_data import nested_form_data


def url(model, name, *args, query: str = "") -> str:
    """Admin URL of a snippet view (``list``, ``add``, ``edit``, ``delete``, ``history``...)."""
    path = reverse(model.snippet_viewset.get_url_name(name), args=args)
    return f"{path}?{query}" if query else path


def chooser_url(model, name: str = "choose", *args, query: str = "") -> str:
    path = reverse(model.snippet_viewset.chooser_viewset.get_url_name(name), args=args)
    return f"{path}?{query}" if query else path


def provider_post(organization, **overrides) -> dict:
    """A complete, valid LTI 1.1 provider form submission."""
    data = {
        "name": "Moodle Law",
        "organization": organization.pk,
        "lti_version": "1.1",
        "consumer_key": "moodle-key",
        "secret": "",
        "login_url": "",
        "launch_url": "",
        "redirect_uris": "",
        "jwks_url": "",
        "public_key_pem": "",
        "custom_parameters": "",
        "send_name": "on",
        "is_enabled": "on",
        "available_to": [],
    }
    data.update(overrides)
    return _flatten(data)


def lti13_post(organization, **overrides) -> dict:
    data = {
        "lti_version": "1.3",
        "consumer_key": "",
        "login_url": "https://tool.example.com/login",
        "launch_url": "https://tool.example.com/launch",
        "redirect_uris": "",
        "jwks_url": "https://tool.example.com/jwks",
        "allow_ags": "on",
    }
    data.update(overrides)
    return provider_post(organization, **data)


def link_post(organization, provider, **overrides) -> dict:
    """A complete, valid resource link form submission."""
    data = {
        "name": "Contract law quiz",
        "organization": organization.pk,
        "provider": provider.pk,
        "url": "https://tool.example.com/activity/42",
        "description": "",
        "custom_parameters": "",
        "score_maximum": "100",
        "open_in": "embed",
        "late_submissions": "accept",
        "available_to": [],
    }
    data.update(overrides)
    return _flatten(data)


def _flatten(data: dict) -> dict:
    """Drop unchecked checkboxes (absent from real POSTs) and flatten with Wagtail's helper."""
    lists = {k: v for k, v in data.items() if isinstance(v, list)}
    scalars = {k: v for k, v in data.items() if not isinstance(v, list) and v is not None}
    flat = nested_form_data(scalars)
    flat.update({k: [getattr(o, "pk", o) for o in v] for k, v in lists.items()})
    return flat


def rsa_public_pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def ec_public_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def field_errors(response, field: str) -> list[str]:
    """The errors the re-rendered form shows for ``field``."""
    form = response.context["form"]
    return [str(e) for e in form.errors.get(field, [])]


def text(response) -> str:
    """The response body without tags (for "this message is on the page" checks)."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
