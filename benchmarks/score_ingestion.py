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
  once over ``--connections`` connections (each its own wrk thread, ``_wrk.run_once``), each
  score answered once (a score whose connection is lost is sent again, as a tool would): an AGS
  tool and a Basic Outcomes tool, each on its own course of the same learners, each against its
  real endpoint and its floor, ``--rounds`` times, each round printed. Timed from the first
  request (taken in wrk): the last answer; every score recorded in the database; and (real
  endpoint) every score shown where people look, fetched from the server under test like a
  browser does: the instructor's class view (``wagtail_lti:class_view``, every page of learners,
  every learner's cell) and the course page of a sample of learners signed in
  (``lti-activity__score``). Then the lost-update checks below.

Lost updates, counted after every measurement from the database: accepted answers without their
``ScoreEvent``, results that are not their latest event, and (real endpoints) course page
activities that do not show the result. Target: real ≥ 0.5 of the floor's throughput, 0 lost.

Run from the project root (PostgreSQL + Redis as in docs/benchmarks.md, or SQLite without
``DATABASE_URL``)::

    .venv/bin/python benchmarks/score_ingestion.py [--seconds 8] [--rounds 3]
    .venv/bin/python benchmarks/score_ingestion.py --sync-only [--class-size 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
#: Learners of the big class whose own course page is fetched after each grade sync.
PAGE_SAMPLE = 10


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
    sync_link11 = link_of(tools, "1.1")
    course = _course(org, "Scores", "scores", links13 + links11)
    big = _course(org, "Big class", "big-class", [sync_link])
    big11 = _course(org, "Big class 1.1", "big-class-11", [sync_link11])

    User = get_user_model()
    people = User.objects.bulk_create(
        [User(username=f"learner{n}") for n in range(max(learners, class_size))]
    )
    Enrollment.objects.bulk_create([Enrollment(course=course, user=u) for u in people[:learners]])
    instructor = User.objects.create_user("instructor", first_name="Ines", last_name="Structor")
    for page in (big, big11):
        Enrollment.objects.bulk_create(
            [Enrollment(course=page, user=u) for u in people[:class_size]]
        )
        Enrollment.objects.create(course=page, user=instructor, role=Enrollment.Role.INSTRUCTOR)
    placements = {
        p.resource_link_id: p for p in Placement.objects.filter(page__in=[course, big, big11])
    }

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

    def outcomes_tool(n, link, count=learners):
        placement = placements[link.pk]
        return {
            "key": link.provider.consumer_key,
            "secret": f"secret-{n}",
            "item": line_item_for(placement).pk,
            "sourcedids": [make_sourcedid(placement, user) for user in people[:count]],
        }

    return {
        "ags": [ags_tool(link, course) for link in links13],
        "outcomes": [outcomes_tool(n, link) for n, link in enumerate(links11)],
        "sync": ags_tool(sync_link, big),
        "sync11": outcomes_tool(tools, sync_link11, class_size),
        "ids": [opaque_user_id(user) for user in people],
        "learners": learners,
        "class_size": class_size,
        "big": big,
        "big11": big11,
        "people": people,
        "instructor_cookie": _session_cookie(instructor),
        "sample_cookies": {
            n: _session_cookie(people[n])
            for n in range(0, class_size, max(class_size // PAGE_SAMPLE, 1))
        },
    }


def _session_cookie(user) -> str:
    """A signed-in session of ``user`` the server under test accepts (same database and cache)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


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


def outcome_lines(
    world, count: int, which: str, base_url: str, *, tools=None, learners=None
) -> list[_wrk.Line]:
    """``count`` replaceResult requests, each signed (its own nonce) as a tool signs them."""
    from django.urls import reverse

    from tests.support.hardening import pox_request
    from tests.support.lti11 import sign_outcome

    tools = tools or world["outcomes"]
    learners = learners or world["learners"]
    lines = []
    for n in range(count):
        tool = tools[n % len(tools)]
        sourcedid = tool["sourcedids"][(n // len(tools)) % learners]
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


OUTCOME_SUCCESS = "<imsx_codeMajor>success</imsx_codeMajor>"


def syncs(world, base_url: str) -> dict[str, dict]:
    """The grade syncs: one tool of each version posting a score for every learner of its own
    course of ``class_size`` learners. ``lines(which)`` gives the requests for the real endpoint
    or its floor; ``again`` what a tool sends when a request must be sent again (AGS: the same
    score, answered 409 if the first was recorded; Basic Outcomes: signed with a new nonce)."""
    size = world["class_size"]

    def ags(which):
        lines = ags_lines(world, size, which, tools=[world["sync"]], learners=size)
        return lines, lines

    def outcomes(which):
        def signed():
            return outcome_lines(
                world, size, which, base_url, tools=[world["sync11"]], learners=size
            )

        return signed(), signed()

    return {
        "AGS": {
            "course": world["big"],
            "item": world["sync"]["item"],
            "lines": ags,
            "marker": "",
            "already": (409,),
        },
        "Basic Outcomes": {
            "course": world["big11"],
            "item": world["sync11"]["item"],
            "lines": outcomes,
            "marker": OUTCOME_SUCCESS,
            "already": (),
        },
    }


def synced_missing(world, sync: dict) -> int:
    """Learners of the sync's course without their synced score (each was posted once)."""
    from wagtail_lti.models import Result

    recorded = Result.objects.filter(line_item_id=sync["item"], score_given__isnull=False).count()
    return world["class_size"] - recorded


def sync_score(n: int) -> int:
    """The score in % the grade syncs post for learner ``n`` (``ags_lines``: out of 100;
    ``outcome_lines``: the same as a fraction)."""
    return (n * 7) % 101


_CELL = re.compile(r'<td class="lti-class__cell[^"]*">(.*?)</td>', re.DOTALL)
_CELL_SCORE = re.compile(r'<span class="lti-class__score">([^<]*)</span>')
_LEARNER_SCORE = re.compile(r'<span class="lti-activity__score">([^<]*)</span>')


def class_view_shows_scores(world, base_url: str, big) -> int:
    """Scores of the course ``big`` missing from the instructor's class view: every page of
    learners fetched from the server as the instructor's browser does, every learner's cell read."""
    import requests
    from django.urls import reverse

    expected = {
        user.pk: f"{sync_score(n)}%"
        for n, user in enumerate(world["people"][: world["class_size"]])
    }
    cell_link = re.compile(rf"/class/{big.pk}/\d+/(\d+)/")
    url = base_url + reverse("wagtail_lti:class_view", args=[big.pk])
    shown: dict[int, str] = {}
    with requests.Session() as browser:
        browser.cookies.set("sessionid", world["instructor_cookie"])
        page = 1
        while True:
            answer = browser.get(url, params={"page": page}, timeout=60)
            if answer.status_code != 200:
                raise RuntimeError(f"class view page {page}: {answer.status_code}")
            for cell in _CELL.findall(answer.text):
                learner = cell_link.search(cell)
                score = _CELL_SCORE.search(cell)
                if learner:
                    shown[int(learner.group(1))] = score.group(1).strip() if score else ""
            if f"?page={page + 1}" not in answer.text:
                break
            page += 1
    return sum(1 for pk, text in expected.items() if shown.get(pk) != text)


def learner_pages_show_scores(world, base_url: str, big) -> int:
    """Sampled learners of the course ``big`` whose own course page (fetched from the server,
    signed in) does not show their synced score."""
    import requests

    missing = 0
    for n, cookie in world["sample_cookies"].items():
        answer = requests.get(base_url + big.url, cookies={"sessionid": cookie}, timeout=60)
        shown = _LEARNER_SCORE.search(answer.text) if answer.status_code == 200 else None
        if shown is None or " ".join(shown.group(1).split()) != f"Score: {sync_score(n)}%":
            missing += 1
    return missing


def grade_sync(world, base: str, sync: dict, which: str, options: dict) -> dict:
    """One grade sync (``syncs``) on the real endpoint or its floor, timed from the first
    request (in wrk) to the last answer, to every score recorded, and (real) to every score
    shown on the class view and the sampled learners' pages."""
    lines, again = sync["lines"](which)
    result = _wrk.run_once(
        base,
        lines,
        seconds=300,
        marker=sync["marker"],
        again=again,
        already=sync["already"],
        **options,
    )
    first = result["first_request"]
    deadline = time.monotonic() + 30
    while (missing := synced_missing(world, sync)) and time.monotonic() < deadline:
        time.sleep(0.05)
    result["recorded_seconds"] = time.time() - first
    result["missing"] = missing
    result["not_shown"] = 0
    if which == "real":
        checked = time.time()
        result["not_shown"] = class_view_shows_scores(
            world, base, sync["course"]
        ) + learner_pages_show_scores(world, base, sync["course"])
        result["shown_seconds"] = time.time() - first
        result["check_seconds"] = time.time() - checked
    result["lost"] = (
        missing
        + result["not_shown"]
        + result["unanswered"]
        + result["given_up"]
        + lost_updates(result["valid"] + result["already"], real=which == "real")
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--tools", type=int, default=10, help="tools of each version")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument(
        "--class-size", type=int, default=1000, help="learners of the grade sync (0: none)"
    )
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
        world = seed(args.tools, args.learners, max(args.class_size, 1))
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
            grade_syncs = syncs(world, base) if args.class_size else {}
            sync: dict[tuple[str, str], list[dict]] = {}
            for definition in grade_syncs.values():
                # Warm up the sync's own paths: each worker thread, the class's roster, the pages.
                for which in ("real", "floor"):
                    lines, _again = definition["lines"](which)
                    _wrk.run_once(base, lines[:32], marker=definition["marker"], **options)
                    reset_scores()
                # With no score recorded, the page checks must see every score missing.
                course = definition["course"]
                if class_view_shows_scores(
                    world, base, course
                ) != args.class_size or learner_pages_show_scores(world, base, course) != len(
                    world["sample_cookies"]
                ):
                    raise RuntimeError(f"{course.title}: the page checks see scores not posted")
            if grade_syncs:
                print(
                    f"A class's grade sync: {args.class_size} scores, each answered once, "
                    f"{args.connections} connections (one wrk thread each)"
                )
            for round_number in range(1, args.rounds + 1 if grade_syncs else 1):
                for (name, definition), which in (
                    (item, which) for item in grade_syncs.items() for which in ("real", "floor")
                ):
                    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                    result = grade_sync(world, base, definition, which, options)
                    sync.setdefault((name, which), []).append(result)
                    shown = (
                        f", shown on the class view and {len(world['sample_cookies'])} learners' "
                        f"pages at {result['shown_seconds']:.2f} s (check "
                        f"{result['check_seconds']:.2f} s)"
                        if which == "real"
                        else ""
                    )
                    label = name if which == "real" else f"{name} floor"
                    print(
                        f"  round {round_number}: {label:20s} answered "
                        f"{result['answered_seconds']:.2f} s, recorded "
                        f"{result['recorded_seconds']:.2f} s{shown}; {result['valid']} ok, "
                        f"{result['already']} already, {result['invalid']} other, "
                        f"{result['resets']} resets, {result['retried']} retried, "
                        f"{result['lost']} lost; load {load}"
                        + (f"; first other: {result['first_other']}" if result["invalid"] else "")
                    )
                    reset_scores()
            errors = server.error_log

    med = {name: statistics.median(r["rps"] for r in runs) for name, runs in measured.items()}
    lost = sum(r["lost"] for runs in [*measured.values(), *sync.values()] for r in runs)
    print()
    print(
        f"gunicorn 2 workers x 8 threads; median of {args.rounds} rounds; load average at the end "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    if measured:
        print(
            f"  wrk -t2 -c{args.connections}, {args.seconds} s per measurement; {args.tools} "
            f"tools of each version, {args.learners} learners"
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
    for name in dict.fromkeys(name for name, _which in sync):
        real, floor = sync[(name, "real")], sync[(name, "floor")]
        real_answered = statistics.median(r["answered_seconds"] for r in real)
        floor_answered = statistics.median(r["answered_seconds"] for r in floor)
        real_shown = statistics.median(r["shown_seconds"] for r in real)
        floor_recorded = statistics.median(r["recorded_seconds"] for r in floor)
        print(
            f"  grade sync of {args.class_size} learners ({name}), {args.connections} "
            f"connections, median of {args.rounds}: all answered in {real_answered:.2f} s (floor "
            f"{floor_answered:.2f} s; real / floor rate {floor_answered / real_answered:.2f}); "
            f"recorded and shown on the pages in {real_shown:.2f} s (floor recorded "
            f"{floor_recorded:.2f} s; ratio {floor_recorded / real_shown:.2f})"
        )
    print(f"  lost updates in all: {lost} (target 0)")
    if "Traceback" in errors:
        print("Server errors:\n" + errors, file=sys.stderr)
        return 1
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
