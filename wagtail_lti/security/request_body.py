"""How much a caller may send us: the one reader of request bodies.

Every door that reads a request body (tools' service calls, their answers, registration, the
authorization endpoint) reads it through :func:`read_body`, which refuses, before anything is
parsed or stored:

* a declared ``Content-Length`` over the limit, before reading a byte;
* a ``Content-Length`` that is not a whole number of bytes (Django would fail on it later);
* a body that turns out larger than the limit once read (no or a false ``Content-Length``, e.g.
  chunked uploads under ASGI), or larger than Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

The limit is ``MAX_REQUEST_BODY`` unless the caller gives another. Each door turns a
:class:`BodyRefused` into its own protocol's error (AGS 413 JSON, Basic Outcomes POX failure, an
OAuth 2 or registration error, the editor's page...).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from ..conf import lti_settings


TOO_LARGE = "too_large"
BAD_LENGTH = "bad_content_length"


class BodyRefused(Exception):
    """The request body was not read, or not accepted. ``reason`` is :data:`TOO_LARGE` or
    :data:`BAD_LENGTH`; ``limit`` the limit in bytes; ``str(exc)`` says it for a person."""

    def __init__(self, reason: str, limit: int):
        self.reason = reason
        self.limit = limit
        if reason == BAD_LENGTH:
            message = "The Content-Length header is not a number of bytes."
        else:
            message = f"The request body is larger than {limit} bytes."
        super().__init__(message)

    @property
    def too_large(self) -> bool:
        return self.reason == TOO_LARGE


def declared_length(request: HttpRequest, limit: int) -> int:
    """The ``Content-Length`` the caller declared (0 when absent); :class:`BodyRefused` when it
    is not a whole number of bytes or is over ``limit``."""
    raw = str(request.META.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or not raw.isascii():
        raise BodyRefused(BAD_LENGTH, limit)
    length = int(raw)
    if length > limit:
        raise BodyRefused(TOO_LARGE, limit)
    return length


def read_body(request: HttpRequest, limit: int | None = None) -> bytes:
    """The request body, at most ``limit`` bytes (default ``MAX_REQUEST_BODY``).

    Raises :class:`BodyRefused`. Once read, ``request.POST`` is parsed from the same bytes.
    """
    if limit is None:
        limit = int(lti_settings.MAX_REQUEST_BODY)
    declared_length(request, limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise BodyRefused(TOO_LARGE, limit) from None
    if len(body) > limit:
        raise BodyRefused(TOO_LARGE, limit)
    return body
