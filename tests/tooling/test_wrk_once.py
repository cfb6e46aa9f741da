"""``benchmarks/_wrk.py``'s ``once`` mode against a local server that loses connections.

The grade sync benchmark (``benchmarks/score_ingestion.py``) needs every score answered once
even when the server drops a connection: here a plain HTTP server resets some connections
before answering, answers some lines 503 first, and records a line then resets its connection;
wrk (the real load generator) must send exactly those lines again and end when all are answered.
"""

from __future__ import annotations

import shutil
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks import _wrk


pytestmark = pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")

RESET_FIRST = {3, 11}  # connection reset before any answer, the first time
BUSY_FIRST = {5, 16}  # 503 the first time
RECORDED_THEN_RESET = {8}  # recorded, then the connection reset; sent again: 409


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        name = self.path.strip("/").split("/")[-1]
        number = int(name.removeprefix("again-"))
        server = self.server
        with server.lock:
            server.seen[self.path] += 1
            seen = server.seen[f"/line/{number}"] + server.seen[f"/again/again-{number}"]
            if number in server.never_answered:
                return self._reset()
            if number in RESET_FIRST and seen == 1:
                return self._reset()
            if number in RECORDED_THEN_RESET and seen == 1:
                server.recorded[number] += 1
                return self._reset()
            if number in BUSY_FIRST and seen == 1:
                return self._answer(503, b"busy")
            if number in RECORDED_THEN_RESET:
                return self._answer(409, b"already recorded")
            server.recorded[number] += 1
        self._answer(200, b'{"ok": true}')

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.lock = threading.Lock()
    httpd.seen = Counter()
    httpd.recorded = Counter()
    httpd.never_answered = set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _line(path):
    return _wrk.Line("POST", path, {"Content-Type": "application/json"}, '{"n": 1}')


def test_slices_are_disjoint_and_cover_every_line():
    parts = _wrk.slices(10, 4)
    assert parts == [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]]
    assert sorted(n for part in parts for n in part) == list(range(10))
    assert _wrk.slices(2, 4) == [[0], [1], [], []]


def test_every_line_is_answered_once_despite_resets_and_busy_answers(server, tmp_path):
    count = 20
    lines = [_line(f"/line/{n}") for n in range(count)]
    again = [_line(f"/again/again-{n}") for n in range(count)]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    result = _wrk.run_once(
        base, lines, workdir=tmp_path, connections=4, seconds=120, again=again, already=(409,)
    )
    elapsed = time.monotonic() - started

    # Every line recorded exactly once; the lines sent again were the ones that needed it.
    assert server.recorded == Counter(range(count))
    assert server.seen == Counter(
        {f"/line/{n}": 1 for n in range(count)}
        | {f"/again/again-{n}": 1 for n in RESET_FIRST | BUSY_FIRST | RECORDED_THEN_RESET}
    )
    assert result["valid"] == count - len(RECORDED_THEN_RESET)
    assert result["already"] == len(RECORDED_THEN_RESET)
    assert result["resets"] == len(RESET_FIRST | RECORDED_THEN_RESET)
    assert result["retried"] == len(BUSY_FIRST)
    assert (result["invalid"], result["given_up"], result["unanswered"]) == (0, 0, 0)
    assert result["threads"] == 4
    assert result["first_request"] <= result["last_answer"]
    # It ended with its answers, not at its upper bound of 120 s (wrk sleeps that long).
    assert elapsed < 60


def test_a_line_that_never_gets_an_answer_is_given_up_and_the_run_still_ends(server, tmp_path):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.never_answered = {1}
    lines = [_line("/line/1"), _line("/line/2")]
    result = _wrk.run_once(base, lines, workdir=tmp_path, connections=1, seconds=120)
    assert server.seen["/line/1"] == _wrk.MAX_ATTEMPTS
    assert result["resets"] == _wrk.MAX_ATTEMPTS
    assert result["given_up"] == 1
    assert result["valid"] == 1
    assert server.recorded == Counter({2: 1})
    assert result["unanswered"] == 0
