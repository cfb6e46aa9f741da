"""Encryption at rest for provider secrets and platform private keys.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the key of
``security.keys`` for secrets at rest (derived from ``ENCRYPTION_KEY``).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from .keys import SECRETS_AT_REST, fernet


class DecryptionError(Exception):
    """A stored secret could not be decrypted (the encryption key changed, or the data is corrupt)."""


def _fernet() -> Fernet:
    return fernet(SECRETS_AT_REST)


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
