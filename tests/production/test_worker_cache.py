"""Each pytest-xdist worker has its own cache key prefix, and so do the app servers it starts.

With ``pytest -n N`` and ``CACHE_URL=redis://...`` the workers share one Redis; without their own
prefixes they would read and overwrite each other's keys (tests/conftest.py).
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

from tests import conftest
from tests.support.app_servers import server_env


def test_worker_prefixes_differ_per_worker():
    assert conftest.worker_cache_prefix("wagtail-lti", "gw0") == "wagtail-lti-gw0"
    assert conftest.worker_cache_prefix("wagtail-lti", "gw1") == "wagtail-lti-gw1"
    assert conftest.worker_cache_prefix("", "gw2") == "gw2"
    assert conftest.worker_cache_prefix("wagtail-lti", None) == "wagtail-lti"
    assert conftest.worker_cache_prefix("wagtail-lti", "") == "wagtail-lti"


def test_this_process_and_its_servers_use_the_workers_prefix():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if worker:
        assert prefix == conftest.worker_cache_prefix(conftest.BASE_CACHE_KEY_PREFIX, worker)
        assert prefix.endswith(f"-{worker}") or prefix == worker
    elif os.environ.get("CACHE_URL", "").startswith("redis"):
        # Without xdist: the example site's default (or the CACHE_KEY_PREFIX given).
        assert prefix == os.environ.get("CACHE_KEY_PREFIX", "wagtail-lti")
    else:
        assert prefix == ""
    # The cache objects are made with it, not with a prefix read before the worker's was set.
    assert caches["default"].make_key("k").startswith(f"{prefix}:")
    # Servers started by this process read CACHE_KEY_PREFIX (example_site/settings.py); a
    # per-process cache (no CACHE_URL, no xdist) has none to pass on.
    if worker or "KEY_PREFIX" in settings.CACHES["default"]:
        assert server_env()["CACHE_KEY_PREFIX"] == prefix
    else:
        assert server_env().get("CACHE_KEY_PREFIX") == os.environ.get("CACHE_KEY_PREFIX")
    assert server_env({"CACHE_KEY_PREFIX": "x"})["CACHE_KEY_PREFIX"] == "x"


@pytest.mark.skipif(
    not os.environ.get("CACHE_URL", "").startswith("redis"), reason="needs CACHE_URL=redis://"
)
def test_clearing_the_redis_cache_leaves_other_prefixes_alone():
    cache = caches["default"]
    client = cache._cache.get_client(None, write=True)
    others = f"someone-else-{uuid.uuid4().hex}:1:key"
    mine = f"mine-{uuid.uuid4().hex}"
    client.set(others, b"1", ex=60)
    cache.set(mine, 1, 60)
    try:
        cache.clear()
        assert cache.get(mine) is None
        assert client.get(others) == b"1"
    finally:
        client.delete(others)
