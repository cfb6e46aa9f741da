"""The one auto-submitting form (``wagtail_lti.launch.autosubmit``): the helper, and every door
that answers with one (LTI 1.1 launch, LTI 1.3 login initiation, Deep Linking and Content-Item
requests). The Content-Item request is checked with oauthlib as the tool, on the values a browser
posts (line breaks as CRLF, HTML §4.10.21.8)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory
from django.urls import reverse
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from tests.support.factories import (
    KEY,
    SECRET,
    enroll,
    make_course,
    make_link,
    make_provider,
    placements_of,
)
from tests.support.forms import read_page, the_form


TEMPLATE = "wagtail_lti/autosubmit.html"
SELECT_URL = "https://tool.example/ci/select"

pytestmark = pytest.mark.django_db


def templates(response) -> list[str]:
    return [t.name for t in response.templates]


def assert_the_one_form(response):
    assert response.status_code == 200, response.content.decode()
    assert TEMPLATE in templates(response)
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Pragma"] == "no-cache"
    assert response["Referrer-Policy"] == "origin"
    html = response.content.decode()
    assert 'src="/static/wagtail_lti/launch.js"' in html and "<script>" not in html
    assert the_form(response)["buttons"] == 1


# --- The helper ---------------------------------------------------------------------------------


def test_the_form_posts_exactly_the_fields_given_repeated_names_included():
    from wagtail_lti.launch.autosubmit import autosubmit

    request = RequestFactory().get("/")
    response = autosubmit(
        request,
        action="https://tool.example/in?a=1&b=2",
        fields=[("tag", "one"), ("tag", "two"), ("text", 'quote " & <b>')],
        title="The title",
        message="Sending…",
        button="Send now",
    )
    form = read_page(response).forms[0]
    assert form["action"] == "https://tool.example/in?a=1&b=2" and form["method"] == "post"
    assert form["pairs"] == [("tag", "one"), ("tag", "two"), ("text", 'quote " & <b>')]
    html = response.content.decode()
    assert "<title>The title</title>" in html
    assert "Sending…" in html and "Send now</button>" in html
    assert "JavaScript is turned off" in html  # inside <noscript>
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "origin"
    assert "X-Frame-Options" not in response  # the site's default (DENY) unless framable


def test_a_mapping_and_framing():
    from wagtail_lti.launch.autosubmit import autosubmit

    response = autosubmit(
        RequestFactory().get("/"),
        action="/x/",
        fields={"a": "1"},
        title="t",
        message="m",
        button="b",
        framable=True,
    )
    assert the_form(response)["fields"] == {"a": "1"}
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_form_value_writes_line_breaks_as_a_browser_submits_them():
    from wagtail_lti.launch.autosubmit import form_value

    assert form_value("a\nb\r\nc\rd") == "a\r\nb\r\nc\r\nd"
    assert form_value("plain") == "plain"


# --- Every door answers with it -----------------------------------------------------------------


def test_the_lti11_launch_is_the_one_form(client, orgs, learner):
    link = make_link(make_provider(orgs["acme"]), name="Fire quiz")
    course = make_course(orgs["acme"], [link])
    enroll(learner, course)
    (placement,) = placements_of(course)
    client.force_login(learner)
    response = client.post(reverse("wagtail_lti:launch", args=[placement.lti_id]))
    assert_the_one_form(response)
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    html = response.content.decode()
    assert "<title>Opening “Fire quiz”</title>" in html
    assert "Continue to “Fire quiz”</button>" in html


def test_the_lti13_login_initiation_is_the_one_form(client, orgs, learner):
    provider = make_provider(
        orgs["acme"],
        version="1.3",
        key="",
        secret=None,
        login_url="https://tool.example/login",
        launch_url="https://tool.example/lti",
        redirect_uris="https://tool.example/launch",
    )
    course = make_course(orgs["acme"], [make_link(provider, url="https://tool.example/a")])
    enroll(learner, course)
    (placement,) = placements_of(course)
    client.force_login(learner)
    response = client.post(reverse("wagtail_lti:launch", args=[placement.lti_id]))
    assert_the_one_form(response)
    assert the_form(response)["action"] == "https://tool.example/login"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_deep_linking_request_is_the_one_form_and_not_framable(orgs, make_editor):
    from tests.support.admin import rsa_public_pem

    provider = make_provider(
        orgs["acme"],
        version="1.3",
        key="",
        secret=None,
        login_url="https://tool.example/login",
        launch_url="https://tool.example/lti",
        redirect_uris="https://tool.example/launch",
        public_key_pem=rsa_public_pem(),
    )
    provider.is_enabled = True
    provider.save()
    client = Client()
    client.force_login(make_editor("alice", orgs["acme"]))
    response = client.post(
        reverse("wagtail_lti_select_content"),
        {"provider": provider.pk, "organization": orgs["acme"].pk},
    )
    assert_the_one_form(response)
    assert the_form(response)["fields"]["lti_message_hint"]
    assert response["X-Frame-Options"] == "DENY"  # an admin page


# --- The Content-Item request: signed as the browser posts it ------------------------------------


class ToolValidator(RequestValidator):
    enforce_ssl = False
    dummy_client = "dummy"
    client_key_length = (3, 100)
    nonce_length = (16, 64)

    def check_client_key(self, client_key):
        return bool(client_key)

    def check_nonce(self, nonce):
        return bool(nonce)

    def validate_client_key(self, client_key, request):
        return client_key == KEY

    def get_client_secret(self, client_key, request):
        return SECRET if client_key == KEY else "dummy"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        return True


def browser_posts(pairs) -> str:
    """The body a browser posts for these hidden inputs: HTML normalises a value's line breaks
    to LF when parsing, and form submission writes each as CRLF."""
    return urlencode(
        [
            (name, value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n"))
            for name, value in pairs
        ]
    )


def test_a_content_item_request_with_line_breaks_is_accepted_by_the_tool(orgs, make_editor):
    from wagtail_lti.content_selection import service

    provider = make_provider(orgs["acme"], content_selection_url=SELECT_URL)
    provider.is_enabled = True
    provider.save()
    request = RequestFactory().post("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = make_editor("alice", orgs["acme"])
    selection, data = service.start(request, provider, orgs["acme"])

    response = service.start_content_item(
        request, selection, data, title="Add links", text="Choose the content.\nOne per item."
    )

    assert_the_one_form_direct(response)
    form = read_page(response).forms[0]
    assert form["fields"]["text"] == "Choose the content.\r\nOne per item."
    valid, _request = SignatureOnlyEndpoint(ToolValidator()).validate_request(
        SELECT_URL,
        http_method="POST",
        body=browser_posts(form["pairs"]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert valid, "oauthlib refused the Content-Item request a browser posts"


def assert_the_one_form_direct(response):
    """The helper's page, for a response made without the test client (no ``templates``)."""
    html = response.content.decode()
    assert 'id="wagtail-lti-autosubmit"' in html and "data-lti-autosubmit" in html
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "origin"
