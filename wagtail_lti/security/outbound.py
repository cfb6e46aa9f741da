"""Every HTTP request the platform makes to another server goes through :func:`fetch`.

The URLs come from editors (a provider's JWKS URL) or from tools themselves (Dynamic
Registration), and anonymous callers can make the platform fetch them (a bogus client assertion
naming a known client ID). So a fetch:

* connects only to public addresses: the host name is resolved once, **every** address it
  resolves to is checked (loopback, private, link-local, shared, multicast, reserved and
  unspecified addresses are refused, IPv4 inside IPv6 too) and the connection is made to the
  address that was checked, with the name kept for the ``Host`` header, TLS SNI and certificate
  check, so a DNS answer that changes between check and connect (DNS rebinding) cannot move it;
* uses https only;
* never follows redirects (a 3xx answer is a failure);
* reads at most ``max_bytes`` of the (decoded) body, streaming, and gives up at a **total**
  deadline (connect, TLS, headers and body together), however slowly the server drips;
* remembers a failure for ``OUTBOUND_FAILURE_CACHE_SECONDS`` in the shared cache, so repeating
  the request that caused it does not reach the server again;
* ignores proxy settings from the environment.

``OUTBOUND_ALLOW_LOCAL`` (development sites, tests) allows local and private addresses and
plain http. Failures raise :class:`OutboundError`, whose ``reason`` is for the launch log and
the server log, not for anonymous callers.

Tests may mount their own ``requests`` transport adapters on :func:`http_session` for a URL
prefix; such an adapter replaces this module's connection (and its address check) for that
prefix, everything else (URL rules, redirects, size, deadline, failure cache) still applies.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.cache import caches
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

from wagtail_lti.conf import lti_settings


logger = logging.getLogger(__name__)

USER_AGENT = "wagtail-lti"
CHUNK_SIZE = 16 * 1024


class OutboundError(Exception):
    """A request to another server failed or was refused; ``reason`` says why (for logs)."""

    def __init__(self, reason: str, *, url: str = "", cached: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.url = url
        self.cached = cached


class AddressRefused(OutboundError):
    """The URL's host is, or resolves to, an address the platform does not connect to."""


@dataclass
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise OutboundError("The answer is not JSON.") from exc


# --- Which addresses ------------------------------------------------------------------------------


def allow_local() -> bool:
    """Whether local/private addresses and plain http are allowed (``OUTBOUND_ALLOW_LOCAL``)."""
    return bool(lti_settings.OUTBOUND_ALLOW_LOCAL)


def address_allowed(address: str) -> bool:
    """Whether the platform may connect to the IP ``address`` (with local ones not allowed)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
    return not (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (``getaddrinfo``; tests patch this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.append(sockaddr[0])
    return seen


def checked_addresses(host: str, port: int) -> list[str]:
    """Resolve ``host`` once and check every address; raises :class:`AddressRefused`."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(f"The host name {host} could not be resolved.") from exc
    if not addresses:
        raise OutboundError(f"The host name {host} could not be resolved.")
    if not allow_local():
        refused = [a for a in addresses if not address_allowed(a)]
        if refused:
            raise AddressRefused(
                f"{host} resolves to {', '.join(refused)}: a local, private or reserved address."
            )
    return addresses


def check_url(url: str) -> None:
    """Refuse a URL the platform never requests (scheme, host, literal address)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise OutboundError("The URL is not valid.") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise OutboundError("The URL must be an https URL with a host name.")
    if parts.scheme == "http" and not allow_local():
        raise OutboundError("The URL must use https.")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
    if not allow_local() and not address_allowed(host):
        raise AddressRefused(f"{host} is a local, private or reserved address.")


# --- The total deadline ---------------------------------------------------------------------------


@dataclass
class _Deadline:
    at: float
    timers: list[threading.Timer] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    armed: set[int] = field(default_factory=set)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def arm(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (a blocked read then returns at once)."""
        if sock is None or sock.fileno() in self.armed:
            return
        self.armed.add(sock.fileno())
        # A second descriptor of the same socket: it survives TLS wrapping (which detaches the
        # original object) and shutting it down ends the connection for every descriptor.
        handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        self.sockets.append(handle)
        timer = threading.Timer(max(self.remaining(), 0), _shut_down, (handle,))
        timer.daemon = True
        self.timers.append(timer)
        timer.start()

    def disarm(self) -> None:
        for timer in self.timers:
            timer.cancel()
        for handle in self.sockets:
            handle.close()


def _shut_down(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "wagtail_lti_outbound_deadline", default=None
)


# --- The connection: to the checked address, within the deadline --------------------------------


class _CheckedConnectionMixin:
    def _new_conn(self) -> socket.socket:
        deadline = _deadline.get()
        timeout = self.timeout
        if deadline is not None:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise OutboundError("The deadline passed before connecting.")
            if not isinstance(timeout, (int, float)) or timeout > remaining:
                timeout = remaining
        error: OSError | None = None
        for address in checked_addresses(self._dns_host, self.port):
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                error = exc
                continue
            if deadline is not None:
                deadline.arm(sock)
            return sock
        raise OutboundError(f"Could not connect to {self._dns_host}: {error}")

    def getresponse(self, *args, **kwargs):
        deadline = _deadline.get()
        if deadline is not None:
            deadline.arm(self.sock)  # a kept-alive connection, armed for this request
        return super().getresponse(*args, **kwargs)


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections go to checked addresses only."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPConnectionPool,
            "https": _CheckedHTTPSConnectionPool,
        }


_session: requests.Session | None = None
_session_lock = threading.Lock()


def http_session() -> requests.Session:
    """The ``requests`` session of every outbound request (tests mount adapters on it)."""
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment
            session.headers["User-Agent"] = USER_AGENT
            session.mount("https://", CheckedAdapter())
            session.mount("http://", CheckedAdapter())
            _session = session
    return _session


# --- Failures remembered --------------------------------------------------------------------------


def _failure_key(method: str, url: str) -> str:
    digest = hashlib.sha256(f"{method} {url}".encode()).hexdigest()
    return f"wagtail_lti:outbound_failure:{digest}"


def _cached_failure(method: str, url: str) -> tuple[str, str] | None:
    if int(lti_settings.OUTBOUND_FAILURE_CACHE_SECONDS) <= 0:
        return None
    try:
        value = caches[lti_settings.CACHE_ALIAS].get(_failure_key(method, url))
    except Exception:  # noqa: BLE001 - a cache outage must not stop the request
        logger.warning("Could not read the outbound failure cache", exc_info=True)
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return str(value[0]), str(value[1])
    return None


def remember_failure(method: str, url: str, reason: str, *, refused: bool = False) -> None:
    """Make requests of ``url`` fail at once for a while (also for answers a caller refuses)."""
    seconds = int(lti_settings.OUTBOUND_FAILURE_CACHE_SECONDS)
    if seconds <= 0:
        return
    value = ("refused" if refused else "failed", reason)
    try:
        caches[lti_settings.CACHE_ALIAS].set(_failure_key(method, url), value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("Could not write the outbound failure cache", exc_info=True)


def forget_failure(url: str, method: str = "GET") -> None:
    """Let the next request of ``url`` reach the server even if it failed a moment ago."""
    try:
        caches[lti_settings.CACHE_ALIAS].delete(_failure_key(method.upper(), url))
    except Exception:  # noqa: BLE001
        logger.warning("Could not write the outbound failure cache", exc_info=True)


# --- The one way to make a request ----------------------------------------------------------------


def fetch(
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    method: str = "GET",
    accept: str = "application/json",
    body: bytes | str | None = None,
    content_type: str = "",
    headers: Mapping[str, str] | None = None,
    ok_statuses: tuple[int, ...] = (200,),
    cache_failures: bool = True,
    answer_redirects: bool = False,
) -> OutboundResponse:
    """Request ``url`` under the rules of this module; the answer or :class:`OutboundError`.

    ``deadline``: seconds for the whole exchange. ``max_bytes``: the largest body accepted.
    ``ok_statuses``: the HTTP statuses that are a success (any other one is a failure; 3xx
    answers are never followed). ``cache_failures``: a failure is remembered for
    ``OUTBOUND_FAILURE_CACHE_SECONDS`` and the same request fails at once until then.
    ``answer_redirects``: a 3xx answer is returned (with its ``Location``), still not followed,
    when its status is in ``ok_statuses`` (the provider check reports where a tool sends a
    browser).
    """
    method = method.upper()
    if cache_failures:
        cached = _cached_failure(method, url)
        if cached is not None:
            kind, reason = cached
            error_class = AddressRefused if kind == "refused" else OutboundError
            raise error_class(reason, url=url, cached=True)
    try:
        return _fetch(
            url,
            method=method,
            max_bytes=max_bytes,
            deadline=float(deadline),
            accept=accept,
            body=body,
            content_type=content_type,
            headers=headers,
            ok_statuses=ok_statuses,
            answer_redirects=answer_redirects,
        )
    except OutboundError as exc:
        exc.url = url
        logger.warning("Outbound %s %s failed: %s", method, url, exc.reason)
        if cache_failures:
            remember_failure(method, url, exc.reason, refused=isinstance(exc, AddressRefused))
        raise


def fetch_json(url: str, **kwargs: Any) -> Any:
    """:func:`fetch` and parse the answer as JSON (a body that is not JSON is a failure)."""
    try:
        return fetch(url, **kwargs).json()
    except OutboundError as exc:
        if not exc.cached and kwargs.get("cache_failures", True):
            exc.url = url
            remember_failure(kwargs.get("method", "GET").upper(), url, exc.reason)
        raise


def _fetch(
    url: str,
    *,
    method: str,
    max_bytes: int,
    deadline: float,
    accept: str,
    body: bytes | str | None,
    content_type: str,
    headers: Mapping[str, str] | None,
    ok_statuses: tuple[int, ...],
    answer_redirects: bool = False,
) -> OutboundResponse:
    check_url(url)
    request_headers = {"Accept": accept, **(headers or {})}
    if content_type:
        request_headers["Content-Type"] = content_type
    state = _Deadline(at=time.monotonic() + deadline)
    token = _deadline.set(state)
    response: requests.Response | None = None
    too_slow = f"No complete answer within {deadline:g} seconds."
    try:
        try:
            response = http_session().request(
                method,
                url,
                data=body,
                headers=request_headers,
                timeout=deadline,
                allow_redirects=False,
                stream=True,
            )
            redirect = response.is_redirect or 300 <= response.status_code < 400
            if redirect and not (answer_redirects and response.status_code in ok_statuses):
                raise OutboundError(
                    f"Answered HTTP {response.status_code} (a redirect, which is not followed)."
                )
            if response.status_code not in ok_statuses:
                raise OutboundError(f"Answered HTTP {response.status_code}.")
            content = _read_body(response, max_bytes, state, too_slow)
        except OutboundError:
            raise
        except (requests.Timeout, TimeoutError) as exc:
            raise OutboundError(too_slow) from exc
        except (requests.RequestException, OSError, ValueError) as exc:
            if state.remaining() <= 0:
                raise OutboundError(too_slow) from exc
            raise OutboundError(f"The request failed ({type(exc).__name__}).") from exc
        if state.remaining() <= 0:
            raise OutboundError(too_slow)
        return OutboundResponse(response.status_code, dict(response.headers), content)
    finally:
        if response is not None:
            response.close()
        state.disarm()
        _deadline.reset(token)


def _read_body(
    response: requests.Response, max_bytes: int, state: _Deadline, too_slow: str
) -> bytes:
    too_large = f"The answer is larger than {max_bytes} bytes."
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise OutboundError(too_large)
    if response.raw is None:  # an answer already in memory (a test's transport adapter)
        content = response.content or b""
        if len(content) > max_bytes:
            raise OutboundError(too_large)
        return content
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise OutboundError(too_large)
        if state.remaining() <= 0:
            raise OutboundError(too_slow)
        chunks.append(chunk)
    return b"".join(chunks)
