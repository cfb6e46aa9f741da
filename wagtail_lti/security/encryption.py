"""Encryption at rest for provider secrets and platform private keys; a typed secret kept
across a form's validation error.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the key of
``security.keys`` for secrets at rest (derived from ``ENCRYPTION_KEY``).

:func:`seal_typed_secret` / :func:`open_typed_secret`: a secret an editor typed in a form that
came back with an error elsewhere is never written back into the page; the page carries it
encrypted (its own key, ``keys.FORM_SECRET``), for that editor only and for
``TYPED_SECRET_MAX_AGE`` seconds, so the next submission saves it without the editor typing it
again.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from .keys import FORM_SECRET, SECRETS_AT_REST, fernet


#: How long a typed secret kept by a form's re-rendered page stays usable (seconds).
TYPED_SECRET_MAX_AGE = 3600


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


def seal_typed_secret(value: str, user_pk) -> str:
    """``value`` (a secret typed in a form) encrypted for the page that re-renders the form, bound
    to the editor ``user_pk``; empty for an empty value."""
    if not value:
        return ""
    payload = json.dumps({"user": str(user_pk), "secret": value})
    return fernet(FORM_SECRET).encrypt(payload.encode()).decode()


def open_typed_secret(token: str, user_pk) -> str:
    """The secret :func:`seal_typed_secret` kept for ``user_pk``, or "" when ``token`` is empty,
    altered, too old (``TYPED_SECRET_MAX_AGE``), made under another key or for another editor."""
    if not token:
        return ""
    try:
        payload = json.loads(
            fernet(FORM_SECRET).decrypt(token.encode(), ttl=TYPED_SECRET_MAX_AGE).decode()
        )
    except (InvalidToken, ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(payload, dict) or payload.get("user") != str(user_pk):
        return ""
    secret = payload.get("secret")
    return secret if isinstance(secret, str) else ""
