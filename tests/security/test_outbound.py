"""Outbound requests (wagtail_lti.security.outbound): where the platform connects, and how much.

Local HTTP servers on 127.0.0.1 play the tools: one answers a keyset, one redirects, one drips
its answer slowly, one sends a huge body, one fails. The tests' settings allow local addresses
(tests/conftest.py); tests of the refusal turn that off. Address checks of other addresses use
literal IPs and a patched resolver, and never send traffic anywhere but 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import caches

from tests.content_selection.test_deep_linking import (  # noqa: F401 - fixtures
    deep_linking_launch,
    links,
    post_answer,
    resource,
    tool_keys,
    world,
)
from tests.support.lti13 import AGS, make_tool, post_token
from tests.tooling.lti13_tool import make_key_pair
from wagtail_lti.lti.client_assertion import ToolJwtError
from wagtail_lti.models import LaunchLogEntry
from wagtail_lti.security import outbound
from wagtail_lti.security import tool_keys as keys_rule


MIB = 1024 * 1024


class ToolServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.keyset: dict = {"keys": []}
        self.sent_bytes = 0
        self.host_headers: list[str] = []
        self.bodies: list[bytes] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: ToolServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.server.hits[self.path] += 1
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(self.rfile.read(length))
        self._send(200, b'{"ok": true}', [("Content-Type", "application/json")])

    def do_GET(self):
        path = self.path
        self.server.hits[path] += 1
        self.server.host_headers.append(self.headers.get("Host", ""))
        if path == "/jwks":
            self._send(200, json.dumps(self.server.keyset).encode())
        elif path == "/redirect":
            self._send(302, headers=[("Location", "/jwks")])
        elif path == "/fail":
            self._send(500, b"internal details of the tool")
        elif path == "/slow":
            # Headers at once, then one byte every 50 ms for 10 s: each read is quick, the
            # whole answer is not.
            self.send_response(200)
            self.send_header("Content-Length", "200")
            self.end_headers()
            self._drip(200, 0.05)
        elif path == "/slow-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for n in range(200):
                self.wfile.write(f"X-Drip-{n}: 1\r\n".encode())
                self.wfile.flush()
                time.sleep(0.05)
        elif path in ("/huge", "/huge-declared"):
            self.send_response(200)
            if path == "/huge-declared":
                self.send_header("Content-Length", str(64 * MIB))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(64 * MIB // len(chunk)):
                    self.wfile.write(chunk)
                    self.server.sent_bytes += len(chunk)
            except OSError:
                pass
            self.close_connection = True
        else:
            self._send(404)

    def _drip(self, count, pause):
        try:
            for _ in range(count):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass


@pytest.fixture(autouse=True)
def clear_cache():
    """Failures (and keysets) are remembered in the cache: each test starts without them."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def server():
    srv = ToolServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def local_refused(settings):
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "OUTBOUND_ALLOW_LOCAL": False}


@pytest.fixture
def connections(monkeypatch):
    """Record where connections would go, without connecting anywhere."""
    attempts: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("not connecting in tests")

    monkeypatch.setattr(outbound.urllib3_connection, "create_connection", create_connection)
    return attempts


def fetch(url, **kwargs):
    kwargs.setdefault("max_bytes", 64 * 1024)
    kwargs.setdefault("deadline", 2)
    return outbound.fetch(url, **kwargs)


# --- Which addresses (the rule) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "not an address",
    ],
)
def test_local_private_link_local_and_reserved_addresses_are_refused(address):
    assert not outbound.address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert outbound.address_allowed(address)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3:8443/jwks",
        "http://tool.example/jwks",  # plain http
        "ftp://tool.example/jwks",
        "https:///jwks",
    ],
)
def test_urls_refused_before_any_connection(url, local_refused, connections):
    with pytest.raises(outbound.OutboundError):
        fetch(url)
    assert connections == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answers", [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"], ["::ffff:192.168.0.1"]]
)
def test_names_resolving_to_a_refused_address_are_not_connected_to(
    answers, local_refused, connections, monkeypatch
):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: list(answers))
    with pytest.raises(outbound.AddressRefused) as refused:
        fetch("https://tool.example/jwks")
    assert connections == []
    assert "local, private or reserved" in refused.value.reason


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(
    local_refused, connections, monkeypatch
):
    """Resolved once; the socket is opened to that IP, so a second DNS answer cannot move it."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding resolver
    calls = []

    def resolve(host, port):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(outbound, "resolve", resolve)
    with pytest.raises(outbound.OutboundError):
        fetch("https://tool.example/jwks")
    assert calls == ["tool.example"]
    assert connections == [("93.184.216.34", 443)]


@pytest.mark.django_db
def test_a_name_is_connected_at_its_checked_address_with_its_host_header(server, monkeypatch):
    resolved = []

    def resolve(host, port):
        resolved.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    server.keyset = {"keys": [{"kid": "k"}]}
    port = server.server_address[1]
    answer = outbound.fetch_json(f"http://tool.test:{port}/jwks", max_bytes=1024, deadline=2)
    assert answer == {"keys": [{"kid": "k"}]}
    assert resolved == ["tool.test"]
    assert server.host_headers == [f"tool.test:{port}"]


@pytest.mark.django_db
def test_local_servers_are_not_contacted_unless_allowed(server, local_refused):
    for url in (f"{server.base}/jwks", f"https://127.0.0.1:{server.server_address[1]}/jwks"):
        with pytest.raises(outbound.OutboundError):
            fetch(url)
    assert sum(server.hits.values()) == 0


# --- Redirects, size, time -------------------------------------------------------------------------


@pytest.mark.django_db
def test_redirects_are_not_followed(server):
    with pytest.raises(outbound.OutboundError) as failed:
        fetch(f"{server.base}/redirect")
    assert "redirect" in failed.value.reason
    assert server.hits["/redirect"] == 1 and server.hits["/jwks"] == 0


@pytest.mark.django_db
def test_a_huge_body_is_cut_off_at_the_cap(server):
    with pytest.raises(outbound.OutboundError) as failed:
        fetch(f"{server.base}/huge", max_bytes=256 * 1024, deadline=10)
    assert "larger than" in failed.value.reason
    time.sleep(0.2)
    assert server.sent_bytes < 16 * MIB  # far from the 64 MiB on offer


@pytest.mark.django_db
def test_a_declared_huge_body_is_refused_before_reading_it(server):
    with pytest.raises(outbound.OutboundError) as failed:
        fetch(f"{server.base}/huge-declared", max_bytes=256 * 1024, deadline=10)
    assert "larger than" in failed.value.reason


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/slow", "/slow-headers"])
def test_a_slow_drip_answer_stops_at_the_total_deadline(server, path):
    started = time.monotonic()
    with pytest.raises(outbound.OutboundError) as failed:
        fetch(f"{server.base}{path}", deadline=1)
    elapsed = time.monotonic() - started
    assert "within 1 seconds" in failed.value.reason
    assert elapsed < 3, elapsed  # each byte came quickly; the whole answer would take 10 s


@pytest.mark.django_db
def test_post_with_a_body(server):
    answer = fetch(
        f"{server.base}/notice",
        method="POST",
        body=b'{"hello": 1}',
        content_type="application/json",
    )
    assert answer.status == 200 and answer.json() == {"ok": True}
    assert server.bodies == [b'{"hello": 1}']


# --- Failures remembered ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_failures_are_remembered_in_the_shared_cache(server, settings):
    for _ in range(3):
        with pytest.raises(outbound.OutboundError) as failed:
            fetch(f"{server.base}/fail")
    assert server.hits["/fail"] == 1
    assert failed.value.cached and failed.value.reason == "Answered HTTP 500."
    # In the cache CACHE_ALIAS (shared by all processes), not in this process' memory.
    caches["default"].clear()
    with pytest.raises(outbound.OutboundError):
        fetch(f"{server.base}/fail")
    assert server.hits["/fail"] == 2
    # 0: not remembered.
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "OUTBOUND_FAILURE_CACHE_SECONDS": 0}
    caches["default"].clear()
    for _ in range(2):
        with pytest.raises(outbound.OutboundError):
            fetch(f"{server.base}/fail")
    assert server.hits["/fail"] == 4


# --- Tools' keys (the callers) ----------------------------------------------------------------------


def keyset_of(tool) -> dict:
    return {"keys": tool.conf.get_jwks()["keys"]}


@pytest.mark.django_db
def test_a_disabled_providers_keys_are_never_fetched(server, orgs):
    tool = make_tool(orgs["acme"], name="New tool", jwks_url=f"{server.base}/jwks", use_pem=False)
    server.keyset = keyset_of(tool)
    tool.provider.is_enabled = False
    tool.provider.save()
    with pytest.raises(ToolJwtError, match="not been enabled"):
        keys_rule.verify_tool_jwt(tool.provider, tool.assertion(), audience="x")
    assert server.hits["/jwks"] == 0


@pytest.mark.django_db
def test_keys_unavailable_has_one_message_and_a_detail(server, orgs, local_refused):
    tool = make_tool(orgs["acme"], name="Local tool", jwks_url=f"{server.base}/jwks", use_pem=False)
    with pytest.raises(keys_rule.ToolKeysUnavailable) as refused:
        keys_rule.public_key_for(tool.provider, "k")
    assert str(refused.value) == keys_rule.KEYS_UNAVAILABLE
    assert "https" in refused.value.detail
    assert server.hits["/jwks"] == 0


# --- The token endpoint (door) ----------------------------------------------------------------------


def token_log_errors() -> list[str]:
    return list(LaunchLogEntry.objects.filter(kind="token").values_list("error", flat=True))


@pytest.mark.django_db
def test_token_endpoint_refuses_local_jwks_url_generically_and_logs_why(
    client, orgs, server, local_refused
):
    tool = make_tool(orgs["acme"], name="Local tool", jwks_url=f"{server.base}/jwks", use_pem=False)
    response = post_token(client, tool.assertion())
    assert response.status_code == 401
    body = response.json()
    assert body == {"error": "invalid_client", "error_description": keys_rule.KEYS_UNAVAILABLE}
    assert server.hits["/jwks"] == 0
    (error,) = token_log_errors()
    assert "must use https" in error


@pytest.mark.django_db
def test_token_endpoint_caller_does_not_learn_what_the_url_answered(client, orgs, server):
    tool = make_tool(
        orgs["acme"], name="Failing tool", jwks_url=f"{server.base}/fail", use_pem=False
    )
    bogus_key = make_key_pair()[0]
    responses = [post_token(client, tool.assertion(key_pem=bogus_key)) for _ in range(3)]
    for response in responses:
        assert response.status_code == 401
        assert response.json()["error_description"] == keys_rule.KEYS_UNAVAILABLE
        assert "500" not in response.content.decode()
    assert server.hits["/fail"] == 1  # the failure is remembered: no fetch per request
    errors = token_log_errors()
    assert len(errors) == 3 and all("Answered HTTP 500" in e for e in errors)


@pytest.mark.django_db
def test_token_endpoint_does_not_follow_a_redirecting_jwks_url(client, orgs, server):
    tool = make_tool(
        orgs["acme"], name="Moved tool", jwks_url=f"{server.base}/redirect", use_pem=False
    )
    server.keyset = keyset_of(tool)
    assert post_token(client, tool.assertion()).status_code == 401
    assert server.hits["/jwks"] == 0
    assert "redirect" in token_log_errors()[0]


@pytest.mark.django_db
def test_token_endpoint_never_fetches_for_a_disabled_provider(client, orgs, server):
    tool = make_tool(orgs["acme"], name="New tool", jwks_url=f"{server.base}/jwks", use_pem=False)
    tool.provider.is_enabled = False
    tool.provider.save()
    assert post_token(client, tool.assertion()).status_code == 401
    assert server.hits["/jwks"] == 0


@pytest.mark.django_db
def test_a_pylti1p3_tool_gets_a_token_and_posts_a_score_when_local_is_allowed(orgs, server):
    tool = make_tool(orgs["acme"], name="Local tool", jwks_url=f"{server.base}/jwks", use_pem=False)
    server.keyset = keyset_of(tool)
    token = tool.connector().get_access_token([f"{AGS}score"])
    assert token
    assert server.hits["/jwks"] == 1


# --- The Deep Linking return (door) ------------------------------------------------------------------


def use_jwks_url(world, server):  # noqa: F811
    """The world's tool publishes its key at the local server instead of a registered PEM."""
    from jwcrypto.jwk import JWK

    jwk = {**JWK.from_pem(world.tool_public.encode()).export_public(as_dict=True)}
    jwk.update(alg="RS256", use="sig")  # no kid: the keyset's only key is used
    server.keyset = {"keys": [jwk]}
    world.provider.jwks_url = f"{server.base}/jwks"
    world.provider.public_key_pem = ""
    world.provider.save()


def answer_token(world) -> str:  # noqa: F811
    launched = deep_linking_launch(world)
    return launched.sign(launched.message([resource("Quiz", "https://tool.example/quiz")]))


@pytest.mark.django_db
def test_deep_linking_answer_of_a_disabled_provider_fetches_nothing(world, server):  # noqa: F811
    use_jwks_url(world, server)
    token = answer_token(world)
    world.provider.is_enabled = False
    world.provider.save()
    response = post_answer(world.client, token)
    assert response.status_code == 400
    assert "not been enabled" in response.content.decode()
    assert server.hits["/jwks"] == 0
    assert links().count() == 1  # only the existing one


@pytest.mark.django_db
def test_deep_linking_answer_refused_jwks_url_is_generic_and_logged(world, server, settings):  # noqa: F811
    use_jwks_url(world, server)
    token = answer_token(world)
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "OUTBOUND_ALLOW_LOCAL": False}
    response = post_answer(world.client, token)
    page = response.content.decode()
    assert response.status_code == 400
    assert "could not be fetched or used" in page
    assert "https" not in page.split("could not be fetched or used", 1)[1][:200]
    assert server.hits["/jwks"] == 0
    assert links().count() == 1
    entry = LaunchLogEntry.objects.filter(provider=world.provider).order_by("-pk").first()
    assert "must use https" in entry.error


@pytest.mark.django_db
def test_deep_linking_answer_verified_with_keys_from_an_allowed_jwks_url(world, server):  # noqa: F811
    use_jwks_url(world, server)
    response = post_answer(world.client, answer_token(world))
    assert response.status_code == 303, response.content.decode()
    assert server.hits["/jwks"] == 1
    assert links().count() == 2


# --- https: the checked address, the name for SNI and the certificate ------------------------------


def self_signed(tmp_path, name: str):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_server(server, tmp_path, monkeypatch):
    """The local server behind TLS with a certificate for ``tool.test`` (trusted by the session)."""
    import ssl

    cert_file, key_file = self_signed(tmp_path, "tool.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    monkeypatch.setattr(outbound.http_session(), "verify", cert_file)
    return server


@pytest.mark.django_db
def test_https_to_a_checked_address_verifies_the_certificate_of_the_name(tls_server, monkeypatch):
    resolved = []

    def resolve(host, port):
        resolved.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    tls_server.keyset = {"keys": [{"kid": "tls"}]}
    port = tls_server.server_address[1]
    answer = outbound.fetch_json(f"https://tool.test:{port}/jwks", max_bytes=1024, deadline=3)
    assert answer == {"keys": [{"kid": "tls"}]}
    assert resolved == ["tool.test"]
    assert tls_server.host_headers == [f"tool.test:{port}"]

    # Another name at the same address: its certificate does not match, nothing is read.
    with pytest.raises(outbound.OutboundError):
        outbound.fetch(f"https://other.test:{port}/jwks", max_bytes=1024, deadline=3)
    assert tls_server.hits["/jwks"] == 1
