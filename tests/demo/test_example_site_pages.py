"""The example site's own pages: its icon, and the course page's enrollment line."""

from __future__ import annotations

import pytest

from tests.support.factories import enroll, make_course


pytestmark = pytest.mark.django_db


def test_favicon_is_the_sites_icon_not_a_404(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("/example_site/favicon.svg")
    with open(finders.find("example_site/favicon.svg")) as icon:
        assert icon.read().startswith("<svg")


def test_site_pages_name_their_icon(client, course):
    assert 'rel="icon"' in client.get(course.url).content.decode()


@pytest.mark.parametrize(
    ("role", "words"), [("learner", "a learner"), ("instructor", "an instructor")]
)
def test_course_page_says_whom_you_are_enrolled_as(client, orgs, link, learner, role, words):
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page, role=role)
    client.force_login(learner)
    html = client.get(page.url).content.decode()
    assert f"You are enrolled in this course as {words}." in html
