"""Resident memory of one worker over 10,000 launches and 10,000 scores: no growth beyond the
bounded caches.

One process plays the worker: requests go through Django's test client (the whole middleware,
session, views and database; no network), first ``--launches`` LTI 1.3 authorization requests
(each with its own message hint, spread over 16 learners), then ``--scores`` AGS score posts
(10 tools, 200 learners). The resident set size (``VmRSS``) is printed at checkpoints. What a
worker keeps by design is bounded: the kept launch targets and course accesses
(``launch.targets.MAX_TARGETS``), the signing key, the tools' keys, Django's and Python's own
caches; so after warming up the figure should level off. Run from the project root::

    .venv/bin/python benchmarks/memory.py [--launches 10000] [--scores 10000]
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from _harness import database, print_machine


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def checkpoints(total: int) -> set[int]:
    return {total // 10, total // 4, total // 2, (3 * total) // 4, total}


def launches(count: int, rows: list) -> None:
    from django.test import Client
    from launch_throughput import seed, started_launches

    world = seed()
    clients = {}
    for _user, _client, cookie in world["learners"]:
        client = Client(HTTP_HOST="localhost")
        client.cookies["sessionid"] = cookie
        clients[cookie] = client
    lines = started_launches(world, count)
    marks = checkpoints(count)
    for n, (path, cookie) in enumerate(lines, start=1):
        response = clients[cookie].get(path)
        if b'name="id_token"' not in response.content:
            raise RuntimeError(response.content[:300])
        if n in marks:
            gc.collect()
            rows.append(("launches", n, rss_mib()))
            print(f"  after {n:6d} launches: {rss_mib():7.1f} MiB")


def scores(count: int, rows: list) -> None:
    from django.test import Client
    from score_ingestion import ags_lines, seed

    world = seed(10, 200, 10)
    client = Client(HTTP_HOST="localhost")
    marks = checkpoints(count)
    for n, line in enumerate(ags_lines(world, count, "real"), start=1):
        response = client.post(
            line.path,
            data=line.body,
            content_type=line.headers["Content-Type"],
            headers={"Authorization": line.headers["Authorization"]},
        )
        if response.status_code != 200:
            raise RuntimeError(response.content[:300])
        if n in marks:
            gc.collect()
            rows.append(("scores", n, rss_mib()))
            print(f"  after {n:6d} scores:   {rss_mib():7.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=10_000)
    parser.add_argument("--scores", type=int, default=10_000)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    print_machine()
    rows: list = []
    start = rss_mib()
    print(f"  at start:              {start:7.1f} MiB")
    with database():
        launches(args.launches, rows)
    with database():
        scores(args.scores, rows)
    print()
    print("Resident memory of one worker (MiB)")
    for kind, n, mib in rows:
        print(f"  {kind:8s} {n:6d}  {mib:7.1f}")
    first_launch = next(mib for kind, _n, mib in rows if kind == "launches")
    last_launch = [mib for kind, _n, mib in rows if kind == "launches"][-1]
    first_score = next(mib for kind, _n, mib in rows if kind == "scores")
    last_score = rows[-1][2]
    print(
        f"  growth from the first to the last checkpoint: launches {last_launch - first_launch:+.1f} "
        f"MiB, scores {last_score - first_score:+.1f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
