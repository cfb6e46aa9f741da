"""The opaque, stable user id sent to tools (LTI 1.1 ``user_id``, LTI 1.3 ``sub``, AGS ``userId``).

An HMAC-SHA256 of the user's primary key under a key derived from ``ENCRYPTION_KEY`` (or
``SECRET_KEY``): stable for the site, the same for every tool, and revealing neither the username
nor the primary key. It is one-way, so :func:`user_for_opaque_id` finds the user by recomputing the
id over a set of candidates, typically a course's roster, once: the answer (which primary key has
that id, a fact that never changes for a given key) is kept in the cache named by ``CACHE_ALIAS``,
for every candidate the scan computed, and later lookups only check that this user is still among
the candidates (one indexed query).
"""

from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db.models import QuerySet

from ..conf import lti_settings
from .keys import CONTEXT_ID, USER_ID, derived_key


OPAQUE_ID_LENGTH = 32  # hex characters (128 bits)


def _key() -> bytes:
    return derived_key(USER_ID)


def opaque_id_for_pk(pk) -> str:
    digest = hmac.new(_key(), f"user:{pk}".encode(), hashlib.sha256).hexdigest()
    return digest[:OPAQUE_ID_LENGTH]


def opaque_user_id(user) -> str:
    """The user's opaque LTI id (lower-case hex, 32 characters)."""
    return opaque_id_for_pk(user.pk)


def user_for_opaque_id(value: str, users: QuerySet | None = None):
    """The user among ``users`` (default: every user) whose opaque id is ``value``, or None.

    Pass the smallest candidate set that makes sense (a course's members): the id is recomputed
    for each candidate.
    """
    if not isinstance(value, str) or len(value) != OPAQUE_ID_LENGTH:
        return None
    candidates = users if users is not None else get_user_model().objects.all()
    cache = caches[lti_settings.CACHE_ALIAS]
    # The key names the key material (by a digest of it): a new ENCRYPTION_KEY means new ids.
    cache_key = f"wagtail_lti:opaque-user:{_key_for_cache()}:{value}"
    known = cache.get(cache_key)
    if known is not None and hmac.compare_digest(opaque_id_for_pk(known), value):
        return candidates.filter(pk=known).first()
    # Not known yet: recompute the candidates' ids, and keep each one computed (up to
    # OPAQUE_IDS_KEPT_PER_SCAN), so a tool sending the scores of a whole class scans the roster
    # once, not once per learner.
    found, computed = None, {}
    prefix = cache_key[: -len(value)]
    for pk in candidates.values_list("pk", flat=True).iterator():
        opaque = opaque_id_for_pk(pk)
        if len(computed) < OPAQUE_IDS_KEPT_PER_SCAN:
            computed[prefix + opaque] = pk
        if found is None and hmac.compare_digest(opaque, value):
            found = pk
            if len(computed) >= OPAQUE_IDS_KEPT_PER_SCAN:
                break
    if computed:
        cache.set_many(computed, timeout=OPAQUE_ID_CACHE_SECONDS)
    if found is not None:
        return candidates.model.objects.get(pk=found)
    return None


#: How long the user of an opaque id is remembered (the answer never changes; this only bounds
#: the cache's memory).
OPAQUE_ID_CACHE_SECONDS = 7 * 24 * 3600
#: Most ids one scan of candidates keeps in the cache.
OPAQUE_IDS_KEPT_PER_SCAN = 20_000


def _key_for_cache() -> str:
    return hashlib.sha256(_key()).hexdigest()[:16]


def context_id(course) -> str:
    """The ``context_id`` of a course page: opaque, stable, unique on this platform.

    An HMAC of the page's primary key under a key derived from ``ENCRYPTION_KEY`` (or
    ``SECRET_KEY``), like the user ids of ``wagtail_lti.security.identifiers``.
    """
    digest = hmac.new(
        derived_key(CONTEXT_ID), f"context:{course.pk}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:OPAQUE_ID_LENGTH]


def test_launch_id(kind: str, pk) -> str:
    """An opaque id of an editor's test launch from the catalogue (``launch.test_launch``): the
    test ``context_id`` of an editor (``kind="context"``), the test resource link id of a link or
    a provider. Stable, and never the id of a real course or placement."""
    digest = hmac.new(
        derived_key(CONTEXT_ID), f"test-{kind}:{pk}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:OPAQUE_ID_LENGTH]
