"""The demo data's instructor and the demo course's class view (``load_demo_data``)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse


@pytest.mark.django_db
def test_the_instructor_login_and_the_class_view_are_printed_and_open(client):
    try:
        CoursePage = apps.get_model("courses", "CoursePage")
    except LookupError:
        pytest.skip("no CoursePage model in the example site")
    out = StringIO()
    call_command("load_demo_data", "--url", "http://127.0.0.1:8000/", stdout=out)
    output = out.getvalue()
    course = CoursePage.objects.get(slug="getting-started-with-lti")
    class_url = reverse("wagtail_lti:class_view", args=[course.pk])
    assert f"Class view (instructor / instructor): http://127.0.0.1:8000{class_url}" in output
    assert "instructor / instructor" in output

    assert client.login(username="instructor", password="instructor")
    assert class_url in client.get(course.url).content.decode()
    response = client.get(class_url)
    assert response.status_code == 200
    assert "Lena Learner (learner1)" in response.content.decode()

    client.logout()
    assert client.login(username="learner1", password="learner1")
    assert client.get(class_url).status_code == 403
