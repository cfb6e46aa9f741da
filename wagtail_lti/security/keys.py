"""The one key derivation: every key the platform derives from ``ENCRYPTION_KEY``.

Each use (secrets at rest, opaque user ids, context ids, ``lis_result_sourcedid`` values) gets its
own 32-byte key, derived with HKDF-SHA256 from ``WAGTAIL_LTI["ENCRYPTION_KEY"]`` (or Django's
``SECRET_KEY`` when that is empty) with the use's name as HKDF ``info``: a key never serves two
purposes, and changing the material changes them all.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from ..conf import lti_settings


#: HKDF ``info`` of each use. Changing one changes every value made with it.
SECRETS_AT_REST = b"secrets-at-rest"
USER_ID = b"lti-user-id"
CONTEXT_ID = b"lti-context-id"
SOURCEDID = b"lis_result_sourcedid"
FORM_SECRET = b"form-typed-secret"


def key_material() -> str:
    """What keys are derived from: ``ENCRYPTION_KEY``, or ``SECRET_KEY`` when it is empty."""
    return lti_settings.ENCRYPTION_KEY or settings.SECRET_KEY


@lru_cache(maxsize=32)
def _derive(material: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wagtail-lti", info=purpose).derive(
        material.encode()
    )


def derived_key(purpose: bytes) -> bytes:
    """The 32-byte key of ``purpose`` (one of this module's constants) under the current material."""
    return _derive(key_material(), purpose)


@lru_cache(maxsize=32)
def _fernet(material: str, purpose: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(material, purpose)))


def fernet(purpose: bytes) -> Fernet:
    """A Fernet (AES-128-CBC + HMAC-SHA256) under the key of ``purpose``."""
    return _fernet(key_material(), purpose)
