"""What a launch needs to know about a placement, loaded once and shared between requests.

Every launch of a placement (the learner's launch view, the LTI 1.3 authorization request, the
1.1 launch) needs the same facts: the placement with its resource link and provider, the course
page's organization, title and state, whether the link and its provider are still available to
that organization, and the placement's automatic line item. They change only when an editor
changes the catalogue, and loading them costs about ten queries. :func:`launch_target` loads
them as a :class:`LaunchTarget` and keeps it, pickled, for ``LAUNCH_TARGET_CACHE_SECONDS``.

**Correct across processes.** Each kept target is stamped with the *catalogue generation*, a
random token in the shared cache named by ``CACHE_ALIAS`` (``wagtail_lti:catalogue-generation``). Saving or deleting
a provider, resource link, placement, line item, organization, page or page view restriction,
changing an availability list, publishing, unpublishing or moving a page, or moving an organization replaces the token
(``wagtail_lti.signals``), at once and again when the transaction commits; every process
compares the token (one cache read, once per request: see :func:`_generation`) and drops what
was loaded under another one. A missing token (a cache restart, an eviction) counts as a change. The time limit bounds what a
change made behind Django's back (``QuerySet.update()`` or SQL) can leave stale; call
:func:`catalogue_changed` after such changes. With a cache that is not shared (local memory)
several processes can differ for up to that limit, which is why production sites use a shared
cache (docs/production.md).

Nothing single-use or per-person is kept here: enrollments, message hints, nonces and the
learner's progress are read from the database on every launch.
"""

from __future__ import annotations

import logging
import pickle
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from asgiref.local import Local
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import transaction

from ..conf import lti_settings


logger = logging.getLogger(__name__)

GENERATION_KEY = "wagtail_lti:catalogue-generation"
#: Most targets kept per process (the one loaded longest ago is dropped first).
MAX_TARGETS = 2000

_lock = threading.Lock()
_targets: OrderedDict[tuple, tuple[str, float, bytes]] = OrderedDict()
#: The generation read by the request being served on this thread (``None``: not read yet, or
#: not inside a request).
_request = Local()


@dataclass(frozen=True)
class CourseFacts:
    """What a launch uses of a placement's course page (not the page itself: no stream data)."""

    pk: int
    title: str
    live: bool
    #: False when the page's model does not use ``CoursePageMixin``.
    is_course: bool
    course_code: str
    organization: object | None  # wagtail_lti.models.Organization
    #: The pages (this one or its ancestors) whose Wagtail view restrictions (password, groups,
    #: login) apply to this page; empty when none do, and then a launch reads nothing more.
    restricted_by: tuple[int, ...] = ()
    #: ``$Context.id.history``: empty unless the page is a copy (``courses.copies``).
    context_id_history: str = ""

    @property
    def course_organization_id(self) -> int | None:
        """As on the course page: what the launch log's row names as the course's organization
        (``launch_log.record`` with ``course=``), so it is not read again."""
        return self.organization.pk if self.organization is not None else None


@dataclass(frozen=True)
class LaunchTarget:
    """A placement as a launch sees it (see the module docstring).

    ``placement.resource_link`` and ``placement.resource_link.provider`` are loaded (or ``None``);
    ``placement.page`` is the base ``Page``. ``course`` is ``None`` when the page is gone.
    """

    placement: object  # wagtail_lti.models.Placement
    course: CourseFacts | None
    link_usable: bool
    provider_usable: bool
    line_item: object | None  # wagtail_lti.models.LineItem

    @property
    def link(self):
        return self.placement.resource_link

    @property
    def provider(self):
        link = self.placement.resource_link
        return link.provider if link is not None else None


# --- The catalogue generation ---------------------------------------------------------------------


def _cache():
    return caches[lti_settings.CACHE_ALIAS]


def _generation() -> str:
    """The current generation. Inside a request it is read once, at the request's first kept
    value, and used for the rest of the request (as if the request had read everything it keeps
    at that moment); a change the request itself makes (:func:`_bump`) is seen at once. Outside
    a request (commands, tasks, tests) every call reads the cache."""
    generation = getattr(_request, "generation", None)
    if generation is not None:
        return generation
    cache = _cache()
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=None)
        generation = cache.get(GENERATION_KEY) or ""
    if getattr(_request, "serving", False):
        _request.generation = generation
    return generation


def _request_started(**kwargs) -> None:
    _request.serving, _request.generation = True, None


def _request_finished(**kwargs) -> None:
    _request.serving, _request.generation = False, None


request_started.connect(_request_started, dispatch_uid="wagtail_lti_targets_request_started")
request_finished.connect(_request_finished, dispatch_uid="wagtail_lti_targets_request_finished")


def _bump() -> None:
    _request.generation = None
    try:
        _cache().set(GENERATION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # noqa: BLE001 - the cache being down must not break an editor's save
        logger.exception("Could not mark the LTI catalogue as changed")
    with _lock:
        _targets.clear()


def catalogue_changed() -> None:
    """Forget every kept launch target, in every process (now and when the transaction commits).

    ``wagtail_lti.signals`` calls it on every change Django signals; call it yourself after
    changing providers, resource links, placements, organizations or course pages with
    ``QuerySet.update()`` or SQL.
    """
    _bump()
    if transaction.get_connection().in_atomic_block:
        # Other processes may load the old rows again until the transaction commits.
        transaction.on_commit(_bump)


# --- Loading ------------------------------------------------------------------------------------


def _course_facts(page) -> CourseFacts | None:
    from ..courses.copies import context_id_history
    from ..models import CoursePageMixin

    if page is None:
        return None
    specific = page.specific
    is_course = isinstance(specific, CoursePageMixin)
    return CourseFacts(
        pk=page.pk,
        title=specific.title,
        live=specific.live,
        is_course=is_course,
        course_code=(getattr(specific, "course_code", "") or "") if is_course else "",
        organization=specific.course_organization if is_course else None,
        restricted_by=tuple(sorted({r.page_id for r in specific.get_view_restrictions()})),
        context_id_history=context_id_history(page) if is_course else "",
    )


def _load(**lookup) -> LaunchTarget | None:
    from ..models import Placement
    from ..scoping import is_usable_by
    from ..services.results import line_item_for

    placement = (
        Placement.objects.select_related("resource_link__provider", "page").filter(**lookup).first()
    )
    if placement is None:
        return None
    course = _course_facts(placement.page)
    organization = course.organization if course is not None else None
    link = placement.resource_link
    return LaunchTarget(
        placement=placement,
        course=course,
        link_usable=link is not None and is_usable_by(link, organization),
        provider_usable=link is not None and is_usable_by(link.provider, organization),
        line_item=line_item_for(placement) if link is not None else None,
    )


def _keep(key: tuple, generation: str, value) -> None:
    expires = time.monotonic() + float(lti_settings.LAUNCH_TARGET_CACHE_SECONDS)
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    with _lock:
        _targets[key] = (generation, expires, data)
        _targets.move_to_end(key)
        while len(_targets) > MAX_TARGETS:
            _targets.popitem(last=False)


def kept(key: tuple, load):
    """What is kept under ``key`` for the current generation, else ``load()`` kept.

    ``load`` reads only catalogue facts (what the generation covers: see the module docstring);
    launch targets use it, and so does a tool's access to a course
    (``services.access.course_access_by_id``). Inside a request the generation is read once
    (:func:`_generation`).

    Nothing is kept when ``LAUNCH_TARGET_CACHE_SECONDS`` is 0, or while the shared cache cannot
    be read (then every launch reads the database, and none fails because of the cache).
    """
    if lti_settings.LAUNCH_TARGET_CACHE_SECONDS <= 0:
        return load()
    try:
        generation = _generation()
    except Exception:  # noqa: BLE001 - e.g. Redis down: correct without the cache, only slower
        logger.warning("The cache cannot be read: launch targets are read from the database")
        return load()
    kept = _targets.get(key)
    if kept is not None and kept[0] == generation and kept[1] > time.monotonic():
        return pickle.loads(kept[2])  # noqa: S301 - our own bytes, never from outside
    value = load()
    _keep(key, generation, value)
    return value


def launch_target(*, lti_id: str | None = None, pk: int | None = None) -> LaunchTarget | None:
    """The :class:`LaunchTarget` of the placement with ``lti_id`` (or primary key ``pk``).

    ``None`` when there is no such placement. Each call returns fresh objects: changing them
    changes nothing kept.
    """
    field, value = ("lti_id", lti_id) if lti_id is not None else ("pk", pk)
    if value is None:
        return None
    return kept((field, value), lambda: _load(**{field: value}))


def lti13_provider(client_id: str):
    """The LTI 1.3 provider with ``client_id`` (an ``LtiProvider``), or ``None``; kept like
    launch targets, and a fresh object on each call."""
    from ..models import LtiProvider

    def load():
        return LtiProvider.objects.filter(
            client_id=client_id, lti_version=LtiProvider.Version.LTI_1P3
        ).first()

    return kept(("client_id", client_id), load)


def forget_kept_targets() -> None:
    """Drop what this process keeps (tests; the shared generation is left alone)."""
    with _lock:
        _targets.clear()
