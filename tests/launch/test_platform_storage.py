"""Platform storage, server side: ``lti_storage_target`` in the login initiation and the tool
origins the course page trusts (the browser side: ``tests/browser/test_platform_storage.py``)."""

from __future__ import annotations

import pytest

from tests.launch.test_lti13_launch import LOGIN_URL, TOOL, start_launch, tool_keys, world  # noqa: F401, F811 - fixtures
from wagtail_lti.courses.platform_storage import origin_of, origins
from wagtail_lti.lti.oidc import login_initiation_params


pytestmark = pytest.mark.django_db

BASE = {
    "issuer": "https://lms.example",
    "login_hint": "u1",
    "target_link_uri": "https://tool.example/lti/",
    "lti_message_hint": "h",
    "client_id": "c",
    "deployment_id": "d",
}


def test_storage_target_sent_only_when_given():
    assert "lti_storage_target" not in login_initiation_params(**BASE)
    params = login_initiation_params(**BASE, lti_storage_target="_parent")
    assert params["lti_storage_target"] == "_parent"


def test_embedded_launch_names_the_parent_window(world):  # noqa: F811
    """lti-cs-pm: the tool sends storage messages to ``window.parent`` (the course page)."""
    assert start_launch(world)["lti_storage_target"] == "_parent"


def test_new_window_launch_sends_no_storage_target(world):  # noqa: F811
    world.link.open_in = "window"
    world.link.save()
    assert "lti_storage_target" not in start_launch(world)


def test_course_page_frame_lists_the_tool_origins(world):  # noqa: F811
    page = world.client.get(world.course.url).content.decode()
    assert f'data-lti-tool-origins="{TOOL}"' in page
    assert "wagtail_lti/platform_storage.js" in page
    assert LOGIN_URL.startswith(TOOL)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Tool.example/a?b#c", "https://tool.example"),
        ("https://tool.example:443/a", "https://tool.example"),
        ("http://localhost:8000/x", "http://localhost:8000"),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("javascript:alert(1)", None),
        ("/relative", None),
        ("", None),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_origins_deduplicated_in_order():
    assert origins(["https://a.example/1", "https://b.example", "https://a.example/2", "x"]) == [
        "https://a.example",
        "https://b.example",
    ]
