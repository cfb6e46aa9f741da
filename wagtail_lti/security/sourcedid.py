"""``lis_result_sourcedid``: the opaque handle a tool quotes when it sends a learner's score.

The value is the placement, the user and the provider, encrypted and authenticated (Fernet:
AES-128-CBC + HMAC-SHA256) under a key used for nothing else (``security.keys``, derived
from ``ENCRYPTION_KEY``). So a tool

* learns nothing from it (no user or page ids in the clear);
* cannot forge one, nor change it to point at another learner or another placement: any change
  fails the authentication;
* cannot use another tool's: :func:`resolve_sourcedid` checks the provider named inside against
  the provider whose key signed the request, and against the placement's current provider.

Changing the encryption key invalidates the sourcedids tools hold (they get a new one at the
learner's next launch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.contrib.auth import get_user_model

from ..models import LtiProvider, Placement
from .keys import SOURCEDID, fernet


MAX_LENGTH = 1024


class InvalidSourcedId(Exception):
    """The sourcedid was not issued by this platform, was altered, or does not belong to the
    provider, placement or user it is used for."""


@dataclass(frozen=True)
class SourcedIdRef:
    """What a sourcedid names, read but not yet checked against the database."""

    placement_id: int
    user_id: int
    provider_id: int


def _fernet() -> Fernet:
    return fernet(SOURCEDID)


def make_sourcedid(placement: Placement, user) -> str:
    """The ``lis_result_sourcedid`` of ``user`` on ``placement`` (for its current provider)."""
    link = placement.resource_link
    if link is None:
        raise ValueError("The placement has no resource link.")
    payload = {"p": placement.pk, "u": user.pk, "t": link.provider_id}
    return _fernet().encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def read_sourcedid(value: str) -> SourcedIdRef:
    """Decrypt ``value``; raises :class:`InvalidSourcedId` unless this platform issued it unaltered."""
    if not value or len(value) > MAX_LENGTH:
        raise InvalidSourcedId("The sourcedId is not valid.")
    try:
        data = json.loads(_fernet().decrypt(value.encode("ascii")))
        return SourcedIdRef(
            placement_id=int(data["p"]), user_id=int(data["u"]), provider_id=int(data["t"])
        )
    except (InvalidToken, UnicodeEncodeError, ValueError, KeyError, TypeError):
        raise InvalidSourcedId("The sourcedId is not valid.") from None


def resolve_sourcedid(value: str, provider: LtiProvider):
    """``(placement, user)`` named by ``value``, which must belong to ``provider``.

    Raises :class:`InvalidSourcedId` when the value was altered or not issued here, when it was
    issued for another provider, when the placement's resource link now belongs to another
    provider (or was removed), or when the placement or user no longer exists.
    """
    return resolve_ref(read_sourcedid(value), provider)


def resolve_ref(ref: SourcedIdRef, provider: LtiProvider):
    """:func:`resolve_sourcedid` for a sourcedid already read (:func:`read_sourcedid`).

    The placement and its resource link are catalogue rows: they are kept between requests
    (``launch.targets.kept``; any change to a placement or resource link, in any process, drops
    them). The user is read on every call."""
    from ..launch.targets import kept

    if ref.provider_id != provider.pk:
        raise InvalidSourcedId("The sourcedId belongs to another tool.")
    placement = kept(
        ("sourcedid-placement", ref.placement_id),
        lambda: (
            Placement.objects.select_related("resource_link").filter(pk=ref.placement_id).first()
        ),
    )
    if placement is None or placement.resource_link is None:
        raise InvalidSourcedId("The activity of this sourcedId no longer exists.")
    if placement.resource_link.provider_id != provider.pk:
        raise InvalidSourcedId("The activity of this sourcedId now uses another tool.")
    user = get_user_model().objects.filter(pk=ref.user_id, is_active=True).first()
    if user is None:
        raise InvalidSourcedId("The learner of this sourcedId no longer exists.")
    return placement, user
