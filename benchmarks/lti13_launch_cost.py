"""Server-side cost of one LTI 1.3 launch, measured against signing the id_token alone.

A launch costs the platform two requests: the login initiation (the learner opens the activity;
``wagtail_lti:launch`` → ``start_login``) and the authorization request (the tool asks for the
id_token; ``wagtail_lti:lti13_authorize``). The second one validates the request, consumes the
message hint, re-checks the enrollment, records the launch, builds the claims and signs them.
This script times both through Django's test client (middleware, session and database included;
no network) on a throw-away SQLite database, and compares them with ``sign_id_token`` alone. Run
from the project root::

    .venv/bin/python benchmarks/lti13_launch_cost.py [rounds]

Prints the median of each and the ratio authorization / signing.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from html import unescape
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "example_site")]
_tmp = tempfile.TemporaryDirectory()
os.environ["SQLITE_PATH"] = str(Path(_tmp.name) / "bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")
os.environ.setdefault("DEBUG", "0")  # as in production: no query log
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)

import django  # noqa: E402


django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402


FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REDIRECT_URI = "https://tool.example/lti/launch/"


def fields_of(response) -> dict[str, str]:
    return {name: unescape(value) for name, value in FIELD.findall(response.content.decode())}


def setup_world():
    from courses.models import CoursePage
    from django.contrib.auth import get_user_model
    from wagtail.models import Site

    from wagtail_lti.models import Enrollment, LtiProvider, LtiResourceLink, Organization, Placement

    org = Organization.add_root(name="Acme")
    provider = LtiProvider.objects.create(
        name="Quiz tool",
        organization=org,
        lti_version="1.3",
        login_url="https://tool.example/lti/login/",
        launch_url="https://tool.example/lti/",
        redirect_uris=REDIRECT_URI,
        custom_parameters="custom_uid=$User.id\ncustom_unit=3",
    )
    link = LtiResourceLink.objects.create(
        name="Quiz",
        organization=org,
        provider=provider,
        url="https://tool.example/quiz/1",
        requires_score=True,
    )
    course = CoursePage(
        title="Safety",
        slug="safety-bench",
        course_organization=org,
        course_code="SAF-101",
        body=[("lti_activity", {"resource_link": link, "title": "Quiz"})],
    )
    Site.objects.get(is_default_site=True).root_page.add_child(instance=course)
    course.save_revision().publish()
    placement = Placement.objects.get(page=course)
    learner = get_user_model().objects.create_user(
        "lena", "lena@example.com", "pw", first_name="Lena"
    )
    Enrollment.objects.create(course=course, user=learner)
    client = Client()
    client.force_login(learner)
    return client, reverse("wagtail_lti:launch", args=[placement.lti_id]), provider


def main(rounds: int = 200) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    settings.ALLOWED_HOSTS = ["testserver"]
    client, launch_url, provider = setup_world()
    authorize_url = reverse("wagtail_lti:lti13_authorize")

    from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
    from wagtail_lti.lti.lti13 import build_id_token_claims, sign_id_token
    from wagtail_lti.security.platform_keys import get_signing_key

    kid, key = get_signing_key()  # created and loaded once, as in a running process

    def one_launch() -> tuple[float, float, float, float]:
        start, start_cpu = time.perf_counter(), time.process_time()
        init = fields_of(client.get(launch_url, headers={"Sec-Fetch-Site": "same-origin"}))
        middle, middle_cpu = time.perf_counter(), time.process_time()
        response = client.get(
            authorize_url,
            {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": init["client_id"],
                "redirect_uri": REDIRECT_URI,
                "state": "state-1",
                "nonce": f"nonce-{time.perf_counter_ns()}",
                "login_hint": init["login_hint"],
                "lti_message_hint": init["lti_message_hint"],
            },
        )
        end, end_cpu = time.perf_counter(), time.process_time()
        assert "id_token" in fields_of(response), response.content[:500]
        return (
            (middle - start) * 1000,
            (end - middle) * 1000,
            (middle_cpu - start_cpu) * 1000,
            (end_cpu - middle_cpu) * 1000,
        )

    for _ in range(10):  # warm up (templates, URL resolver, key caches)
        one_launch()
    logins, authorizations, logins_cpu, authorizations_cpu = zip(
        *(one_launch() for _ in range(rounds)), strict=True
    )

    ctx = LaunchContext(
        user=LaunchUser(id="0123456789abcdef0123456789abcdef01234567", full_name="Lena"),
        roles=("Learner",),
        context_id="ctx",
        context_title="Safety",
        context_label="SAF-101",
        resource_link_id="rl",
        resource_link_title="Quiz",
        resource_link_description="",
        target_url="https://tool.example/quiz/1",
        platform=PlatformInfo(guid="testserver", name="Wagtail LTI"),
        custom={"custom_uid": "$User.id", "custom_unit": "3"},
    )
    claims = build_id_token_claims(
        ctx,
        issuer="http://testserver",
        client_id=provider.client_id,
        deployment_id=provider.deployment_id,
        nonce="n",
        ags={"lineitems": "http://testserver/a/", "lineitem": "http://testserver/a/1"},
        now=int(time.time()),
        ttl=300,
        iat_backdate=5,
    )

    def timed(func) -> float:
        start = time.perf_counter()
        func()
        return (time.perf_counter() - start) * 1000

    signing = [timed(lambda: sign_id_token(claims, kid, key)) for _ in range(max(rounds, 1000))]
    building = [
        timed(
            lambda: build_id_token_claims(
                ctx,
                issuer="http://testserver",
                client_id="c",
                deployment_id="d",
                nonce="n",
                now=int(time.time()),
                ttl=300,
                iat_backdate=5,
            )
        )
        for _ in range(rounds)
    ]

    med = statistics.median
    sign_ms = med(signing)
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"One LTI 1.3 launch, server side, median of {rounds} rounds ({database}, RSA-2048)")
    print("                                                   wall ms    CPU ms")
    print(
        f"  login initiation (launch view → form to tool): {med(logins):8.3f}  {med(logins_cpu):8.3f}"
    )
    print(
        f"  authorization request → id_token form:         {med(authorizations):8.3f}  {med(authorizations_cpu):8.3f}"
    )
    print(f"  building the claims alone:                     {med(building):8.3f}")
    print(f"  signing the id_token alone (loaded key):       {sign_ms:8.3f}")
    print(
        f"  authorization / signing:  wall {med(authorizations) / sign_ms:6.1f} x,  CPU {med(authorizations_cpu) / sign_ms:6.1f} x"
    )
    whole, whole_cpu = med(logins) + med(authorizations), med(logins_cpu) + med(authorizations_cpu)
    print(
        f"  whole launch / signing:   wall {whole / sign_ms:6.1f} x,  CPU {whole_cpu / sign_ms:6.1f} x"
    )
    print("Wall time includes waiting for the database to commit (fsync); CPU time does not.")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
