"""The test run's setup: a fast password hasher, per-worker cache keys, the shared fixtures.

The fixtures every test may use (``orgs``, ``make_editor``, ``superuser``, ``provider``, ``link``,
``course``, ``learner``) are in ``tests/support/fixtures.py``; the factories they use in
``tests/support/factories.py``.
"""

from __future__ import annotations

import os
import re


# Fixtures of course pages, activities and enrollments (``course``, ``link``, ``learner``, ...).
pytest_plugins = ["tests.support.fixtures"]

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# inside one unless told it is safe (browser tests only touch the ORM between page actions).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """Tests create and sign in hundreds of users: hash their passwords with a fast hasher.

    Django's default (PBKDF2, a million iterations) costs about half a second per hash; the suite
    would spend minutes on it. Never do this outside tests. Server processes that tests start
    (gunicorn, with the example site's settings) inherit ``FAST_PASSWORD_HASHER`` and use the same
    hasher, so the users a test creates can sign in there too.

    Under pytest-xdist each worker also gets its own cache key prefix (:func:`isolate_worker_cache`).
    """
    from django.conf import settings

    os.environ["FAST_PASSWORD_HASHER"] = "1"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The tests' tools run on 127.0.0.1 over plain http: the platform may fetch from them (in
    # this process and in the servers tests start). Tests of the refusal turn it off.
    os.environ["LTI_OUTBOUND_ALLOW_LOCAL"] = "1"
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "OUTBOUND_ALLOW_LOCAL": True}
    from wagtail_lti.conf import lti_settings

    lti_settings.reload()
    isolate_worker_cache(os.environ.get("PYTEST_XDIST_WORKER"))


#: The cache key prefix the settings gave, before :func:`isolate_worker_cache`.
BASE_CACHE_KEY_PREFIX: str | None = None


def worker_cache_prefix(base: str, worker: str | None) -> str:
    """The cache key prefix of an xdist worker (``gw0``, ``gw1``, ...); ``base`` without xdist."""
    if not worker:
        return base
    return f"{base}-{worker}" if base else worker


def isolate_worker_cache(worker: str | None) -> None:
    """Give this xdist worker's caches their own key prefix, and its app servers too.

    With ``-n N`` and a shared cache (``CACHE_URL=redis://...``) the workers would otherwise read
    and overwrite each other's keys (launch targets' catalogue generation, tools' JWKS, rate
    limits). Each worker already has its own test database (pytest-django); this gives it its own
    keys. ``CACHE_KEY_PREFIX`` is what the example site's settings read, so gunicorn servers a
    test starts (tests/support/app_servers.py) use the same prefix as the worker that started them.
    Redis' ``clear()`` (FLUSHDB) would still empty every worker's keys, so it deletes only this
    prefix's keys.
    """
    global BASE_CACHE_KEY_PREFIX
    from django.conf import settings

    default = settings.CACHES.get("default", {})
    BASE_CACHE_KEY_PREFIX = default.get("KEY_PREFIX", "")
    _clear_only_own_redis_keys()
    if not worker:
        return
    prefix = worker_cache_prefix(BASE_CACHE_KEY_PREFIX, worker)
    for alias in settings.CACHES.values():
        alias["KEY_PREFIX"] = worker_cache_prefix(alias.get("KEY_PREFIX", ""), worker)
    os.environ["CACHE_KEY_PREFIX"] = prefix
    # Forget any cache object made with the old prefix (Django's own handler for this signal).
    from django.core.signals import setting_changed

    setting_changed.send(sender=type(settings), setting="CACHES", value=settings.CACHES, enter=True)


def _clear_only_own_redis_keys() -> None:
    """``RedisCache.clear()`` deletes this cache's keys (its prefix), not the whole database.

    Tests clear the cache between steps; on a Redis shared by xdist workers, app servers and
    benchmarks, FLUSHDB would pull keys from under all of them.
    """
    from django.core.cache.backends.redis import RedisCache

    def clear(self) -> None:
        client = self._cache.get_client(None, write=True)
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", self.key_prefix) + ":*"
        batch: list = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)

    RedisCache.clear = clear
