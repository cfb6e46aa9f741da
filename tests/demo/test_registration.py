"""The demo tool registers itself by LTI Dynamic Registration, and the admin follows the
registration even when no close message can reach it.

The editor's browser is the test client; the demo tool's requests to the platform (its OpenID
configuration, the registration endpoint, later the JWKS and token endpoints) go over HTTP routed
into it. After registering, the tool's PyLTI1p3 configuration accepts a launch from the new client
ID and deployment ID.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.demo.test_demo_tool import post_form
from tests.demo.test_selection import BASE, browser, routed  # noqa: F401 - fixture
from tests.support.factories import enroll, make_course, make_learner, make_link
from tests.support.forms import the_form


pytestmark = pytest.mark.django_db

REGISTER_URL = BASE + "/demo-tool/register/"


@pytest.fixture
def editor_client(orgs, make_editor, settings, routed):  # noqa: F811 - the fixture
    # The tool and the platform are plain http on localhost here.
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "REGISTRATION_ALLOW_LOCAL_HTTP": True}
    client = browser()
    client.force_login(make_editor("reggie", orgs["acme"]))
    return client


def start(client, orgs):
    """The editor pastes the demo tool's registration URL: the page that opens the tool."""
    response = client.post(
        reverse("wagtail_lti_register_tool"),
        {"tool_url": REGISTER_URL, "organization": orgs["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    tool_url = html.unescape(re.search(r'data-tool-url="([^"]+)"', body).group(1))
    status_url = html.unescape(re.search(r'data-status-url="([^"]+)"', body).group(1))
    done_url = html.unescape(re.search(r'data-done-url="([^"]+)"', body).group(1))
    return response, tool_url, status_url, done_url


def tool_page(client, tool_url):
    parts = urlsplit(tool_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REGISTER_URL
    return client.get(parts.path, parse_qs(parts.query))


# --- The rules -------------------------------------------------------------------------------------


def test_registration_state_and_who_may_follow_it(orgs, make_editor):
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_lti.models import ToolRegistration
    from wagtail_lti.registration import service

    alice = make_editor("alice", orgs["acme"])
    bob = make_editor("bob", orgs["acme"])
    record = ToolRegistration.objects.create(
        token_hash="x" * 64,
        user=alice,
        organization=orgs["acme"],
        tool_url="https://tool.example/register",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert service.editor_registration(alice, record.pk) == record
    assert service.editor_registration(bob, record.pk) is None
    assert service.registration_state(record) == "waiting"
    record.expires_at = timezone.now() - timedelta(seconds=1)
    assert service.registration_state(record) == "expired"
    record.used_at = timezone.now()
    assert service.registration_state(record) == "registered"


def test_client_metadata_asks_for_deep_linking_and_offered_services_only():
    from demo_tool.registration import client_metadata

    config = {
        "scopes_supported": [
            "openid",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        ]
    }
    metadata = client_metadata("https://tool.example", config)
    tool = metadata["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert metadata["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    assert metadata["jwks_uri"] == "https://tool.example/demo-tool/1.3/jwks/"
    assert metadata["initiate_login_uri"] == "https://tool.example/demo-tool/1.3/login/"
    assert {m["type"] for m in tool["messages"]} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }
    assert tool["target_link_uri"] == "https://tool.example/demo-tool/1.3/launch/"


# --- Through the admin and the demo tool ----------------------------------------------------------


def test_demo_tool_registers_itself_and_then_accepts_launches(editor_client, orgs, make_editor):
    from demo_tool.models import ToolRegistration as ToolSide
    from wagtail_lti.models import LtiProvider

    client = editor_client
    opened, tool_url, status_url, done_url = start(client, orgs)
    # The page that opens the tool keeps window.opener for a tool in a new tab.
    assert opened["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    assert client.get(status_url).json() == {"state": "waiting"}

    page = tool_page(client, tool_url)
    assert page.status_code == 200, page.content.decode()
    body = page.content.decode()
    assert "Register the demo tool with wagtail-lti" in body
    assert "LtiDeepLinkingRequest" in body
    # Opened in a new tab from another origin, the tool's page keeps window.opener.
    assert page["Cross-Origin-Opener-Policy"] == "unsafe-none"
    assert not LtiProvider.objects.exists()
    form = the_form(page)

    registered = post_form(client, REGISTER_URL, form["fields"])
    assert registered.status_code == 200, registered.content.decode()
    provider = LtiProvider.objects.get()
    tool_side = ToolSide.objects.get()
    assert "The demo tool is registered" in registered.content.decode()
    assert provider.client_id in registered.content.decode()
    assert "org.imsglobal.lti.close" in registered.content.decode()
    assert (tool_side.issuer, tool_side.client_id, tool_side.deployment_id) == (
        BASE,
        provider.client_id,
        provider.deployment_id,
    )
    assert tool_side.auth_token_url == BASE + reverse("wagtail_lti:lti13_token")
    assert not provider.is_enabled and provider.name == "Demo LTI tool"
    assert provider.content_selection_url == BASE + "/demo-tool/1.3/launch/"
    assert provider.allow_ags and provider.allow_nrps

    # The admin notices without a message; another editor cannot follow it.
    assert client.get(status_url).json() == {"state": "registered"}
    other = browser()
    other.force_login(make_editor("olga", orgs["acme"]))
    assert other.get(status_url).status_code == 404
    # "I have finished in the tool" finds the new provider.
    finished = client.get(done_url)
    assert finished.status_code == 302
    assert finished["Location"] == reverse(
        LtiProvider.snippet_viewset.get_url_name("edit"), args=[provider.pk]
    )

    # Enabled, the provider's launches are accepted by the tool (PyLTI1p3, new client ID).
    provider.is_enabled = True
    provider.save()
    link = make_link(provider, name="Registered quiz", url=BASE + "/demo-tool/1.3/launch/")
    course = make_course(orgs["acme"], [link], title="After registration")
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    learner_client = browser()
    learner_client.force_login(learner)
    from wagtail_lti.models import Placement

    placement = Placement.objects.get(page=course)
    init = the_form(learner_client.post(reverse("wagtail_lti:launch", args=[placement.lti_id])))
    assert init["fields"]["client_id"] == provider.client_id
    login = post_form(learner_client, init["action"], init["fields"])
    assert login.status_code == 302, login.content.decode()
    token_form = the_form(learner_client.get(login["Location"]))
    shown = post_form(learner_client, token_form["action"], token_form["fields"])
    assert shown.status_code == 200, shown.content.decode()
    assert "Registered quiz" in shown.content.decode()
    assert provider.client_id in shown.content.decode()


def test_tool_without_openid_configuration_explains(editor_client):
    response = editor_client.get("/demo-tool/register/")
    assert response.status_code == 400
    assert "no openid_configuration parameter" in response.content.decode()
    response = editor_client.get(
        "/demo-tool/register/", {"openid_configuration": BASE + "/nothing-here/"}
    )
    assert response.status_code == 400
    assert "could not be fetched (HTTP 404)" in response.content.decode()


def test_demo_tool_fetches_no_configuration_from_another_host(editor_client, monkeypatch):
    """The demo tool is part of the site: a visitor cannot make the server fetch another URL."""
    from demo_tool import registration

    def fetched(url):
        raise AssertionError(f"fetched {url}")

    monkeypatch.setattr(registration, "read_configuration", fetched)
    response = editor_client.get(
        "/demo-tool/register/",
        {"openid_configuration": "http://169.254.169.254/latest/meta-data/"},
    )
    assert response.status_code == 400
    assert "registers only with the platform it is part of" in response.content.decode()


def test_refused_token_is_shown_and_nothing_is_stored(editor_client, orgs):
    from demo_tool.models import ToolRegistration as ToolSide
    from wagtail_lti.models import LtiProvider

    _opened, tool_url, status_url, _done = start(editor_client, orgs)
    form = the_form(tool_page(editor_client, tool_url))
    forged = {**form["fields"], "registration_token": "not-the-token"}
    response = post_form(editor_client, REGISTER_URL, forged)
    assert response.status_code == 400
    assert "refused the registration (HTTP 401)" in response.content.decode()
    assert "The registration token is unknown." in response.content.decode()
    assert not ToolSide.objects.exists() and not LtiProvider.objects.exists()
    assert editor_client.get(status_url).json() == {"state": "waiting"}
    # The real token still works; used once, it is refused the second time.
    assert post_form(editor_client, REGISTER_URL, form["fields"]).status_code == 200
    again = post_form(editor_client, REGISTER_URL, form["fields"])
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert ToolSide.objects.count() == 1 and LtiProvider.objects.count() == 1


def test_status_needs_a_signed_in_editor_who_may_register(editor_client, orgs):
    _opened, _tool_url, status_url, _done = start(editor_client, orgs)
    anonymous = browser().get(status_url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    stranger = browser()
    stranger.force_login(make_learner("lee"))
    assert stranger.get(status_url).status_code in (302, 403)
