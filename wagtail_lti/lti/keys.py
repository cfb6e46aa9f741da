"""RSA signing keys of the platform: generation, ``kid``, public JWK.

Pure functions over PEM strings and ``cryptography`` key objects. Storage, encryption at rest and
rotation live in the Django glue (``security.platform_keys``).

LTI 1.3 allows RS256 only (LTI Advantage Security Framework §6.1; Certification Guide §4.2), so
every key here is RSA, at least 2048 bits.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import LtiError


MIN_KEY_SIZE = 2048
ALGORITHM = "RS256"


class KeyFormatError(LtiError):
    """A PEM is not an RSA key of an acceptable size."""


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private_pem: str
    public_pem: str


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _rsa_public_numbers(public_key: rsa.RSAPublicKey) -> tuple[str, str]:
    numbers = public_key.public_numbers()
    return _b64url_uint(numbers.n), _b64url_uint(numbers.e)


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): a stable ``kid`` for the key."""
    n, e = _rsa_public_numbers(public_key)
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_key_pair(key_size: int = MIN_KEY_SIZE) -> KeyPair:
    """A new RSA key pair (PEM, PKCS#8 private key) with its ``kid``."""
    if key_size < MIN_KEY_SIZE:
        raise KeyFormatError(f"RSA keys must have at least {MIN_KEY_SIZE} bits.")
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )
    return KeyPair(
        kid=thumbprint(private_key.public_key()), private_pem=private_pem, public_pem=public_pem
    )


def load_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """Parse a PEM private key (expensive: do it once per process, see ``platform_keys``)."""
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("not a PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError("not an RSA private key")
    if key.key_size < MIN_KEY_SIZE:
        raise KeyFormatError(f"RSA keys must have at least {MIN_KEY_SIZE} bits.")
    return key


def load_public_key(public_pem: str) -> rsa.RSAPublicKey:
    """Parse a PEM public key (SubjectPublicKeyInfo or PKCS#1)."""
    try:
        key = serialization.load_pem_public_key(public_pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyFormatError("not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyFormatError("not an RSA public key")
    if key.key_size < MIN_KEY_SIZE:
        raise KeyFormatError(f"RSA keys must have at least {MIN_KEY_SIZE} bits.")
    return key


def public_jwk(public_pem: str, kid: str) -> dict[str, str]:
    """The public JWK published in our JWKS: ``kty``, ``kid``, ``alg`` RS256, ``use`` sig, ``n``, ``e``."""
    n, e = _rsa_public_numbers(load_public_key(public_pem))
    return {"kty": "RSA", "kid": kid, "alg": ALGORITHM, "use": "sig", "n": n, "e": e}
