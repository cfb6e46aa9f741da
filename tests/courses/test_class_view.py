"""The class view of a course (``wagtail_lti:class_view``, ``wagtail_lti:class_cell``): who may
see and override (``scoping.class_access``, at the rule and at the door), the grid and what it
costs, overrides against real tool scores arriving afterwards (PyLTI1p3's AGS client, the ``lti``
package's Basic Outcomes request signed with OAuth 1.0a), the export, and the learner's page."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lti import OutcomeRequest as ToolOutcomeRequest
from lti import OutcomeResponse as ToolOutcomeResponse
from openpyxl import load_workbook
from pylti1p3.grade import Grade

from tests.support.admin import text
from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti11 import make_course_setup, send, sign_outcome
from tests.support.lti13 import make_tool
from tests.support.queries import data_statements
from wagtail_lti import scoping
from wagtail_lti.models import LearnerActivity, Result, ScoreEvent
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.security.sourcedid import make_sourcedid
from wagtail_lti.services import results
from wagtail_lti.services import urls as ags_urls


pytestmark = pytest.mark.django_db


@pytest.fixture
def world(orgs, make_editor):
    """An LTI 1.3 tool's graded activity in an engineering course with two learners and an
    instructor; another course (sales) with its own instructor; editors of both organizations."""
    tool = make_tool(orgs["acme"])
    link = make_link(tool.provider, name="Quiz", requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    other = make_course(orgs["sales"], [link], title="Selling 101")
    lee = make_learner("lee")
    kim = make_learner("kim", first_name="Kim", last_name="Kay")
    tess = make_learner("tess", first_name="Tess", last_name="Teacher")
    olive = make_learner("olive", first_name="Olive", last_name="Other")
    enroll(lee, course)
    enroll(kim, course)
    enroll(tess, course, role="instructor")
    enroll(olive, other, role="instructor")
    enroll(lee, other)
    (placement,) = placements_of(course)
    return {
        "tool": tool,
        "course": course,
        "other": other,
        "lee": lee,
        "kim": kim,
        "tess": tess,
        "olive": olive,
        "placement": placement,
        "line_item": results.line_item_for(placement),
        "eddie": make_editor("eddie", orgs["engineering"]),
        "sally": make_editor("sally", orgs["sales"]),
    }


def class_url(course, **query):
    url = reverse("wagtail_lti:class_view", args=[course.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def cell_url(w, learner=None):
    return reverse(
        "wagtail_lti:class_cell",
        args=[w["course"].pk, w["placement"].pk, (learner or w["lee"]).pk],
    )


def shown_text(response) -> str:
    return html.unescape(text(response)).strip()


def as_user(client, user):
    client.force_login(user)
    return client


# --- Who may see and override: the rule -------------------------------------------------------------


def test_class_access_rule(world, superuser):
    course = world["course"]
    instructor = scoping.class_access(world["tess"], course)
    assert (instructor.may_see, instructor.may_override, instructor.as_instructor) == (
        True,
        True,
        True,
    )
    editor = scoping.class_access(world["eddie"], course)
    assert (editor.may_see, editor.may_override, editor.as_instructor) == (True, True, False)
    assert scoping.class_access(superuser, course).may_override
    for refused in ("lee", "olive", "sally"):
        access = scoping.class_access(world[refused], course)
        assert not access.may_see and not access.may_override, refused


def test_an_inactive_instructor_enrollment_or_account_sees_nothing(world):
    enrollment = world["tess"].lti_enrollments.get(course=world["course"])
    enrollment.is_active = False
    enrollment.save()
    assert not scoping.class_access(world["tess"], world["course"])
    enrollment.is_active = True
    enrollment.save()
    world["tess"].is_active = False
    assert not scoping.class_access(world["tess"], world["course"])


def test_an_editor_needs_the_results_permission_and_the_change_one_to_override(world):
    from django.contrib.auth.models import Permission

    eddie = world["eddie"]
    for group in eddie.groups.all():
        group.permissions.remove(
            *Permission.objects.filter(codename__in=["change_learneractivity"])
        )
    eddie = type(eddie).objects.get(pk=eddie.pk)
    access = scoping.class_access(eddie, world["course"])
    assert access.may_see and not access.may_override
    for group in eddie.groups.all():
        group.permissions.remove(*Permission.objects.filter(codename="view_learneractivity"))
    eddie = type(eddie).objects.get(pk=eddie.pk)
    assert not scoping.class_access(eddie, world["course"])


# --- Who may see and override: the doors ------------------------------------------------------------


@pytest.mark.parametrize("who", ["lee", "olive", "sally"])
def test_the_class_and_its_cells_are_refused_with_a_clear_page(client, world, who):
    as_user(client, world[who])
    for url in (
        class_url(world["course"]),
        class_url(world["course"], export="csv"),
        cell_url(world),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Only the instructors of “Engineering basics”" in shown_text(response)
    response = client.post(cell_url(world), {"action": "override", "score": "9"})
    assert response.status_code == 403
    assert not Result.objects.exists()


def test_a_visitor_not_logged_in_is_sent_to_log_in(client, world):
    response = client.get(class_url(world["course"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_unknown_courses_pages_and_cells_are_404_pages(client, world, orgs):
    as_user(client, world["tess"])
    assert client.get(reverse("wagtail_lti:class_view", args=[999999])).status_code == 404
    home = world["course"].get_parent()
    assert client.get(reverse("wagtail_lti:class_view", args=[home.pk])).status_code == 404
    # A learner of another course, an activity of another course.
    outsider = make_learner("otto")
    assert client.get(cell_url(world, outsider)).status_code == 404
    (other_placement,) = placements_of(world["other"])
    url = reverse(
        "wagtail_lti:class_cell", args=[world["course"].pk, other_placement.pk, world["lee"].pk]
    )
    response = client.get(url)
    assert response.status_code == 404
    assert "not in this course" in response.content.decode()
    # The instructor is no learner of the class.
    assert client.get(cell_url(world, world["tess"])).status_code == 404


def test_an_editor_without_the_change_permission_sees_but_may_not_override(client, world):
    from django.contrib.auth.models import Permission

    for group in world["eddie"].groups.all():
        group.permissions.remove(*Permission.objects.filter(codename="change_learneractivity"))
    as_user(client, world["eddie"])
    page = client.get(cell_url(world)).content.decode()
    assert "Override the score" not in page
    response = client.post(cell_url(world), {"action": "override", "score": "9"})
    assert response.status_code == 403
    assert not Result.objects.exists()


# --- The grid -------------------------------------------------------------------------------------


def test_the_course_page_links_instructors_only(client, world):
    as_user(client, world["tess"])
    assert class_url(world["course"]) in client.get(world["course"].url).content.decode()
    as_user(client, world["lee"])
    assert "/lti/class/" not in client.get(world["course"].url).content.decode()


def test_the_grid_shows_status_score_source_and_grading_progress(client, world):
    results.record_launch(world["placement"], world["kim"])
    results.record_score(
        world["line_item"],
        world["kim"],
        score_given=4,
        score_maximum=10,
        activity_progress="Submitted",
        grading_progress="PendingManual",
        timestamp=None,
        comment="",
        source="ags",
    )
    results.override_score(
        world["line_item"], world["lee"], score_given=9, keep=True, by=world["tess"]
    )
    as_user(client, world["tess"])
    response = client.get(class_url(world["course"]))
    assert response.status_code == 200
    text = shown_text(response)
    assert "Kim Kay (kim)" in text and "Lee Learner (lee)" in text
    assert "Pending grading 40%" in text and "PendingManual" in text
    assert "Completed 90% Override" in text
    assert "Instructor override" in text and "AGS (LTI 1.3)" in text
    assert "Tess" not in text.split("Learner", 1)[1]  # the instructor is no row


def test_the_grid_costs_the_same_queries_for_two_or_forty_learners(client, world):
    as_user(client, world["tess"])
    url = class_url(world["course"])
    client.get(url)

    def statements():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return data_statements(queries)

    few = statements()
    for n in range(38):
        learner = make_learner(f"l{n:02}")
        enroll(learner, world["course"])
        results.record_launch(world["placement"], learner)
    many = statements()
    assert many == few
    assert len(many) <= 12, many


def test_the_grid_is_paginated(client, world):
    for n in range(55):
        enroll(make_learner(f"p{n:02}", last_name=f"Z{n:02}"), world["course"])
    as_user(client, world["tess"])
    first = shown_text(client.get(class_url(world["course"])))
    assert "57 learners, page 1 of 2" in first and "Next learners" in first
    second = shown_text(client.get(class_url(world["course"], page=2)))
    assert "page 2 of 2" in second and "Z54" in second and "Z54" not in first


# --- Overrides through the door, and real tools scoring afterwards ----------------------------------


def _tool_grade(user, given, maximum, **progress):
    return (
        Grade()
        .set_activity_progress(progress.get("activity", "Completed"))
        .set_grading_progress(progress.get("grading", "FullyGraded"))
        .set_timestamp(datetime.now(UTC).isoformat())
        .set_user_id(opaque_user_id(user))
        .set_score_given(given)
        .set_score_maximum(maximum)
    )


def _ags(world):
    request = RequestFactory().get("/")
    return world["tool"].ags(
        lineitems=ags_urls.ags_lineitems_url(request, world["course"], world["tool"].provider),
        lineitem=ags_urls.ags_lineitem_url(request, world["line_item"]),
    )


def _shown(world, learner=None):
    return LearnerActivity.objects.get(placement=world["placement"], user=learner or world["lee"])


def test_a_kept_override_stands_against_a_pylti1p3_score_until_cleared(client, world):
    as_user(client, world["tess"])
    response = client.post(
        cell_url(world),
        {"action": "override", "score": "9.5", "comment": "Oral exam", "keep": "on"},
    )
    assert response.status_code == 302
    page = shown_text(client.get(cell_url(world)))
    assert "Completed 95% Override" in page and "Oral exam" in page
    assert "stays until it is cleared" in page

    # The tool scores afterwards: AGS through PyLTI1p3, with a token from our token endpoint.
    ags = _ags(world)
    ags.put_grade(_tool_grade(world["lee"], 3, 10))
    # It reads back its own score, never the override.
    grades = ags.get_grades()
    assert [(g["userId"], g.get("resultScore")) for g in grades] == [
        (opaque_user_id(world["lee"]), 3)
    ]
    shown = _shown(world)
    assert (shown.score, shown.score_source) == (pytest.approx(0.95), "instructor")
    assert Result.objects.get(user=world["lee"]).score_given == 3
    page = shown_text(client.get(cell_url(world)))
    assert "not shown: an override stands" in page
    assert "The tool's own score: 3 / 10." in page

    response = client.post(cell_url(world), {"action": "clear"})
    assert response.status_code == 302
    shown = _shown(world)
    assert (shown.score, shown.score_source) == (pytest.approx(0.3), "ags")
    page = shown_text(client.get(cell_url(world)))
    assert "The tool's score is used again." in page
    assert "Use the tool's score again" not in page
    assert "Override cleared" in page


def test_an_override_not_kept_is_replaced_by_a_basic_outcomes_score(client, orgs):
    setup = make_course_setup(orgs)
    teacher = make_learner("tess")
    enroll(teacher, setup.course, role="instructor")
    as_user(client, teacher)
    url = reverse(
        "wagtail_lti:class_cell", args=[setup.course.pk, setup.placement.pk, setup.learner.pk]
    )
    assert client.post(url, {"action": "override", "score": "70"}).status_code == 302
    assert LearnerActivity.objects.get(user=setup.learner).score_source == "instructor"

    # The tool sends replaceResult as the lti package writes it, signed with OAuth 1.0a.
    xml = ToolOutcomeRequest(
        {
            "operation": "replaceResult",
            "score": "0.4",
            "message_identifier": "m-1",
            "lis_result_sourcedid": make_sourcedid(setup.placement, setup.learner),
        }
    ).generate_request_xml()
    answer = ToolOutcomeResponse()
    answer.process_xml(send(client, sign_outcome(xml)).content)
    assert answer.is_success()
    shown = LearnerActivity.objects.get(user=setup.learner)
    assert (shown.score, shown.score_source) == (pytest.approx(0.4), "lti11_outcomes")
    assert Result.objects.get().override_at is None


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("abc", "Enter a number."),
        ("-1", "greater than or equal to 0"),
        ("10.5", "less than or equal to 10"),
        ("", "This field is required."),
        ("nan", "Enter a number."),
    ],
)
def test_bad_overrides_get_a_message_and_record_nothing(client, world, score, message):
    as_user(client, world["tess"])
    response = client.post(cell_url(world), {"action": "override", "score": score})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Result.objects.exists() and not ScoreEvent.objects.exists()


def test_an_activity_without_a_score_cannot_be_overridden(client, orgs):
    setup = make_course_setup(orgs, requires_score=False)
    teacher = make_learner("tess")
    enroll(teacher, setup.course, role="instructor")
    as_user(client, teacher)
    url = reverse(
        "wagtail_lti:class_cell", args=[setup.course.pk, setup.placement.pk, setup.learner.pk]
    )
    assert "Override the score" not in client.get(url).content.decode()
    response = client.post(url, {"action": "override", "score": "1"})
    assert response.status_code == 400
    assert "This activity takes no score." in response.content.decode()
    assert not Result.objects.exists()


def test_the_cell_detail_has_the_slot_for_result_actions(client, world, settings):
    from django.template import engines

    assert "result_actions.html" in (
        engines["django"].get_template("wagtail_lti/courses/class_cell.html").template.source
    )


# --- Export ---------------------------------------------------------------------------------------


def test_the_export_neutralises_formulas(client, world):
    lee = world["lee"]
    lee.first_name = '=HYPERLINK("http://evil.example/","x")'
    lee.save()
    results.override_score(
        world["line_item"], lee, score_given=8, comment="+SUM(1,2)", keep=True, by=world["tess"]
    )
    as_user(client, world["tess"])
    response = client.get(class_url(world["course"], export="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["Username"] for r in rows] == ["kim", "lee"]
    row = rows[1]
    assert row["Learner"].startswith("'=HYPERLINK(")
    assert row["Comment"] == "'+SUM(1,2)"
    assert (row["Status"], row["Score (%)"], row["Source"]) == (
        "Completed",
        "80.0",
        "Instructor override",
    )
    assert row["Grading progress"] == ""  # the tool's: it sent no score

    response = client.get(class_url(world["course"], export="xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][:4] == ("Learner", "Username", "Email", "Activity")
    lee_row = next(v for v in values if v[1] == "lee")
    assert lee_row[0].startswith("=HYPERLINK(")  # a text cell, not a formula
    cell = next(c for c in sheet.iter_rows() if c[1].value == "lee")[0]
    assert cell.data_type == "s"


# --- The learner's page ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activity_progress", "grading", "label"),
    [
        ("Completed", "Pending", "Pending grading"),
        ("Submitted", "PendingManual", "Pending grading"),
        ("Submitted", "NotReady", "Submitted"),
    ],
)
def test_the_learner_sees_submitted_and_pending_grading(
    client, world, activity_progress, grading, label
):
    results.record_launch(world["placement"], world["lee"])
    _ags(world).put_grade(
        _tool_grade(world["lee"], 6, 10, activity=activity_progress, grading=grading)
    )
    as_user(client, world["lee"])
    html = client.get(world["course"].url).content.decode()
    assert f">{label}<" in html
    assert ">Completed<" not in html
    assert _shown(world).status == "launched"


def test_an_override_without_the_csrf_token_is_refused(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["tess"])
    response = client.post(cell_url(world), {"action": "override", "score": "9"})
    assert response.status_code == 403
    assert not Result.objects.exists()


def test_the_override_form_holds_the_standing_override(client, world):
    results.override_score(
        world["line_item"], world["lee"], score_given=7, comment="Kept", keep=True, by=world["tess"]
    )
    as_user(client, world["tess"])
    page = client.get(cell_url(world)).content.decode()
    assert 'name="score" value="7.0"' in page and "checked" in page and ">\nKept</textarea>" in page
