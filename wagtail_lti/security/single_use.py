"""Single-use values (nonces, jti, ...) kept in the database, shared by every process."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import SingleUseValue


def use_once(namespace: str, value: str, ttl_seconds: int) -> bool:
    """Record ``value`` as used in ``namespace``; False when it was already used (a replay).

    Atomic across processes: the database's unique constraint decides. Values are stored hashed
    (SHA-256), so long or sensitive values are fine.
    """
    digest = hashlib.sha256(value.encode()).hexdigest()
    try:
        with transaction.atomic():
            SingleUseValue.objects.create(
                namespace=namespace[:32],
                value=digest,
                expires_at=timezone.now() + timedelta(seconds=ttl_seconds),
            )
    except IntegrityError:
        # Already used. An expired row that was not purged yet still refuses: callers reject
        # values that old by their own timestamp or exp checks anyway.
        return False
    return True


def purge_expired() -> int:
    """Delete expired single-use records; returns how many. Run from ``lti_cleanup``."""
    deleted, _ = SingleUseValue.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
