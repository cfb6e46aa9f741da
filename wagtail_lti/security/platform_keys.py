"""The platform's LTI 1.3 signing keys: storage, the first key on demand, rotation, JWKS.

Keys live in the database (``PlatformKey``), the private key encrypted at rest
(``wagtail_lti.security.encryption``). Each key goes through three states:

* **next**: published in the JWKS, not yet signing. Tools that cache our JWKS learn it before it
  is used (LTI Security Framework §6.3: add the new key before signing with it).
* **current**: signs id_tokens and other platform messages. Exactly one.
* **retired**: no longer signs, still published for ``KEY_ROTATION_OVERLAP_DAYS`` so that
  messages signed just before a rotation (a launch in flight) still verify; then dropped.

Parsing an RSA private key is about a hundred times slower than signing with a loaded one (see
``benchmarks/key_parse_vs_sign.py``), so each process parses a key once and keeps it in a
module-level cache keyed by ``kid``. Which ``kid`` is current is read from the database at most
every ``CURRENT_KID_SECONDS`` per process: after a rotation another process may go on signing
with the key it just retired for that long, which tools still accept (a retired key stays
published for ``KEY_ROTATION_OVERLAP_DAYS``). The cache holds key material only: nothing that
guards against replay lives in process memory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from ..conf import lti_settings
from ..lti import keys
from ..models import PlatformKey
from .encryption import decrypt, encrypt


logger = logging.getLogger(__name__)

State = PlatformKey.State

# kid -> parsed private key / public JWK. Small: a handful of keys over a process's life.
_private_keys: dict[str, RSAPrivateKey] = {}
_public_jwks: dict[str, dict[str, str]] = {}
_CACHE_LIMIT = 8
#: Seconds a process signs with the key it last read as current before asking again.
CURRENT_KID_SECONDS = 30.0
# (kid, monotonic time until which it is used without asking the database)
_current_kid: tuple[str, float] | None = None


def clear_cache() -> None:
    """Forget parsed keys and the current kid (tests; a process never needs it)."""
    global _current_kid
    _private_keys.clear()
    _public_jwks.clear()
    _current_kid = None


def _remember(cache: dict, kid: str, value) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[kid] = value


def _create_key(state: str, now: datetime) -> PlatformKey | None:
    """Insert a new key in ``state``; None when another process inserted one first."""
    pair = keys.generate_key_pair()
    try:
        with transaction.atomic():
            return PlatformKey.objects.create(
                kid=pair.kid,
                public_pem=pair.public_pem,
                private_pem_encrypted=encrypt(pair.private_pem),
                state=state,
                activated_at=now if state == State.CURRENT else None,
            )
    except IntegrityError:
        # The unique constraint allows one current and one next key: someone else won the race.
        return None


def ensure_keys() -> str:
    """Create the first keys if there are none (a current and a next); return the current kid.

    Safe under concurrency: the database allows only one current and one next key, so a process
    that loses the race simply reads the winner's key.
    """
    current = PlatformKey.objects.filter(state=State.CURRENT).values_list("kid", flat=True).first()
    if current is None:
        now = timezone.now()
        created = _create_key(State.CURRENT, now)
        if created is not None:
            logger.info("Created the first LTI platform signing key %s", created.kid)
        current = (
            PlatformKey.objects.filter(state=State.CURRENT).values_list("kid", flat=True).get()
        )
    if not PlatformKey.objects.filter(state=State.NEXT).exists():
        _create_key(State.NEXT, timezone.now())
    return current


def get_signing_key() -> tuple[str, RSAPrivateKey]:
    """The ``kid`` and loaded private key to sign with now (created on first use).

    Which kid is current is read at most every ``CURRENT_KID_SECONDS`` (one indexed query); the
    key is decrypted and parsed once per process per kid.
    """
    global _current_kid
    now = time.monotonic()
    if _current_kid is not None and _current_kid[1] > now:
        kid = _current_kid[0]
    else:
        kid = PlatformKey.objects.filter(state=State.CURRENT).values_list("kid", flat=True).first()
        if kid is None:
            kid = ensure_keys()
        _current_kid = (kid, now + CURRENT_KID_SECONDS)
    private_key = _private_keys.get(kid)
    if private_key is None:
        encrypted = PlatformKey.objects.values_list("private_pem_encrypted", flat=True).get(kid=kid)
        private_key = keys.load_private_key(decrypt(encrypted))
        _remember(_private_keys, kid, private_key)
    return kid, private_key


def _published(now: datetime):
    overlap = timedelta(days=lti_settings.KEY_ROTATION_OVERLAP_DAYS)
    return PlatformKey.objects.filter(
        Q(state__in=[State.CURRENT, State.NEXT])
        | Q(state=State.RETIRED, retired_at__gte=now - overlap)
    )


def jwks(now: datetime | None = None) -> dict[str, list[dict[str, str]]]:
    """The public JWKS: the current key, the next key and keys retired within the overlap."""
    now = now or timezone.now()
    if not PlatformKey.objects.filter(state=State.CURRENT).exists():
        ensure_keys()
    order = Case(
        When(state=State.CURRENT, then=Value(0)),
        When(state=State.NEXT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    published = []
    for kid, public_pem in (
        _published(now)
        .annotate(_order=order)
        .order_by("_order", "-created_at")
        .values_list("kid", "public_pem")
    ):
        jwk = _public_jwks.get(kid)
        if jwk is None:
            jwk = keys.public_jwk(public_pem, kid)
            _remember(_public_jwks, kid, jwk)
        published.append(dict(jwk))
    return {"keys": published}


@dataclass
class RotationResult:
    promoted: str | None = None  # kid that became current
    retired: str | None = None  # kid that stopped signing
    created_next: str | None = None  # kid of the new next key
    dropped: list[str] = field(default_factory=list)  # kids no longer published
    skipped: str = ""  # why the promotion did not happen, if it did not

    def describe(self) -> str:
        lines = []
        if self.promoted:
            lines.append(f"Now signing with {self.promoted}.")
        if self.retired:
            lines.append(f"Retired {self.retired} (still published during the overlap).")
        if self.created_next:
            lines.append(f"Published the next key {self.created_next}.")
        if self.dropped:
            lines.append(f"Dropped {len(self.dropped)} expired key(s): {', '.join(self.dropped)}.")
        if self.skipped:
            lines.append(f"Not rotated: {self.skipped}")
        return "\n".join(lines) or "Nothing to do."


def rotate(*, now: datetime | None = None, force: bool = False) -> RotationResult:
    """Rotate: next → current, current → retired, a new next; drop retired keys past the overlap.

    Safe to run on a schedule:

    * a launch in flight keeps working: the key that signed it stays published as retired;
    * a next key is promoted only once it has been published for at least ``JWKS_MAX_AGE``
      seconds (the ``Cache-Control`` max-age of our JWKS), so a tool that honours our caching
      headers has seen it before it signs anything (``force=True`` skips this wait);
    * two rotations racing cannot both promote: rows are locked, and the database allows only one
      current and one next key.
    """
    now = now or timezone.now()
    result = RotationResult()
    overlap = timedelta(days=lti_settings.KEY_ROTATION_OVERLAP_DAYS)
    try:
        with transaction.atomic():
            locked = list(
                PlatformKey.objects.select_for_update().filter(
                    state__in=[State.CURRENT, State.NEXT]
                )
            )
            current = next((k for k in locked if k.state == State.CURRENT), None)
            upcoming = next((k for k in locked if k.state == State.NEXT), None)
            if current is None:
                # No key yet: the first one is created, nothing can break.
                created = _create_key(State.CURRENT, now)
                result.promoted = created.kid if created else None
            elif upcoming is None:
                result.skipped = "there was no next key; it is published now and will sign after the next rotation."
            elif not force and upcoming.created_at > now - timedelta(
                seconds=lti_settings.JWKS_MAX_AGE
            ):
                age = int((now - upcoming.created_at).total_seconds())
                result.skipped = (
                    f"the next key {upcoming.kid} has been published for {age} s only; tools may cache our "
                    f"JWKS for {lti_settings.JWKS_MAX_AGE} s (JWKS_MAX_AGE). Run again later, or use --force."
                )
            else:
                PlatformKey.objects.filter(pk=current.pk).update(
                    state=State.RETIRED, retired_at=now
                )
                PlatformKey.objects.filter(pk=upcoming.pk).update(
                    state=State.CURRENT, activated_at=now
                )
                result.retired, result.promoted = current.kid, upcoming.kid
            if not PlatformKey.objects.filter(state=State.NEXT).exists():
                created = _create_key(State.NEXT, now)
                if created is None:
                    raise IntegrityError("another rotation created the next key")
                result.created_next = created.kid
            expired = PlatformKey.objects.filter(state=State.RETIRED, retired_at__lt=now - overlap)
            result.dropped = list(expired.values_list("kid", flat=True))
            expired.delete()
    except IntegrityError:
        return RotationResult(skipped="another rotation ran at the same time; nothing changed.")
    global _current_kid
    _current_kid = None  # this process signs with the promoted key at once
    for kid in result.dropped:
        _private_keys.pop(kid, None)
        _public_jwks.pop(kid, None)
    if result.promoted or result.dropped:
        logger.info("LTI platform keys rotated: %s", result.describe().replace("\n", " "))
    return result
