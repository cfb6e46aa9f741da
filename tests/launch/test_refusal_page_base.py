"""A refused launch shown in a window of its own carries the site's header and styles (the site's
``PAGE_BASE_TEMPLATE``); inside the activity's frame it stays a plain page
(``launch/pages.py: base_template``)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests.support.factories import make_course, make_learner, placements_of
from wagtail_lti.launch.pages import base_template


pytestmark = pytest.mark.django_db

SITE_HEADER = "Wagtail LTI example"  # the example site's base.html


def request(dest: str | None):
    headers = {"Sec-Fetch-Dest": dest} if dest else {}
    return RequestFactory().get("/", headers=headers)


# --- The rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dest", "expected"),
    [("document", "base.html"), ("iframe", ""), ("frame", ""), (None, ""), ("empty", "")],
)
def test_site_base_only_in_a_window_of_its_own(dest, expected):
    assert base_template(request(dest)) == expected


def test_no_site_base_when_the_setting_is_empty_or_the_template_missing(settings):
    settings.WAGTAIL_LTI = {**getattr(settings, "WAGTAIL_LTI", {}), "PAGE_BASE_TEMPLATE": ""}
    assert base_template(request("document")) == ""
    settings.WAGTAIL_LTI = {
        **settings.WAGTAIL_LTI,
        "PAGE_BASE_TEMPLATE": "no/such/template.html",
    }
    assert base_template(request("document")) == ""


# --- The door: the launch view --------------------------------------------------------------------


def refused_page(client, course, dest):
    client.force_login(make_learner("nina"))  # not enrolled
    (placement,) = placements_of(course)
    response = client.post(
        f"/lti/launch/{placement.lti_id}/", headers={"Sec-Fetch-Dest": dest} if dest else {}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not enrolled in" in html and "This activity cannot be opened" in html
    return html


def test_refusal_in_a_new_window_has_the_sites_header_and_styles(client, course):
    html = refused_page(client, course, "document")
    assert SITE_HEADER in html and "example_site/site.css" in html
    assert "wagtail_lti/course_activity.css" in html
    assert html.count("<h1") == 1 and 'role="alert"' in html


@pytest.mark.parametrize("dest", ["iframe", None])
def test_refusal_in_the_frame_is_a_plain_page(client, course, dest):
    html = refused_page(client, course, dest)
    assert SITE_HEADER not in html and "example_site/site.css" not in html
    assert 'class="lti-page"' in html


def test_a_site_without_the_template_gets_the_plain_page(client, orgs, link, settings):
    settings.WAGTAIL_LTI = {
        **getattr(settings, "WAGTAIL_LTI", {}),
        "PAGE_BASE_TEMPLATE": "no/such/template.html",
    }
    html = refused_page(client, make_course(orgs["engineering"], [link]), "document")
    assert SITE_HEADER not in html and 'class="lti-page"' in html
