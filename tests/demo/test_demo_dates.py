"""The demo data shows a resource link's dates and presentation: the scored LTI 1.3 lab is due in
two weeks (the course page says so) and opens in its own named window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from tests.demo.test_demo_data import load
from tests.support.forms import read_page
from wagtail_lti.launch.rules import moment_label


pytestmark = pytest.mark.django_db


def test_the_demo_lab_is_due_and_opens_in_its_window(client):
    try:
        CoursePage = apps.get_model("courses", "CoursePage")
    except LookupError:
        pytest.skip("no CoursePage model in the example site")
    from wagtail_lti.models import LtiResourceLink

    load()
    lab = LtiResourceLink.objects.get(name="Demo lab (LTI 1.3, scored)")
    assert timedelta(days=13) < lab.submission_end - timezone.now() <= timedelta(days=14)
    assert lab.window_target_name == "demo-lab"

    course = CoursePage.objects.get(slug="getting-started-with-lti")
    assert client.login(username="learner1", password="learner1")
    response = client.get(course.url)
    assert f"Due {moment_label(lab.submission_end)}".encode() in response.content
    assert "demo-lab" in [form["target"] for form in read_page(response).forms]
