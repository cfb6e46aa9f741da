"""Score ingestion against its floor: AGS scores, Basic Outcomes ``replaceResult``, a class's grade sync.

One gunicorn server of the example site (2 workers x 8 threads) on a loopback port; load from
``wrk`` (``_wrk.py``), which takes little CPU from the server. Measured in the same run, in turn:

* **AGS score endpoint** (``POST .../lineitems/<id>/scores``, AGS 2.0 §3.4) against its
  **floor** (``bench/floor-score/<id>/`` in ``bench_urls.py``: the bearer token found by its hash,
  the JSON read, one upsert of the result with its history row, in the plainest ORM). ``--tools``
  LTI 1.3 tools with a graded activity each on one course of ``--learners`` learners, each tool
  with its own token; request *i* goes to tool *i mod tools* for learner *(i div tools) mod
  learners*, with increasing timestamps, so no two requests in flight touch the same result.
* **Basic Outcomes** ``replaceResult`` (LTI 1.1 §6) against its floor (``bench/floor-outcome/``:
  the POX body parsed, the sourcedid decrypted, the OAuth signature and body hash checked, the
  nonce recorded once, one upsert with its history row), ``--tools`` LTI 1.1 tools likewise; every
  request is signed beforehand with its own nonce.
* **A class's grade sync**: one tool posting the scores of a ``--class-size`` learner course at
  once over ``--connections`` connections, each score once: the time until the last is answered,
  for the real endpoint and its floor; then every result and every learner's course page
  (``LearnerActivity``, what the page shows; checked on a sample of pages) is verified.

Lost updates, counted after every measurement from the database: accepted answers without their
``ScoreEvent``, results that are not their latest event, and (real endpoints) course page
activities that do not show the result. Target: real ≥ 0.5 of the floor's throughput, 0 lost.

Run from the project root (PostgreSQL + Redis as in docs/benchmarks.md, or SQLite without
``DATABASE_URL``)::

    .venv/bin/python benchmarks/score_ingestion.py [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _wrk
from _harness import database, print_machine, server_database_env


SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def _course(org, title: str, slug: str, links):
    from courses.models import CoursePage
    from wagtail.models import Site

    course = CoursePage(
        title=title,
        slug=slug,
        course_organization=org,
        course_code=slug.upper(),
        body=[("lti_activity", {"resource_link": link, "title": link.name}) for link in links],
    )
    Site.objects.get(is_default_site=True).root_page.add_child(instance=course)
    course.save_revision().publish()
    return course


def seed(tools: int, learners: int, class_size: int) -> dict:
    """Tools, courses and learners; tokens for the 1.3 tools, sourcedids for the 1.1 ones."""
    from django.contrib.auth import get_user_model

    from wagtail_lti.lti.keys import generate_key_pair
    from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink, Organization, Placement
    from wagtail_lti.security.identifiers import opaque_user_id
    from wagtail_lti.security.sourcedid import make_sourcedid
    from wagtail_lti.services.access_tokens import issue_access_token
    from wagtail_lti.services.results import line_item_for

    org = Organization.add_root(name="Acme")
    public_pem = generate_key_pair().public_pem

    def link_of(n: int, version: str) -> LtiResourceLink:
        provider = LtiProvider(
            name=f"Tool {version} {n}", organization=org, lti_version=version, allow_ags=True
        )
        if version == "1.3":
            provider.login_url = f"https://tool{n}.example/login"
            provider.launch_url = f"https://tool{n}.example/launch"
            provider.public_key_pem = public_pem
        else:
            provider.consumer_key = f"key-{n}"
            provider.secret = f"secret-{n}"
        provider.save()
        return LtiResourceLink.objects.create(
            name=f"Quiz {version} {n}",
            organization=org,
            provider=provider,
            url=f"https://tool{n}.example/quiz",
            requires_score=True,
            score_maximum=100,
        )

    links13 = [link_of(n, "1.3") for n in range(tools)]
    links11 = [link_of(n, "1.1") for n in range(tools)]
    sync_link = link_of(tools, "1.3")
    course = _course(org, "Scores", "scores", links13 + links11)
    big = _course(org, "Big class", "big-class", [sync_link])

    User = get_user_model()
    people = User.objects.bulk_create(
        [User(username=f"learner{n}") for n in range(max(learners, class_size))]
    )
    Enrollment.objects.bulk_create([Enrollment(course=course, user=u) for u in people[:learners]])
    Enrollment.objects.bulk_create([Enrollment(course=big, user=u) for u in people[:class_size]])
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page__in=[course, big])}

    def ags_tool(link, page):
        placement = placements[link.pk]
        item = line_item_for(placement)
        token, _ttl = issue_access_token(link.provider, [SCORE_SCOPE])
        return {
            "token": token,
            "item": item.pk,
            "real": f"/lti/1.3/ags/{page.pk}/{link.provider_id}/lineitems/{item.pk}/scores",
            "floor": f"/bench/floor-score/{item.pk}/",
        }

    def outcomes_tool(n, link):
        placement = placements[link.pk]
        return {
            "key": link.provider.consumer_key,
            "secret": f"secret-{n}",
            "item": line_item_for(placement).pk,
            "sourcedids": [make_sourcedid(placement, user) for user in people[:learners]],
        }

    return {
        "ags": [ags_tool(link, course) for link in links13],
        "outcomes": [outcomes_tool(n, link) for n, link in enumerate(links11)],
        "sync": ags_tool(sync_link, big),
        "ids": [opaque_user_id(user) for user in people],
        "learners": learners,
        "class_size": class_size,
        "big": big,
        "people": people,
    }


def ags_lines(world, count: int, which: str, *, tools=None, learners=None) -> list[_wrk.Line]:
    tools = tools or world["ags"]
    learners = learners or world["learners"]
    start = datetime.now(UTC)
    lines = []
    for n in range(count):
        tool = tools[n % len(tools)]
        body = {
            "userId": world["ids"][(n // len(tools)) % learners],
            "scoreGiven": (n * 7) % 101,
            "scoreMaximum": 100,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": (start + timedelta(milliseconds=n)).isoformat(),
        }
        lines.append(
            _wrk.Line(
                "POST",
                tool[which],
                {"Authorization": f"Bearer {tool['token']}", "Content-Type": SCORE_MEDIA_TYPE},
                json.dumps(body, separators=(",", ":")),
            )
        )
    return lines


def outcome_lines(world, count: int, which: str, base_url: str) -> list[_wrk.Line]:
    """``count`` replaceResult requests, each signed (its own nonce) as a tool signs them."""
    from django.urls import reverse

    from tests.support.hardening import pox_request
    from tests.support.lti11 import sign_outcome

    tools = world["outcomes"]
    lines = []
    for n in range(count):
        tool = tools[n % len(tools)]
        sourcedid = tool["sourcedids"][(n // len(tools)) % world["learners"]]
        path = (
            reverse("wagtail_lti:lti11_outcomes")
            if which == "real"
            else f"/bench/floor-outcome/{tool['item']}/"
        )
        body = pox_request("replaceResult", sourcedid, f"{((n * 7) % 101) / 100:.2f}")
        prepared = sign_outcome(body, key=tool["key"], secret=tool["secret"], url=base_url + path)
        authorization = prepared.headers["Authorization"]
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        lines.append(
            _wrk.Line(
                "POST",
                path,
                {"Authorization": authorization, "Content-Type": "application/xml"},
                body.decode(),
            )
        )
    return lines


def reset_scores() -> None:
    from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
    from wagtail_lti.models.security import SingleUseValue

    ScoreEvent.objects.all().delete()
    Result.objects.all().delete()
    LearnerActivity.objects.filter(score__isnull=False).delete()
    SingleUseValue.objects.all().delete()


def lost_updates(accepted: int, *, real: bool) -> int:
    """Accepted answers without their history row, results that are not their latest event, and
    (for the real endpoints) course page activities that do not show their result."""
    from django.db.models import OuterRef, Subquery

    from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
    from wagtail_lti.services.results import line_item_for, normalised

    lost = max(accepted - ScoreEvent.objects.count(), 0)
    latest = ScoreEvent.objects.filter(result=OuterRef("pk")).order_by("-pk")
    for result in Result.objects.annotate(
        last_score=Subquery(latest.values("score_given")[:1])
    ).select_related("line_item__placement"):
        if result.last_score != result.score_given:
            lost += 1
            continue
        if real:
            placement = result.line_item.placement
            if line_item_for(placement).pk != result.line_item_id:
                continue
            activity = LearnerActivity.objects.filter(
                placement=placement, user_id=result.user_id
            ).first()
            expected = normalised(result.score_given, result.score_maximum)
            if activity is None or activity.score is None or abs(activity.score - expected) > 1e-9:
                lost += 1
    return lost


def synced_missing(world) -> int:
    """Learners of the big class without their synced score (each was posted once)."""
    from wagtail_lti.models import Result

    recorded = Result.objects.filter(
        line_item_id=world["sync"]["item"], score_given__isnull=False
    ).count()
    return world["class_size"] - recorded


def pages_show_scores(world, sample: int = 5) -> bool:
    """A sample of the big class's learners see their score on the course page."""
    from django.test import Client

    from wagtail_lti.models import Result

    client = Client()
    for user in world["people"][: world["class_size"] : max(world["class_size"] // sample, 1)]:
        result = Result.objects.filter(user=user, line_item_id=world["sync"]["item"]).first()
        if result is None or result.score_given is None:
            return False
        client.force_login(user)
        page = client.get(world["big"].url, HTTP_HOST="localhost").content.decode()
        if f"{result.score_given:g}%" not in page:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--tools", type=int, default=10, help="tools of each version")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--class-size", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=12000, help="request lines per AGS run")
    parser.add_argument("--sync-only", action="store_true", help="only the class's grade sync")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2

    from tests.support.app_servers import app_servers

    print_machine()
    measured: dict[str, list[dict]] = {}
    with database(), tempfile.TemporaryDirectory(prefix="wagtail-lti-wrk-") as tmp:
        workdir = Path(tmp)
        world = seed(args.tools, args.learners, args.class_size)
        env = server_database_env() | {"DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings"}
        with app_servers(1, env=env, workers=2, threads=8) as (server,):
            base = server.base_url
            options = {"connections": args.connections, "workdir": workdir}
            targets = {
                "AGS score endpoint": lambda: (ags_lines(world, args.requests, "real"), ""),
                "AGS floor": lambda: (ags_lines(world, args.requests, "floor"), ""),
                "Basic Outcomes replaceResult": lambda: (
                    outcome_lines(world, args.seconds * 250, "real", base),
                    "<imsx_codeMajor>success</imsx_codeMajor>",
                ),
                "Basic Outcomes floor": lambda: (
                    outcome_lines(world, args.seconds * 600, "floor", base),
                    "<imsx_codeMajor>success</imsx_codeMajor>",
                ),
            }
            # Warm up every target: every worker thread's connection, URL resolver, caches.
            for name, make in targets.items() if not args.sync_only else ():
                lines, marker = make()
                result = _wrk.run(
                    base, lines[:400], marker=marker, seconds=60, once=True, **options
                )
                if result["invalid"]:
                    raise RuntimeError(f"{name}: warm-up refused: {result}\n{server.error_log}")
                reset_scores()
            for round_number in range(1, 0 if args.sync_only else args.rounds + 1):
                for name, make in targets.items():
                    lines, marker = make()
                    result = _wrk.run(base, lines, marker=marker, seconds=args.seconds, **options)
                    time.sleep(1)  # the requests wrk left in flight are finished by the server
                    result["lost"] = lost_updates(result["valid"], real="floor" not in name)
                    measured.setdefault(name, []).append(result)
                    print(
                        f"  round {round_number}: {name:30s} {result['rps']:8.1f} scores/s "
                        f"(p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                        f"{result['valid']} ok, {result['invalid']} other, {result['lost']} lost)"
                    )
                    reset_scores()
            sync: dict[str, list[dict]] = {"grade sync, real": [], "grade sync, floor": []}
            for _round in range(args.rounds):
                for which, name in (("real", "grade sync, real"), ("floor", "grade sync, floor")):
                    lines = ags_lines(
                        world,
                        args.class_size,
                        which,
                        tools=[world["sync"]],
                        learners=args.class_size,
                    )
                    result = _wrk.run(base, lines, seconds=300, once=True, **options)
                    time.sleep(1)
                    result["lost"] = synced_missing(world) + lost_updates(
                        result["valid"], real=which == "real"
                    )
                    if which == "real" and not pages_show_scores(world):
                        result["lost"] += 1
                        print("  a course page does not show its learner's score")
                    sync[name].append(result)
                    print(
                        f"  {name:20s} {args.class_size} scores in {result['seconds']:.2f} s "
                        f"({result['valid']} ok, {result['invalid']} other, {result['lost']} lost)"
                        + (
                            f"; first other answer: {result['first_other']}"
                            if result["invalid"]
                            else ""
                        )
                    )
                    reset_scores()
            errors = server.error_log

    med = {name: statistics.median(r["rps"] for r in runs) for name, runs in measured.items()}
    lost = sum(r["lost"] for runs in [*measured.values(), *sync.values()] for r in runs)
    print()
    print(
        f"gunicorn 2 workers x 8 threads; wrk -t2 -c{args.connections}; {args.seconds} s per "
        f"measurement; median of {args.rounds} rounds; {args.tools} tools of each version, "
        f"{args.learners} learners"
    )
    for name in measured:
        p50 = statistics.median(r["p50_ms"] for r in measured[name])
        print(f"  {name:30s} {med[name]:8.1f} scores/s   p50 {p50:6.1f} ms")
    for real, floor in (
        ("AGS score endpoint", "AGS floor"),
        ("Basic Outcomes replaceResult", "Basic Outcomes floor"),
    ):
        if real in med:
            print(f"  ratio {real} / floor: {med[real] / med[floor]:.2f} (target >= 0.5)")
    seconds = {name: statistics.median(r["seconds"] for r in runs) for name, runs in sync.items()}
    print(
        f"  grade sync of {args.class_size} learners: {seconds['grade sync, real']:.2f} s "
        f"(floor {seconds['grade sync, floor']:.2f} s, ratio of rates "
        f"{seconds['grade sync, floor'] / seconds['grade sync, real']:.2f})"
    )
    print(f"  lost updates in all: {lost} (target 0)")
    if "Traceback" in errors:
        print("Server errors:\n" + errors, file=sys.stderr)
        return 1
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
