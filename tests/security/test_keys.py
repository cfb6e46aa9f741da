"""The one key derivation (wagtail_lti.security.keys): one key per use, all from ENCRYPTION_KEY."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wagtail_lti.security import encryption, identifiers, keys, sourcedid


def hkdf(material: str, info: bytes) -> bytes:
    """HKDF-SHA256 as RFC 5869 defines it, with the platform's salt: what stored values rely on."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wagtail-lti", info=info).derive(
        material.encode()
    )


@pytest.fixture
def encryption_key(settings):
    settings.WAGTAIL_LTI = {
        **getattr(settings, "WAGTAIL_LTI", {}),
        "ENCRYPTION_KEY": "a key for the tests",
    }


def test_each_use_has_its_own_key_derived_as_before(encryption_key):
    purposes = [keys.SECRETS_AT_REST, keys.USER_ID, keys.CONTEXT_ID, keys.SOURCEDID]
    derived = [keys.derived_key(purpose) for purpose in purposes]
    assert len(set(derived)) == len(purposes)
    # The same bytes as HKDF with each use's info: ids and stored secrets survive the refactoring.
    assert derived == [hkdf("a key for the tests", purpose) for purpose in purposes]


def test_empty_encryption_key_falls_back_to_secret_key(settings):
    assert keys.key_material() == settings.SECRET_KEY
    assert keys.derived_key(keys.USER_ID) == hkdf(settings.SECRET_KEY, keys.USER_ID)


def test_users_modules_use_the_derivation(encryption_key):
    secret = encryption.encrypt("s3cret")
    expected = Fernet(base64.urlsafe_b64encode(hkdf("a key for the tests", b"secrets-at-rest")))
    assert expected.decrypt(secret.encode()) == b"s3cret"
    token = sourcedid._fernet().encrypt(b"x")
    key = hkdf("a key for the tests", b"lis_result_sourcedid")
    assert Fernet(base64.urlsafe_b64encode(key)).decrypt(token) == b"x"
    assert identifiers._key() == hkdf("a key for the tests", b"lti-user-id")


def test_changing_the_material_changes_every_key(settings):
    before = keys.derived_key(keys.CONTEXT_ID)
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert keys.derived_key(keys.CONTEXT_ID) != before
