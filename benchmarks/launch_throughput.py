"""Throughput of the server side of launches under gunicorn, against a bare view signing the same.

* LTI 1.3: the authorization endpoint (``wagtail_lti:lti13_authorize``: validate the request,
  consume the message hint, re-check the enrollment, record the launch, build and sign the
  id_token, answer the auto-posting form) against ``bench/sign-id-token/``, a bare Django view
  that builds the same claims and signs them with the same key.
* LTI 1.1: the launch view (``wagtail_lti:launch``: checks, launch parameters, OAuth 1.0a
  signature, record the launch, the form) against ``bench/sign-lti11/``, signing the same
  parameters with the same secret.

Target: each real endpoint reaches at least half the baseline's throughput.

Two more measurements, the **floors** (``bench/floor-id-token/``, ``bench/floor-lti11/...``),
show how far a correct endpoint can go on the same machine: the baseline plus only the database
steps none can skip (the signed-in user; for 1.3 the message hint consumed once; the enrollment
as of now; the launch recorded on the learner's activity and in the launch log), in the plainest
ORM calls, without any other check. One more, ``bench/signed-in-id-token/``, is the 1.3 baseline
plus only finding out who the signed-in learner is (Django's session and user), which every
launch needs before anything else.

One gunicorn server (2 sync workers) of the example site on a loopback port; load from ``wrk``
(Debian package ``wrk``, driven by ``_wrk.py``) with request lines that give every 1.3 request
its own message hint and spread requests over 16 signed-in learners. Each measurement lasts ``--seconds`` (the 1.3 one
gets ``--hints`` started launches, more than it can use); the four targets are measured in turn,
``--rounds`` times, and the median of each is reported. Only answers that carry the signed form
count. Run from the project root::

    .venv/bin/python benchmarks/launch_throughput.py [--seconds 8] [--rounds 3]

On PostgreSQL: ``DATABASE_URL=postgres://... .venv/bin/python benchmarks/launch_throughput.py``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import _wrk
from _harness import database, print_machine, server_database_env


REDIRECT_URI = "https://tool.example/lti/launch/"
LEARNERS = 16
# A launch by GET is one the browser says comes from this site's pages (launch/rules.py).
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def seed():
    """Organization, an LTI 1.3 and an LTI 1.1 tool with a graded activity each on one course,
    and signed-in, enrolled learners. Returns what the load needs."""
    from courses.models import CoursePage
    from django.contrib.auth import get_user_model
    from django.test import Client
    from wagtail.models import Site

    from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink, Organization, Placement

    org = Organization.add_root(name="Acme")
    provider13 = LtiProvider.objects.create(
        name="Quiz tool 1.3",
        organization=org,
        lti_version="1.3",
        login_url="https://tool.example/lti/login/",
        launch_url="https://tool.example/lti/",
        redirect_uris=REDIRECT_URI,
        custom_parameters="custom_uid=$User.id\ncustom_unit=3",
    )
    provider11 = LtiProvider(
        name="Quiz tool 1.1", organization=org, lti_version="1.1", consumer_key="quiz-key"
    )
    provider11.secret = "quiz-secret"
    provider11.save()
    links = [
        LtiResourceLink.objects.create(
            name=name,
            organization=org,
            provider=provider,
            url=f"https://tool.example/quiz/{n}",
            requires_score=True,
            custom_parameters="custom_level=beginner",
        )
        for n, (name, provider) in enumerate(
            [("Quiz 1.3", provider13), ("Quiz 1.1", provider11)], start=1
        )
    ]
    course = CoursePage(
        title="Safety at work",
        slug="safety",
        course_organization=org,
        course_code="SAF-101",
        body=[("lti_activity", {"resource_link": link, "title": link.name}) for link in links],
    )
    Site.objects.get(is_default_site=True).root_page.add_child(instance=course)
    course.save_revision().publish()
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    learners = []
    for n in range(LEARNERS):
        user = get_user_model().objects.create_user(
            f"learner{n}", f"learner{n}@example.com", None, first_name="Lena", last_name=str(n)
        )
        Enrollment.objects.create(course=course, user=user)
        client = Client()
        client.force_login(user)
        learners.append((user, client, client.cookies["sessionid"].value))
    return {
        "provider13": provider13,
        "placement13": placements[links[0].pk],
        "placement11": placements[links[1].pk],
        "learners": learners,
    }


def started_launches(world, count: int) -> list[tuple[str, str]]:
    """``count`` started LTI 1.3 launches (message hints), as the launch view stores them:
    one real login initiation per learner, cloned with fresh hints. (path, cookie) each."""
    from django.urls import reverse
    from django.utils import timezone

    from wagtail_lti.launch.lti13 import hash_hint
    from wagtail_lti.models import PendingLaunch

    launch_path = reverse("wagtail_lti:launch", args=[world["placement13"].lti_id])
    templates = []
    for user, client, cookie in world["learners"]:
        response = client.get(launch_path, headers=SAME_ORIGIN)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', response.content.decode()))
        assert "lti_message_hint" in fields, response.content[:500]
        templates.append((PendingLaunch.objects.filter(user=user).latest("pk"), fields, cookie))
    rows, lines = [], []
    expires = timezone.now() + timedelta(hours=2)
    for n in range(count):
        pending, fields, cookie = templates[n % len(templates)]
        hint = secrets.token_urlsafe(32)
        rows.append(
            PendingLaunch(
                hint=hash_hint(hint),
                user_id=pending.user_id,
                provider_id=pending.provider_id,
                message_type=pending.message_type,
                data=pending.data,
                expires_at=expires,
            )
        )
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": fields["client_id"],
            "redirect_uri": REDIRECT_URI,
            "state": f"state-{n}",
            "nonce": f"nonce-{n}-{secrets.token_hex(4)}",
            "login_hint": fields["login_hint"],
            "lti_message_hint": hint,
        }
        lines.append((reverse("wagtail_lti:lti13_authorize") + "?" + urlencode(query), cookie))
    PendingLaunch.objects.bulk_create(rows, batch_size=500)
    return lines


def run_wrk(base_url: str, lines, marker: str, *, workdir: Path, **options):
    """``lines`` of (path, session cookie): GET requests counted when they carry ``marker``."""
    return _wrk.run(
        base_url,
        [
            _wrk.Line("GET", path, {"Cookie": f"sessionid={cookie}", **SAME_ORIGIN})
            for path, cookie in lines
        ],
        marker=marker,
        workdir=workdir,
        **options,
    )


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each measurement")
    parser.add_argument("--hints", type=int, default=4000, help="started 1.3 launches each time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--server-settings",
        default="benchmarks.bench_settings",
        help="settings module of the server (to compare settings; it must keep bench_urls)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2

    from django.urls import reverse

    from tests.support.app_servers import app_servers

    print_machine()
    with database(), tempfile.TemporaryDirectory(prefix="wagtail-lti-wrk-") as tmp:
        workdir = Path(tmp)
        world = seed()
        started_launches(world, 0)  # one real login initiation per learner (the baseline's input)
        env = server_database_env() | {"DJANGO_SETTINGS_MODULE": args.server_settings}
        with app_servers(1, env=env, workers=2) as (server,):
            base = server.base_url
            placement11 = world["placement11"].lti_id
            cookies = [cookie for _user, _client, cookie in world["learners"]]
            authorize_path = reverse("wagtail_lti:lti13_authorize")

            def lti11_lines(prefix: str):
                return [(prefix, cookie) for cookie in cookies]

            def bare13_lines():
                return [
                    (f"/bench/sign-id-token/?nonce=n{n}&state=s{n}", cookies[n % len(cookies)])
                    for n in range(len(cookies) * 4)
                ]

            targets = {
                "1.3 baseline: sign the id_token only": (bare13_lines, 'name="id_token"'),
                "1.3 baseline + signed-in learner": (
                    lambda: [
                        (
                            f"/bench/signed-in-id-token/?nonce=n{n}&state=s{n}",
                            cookies[n % len(cookies)],
                        )
                        for n in range(len(cookies) * 4)
                    ],
                    'name="id_token"',
                ),
                "1.3 authorization endpoint": (
                    lambda: started_launches(world, args.hints),
                    'name="id_token"',
                ),
                "1.3 floor: required statements + sign": (
                    lambda: [
                        (path.replace(authorize_path, "/bench/floor-id-token/"), cookie)
                        for path, cookie in started_launches(world, args.hints)
                    ],
                    'name="id_token"',
                ),
                "1.1 baseline: sign the launch only": (
                    lambda: lti11_lines(f"/bench/sign-lti11/{placement11}/"),
                    'name="oauth_signature"',
                ),
                "1.1 launch view": (
                    lambda: lti11_lines(f"/lti/launch/{placement11}/"),
                    'name="oauth_signature"',
                ),
                "1.1 floor: required statements + sign": (
                    lambda: lti11_lines(f"/bench/floor-lti11/{placement11}/"),
                    'name="oauth_signature"',
                ),
            }
            # Warm up every target (templates, URL resolver, parsed keys, the baselines' inputs).
            for make_lines, marker in targets.values():
                lines = make_lines()
                result = run_wrk(
                    base, lines, marker, connections=2, threads=1, seconds=1, workdir=workdir
                )
                if result["invalid"]:
                    raise RuntimeError(
                        f"warm-up answers without {marker}: {result}\n{server.error_log}"
                    )
            measured: dict[str, list[dict]] = {name: [] for name in targets}
            for round_number in range(1, args.rounds + 1):
                for name, (make_lines, marker) in targets.items():
                    result = run_wrk(
                        base,
                        make_lines(),
                        marker,
                        connections=args.connections,
                        threads=args.threads,
                        seconds=args.seconds,
                        workdir=workdir,
                    )
                    measured[name].append(result)
                    print(
                        f"  round {round_number}: {name:40s} {result['rps']:8.1f} req/s "
                        f"(p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                        f"{result['valid']} ok, {result['invalid']} other)"
                    )
            errors = server.error_log

    med = {name: statistics.median(r["rps"] for r in results) for name, results in measured.items()}
    p50 = {
        name: statistics.median(r["p50_ms"] for r in results) for name, results in measured.items()
    }
    print()
    print(
        f"gunicorn, 2 sync workers; wrk -t{args.threads} -c{args.connections}; "
        f"{args.seconds} s per measurement; median of {args.rounds} rounds"
    )
    for name in targets:
        print(f"  {name:40s} {med[name]:8.1f} req/s   p50 {p50[name]:6.1f} ms")
    pairs = [
        ("1.3", "1.3 authorization endpoint", "1.3 baseline: sign the id_token only",
         "1.3 floor: required statements + sign"),
        ("1.1", "1.1 launch view", "1.1 baseline: sign the launch only",
         "1.1 floor: required statements + sign"),
    ]  # fmt: skip
    signed_in = (
        med["1.3 baseline + signed-in learner"] / med["1.3 baseline: sign the id_token only"]
    )
    print(f"  ratio 1.3 baseline + signed-in learner / baseline: {signed_in:.2f}")
    for version, real, baseline, floor in pairs:
        print(
            f"  ratio {version} real / baseline:  {med[real] / med[baseline]:.2f} (target >= 0.5)"
        )
        print(
            f"  ratio {version} floor / baseline: {med[floor] / med[baseline]:.2f} "
            "(the required statements alone)"
        )
        print(f"  ratio {version} real / floor:     {med[real] / med[floor]:.2f}")
    if "Traceback" in errors:
        print("Server errors:\n" + errors, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
