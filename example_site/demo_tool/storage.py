"""Where the demo tool keeps PyLTI1p3's launch state: the database, shared by all processes.

PyLTI1p3 stores three things between requests: the OIDC ``nonce`` of a started login, the
``state`` of a validated launch, and the validated launch data (found again by launch id when the
learner sends a score). ``DjangoCacheDataStorage`` would keep them in the cache, which with the
example site's default ``LocMemCache`` lives in one process's memory; this storage keeps them in
the :class:`~demo_tool.models.LaunchRecord` table instead, so a launch started in one worker can
finish in another.

It behaves like PyLTI1p3's cache storage in one respect: over HTTPS the keys are bound to the
browser's ``lti1p3-session-id`` cookie (set ``SameSite=None; Secure`` by PyLTI1p3, so it is sent
inside an LMS's iframe); over plain HTTP (the local demo) there is no such binding, because a
non-secure cookie without ``SameSite`` is not sent in a cross-site frame.

:class:`SingleUseNonceSessionService` also makes each OIDC nonce single-use: PyLTI1p3 only checks
that a nonce was issued, so the same ``id_token`` could be posted again; here checking the nonce
deletes it, and a replayed ``id_token`` is refused with "Invalid Nonce".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from pylti1p3.contrib.django.session import DjangoSessionService
from pylti1p3.launch_data_storage.base import LaunchDataStorage

from .models import LaunchRecord


def _expiry(exp: int | None):
    return timezone.now() + timedelta(seconds=exp) if exp else None


def _live(key: str):
    now = timezone.now()
    return LaunchRecord.objects.filter(key=key).exclude(expires_at__lte=now)


def purge_expired() -> int:
    """Delete expired records; returns how many."""
    deleted, _ = LaunchRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def put(key: str, value: Any, exp: int | None) -> None:
    """Store ``value`` (JSON) under ``key`` for ``exp`` seconds (``None``: no expiry)."""
    purge_expired()
    LaunchRecord.objects.update_or_create(
        key=key, defaults={"value": value, "expires_at": _expiry(exp)}
    )


def get(key: str) -> Any:
    """The live value under ``key``, or ``None``."""
    record = _live(key).only("value").first()
    return record.value if record is not None else None


def pop(key: str) -> bool:
    """Delete the live record ``key``; ``True`` only for the one caller that deleted it."""
    deleted, _ = _live(key).delete()
    return deleted > 0


class DatabaseLaunchDataStorage(LaunchDataStorage[Any]):
    """A PyLTI1p3 launch data storage backed by :class:`~demo_tool.models.LaunchRecord`."""

    def get_session_cookie_name(self) -> str | None:
        assert self._request is not None, "Request should be set at this point"
        if not self._request.is_secure():
            return None
        return super().get_session_cookie_name()

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        put(self._prepare_key(key), value, exp)

    def check_value(self, key: str) -> bool:
        return _live(self._prepare_key(key)).exists()

    def pop_value(self, key: str) -> bool:
        return pop(self._prepare_key(key))


class SingleUseNonceSessionService(DjangoSessionService):
    """PyLTI1p3's session service, with nonces that can be checked (used) only once."""

    def check_nonce(self, nonce: str) -> bool:
        storage = self.data_storage
        key = self._get_key("nonce", nonce)
        if isinstance(storage, DatabaseLaunchDataStorage):
            return storage.pop_value(key)
        return super().check_nonce(nonce)
