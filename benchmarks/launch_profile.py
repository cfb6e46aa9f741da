"""Where the time of a launch goes, in-process: each launch against its floor, then profiled.

The same world, requests and floors as ``launch_throughput.py`` (``bench_urls.py``), through
Django's test client (the whole middleware, session, view, templates and database; no network,
no gunicorn): the LTI 1.3 authorization request (each with its own message hint) and the LTI 1.1
launch view, interleaved with their floors, ``--rounds`` requests each; the medians, the ratio
floor / real of the same run (what ``launch_throughput.py`` measures as real / floor under load),
and the CPU time. Then ``cProfile`` over ``--profile`` more requests of each real endpoint, its
functions sorted by cumulative and by own time (``--top`` of each). Run from the project root::

    DATABASE_URL=postgres://... CACHE_URL=redis://... \\
        .venv/bin/python benchmarks/launch_profile.py [--rounds 400] [--profile 400] [--top 40]
"""

from __future__ import annotations

import os
import sys


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from _harness import database, print_machine  # noqa: E402


def _clients(world) -> dict:
    from django.test import Client

    clients = {}
    for _user, _client, cookie in world["learners"]:
        client = Client(HTTP_HOST="localhost")
        client.cookies["sessionid"] = cookie
        clients[cookie] = client
    return clients


def _requests(world, clients, count: int):
    """Four lists of ``count`` callables each: real and floor of 1.3 and 1.1."""
    from django.urls import reverse
    from launch_throughput import SAME_ORIGIN, started_launches

    authorize = reverse("wagtail_lti:lti13_authorize")
    lti_id = world["placement11"].lti_id

    def get(path, cookie, marker):
        def call():
            response = clients[cookie].get(path, headers=SAME_ORIGIN)
            if marker not in response.content:
                raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")

        return call

    cookies = list(clients)
    real13 = [get(p, c, b'name="id_token"') for p, c in started_launches(world, count)]
    floor13 = [
        get(p.replace(authorize, "/bench/floor-id-token/"), c, b'name="id_token"')
        for p, c in started_launches(world, count)
    ]
    real11 = [
        get(f"/lti/launch/{lti_id}/", cookies[n % len(cookies)], b'name="oauth_signature"')
        for n in range(count)
    ]
    floor11 = [
        get(f"/bench/floor-lti11/{lti_id}/", cookies[n % len(cookies)], b'name="oauth_signature"')
        for n in range(count)
    ]
    return real13, floor13, real11, floor11


def _timed(call) -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000


def _profile(calls, top: int, title: str, save: str = "", cpu: bool = True) -> None:
    profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    if save:
        profiler.dump_stats(save)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        print(f"\n--- {title}, {len(calls)} requests, by {order} ({'CPU' if cpu else 'wall'}) ---")
        # The header lines of pstats, then the table.
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=400, help="timed requests of each")
    parser.add_argument("--profile", type=int, default=400, help="profiled requests of each")
    parser.add_argument("--top", type=int, default=40, help="functions shown per table")
    parser.add_argument("--no-profile", action="store_true", help="only the timings")
    parser.add_argument(
        "--wall", action="store_true", help="profile wall time (default: CPU time of this process)"
    )
    parser.add_argument("--save", default="", help="also write each profile to SAVE-<name>.prof")
    args = parser.parse_args()

    from launch_throughput import seed

    import wagtail_lti

    print_machine()
    print(f"  wagtail_lti imported from: {os.path.dirname(wagtail_lti.__file__)}")
    with database():
        world = seed()
        clients = _clients(world)
        real13, floor13, real11, floor11 = _requests(world, clients, args.rounds + 20)
        for call in (*real13[:20], *floor13[:20], *real11[:20], *floor11[:20]):
            call()  # warm up: templates, URL resolver, kept targets, the floors' inputs
        samples: dict[str, list[tuple[float, float]]] = {
            name: [] for name in ("1.3 real", "1.3 floor", "1.1 real", "1.1 floor")
        }
        for n in range(20, args.rounds + 20):
            samples["1.3 real"].append(_timed(real13[n]))
            samples["1.3 floor"].append(_timed(floor13[n]))
            samples["1.1 real"].append(_timed(real11[n]))
            samples["1.1 floor"].append(_timed(floor11[n]))
        med = {
            name: (
                statistics.median(wall for wall, _cpu in values),
                statistics.median(cpu for _wall, cpu in values),
            )
            for name, values in samples.items()
        }
        print(
            f"\nIn-process (test client), median of {args.rounds} requests each, interleaved; "
            f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print("                 wall ms   CPU ms")
        for name, (wall, cpu) in med.items():
            print(f"  {name:12s} {wall:8.3f} {cpu:8.3f}")
        for version in ("1.3", "1.1"):
            real, floor = med[f"{version} real"], med[f"{version} floor"]
            print(
                f"  {version}: floor / real = {floor[0] / real[0]:.2f} (wall), "
                f"{floor[1] / real[1]:.2f} (CPU); real - floor = {real[0] - floor[0]:.3f} ms wall"
            )
        if not args.no_profile:
            real13, floor13, real11, floor11 = _requests(world, clients, args.profile)
            for calls, name, title in (
                (real13, "real13", "1.3 authorization request"),
                (floor13, "floor13", "1.3 floor"),
                (real11, "real11", "1.1 launch view"),
                (floor11, "floor11", "1.1 floor"),
            ):
                _profile(
                    calls,
                    args.top,
                    title,
                    f"{args.save}-{name}.prof" if args.save else "",
                    cpu=not args.wall,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
