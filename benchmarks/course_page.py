"""A course page with 100 activity blocks against the same page with 100 paragraph blocks.

An enrolled learner views each page through Django's test client (middleware, session, Wagtail's
page serving, templates and database included; no network). Activity blocks show per-learner
state (status, score, launch link), loaded for the whole page at once (``wagtail_lti.courses.view``).

Targets: the activity page takes at most 1.5 times as long as the paragraph page, and its SQL
query count is the same with 10 and with 100 activities. Run from the project root::

    .venv/bin/python benchmarks/course_page.py [rounds]

On PostgreSQL: ``DATABASE_URL=postgres://... .venv/bin/python benchmarks/course_page.py``.
"""

from __future__ import annotations

import statistics
import sys
import time

from _harness import database, print_machine


BLOCKS = 100


def seed():
    from courses.models import CoursePage
    from django.contrib.auth import get_user_model
    from django.test import Client
    from wagtail.models import Site

    from wagtail_lti.models import (
        Enrollment,
        LearnerActivity,
        LtiProvider,
        LtiResourceLink,
        Organization,
        Placement,
    )

    org = Organization.add_root(name="Acme")
    provider = LtiProvider(name="Quiz tool", organization=org, lti_version="1.1", consumer_key="k")
    provider.secret = "s"
    provider.save()
    links = [
        LtiResourceLink.objects.create(
            name=f"Quiz {n}",
            description=f"Questions about chapter {n}.",
            organization=org,
            provider=provider,
            url=f"https://tool.example/quiz/{n}",
            requires_score=n % 2 == 0,
        )
        for n in range(BLOCKS)
    ]
    home = Site.objects.get(is_default_site=True).root_page
    learner = get_user_model().objects.create_user("lena", "lena@example.com", None)

    def course(slug, body):
        page = CoursePage(
            title=slug, slug=slug, course_organization=org, course_code="C-1", body=body
        )
        home.add_child(instance=page)
        page.save_revision().publish()
        Enrollment.objects.create(course=page, user=learner)
        return page

    def activities(count):
        return [
            ("lti_activity", {"resource_link": links[n], "title": f"Activity {n}"})
            for n in range(count)
        ]

    text = "<p>Read the chapter, then answer the questions about it in your own words.</p>"
    pages = {
        "activities": course("activities", activities(BLOCKS)),
        "activities-10": course("activities-10", activities(10)),
        "paragraphs": course("paragraphs", [("paragraph", text) for _ in range(BLOCKS)]),
    }
    # The learner has been through some of the activities.
    placements = Placement.objects.filter(page=pages["activities"]).order_by("pk")
    LearnerActivity.objects.bulk_create(
        [
            LearnerActivity(
                placement=placement,
                user=learner,
                status=LearnerActivity.Status.COMPLETED
                if n % 3
                else LearnerActivity.Status.LAUNCHED,
                score=0.8 if n % 3 else None,
                launch_count=1,
            )
            for n, placement in enumerate(placements)
            if n % 2
        ]
    )
    client = Client()
    client.force_login(learner)
    return client, {name: page.url for name, page in pages.items()}


def main(rounds: int = 40) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print_machine()
    with database():
        client, urls = seed()

        def view(name):
            response = client.get(urls[name])
            assert response.status_code == 200, response.status_code
            return response

        queries = {}
        for name in urls:
            view(name)  # warm up
            with CaptureQueriesContext(connection) as captured:
                html = view(name).content.decode()
            queries[name] = len(captured.captured_queries)
            if name.startswith("activities"):
                expected = BLOCKS if name == "activities" else 10
                assert html.count("/lti/launch/") >= expected, "the activities did not render"

        samples = {name: [] for name in ("activities", "paragraphs")}
        for _ in range(rounds):  # interleaved, so both see the same machine load
            for name in samples:
                start = time.perf_counter()
                view(name)
                samples[name].append((time.perf_counter() - start) * 1000)

    activities = statistics.median(samples["activities"])
    paragraphs = statistics.median(samples["paragraphs"])
    print()
    print(f"Course page viewed by an enrolled learner, median of {rounds} views ({BLOCKS} blocks)")
    print(
        f"  {BLOCKS} activity blocks:   {activities:8.2f} ms   {queries['activities']:3d} SQL queries"
    )
    print(
        f"  {BLOCKS} paragraph blocks:  {paragraphs:8.2f} ms   {queries['paragraphs']:3d} SQL queries"
    )
    print(f"  10 activity blocks:              {queries['activities-10']:3d} SQL queries")
    print(f"  ratio activities / paragraphs: {activities / paragraphs:.2f} (target <= 1.5)")
    same = queries["activities"] == queries["activities-10"]
    print(
        f"  queries with 10 vs {BLOCKS} activities: {queries['activities-10']} vs "
        f"{queries['activities']} ({'constant' if same else 'GROWS'})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
