"""Encryption at rest for provider secrets and platform private keys.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF from
``WAGTAIL_LTI["ENCRYPTION_KEY"]`` (or Django's ``SECRET_KEY`` when that is empty).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from ..conf import lti_settings


class DecryptionError(Exception):
    """A stored secret could not be decrypted (the encryption key changed, or the data is corrupt)."""


@lru_cache(maxsize=8)
def _fernet_for(material: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wagtail-lti", info=b"secrets-at-rest"
    ).derive(material.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> Fernet:
    return _fernet_for(lti_settings.ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(value: str) -> str:
    """Encrypt ``value``; an empty value stays empty."""
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a value made by :func:`encrypt`."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with the current key") from exc
