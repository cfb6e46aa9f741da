"""The class view shows a late score as late (scores outside the activity's submission dates,
``services/results.py: submission_rule``) in the grid, the cell's history and the export, and
never lists an editor's test learner (``launch/test_launch.py: counted_enrollments``). The late
score arrives from PyLTI1p3's AGS client."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.courses.test_class_view import (
    _ags,
    _tool_grade,
    as_user,
    cell_url,
    class_url,
    world,
)
from tests.courses.test_class_view import shown_text as text
from wagtail_lti.launch.test_launch import test_learner as make_test_learner
from wagtail_lti.models import Result


pytestmark = pytest.mark.django_db

__all__ = ["world"]  # the fixture, shared with the class view's tests


def test_a_late_tool_score_is_marked_late_for_the_instructor(client, world):
    link = world["placement"].resource_link
    link.submission_end = timezone.now() - timedelta(days=1)
    link.save()
    _ags(world).put_grade(_tool_grade(world["lee"], 7, 10))
    assert Result.objects.get(user=world["lee"], line_item=world["line_item"]).late

    as_user(client, world["tess"])
    grid = text(client.get(class_url(world["course"])))
    assert "70% Late" in grid
    assert "Late" in text(client.get(cell_url(world)))
    export = client.get(class_url(world["course"], export="csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    lee = next(row for row in rows if row["Username"] == "lee")
    kim = next(row for row in rows if row["Username"] == "kim")
    assert (lee["Late"], kim["Late"]) == ("Late", "")


def test_an_editors_test_learner_is_not_in_the_class(client, world):
    tester = make_test_learner(world["eddie"], world["course"].pk)
    as_user(client, world["tess"])
    grid = text(client.get(class_url(world["course"])))
    assert tester.get_username() not in grid
    export = client.get(class_url(world["course"], export="csv"))
    usernames = [
        row["Username"]
        for row in csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode()))
    ]
    assert sorted(set(usernames)) == ["kim", "lee"]
