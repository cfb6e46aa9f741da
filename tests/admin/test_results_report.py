"""The "LTI results" report: rows, scoping to managed organizations, filters, CSV and XLSX export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from wagtail_lti.models import LearnerActivity


pytestmark = pytest.mark.django_db

URL = "wagtail_lti_results_report"


@pytest.fixture
def data(orgs, provider, make_editor):
    quiz = make_link(provider, name="Quiz", requires_score=True)
    reading = make_link(provider, name="Reading")
    eng = make_course(orgs["engineering"], [quiz, reading], title="Engineering basics")
    sales = make_course(orgs["sales"], [(quiz, "Sales quiz")], title="Selling 101")
    lee = make_learner("lee")
    kim = make_learner("kim", first_name="Kim", last_name="Kay")
    tess = make_learner("tess", first_name="Tess", last_name="Teacher")
    enroll(lee, eng)
    enroll(kim, eng)
    enroll(tess, eng, role="instructor")
    enroll(kim, sales)
    eng_quiz, eng_reading = placements_of(eng)
    (sales_quiz,) = placements_of(sales)
    now = timezone.now()
    LearnerActivity.objects.create(
        placement=eng_quiz,
        user=lee,
        status="completed",
        score=0.85,
        launch_count=2,
        first_launched_at=now - timedelta(days=1),
        last_launched_at=now,
        completed_at=now,
    )
    LearnerActivity.objects.create(
        placement=eng_reading, user=kim, status="launched", launch_count=1, first_launched_at=now
    )
    LearnerActivity.objects.create(placement=sales_quiz, user=kim, status="completed", score=0.5)
    return {
        "eng": eng,
        "sales": sales,
        "eng_quiz": eng_quiz,
        "eng_reading": eng_reading,
        "lee": lee,
        "kim": kim,
        "alice": make_editor("alice", orgs["engineering"]),
        "sam": make_editor("sam", orgs["sales"]),
    }


def export_csv(client, **params) -> list[dict[str, str]]:
    response = client.get(reverse(URL), {**params, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="lti-results.csv"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(content)))


def keys(rows):
    return sorted(
        (r["Username"], r["Course"], r["Activity"], r["Status"], r["Score (%)"]) for r in rows
    )


def test_report_lists_every_learner_and_activity_of_managed_courses(client, data):
    """Not-started activities appear too; instructors and other organizations' courses don't."""
    client.force_login(data["alice"])
    rows = export_csv(client)
    assert keys(rows) == [
        ("kim", "Engineering basics", "Quiz", "Not started", ""),
        ("kim", "Engineering basics", "Reading", "Launched", ""),
        ("lee", "Engineering basics", "Quiz", "Completed", "85.0"),
        ("lee", "Engineering basics", "Reading", "Not started", ""),
    ]
    lee_quiz = next(r for r in rows if r["Username"] == "lee" and r["Activity"] == "Quiz")
    assert lee_quiz["Learner"] == "Lee Learner (lee)"
    assert lee_quiz["Email"] == "lee@example.com"
    assert lee_quiz["Organization"] == "Engineering"
    assert lee_quiz["Launches"] == "2"
    assert lee_quiz["First launched"] and lee_quiz["Completed"]


def test_another_editor_sees_only_their_organization(client, data):
    client.force_login(data["sam"])
    assert keys(export_csv(client)) == [("kim", "Selling 101", "Sales quiz", "Completed", "50.0")]


def test_superuser_sees_everything(client, data, superuser):
    client.force_login(superuser)
    assert len(export_csv(client)) == 5


def test_filters_by_organization_course_activity_and_status(client, data, orgs, superuser):
    client.force_login(superuser)
    assert {r["Course"] for r in export_csv(client, organization=orgs["sales"].pk)} == {
        "Selling 101"
    }
    assert len(export_csv(client, organization=orgs["acme"].pk)) == 5
    assert {r["Course"] for r in export_csv(client, course=data["eng"].pk)} == {
        "Engineering basics"
    }
    rows = export_csv(client, activity=data["eng_reading"].pk)
    assert keys(rows) == [
        ("kim", "Engineering basics", "Reading", "Launched", ""),
        ("lee", "Engineering basics", "Reading", "Not started", ""),
    ]
    assert {r["Username"] for r in export_csv(client, status="completed")} == {"lee", "kim"}
    assert len(export_csv(client, status="completed")) == 2


def test_filters_cannot_reach_outside_the_managed_organizations(client, data, orgs):
    client.force_login(data["alice"])
    # An unmanaged organization or course is not a valid choice: the filter is ignored, and the
    # rows stay limited to the editor's courses.
    for params in ({"organization": orgs["sales"].pk}, {"course": data["sales"].pk}):
        assert {r["Course"] for r in export_csv(client, **params)} <= {"Engineering basics"}


def test_removed_activity_shows_only_for_learners_who_started_it(client, data, superuser):
    page = data["eng"].specific
    del page.body[0]  # the quiz: lee completed it, kim never started
    page.save_revision().publish()
    client.force_login(superuser)
    rows = [r for r in export_csv(client, course=data["eng"].pk) if r["Activity"] == "Quiz"]
    assert keys(rows) == [("lee", "Engineering basics", "Quiz", "Completed", "85.0")]


def test_xlsx_export(client, data):
    client.force_login(data["alice"])
    response = client.get(reverse(URL), {"export": "xlsx", "course": data["eng"].pk})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:8] == (
        "Learner",
        "Username",
        "Email",
        "Course",
        "Organization",
        "Activity",
        "Status",
        "Score (%)",
    )
    body = {(r[1], r[5]): r for r in rows[1:]}
    assert len(body) == 4
    assert body[("lee", "Quiz")][6] == "Completed"
    assert body[("lee", "Quiz")][7] == 85.0
    assert body[("kim", "Quiz")][6] == "Not started"


def test_html_report_renders_with_status_and_score(client, data):
    client.force_login(data["alice"])
    response = client.get(reverse(URL))
    assert response.status_code == 200
    html = response.content.decode()
    assert "LTI results" in html
    assert "Lee Learner (lee)" in html and "85%" in html
    assert "Selling 101" not in html.split('id="listing-results"')[-1]
    results = client.get(reverse("wagtail_lti_results_report_results"))
    assert results.status_code == 200


def test_editor_managing_nothing_sees_no_rows(client, data, make_editor):
    nobody = make_editor("nobody")
    client.force_login(nobody)
    assert export_csv(client) == []


def test_permission_is_checked(client, data, django_user_model):
    """Admin access alone is not enough to see learners' results."""
    user = django_user_model.objects.create_user("viewer", password="password")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.get(reverse(URL), {"export": "csv"})
    assert response.status_code in {302, 403}
    assert b"lee" not in response.content
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(URL) not in menu

    user.user_permissions.add(Permission.objects.get(codename="view_learneractivity"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(reverse(URL)).status_code == 200
