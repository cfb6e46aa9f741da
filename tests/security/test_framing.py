"""Which responses may be framed: the admin never; course pages and launch pages by this site, and by
the origins in ``WAGTAIL_LTI["FRAME_ANCESTORS"]`` when configured (wagtail_lti.courses.framing)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import override_settings

from wagtail_lti.courses.framing import allow_framing, course_page_framing, frame_ancestors


LMS = "https://lms.example.com"


def frame_headers(response) -> tuple[str | None, str | None]:
    return response.get("X-Frame-Options"), response.get("Content-Security-Policy")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/login/", "/accounts/login/"])
def test_admin_and_login_cannot_be_framed_even_with_frame_ancestors(client, url):
    with override_settings(WAGTAIL_LTI={"FRAME_ANCESTORS": [LMS]}):
        response = client.get(url)
    assert response.status_code == 200
    xfo, csp = frame_headers(response)
    assert xfo == "DENY"
    assert csp is None or LMS not in csp


@pytest.mark.django_db
def test_logged_in_admin_cannot_be_framed(client, superuser):
    client.force_login(superuser)
    with override_settings(WAGTAIL_LTI={"FRAME_ANCESTORS": [LMS]}):
        response = client.get("/admin/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"


def test_allow_framing_same_origin_by_default():
    response = allow_framing(HttpResponse("x"))
    assert frame_headers(response) == ("SAMEORIGIN", None)


def test_allow_framing_with_configured_origins_uses_csp_and_drops_x_frame_options():
    response = HttpResponse("x")
    response["X-Frame-Options"] = "SAMEORIGIN"
    with override_settings(
        WAGTAIL_LTI={"FRAME_ANCESTORS": [LMS, "https://intranet.example.org:8443/"]}
    ):
        allow_framing(response)
    xfo, csp = frame_headers(response)
    assert xfo is None
    assert csp == f"frame-ancestors 'self' {LMS} https://intranet.example.org:8443"
    # Django's XFrameOptionsMiddleware leaves exempt responses alone.
    assert response.xframe_options_exempt is True


def test_allow_framing_keeps_an_existing_policy():
    response = HttpResponse("x")
    response["Content-Security-Policy"] = "default-src 'self'"
    with override_settings(WAGTAIL_LTI={"FRAME_ANCESTORS": [LMS]}):
        allow_framing(response)
    assert (
        response["Content-Security-Policy"] == f"default-src 'self'; frame-ancestors 'self' {LMS}"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "lms.example.com",
        "javascript:alert(1)",
        "https://lms.example.com/path",
        "https://a.com 'unsafe-inline'",
        "*",
    ],
)
def test_bad_frame_ancestors_are_refused(bad):
    with override_settings(WAGTAIL_LTI={"FRAME_ANCESTORS": [bad]}):
        with pytest.raises(ImproperlyConfigured, match="FRAME_ANCESTORS"):
            frame_ancestors()


class _NotACourse:
    pass


def test_hook_leaves_other_pages_alone():
    serve = course_page_framing(lambda page, request, args, kwargs: HttpResponse("x"))
    response = serve(_NotACourse(), None, (), {})
    assert frame_headers(response) == (None, None)


@pytest.mark.django_db
def test_course_page_may_be_framed_by_configured_origins_and_home_page_may_not(client):
    """Served through Wagtail: the on_serve_page hook is registered (wagtail_hooks)."""
    from courses.models import CoursePage, HomePage
    from wagtail.models import Page, Site

    from wagtail_lti.models import Organization

    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Home", slug="framing-home"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"root_page": home, "hostname": "localhost"}
    )
    org = Organization.add_root(name="Framing org")
    course = home.add_child(
        instance=CoursePage(title="Framed course", slug="framed", course_organization=org)
    )

    response = client.get(home.url)
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"

    response = client.get(course.url)
    assert response.status_code == 200
    assert frame_headers(response) == ("SAMEORIGIN", None)

    with override_settings(WAGTAIL_LTI={"FRAME_ANCESTORS": [LMS]}):
        response = client.get(course.url)
    assert response.status_code == 200
    assert frame_headers(response) == (None, f"frame-ancestors 'self' {LMS}")
