"""Server-side cost of one signed launch: wagtail-lti beside lti1p3platform, Open edX's
lti-consumer-xblock and the ``lti`` package, in one run.

The peers are installed in an environment of their own, ``benchmarks/.peers-venv``, created by
this script from ``benchmarks/peers/requirements.txt`` (never in wagtail-lti's dependencies), and
timed there by ``benchmarks/peers/measure.py`` (see its docstring for what each does per
request). wagtail-lti is timed here, in-process through Django's test client (middleware, session
and database included, no network), on a throw-away database:

* LTI 1.3: the authorization request (``wagtail_lti:lti13_authorize``): validate it, consume the
  message hint, re-check the enrollment and the activity, record the launch, build the claims,
  sign, render the auto-posting form;
* LTI 1.1: the launch view (``wagtail_lti:launch``): the checks, the parameters, the OAuth 1.0a
  signature, the launch recorded, the form.

Both sides run on the same machine one after the other, medians of ``rounds``. Run from the
project root (``DATABASE_URL`` for PostgreSQL, as the other benchmarks)::

    .venv/bin/python benchmarks/peers.py [rounds]
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _harness import ROOT, database, print_machine


PEERS = ROOT / "benchmarks" / "peers"
VENV = ROOT / "benchmarks" / ".peers-venv"


def peers_python() -> Path:
    """The peers' environment, created (or updated when the requirements change)."""
    requirements = PEERS / "requirements.txt"
    stamp = VENV / "requirements.sha256"
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    python = VENV / "bin" / "python"
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"Installing the peers into {VENV.relative_to(ROOT)} ...")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603 - fixed command
            [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True
        )
        stamp.write_text(wanted)
    return python


def measure_peers(rounds: int) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - fixed command
        [str(peers_python()), str(PEERS / "measure.py"), str(rounds)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_ours(rounds: int) -> dict[str, float]:
    from django.test import Client
    from launch_throughput import LEARNERS, SAME_ORIGIN, seed, started_launches

    from wagtail_lti.lti.lti11 import sign_launch
    from wagtail_lti.security.platform_keys import get_signing_key

    world = seed()
    user, _client, cookie = world["learners"][0]
    client = Client(HTTP_HOST="localhost")
    client.cookies["sessionid"] = cookie
    lines = [
        (path, c) for path, c in started_launches(world, (rounds + 10) * LEARNERS) if c == cookie
    ][: rounds + 10]

    def timed(func, count: int, warmup: int = 10) -> float:
        samples = []
        for n in range(count + warmup):
            start = time.perf_counter()
            func(n)
            if n >= warmup:
                samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    def authorize(n: int) -> None:
        response = client.get(lines[n][0])
        assert b'name="id_token"' in response.content, response.content[:300]

    launch_path = f"/lti/launch/{world['placement11'].lti_id}/"

    def lti11(_n: int) -> None:
        response = client.get(launch_path, headers=SAME_ORIGIN)
        assert b'name="oauth_signature"' in response.content, response.content[:300]

    figures = {
        "wagtail-lti 1.3 authorization request": timed(authorize, rounds),
        "wagtail-lti 1.1 launch view": timed(lti11, rounds),
    }
    # What the signing alone costs with wagtail-lti's key kept loaded, for reference.
    import jwt

    kid, key = get_signing_key()
    figures["signing alone (RS256, loaded key)"] = timed(
        lambda _n: jwt.encode({"sub": "x"}, key, algorithm="RS256", headers={"kid": kid}), rounds
    )
    params = {"resource_link_id": "rl-1", "user_id": "u" * 32, "roles": "Learner"}
    figures["signing alone (OAuth 1.0a)"] = timed(
        lambda _n: sign_launch("https://tool.example/quiz/1", params, "key", "secret"), rounds
    )
    return figures


def main(rounds: int) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    print_machine()
    peers = measure_peers(rounds)
    with database():
        ours = measure_ours(rounds)
    print()
    print(f"One signed launch, server side, median of {rounds} (ms; lower is better)")
    for name, ms in [*ours.items(), *peers.items()]:
        print(f"  {name:45s} {ms:8.2f}")
    ours13 = ours["wagtail-lti 1.3 authorization request"]
    ours11 = ours["wagtail-lti 1.1 launch view"]
    for name in ("lti1p3platform", "lti-consumer-xblock"):
        print(f"  {name} / wagtail-lti (1.3): {peers[name] / ours13:.2f}x the time")
    print(
        f"  lti ToolConsumer / wagtail-lti (1.1): {peers['lti (1.1 ToolConsumer)'] / ours11:.2f}x"
    )
    print(
        "wagtail-lti's figures include its database work and Django's request handling; the "
        "peers' include neither (docs/benchmarks.md)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
