"""AGS score ingestion with 1, 10 and 50 tools posting at once: scores per second, lost updates.

One gunicorn server of the example site (2 workers x 8 threads) on a loopback port. Up to 50
LTI 1.3 tools, each with a graded activity on one course of 20 enrolled learners and an access
token, post scores (AGS §3.4) to their line item over real HTTP, one thread per tool, each tool's
timestamps increasing. Each level posts ``--posts`` scores in all (split between its tools).

Lost updates, counted after each level from the database: an accepted post (HTTP 200) without its
``ScoreEvent``, or a learner's result (or course-page activity) that is not the last score its
tool had accepted. Target: 0. Run from the project root, on PostgreSQL::

    DATABASE_URL=postgres://user:pass@127.0.0.1:5432/wagtail_lti \\
        .venv/bin/python benchmarks/ags_ingestion.py [--posts 1000]

(Without ``DATABASE_URL`` it runs on SQLite, which serialises every write.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import requests
from _harness import database, print_machine, server_database_env


TOOLS = 50
LEARNERS = 20
LEVELS = (1, 10, 50)
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def seed():
    from courses.models import CoursePage
    from django.contrib.auth import get_user_model
    from wagtail.models import Site

    from wagtail_lti.lti.keys import generate_key_pair
    from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink, Organization, Placement
    from wagtail_lti.security.identifiers import opaque_user_id
    from wagtail_lti.services.access_tokens import issue_access_token
    from wagtail_lti.services.results import line_item_for

    org = Organization.add_root(name="Acme")
    public_pem = generate_key_pair().public_pem
    providers, links = [], []
    for n in range(TOOLS):
        provider = LtiProvider.objects.create(
            name=f"Tool {n}",
            organization=org,
            lti_version="1.3",
            login_url=f"https://tool{n}.example/login",
            launch_url=f"https://tool{n}.example/launch",
            public_key_pem=public_pem,
            allow_ags=True,
        )
        providers.append(provider)
        links.append(
            LtiResourceLink.objects.create(
                name=f"Quiz {n}",
                organization=org,
                provider=provider,
                url=f"https://tool{n}.example/quiz",
                requires_score=True,
                score_maximum=100,
            )
        )
    course = CoursePage(
        title="Scores",
        slug="scores",
        course_organization=org,
        course_code="S-1",
        body=[("lti_activity", {"resource_link": link, "title": link.name}) for link in links],
    )
    Site.objects.get(is_default_site=True).root_page.add_child(instance=course)
    course.save_revision().publish()
    User = get_user_model()
    learners = [User.objects.create_user(f"learner{n}", None, None) for n in range(LEARNERS)]
    Enrollment.objects.bulk_create([Enrollment(course=course, user=u) for u in learners])
    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    tools = []
    for provider, link in zip(providers, links, strict=True):
        placement = placements[link.pk]
        item = line_item_for(placement)
        token, _ttl = issue_access_token(provider, [SCORE_SCOPE])
        tools.append(
            {
                "token": token,
                "line_item": item,
                "placement": placement,
                "path": f"/lti/1.3/ags/{course.pk}/{provider.pk}/lineitems/{item.pk}/scores",
            }
        )
    return tools, [(user, opaque_user_id(user)) for user in learners]


def post_scores(base_url: str, tool: dict, learners, count: int, start: datetime, record: list):
    """One tool posting ``count`` scores, round-robin over the learners, timestamps increasing."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {tool['token']}", "Content-Type": SCORE_MEDIA_TYPE}
    for n in range(count):
        user, user_id = learners[n % len(learners)]
        score = (n * 7) % 101
        stamp = start + timedelta(milliseconds=n)
        body = {
            "userId": user_id,
            "scoreGiven": score,
            "scoreMaximum": 100,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": stamp.isoformat(),
        }
        began = time.perf_counter()
        answer = session.post(base_url + tool["path"], json=body, headers=headers, timeout=60)
        record.append(
            (
                tool["line_item"].pk,
                user.pk,
                score,
                stamp,
                answer.status_code,
                time.perf_counter() - began,
            )
        )


def lost_updates(tools, records) -> int:
    """Accepted posts missing from the database, and results that are not the last accepted."""
    from wagtail_lti.models import LearnerActivity, Result, ScoreEvent

    lost = 0
    accepted = [r for r in records if r[4] == 200]
    by_item: dict[int, int] = {}
    last: dict[tuple[int, int], tuple] = {}
    for item_id, user_id, score, stamp, _status, _seconds in accepted:
        by_item[item_id] = by_item.get(item_id, 0) + 1
        key = (item_id, user_id)
        if key not in last or stamp > last[key][1]:
            last[key] = (score, stamp)
    for tool in tools:
        item = tool["line_item"]
        events = ScoreEvent.objects.filter(result__line_item=item).count()
        lost += max(by_item.get(item.pk, 0) - events, 0)
    results = {
        (r.line_item_id, r.user_id): r
        for r in Result.objects.filter(line_item_id__in=[t["line_item"].pk for t in tools])
    }
    placement_of = {t["line_item"].pk: t["placement"].pk for t in tools}
    activities = {
        (a.placement_id, a.user_id): a
        for a in LearnerActivity.objects.filter(placement_id__in=placement_of.values())
    }
    for (item_id, user_id), (score, stamp) in last.items():
        result = results.get((item_id, user_id))
        activity = activities.get((placement_of[item_id], user_id))
        if result is None or result.score_given != score or result.timestamp != stamp:
            lost += 1
        elif activity is None or abs((activity.score or 0) - score / 100) > 1e-9:
            lost += 1
    return lost


def reset_scores() -> None:
    from wagtail_lti.models import LearnerActivity, Result, ScoreEvent

    ScoreEvent.objects.all().delete()
    Result.objects.all().delete()
    LearnerActivity.objects.all().delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="score posts per level")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    from django.db import connection

    from tests.support.app_servers import app_servers

    print_machine()
    rows = []
    with database():
        if connection.vendor != "postgresql":
            print("Note: not PostgreSQL; SQLite serialises every write.")
        tools, learners = seed()
        with app_servers(1, env=server_database_env(), workers=2, threads=8) as (server,):
            # Warm up: every worker thread's connection and the URL resolver.
            warm: list = []
            post_scores(server.base_url, tools[0], learners, 20, datetime.now(UTC), warm)
            reset_scores()
            for level in LEVELS:
                active = tools[:level]
                per_tool = max(args.posts // level, 1)
                records: list = []
                start = datetime.now(UTC) + timedelta(seconds=1)
                threads = [
                    threading.Thread(
                        target=post_scores,
                        args=(server.base_url, tool, learners, per_tool, start, records),
                    )
                    for tool in active
                ]
                began = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=600)
                elapsed = time.perf_counter() - began
                ok = sum(1 for r in records if r[4] == 200)
                other = len(records) - ok
                lost = lost_updates(active, records)
                p50 = statistics.median(r[5] for r in records) * 1000
                rows.append((level, len(records), ok, other, ok / elapsed, p50, lost))
                print(
                    f"  {level:2d} tools: {len(records)} posts, {ok} accepted, {other} other, "
                    f"{ok / elapsed:.1f} scores/s, p50 {p50:.1f} ms, lost updates {lost}"
                )
                reset_scores()
            errors = server.error_log

    print()
    print("AGS score ingestion (gunicorn 2 workers x 8 threads, one client thread per tool)")
    print(
        f"  {'tools':>5s} {'posts':>6s} {'accepted':>9s} {'other':>6s} {'scores/s':>9s} {'p50 ms':>7s} {'lost':>5s}"
    )
    for level, posts, ok, other, rate, p50, lost in rows:
        print(f"  {level:5d} {posts:6d} {ok:9d} {other:6d} {rate:9.1f} {p50:7.1f} {lost:5d}")
    total_lost = sum(row[-1] for row in rows)
    print(f"  lost updates in all: {total_lost} (target 0)")
    if "Traceback" in errors:
        print("Server errors:\n" + errors, file=sys.stderr)
        return 1
    return 1 if total_lost else 0


if __name__ == "__main__":
    sys.exit(main())
