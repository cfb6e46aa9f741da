"""The results report shows what a person needs to trust a score: its source (tool or
instructor override), the tool's grading and activity progress, the comment and when it was
scored; Pending grading is not completed; each row links to its course's class view."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.urls import reverse

from tests.support.admin import text
from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from wagtail_lti.services import results


pytestmark = pytest.mark.django_db


@pytest.fixture
def data(orgs, provider, make_editor):
    quiz = make_link(provider, name="Quiz", requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [quiz], title="Engineering basics")
    lee, kim = make_learner("lee"), make_learner("kim", first_name="Kim", last_name="Kay")
    tess = make_learner("tess")
    for learner in (lee, kim):
        enroll(learner, course)
    (placement,) = placements_of(course)
    line_item = results.line_item_for(placement)
    results.record_launch(placement, kim)
    results.record_score(
        line_item,
        kim,
        score_given=5,
        score_maximum=10,
        activity_progress="Submitted",
        grading_progress="PendingManual",
        timestamp=None,
        comment="Essay received",
        source="ags",
    )
    results.override_score(line_item, lee, score_given=9, comment="-Oral exam", keep=True, by=tess)
    return {"course": course, "alice": make_editor("alice", orgs["engineering"])}


def test_the_report_shows_source_progress_comment_and_the_class_link(client, data):
    client.force_login(data["alice"])
    response = client.get(reverse("wagtail_lti_results_report"))
    assert response.status_code == 200
    page = html.unescape(text(response))
    assert "Instructor override" in page and "-Oral exam" in page
    assert "Pending grading" in page and "PendingManual" in page and "Essay received" in page
    class_url = reverse("wagtail_lti:class_view", args=[data["course"].pk])
    assert f'href="{class_url}"' in response.content.decode()
    # The editor reaches the class view through that link.
    assert client.get(class_url).status_code == 200


def test_the_export_has_the_same_columns(client, data):
    client.force_login(data["alice"])
    response = client.get(reverse("wagtail_lti_results_report"), {"export": "csv"})
    rows = {
        r["Username"]: r
        for r in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    }
    assert (rows["lee"]["Status"], rows["lee"]["Source"], rows["lee"]["Comment"]) == (
        "Completed",
        "Instructor override",
        "'-Oral exam",
    )
    assert rows["lee"]["Score (%)"] == "90.0"
    kim = rows["kim"]
    assert (kim["Status"], kim["Grading progress"], kim["Activity progress"]) == (
        "Pending grading",
        "PendingManual",
        "Submitted",
    )
    assert kim["Source"] == "LTI 1.3 Assignment and Grade Services"
    assert kim["Scored"]
