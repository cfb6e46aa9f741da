"""Labels of the admin listings and forms that tell the truth: enrollments say "Yes"/"No", the
results report's statuses are told apart (a completed one stands out) and fit the screen, the
"Add from a tool" providers are named once with their version, and help texts point at fields
that are there."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.support.admin import text, url
from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from wagtail_lti.admin.content_selection import ProviderChoiceField
from wagtail_lti.models import LearnerActivity, LtiProvider


pytestmark = pytest.mark.django_db


def cells(html: str, column: int) -> list[str]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    found = []
    for row in rows:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(tds) > column:
            found.append(" ".join(re.sub(r"<[^>]+>", " ", tds[column]).split()))
    return found


def test_enrollments_say_yes_or_no_never_true(client, superuser, orgs, link):
    course = make_course(orgs["engineering"], [link])
    enroll(make_learner("lee"), course)
    inactive = enroll(make_learner("kim"), course)
    inactive.is_active = False
    inactive.save()
    client.force_login(superuser)

    html = text(client.get(reverse("wagtail_lti_enrollments:index")))

    assert "True" not in html and "False" not in html
    assert "Yes" in html and "No" in html


def test_results_report_tells_completed_from_not_started(client, superuser, orgs, provider):
    course = make_course(orgs["engineering"], [make_link(provider, name="Quiz")])
    lee, kim = make_learner("lee"), make_learner("kim")
    enroll(lee, course)
    enroll(kim, course)
    LearnerActivity.objects.create(
        placement=placements_of(course)[0], user=lee, status="completed", score=0.5
    )
    client.force_login(superuser)

    response = client.get(reverse("wagtail_lti_results_report"))
    html = response.content.decode()

    assert html.count("lti-result-status--completed") == 1
    assert html.count("lti-result-status--not_started") == 1
    assert "wagtail_lti/css/results.css" in html
    assert "w-status--primary" not in html
    # Fewer columns than before, so the last one is not cut off at 1280 pixels: the dates share
    # one column ("Launches and dates"); the exports keep every date.
    assert "First launched" not in html and "Launches and dates" in html


def test_results_css_colours_completed_apart():
    from django.contrib.staticfiles import finders

    css = open(finders.find("wagtail_lti/css/results.css")).read()
    completed = css[css.index("lti-result-status--completed") :]
    assert "positive" in completed[: completed.index("}")]


def test_add_from_a_tool_names_a_provider_and_its_version_once(orgs):
    named = make_provider(orgs["acme"], name="Demo tool (LTI 1.3)", version="1.3", key="")
    plain = make_provider(orgs["acme"], name="Quiz tool")
    field = ProviderChoiceField(queryset=LtiProvider.objects.all())
    assert field.label_from_instance(named) == "Demo tool (LTI 1.3)"
    assert field.label_from_instance(plain) == "Quiz tool (LTI 1.1)"


def test_add_from_a_tool_page_never_doubles_the_version(client, superuser, orgs):
    make_provider(orgs["acme"], name="Demo tool (LTI 1.3)", version="1.3", key="")
    client.force_login(superuser)
    html = text(client.get(reverse("wagtail_lti_select_content")))
    assert "Demo tool (LTI 1.3)" in html
    assert "(LTI 1.3) (LTI 1.3)" not in html


def test_enabled_help_text_points_at_nothing_above(client, superuser, orgs):
    client.force_login(superuser)
    html = text(client.get(url(LtiProvider, "add")))
    assert "services allowed above" not in html
    assert "use the services allowed on this form, only while this is on" in html
