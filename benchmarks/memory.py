"""Resident memory of one worker over 10,000 launches and 10,000 scores: no growth beyond the
bounded caches.

One process plays the worker the way a WSGI server does: each request is a WSGI environ (built
with Django's ``RequestFactory``) handed to Django's ``WSGIHandler``, the body read and the
response closed (the whole middleware, session, views and database; no network). First
``--launches`` LTI 1.3 authorization requests (each with its own message hint, spread over 16
learners), then ``--scores`` AGS score posts (10 tools, 200 learners). At 10 %, 25 %, 50 %, 75 %
and 100 % it prints the resident set size (``VmRSS``, after a garbage collection) and the bytes
Python allocated since the 25 % checkpoint that are still alive (``tracemalloc``, which starts
there); at the end, the source lines that hold most of that growth.

Django's test client is not used for the load: every request it makes connects three signal
receivers again (``request_started``/``request_finished`` → ``close_old_connections``,
``got_request_exception`` → the client), and each ``Signal.connect`` registers a
``weakref.finalize`` on a receiver that lives as long as the process, so the test client grows
by about 1 KiB per request of its own (measured: ``django/dispatch/dispatcher.py:111`` and
``weakref.py:575-582``; the figures in docs/benchmarks.md, section 5, "Memory of a worker").
A real server calls the handler and never connects signals per request.

What a worker keeps by design is bounded: the kept launch targets and course accesses
(``launch.targets.MAX_TARGETS``), the signing keys (``security.platform_keys``), the tools' keys,
the local-memory cache (``MAX_ENTRIES``), Django's and Python's own caches; so after warming up
the figure should level off. Run from the project root::

    .venv/bin/python benchmarks/memory.py [--launches 10000] [--scores 10000] [--top 10]
        [--frames 1] [--via wsgi|test-client]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path

from _harness import database, print_machine


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def checkpoints(total: int) -> list[int]:
    return sorted({total // 10, total // 4, total // 2, (3 * total) // 4, total})


class Worker:
    """Django's WSGI application called as a WSGI server calls it (``via="wsgi"``), or, to
    show what the test client adds, Django's test client given the same environ."""

    def __init__(self, via: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import Client

        self.handler = WSGIHandler()
        self.client = Client() if via == "test-client" else None

    def __call__(self, environ: dict) -> tuple[int, bytes]:
        if self.client is not None:
            response = self.client.request(**environ)
            return response.status_code, response.content
        status: list[str] = []

        def start_response(line, headers, exc_info=None):
            status.append(line)

        result = self.handler(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()  # as a server does: fires request_finished
        return int(status[0].split()[0]), body


def play(
    kind: str, environs: Iterable[dict], count: int, check: Callable[[int, bytes], bool], args
) -> list[tuple[str, int, float, float]]:
    """Send ``count`` requests; RSS and traced growth at the checkpoints."""
    worker = Worker(args.via)
    marks = checkpoints(count)
    rows = []
    start_snapshot = None
    for n, environ in enumerate(environs, start=1):
        status, body = worker(environ)
        if not check(status, body):
            raise RuntimeError(f"{kind} {n}: {status} {body[:300]!r}")
        if n in marks:
            gc.collect()
            if n == marks[1] and args.frames > 0:
                tracemalloc.start(args.frames)
                start_snapshot = tracemalloc.take_snapshot()
            traced = tracemalloc.get_traced_memory()[0] / 1024 if tracemalloc.is_tracing() else 0.0
            own = tracemalloc.get_tracemalloc_memory() / 1024 / 1024
            rows.append((kind, n, rss_mib(), traced))
            print(
                f"  after {n:6d} {kind:8s} RSS {rss_mib():7.1f} MiB   still allocated since "
                f"{marks[1]}: {traced:8.1f} KiB   (tracemalloc's own memory {own:.1f} MiB)"
            )
    if start_snapshot is None:  # --frames 0: resident memory only
        return rows
    end_snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    print(f"  Top growth of {kind} between {marks[1]} and {count} (tracemalloc, live allocations):")
    for stat in end_snapshot.compare_to(start_snapshot, "lineno")[: args.top]:
        print(f"    {stat}")
    if args.frames > 1:
        for stat in end_snapshot.compare_to(start_snapshot, "traceback")[:3]:
            print(f"    {stat}")
            for line in stat.traceback.format(most_recent_first=True)[: 2 * args.frames]:
                print(f"      {line}")
    return rows


def launches(count: int, args) -> list:
    from django.test import RequestFactory
    from launch_throughput import seed, started_launches

    world = seed()
    factories = {}
    for _user, _client, cookie in world["learners"]:
        factory = RequestFactory(HTTP_HOST="localhost")
        factory.cookies["sessionid"] = cookie
        factories[cookie] = factory
    lines = started_launches(world, count)
    environs = (factories[cookie].get(path).environ for path, cookie in lines)
    return play("launches", environs, count, lambda status, body: b'name="id_token"' in body, args)


def scores(count: int, args) -> list:
    from django.test import RequestFactory
    from score_ingestion import ags_lines, seed

    world = seed(10, 200, 10)
    factory = RequestFactory(HTTP_HOST="localhost")
    environs = (
        factory.post(
            line.path,
            data=line.body,
            content_type=line.headers["Content-Type"],
            headers={"Authorization": line.headers["Authorization"]},
        ).environ
        for line in ags_lines(world, count, "real")
    )
    return play("scores", environs, count, lambda status, body: status == 200, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=10_000)
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=10, help="growth lines printed")
    parser.add_argument(
        "--frames",
        type=int,
        default=1,
        help="frames kept per allocation (more: slower; 0: no tracemalloc, resident memory only)",
    )
    parser.add_argument(
        "--via",
        choices=["wsgi", "test-client"],
        default="wsgi",
        help="how requests reach Django: its WSGI handler, or its test client (for comparison)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    print_machine()
    import wagtail_lti

    print(f"  wagtail_lti imported from: {Path(wagtail_lti.__file__).parent}")
    print(f"  requests through: {args.via}")
    print(f"  at start: RSS {rss_mib():7.1f} MiB")
    rows: list = []
    with database():
        rows += launches(args.launches, args)
    with database():
        rows += scores(args.scores, args)
    print()
    print("Resident memory of one worker (MiB), and what Python allocated since the 25 % mark")
    print("that is still alive (KiB)")
    for kind, n, mib, traced in rows:
        print(f"  {kind:8s} {n:6d}  {mib:7.1f}  {traced:8.1f}")
    for kind in ("launches", "scores"):
        mine = [row for row in rows if row[0] == kind]
        second, last = mine[1], mine[-1]
        per_request = (last[3] * 1024) / (last[1] - second[1])
        print(
            f"  {kind}: from {second[1]} to {last[1]}: RSS {last[2] - second[2]:+.1f} MiB "
            f"(from the first checkpoint {last[2] - mine[0][2]:+.1f}), still allocated "
            f"{last[3]:+.1f} KiB ({per_request:.1f} bytes per request)"
        )
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
