"""LTI Dynamic Registration 1.0 (``imsglobal.org/spec/lti-dr/v1p0``), platform side.

PyLTI1p3 2.0.0 has no dynamic registration helper (``pylti1p3next`` has one but installs the same
``pylti1p3`` package, so it cannot sit next to it): the tool side below is written as a tool
does it, from the spec: it reads the URL the platform opened, fetches the OpenID configuration
with ``requests`` and checks it, then POSTs its client metadata with the bearer token. After the
editor enables the provider, PyLTI1p3 as the tool completes a real LTI 1.3 launch with the
registered ``client_id`` and ``deployment_id``.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.launch.test_lti13_launch import (
    ISSUER,
    LOGIN_URL,
    REDIRECT_URI,
    full_launch,
)
from tests.support.admin import lti13_post, url
from tests.support.factories import make_learner
from tests.support.lti13 import post_token
from tests.support.world import World
from tests.tooling.lti13_tool import make_key_pair, make_tool_conf
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import scopes as lti_scopes
from wagtail_lti.lti.registration import PLATFORM_CONFIGURATION, TOOL_CONFIGURATION
from wagtail_lti.models import LtiProvider, ToolRegistration


pytestmark = pytest.mark.django_db

TOOL = "https://tool.example"
REGISTRATION_URL = f"{TOOL}/lti/register?lang=en"


def metadata(**overrides) -> dict:
    """The client metadata a tool POSTs (DR §3.5.1 example, trimmed)."""
    data = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{TOOL}/lti/login/",
        "redirect_uris": [f"{TOOL}/lti/launch/", f"{TOOL}/lti/deep-link/"],
        "client_name": "Fire Quiz",
        "jwks_uri": f"{TOOL}/.well-known/jwks.json",
        "logo_uri": f"{TOOL}/logo.png",
        "token_endpoint_auth_method": "private_key_jwt",
        "contacts": ["dev@tool.example"],
        "scope": f"{lti_scopes.AGS_SCORE} {lti_scopes.AGS_LINEITEM} https://example.com/scope/other",
        TOOL_CONFIGURATION: {
            "domain": "tool.example",
            "description": "Quizzes about safety",
            "target_link_uri": f"{TOOL}/lti/",
            "custom_parameters": {"unit": "3"},
            "claims": ["iss", "sub"],
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": f"{TOOL}/lti/deep-link/"}
            ],
        },
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor_client(orgs, make_editor):
    client = Client()
    client.force_login(make_editor("reggie", orgs["acme"]))
    return client


def start_registration(client, organization, tool_url=REGISTRATION_URL) -> dict:
    """The editor registers a tool by URL; returns what the tool receives in its URL."""
    response = client.post(
        reverse("wagtail_lti_register_tool"),
        {"tool_url": tool_url, "organization": organization.pk},
    )
    assert response.status_code == 200, response.content.decode()
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    src = unescape(re.search(r'<iframe[^>]* src="([^"]+)"', html).group(1))
    done = re.search(r'data-done-url="([^"]+)"', html).group(1)
    parts = urlsplit(src)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{TOOL}/lti/register"
    assert query["lang"] == ["en"]  # the tool's own parameters are kept
    return {
        "openid_configuration": query["openid_configuration"][0],
        "registration_token": query["registration_token"][0],
        "done_url": done,
        "html": html,
    }


def tool_reads_configuration(openid_configuration_url: str) -> dict:
    """What a tool checks in the platform's configuration (DR §3.4, §3.5.1)."""
    session = routed_session(ISSUER)
    response = session.get(openid_configuration_url)
    assert response.status_code == 200
    config = response.json()
    # The issuer is on the host the configuration came from (tools check it).
    assert urlsplit(config["issuer"]).netloc == urlsplit(openid_configuration_url).netloc
    for name in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
    ):
        assert config[name].startswith(ISSUER), name
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert config["response_types_supported"] == ["id_token"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["subject_types_supported"] == ["public"]
    assert {"openid", *lti_scopes.AGS_SCOPES, *lti_scopes.NRPS_SCOPES} <= set(
        config["scopes_supported"]
    )
    assert {"iss", "sub", "name", "email"} <= set(config["claims_supported"])
    platform = config[PLATFORM_CONFIGURATION]
    assert platform["product_family_code"] == "wagtail-lti"
    assert platform["version"]
    assert {m["type"] for m in platform["messages_supported"]} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    }
    assert "$User.id" in platform["variables"]
    # The endpoints it names answer.
    assert session.get(config["jwks_uri"]).json()["keys"]
    return config


def tool_registers(config: dict, token: str | None, data) -> object:
    session = routed_session(ISSUER)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(data, (dict, list)):
        return session.post(config["registration_endpoint"], json=data, headers=headers)
    return session.post(
        config["registration_endpoint"],
        data=data,
        headers={**headers, "Content-Type": "application/json"},
    )


def test_registration_end_to_end_then_launch_after_review(editor_client, orgs, settings):
    """DR §3.3–3.7: open the tool, configuration, registration, review, then an LTI 1.3 launch."""
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    opened = start_registration(editor_client, orgs["acme"])
    record = ToolRegistration.objects.get()
    assert record.token_hash != opened["registration_token"]  # stored hashed
    assert record.organization == orgs["acme"] and record.used_at is None

    config = tool_reads_configuration(opened["openid_configuration"])
    # Before the tool registers: the review page says so, nothing created.
    response = editor_client.get(opened["done_url"])
    assert response.status_code == 200 and "has not registered" in response.content.decode()

    sent = metadata()
    response = tool_registers(config, opened["registration_token"], sent)
    assert response.status_code == 200, response.text
    answer = response.json()
    provider = LtiProvider.objects.get()
    # DR §3.6: the registration echoed, with client_id and deployment_id.
    assert answer["client_id"] == provider.client_id
    tool_config = answer[TOOL_CONFIGURATION]
    assert tool_config["deployment_id"] == provider.deployment_id
    assert tool_config["domain"] == "tool.example"
    assert tool_config["target_link_uri"] == f"{TOOL}/lti/"
    assert answer["redirect_uris"] == sent["redirect_uris"]
    assert answer["initiate_login_uri"] == sent["initiate_login_uri"]
    assert answer["jwks_uri"] == sent["jwks_uri"]
    # Only offered scopes are granted.
    assert answer["scope"].split() == [lti_scopes.AGS_SCORE, lti_scopes.AGS_LINEITEM]
    assert response.headers["Cache-Control"] == "no-store"

    # The provider: LTI 1.3, in the editor's organization, disabled until reviewed.
    assert provider.is_lti13 and provider.organization == orgs["acme"]
    assert not provider.is_enabled
    assert provider.name == "Fire Quiz"
    assert provider.login_url == f"{TOOL}/lti/login/"
    assert provider.launch_url == f"{TOOL}/lti/"
    assert provider.get_redirect_uris() == sent["redirect_uris"]
    assert provider.jwks_url == f"{TOOL}/.well-known/jwks.json"
    assert provider.content_selection_url == f"{TOOL}/lti/deep-link/"
    assert provider.custom_parameters == "custom_unit=3"
    assert provider.allow_ags and not provider.allow_nrps
    assert not provider.send_name and not provider.send_email
    record.refresh_from_db()
    assert record.used_at is not None and record.provider == provider

    # The tool's close message sends the editor to the review (the edit form).
    response = editor_client.get(opened["done_url"])
    assert response.status_code == 302
    assert response["Location"] == url(LtiProvider, "edit", provider.pk)
    page = editor_client.get(response["Location"]).content.decode()
    assert "Review and enable" in page and "Send scores" in page
    listing = editor_client.get(url(LtiProvider, "list")).content.decode()
    assert "Waiting for review" in listing and "Register a tool by URL" in listing

    # While disabled: no launch, no token.
    from courses.models import CoursePage
    from wagtail.models import Site

    from wagtail_lti.models import Enrollment, LtiResourceLink, Placement

    link = LtiResourceLink.objects.create(
        name="Fire quiz",
        organization=orgs["acme"],
        provider=provider,
        url=f"{TOOL}/activities/fire",
    )
    home = Site.objects.get(is_default_site=True).root_page
    course = CoursePage(
        title="Safety",
        slug="safety",
        course_organization=orgs["acme"],
        course_code="SAF-1",
        body=[("lti_activity", {"resource_link": link, "title": "Fire quiz"})],
    )
    home.add_child(instance=course)
    course.save_revision().publish()
    placement = Placement.objects.get(page=course)
    learner = make_learner("lena", first_name="Lena")
    Enrollment.objects.create(course=course, user=learner, role=Enrollment.Role.LEARNER)
    learner_client = Client()
    learner_client.force_login(learner)
    response = learner_client.post(reverse("wagtail_lti:launch", args=[placement.lti_id]))
    assert response.status_code >= 400 and "not been enabled" in response.content.decode()

    # The editor reviews: keeps AGS, allows the name, enables.
    response = editor_client.post(
        url(LtiProvider, "edit", provider.pk),
        lti13_post(
            orgs["acme"],
            name=provider.name,
            login_url=provider.login_url,
            launch_url=provider.launch_url,
            redirect_uris=provider.redirect_uris,
            jwks_url=provider.jwks_url,
            content_selection_url=provider.content_selection_url,
            custom_parameters=provider.custom_parameters,
            is_enabled="on",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    provider.refresh_from_db()
    assert provider.is_enabled and provider.client_id == answer["client_id"]

    # A real LTI 1.3 launch with the registered client_id and deployment_id, PyLTI1p3 as the tool.
    private_pem, public_pem = make_key_pair()

    world = World(
        provider=provider,
        link=link,
        course=course,
        placement=placement,
        learner=learner,
        client=learner_client,
        tool_private=private_pem,
        tool_public=public_pem,
    )
    conf = make_tool_conf(
        issuer=ISSUER,
        client_id=answer["client_id"],
        deployment_id=tool_config["deployment_id"],
        private_pem=private_pem,
        public_pem=public_pem,
        platform_base=ISSUER,
    )
    # The module's tool URLs are the ones this tool registered.
    assert provider.login_url == LOGIN_URL and sent["redirect_uris"][0] == REDIRECT_URI
    _init, _form, message_launch = full_launch(world, conf=conf)
    data = message_launch.get_launch_data()
    assert data["aud"] == answer["client_id"]
    assert (
        data["https://purl.imsglobal.org/spec/lti/claim/deployment_id"]
        == tool_config["deployment_id"]
    )


# --- The registration response's claims (checklist pitfall 17) ---------------------------------


@pytest.mark.parametrize(
    ("claims", "send_name", "send_email", "reported"),
    [
        (["iss", "sub"], False, False, ["iss", "sub"]),
        (["iss", "sub", "name", "given_name"], True, False, ["iss", "sub", "name", "given_name"]),
        (["sub", "email"], False, True, ["sub", "email"]),
        (["sub", "name", "email", "unknown_claim"], True, True, ["sub", "name", "email"]),
    ],
)
def test_response_reports_only_the_claims_that_will_be_sent(
    editor_client, orgs, claims, send_name, send_email, reported
):
    """Pitfall 17: Moodle's copy always reported name/email; ours reports what is decided."""
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    sent = metadata()
    sent[TOOL_CONFIGURATION]["claims"] = claims
    response = tool_registers(config, opened["registration_token"], sent)
    assert response.status_code == 200, response.text
    assert response.json()[TOOL_CONFIGURATION]["claims"] == reported
    provider = LtiProvider.objects.get()
    assert (provider.send_name, provider.send_email) == (send_name, send_email)


def test_granted_claims_follow_privacy_decisions():
    from wagtail_lti.lti.registration import granted_claims

    requested = ["iss", "sub", "name", "family_name", "email"]
    assert granted_claims(requested, send_name=False, send_email=False) == ["iss", "sub"]
    assert granted_claims(requested, send_name=True, send_email=False) == [
        "iss",
        "sub",
        "name",
        "family_name",
    ]
    assert granted_claims(requested, send_name=False, send_email=True) == ["iss", "sub", "email"]


# --- Refusals: nothing created ----------------------------------------------------------------


def _nothing_created():
    assert not LtiProvider.objects.exists()


def test_reused_token_is_refused(editor_client, orgs):
    """DR §3.5: the token is single-use (Moodle answers 401 too)."""
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    assert tool_registers(config, opened["registration_token"], metadata()).status_code == 200
    response = tool_registers(config, opened["registration_token"], metadata(client_name="Again"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "already been used" in response.json()["error_description"]
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert LtiProvider.objects.count() == 1


def test_expired_token_is_refused(editor_client, orgs):
    opened = start_registration(editor_client, orgs["acme"])
    ToolRegistration.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    config = tool_reads_configuration(opened["openid_configuration"])
    response = tool_registers(config, opened["registration_token"], metadata())
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert "expired" in response.json()["error_description"]
    _nothing_created()


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_missing_or_unknown_bearer_is_refused(editor_client, orgs, token):
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    response = tool_registers(config, token, metadata())
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    _nothing_created()
    # The real token still works afterwards.
    assert tool_registers(config, opened["registration_token"], metadata()).status_code == 200


def _without(data: dict, name: str) -> dict:
    data = copy.deepcopy(data)
    data.pop(name)
    return data


def _tool_config(**changes) -> dict:
    data = metadata()
    data[TOOL_CONFIGURATION].update(changes)
    for name, value in changes.items():
        if value is None:
            data[TOOL_CONFIGURATION].pop(name)
    return data


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (_without(metadata(), "redirect_uris"), "invalid_redirect_uri", "redirect_uris"),
        (metadata(redirect_uris=[]), "invalid_redirect_uri", "redirect_uris"),
        (metadata(redirect_uris="https://tool.example/x"), "invalid_redirect_uri", "array"),
        (metadata(redirect_uris=["http://tool.example/x"]), "invalid_redirect_uri", "https"),
        (metadata(redirect_uris=["/relative"]), "invalid_redirect_uri", "absolute"),
        (
            metadata(token_endpoint_auth_method="client_secret_basic"),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (_without(metadata(), "jwks_uri"), "invalid_client_metadata", "jwks_uri"),
        (metadata(jwks_uri="http://tool.example/jwks"), "invalid_client_metadata", "https"),
        (
            metadata(initiate_login_uri="http://tool.example/login"),
            "invalid_client_metadata",
            "https",
        ),
        (metadata(application_type="native"), "invalid_client_metadata", "web"),
        (metadata(grant_types=["implicit"]), "invalid_client_metadata", "client_credentials"),
        (metadata(response_types=["code"]), "invalid_client_metadata", "id_token"),
        (_without(metadata(), TOOL_CONFIGURATION), "invalid_client_metadata", "lti-tool"),
        (_tool_config(domain=None), "invalid_client_metadata", "domain"),
        (
            _tool_config(target_link_uri="ftp://tool.example/"),
            "invalid_client_metadata",
            "https",
        ),
        (_tool_config(claims="email"), "invalid_client_metadata", "claims"),
        (metadata(scope=["a"]), "invalid_client_metadata", "scope"),
        (["not", "an", "object"], "invalid_client_metadata", "JSON object"),
        ("{not json", "invalid_client_metadata", "JSON"),
    ],
)
def test_bad_metadata_is_refused_and_the_token_kept(editor_client, orgs, data, error, words):
    """RFC 7591 §3.2.2 errors; DR §3.5.2 validation. The tool may correct and retry."""
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    response = tool_registers(config, opened["registration_token"], data)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == error
    assert words.lower() in body["error_description"].lower()
    _nothing_created()
    assert ToolRegistration.objects.get().used_at is None


def test_wrong_content_type_and_method(editor_client, orgs):
    opened = start_registration(editor_client, orgs["acme"])
    endpoint = reverse("wagtail_lti:lti13_register")
    auth = {"Authorization": f"Bearer {opened['registration_token']}"}
    client = Client()
    response = client.post(endpoint, {"a": "b"}, headers=auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"
    assert client.get(endpoint, headers=auth).status_code == 405
    _nothing_created()


def test_local_http_urls_only_when_allowed(editor_client, orgs, settings):
    local = metadata(
        initiate_login_uri="http://127.0.0.1:8001/lti/login/",
        redirect_uris=["http://localhost:8001/lti/launch/"],
        jwks_uri="http://127.0.0.1:8001/jwks",
    )
    local[TOOL_CONFIGURATION]["target_link_uri"] = "http://127.0.0.1:8001/lti/"
    opened = start_registration(editor_client, orgs["acme"])
    config = tool_reads_configuration(opened["openid_configuration"])
    assert tool_registers(config, opened["registration_token"], local).status_code == 400
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "REGISTRATION_ALLOW_LOCAL_HTTP": True}
    assert tool_registers(config, opened["registration_token"], local).status_code == 200


# --- The editor's side ------------------------------------------------------------------------


def test_editor_may_only_register_for_a_managed_organization(editor_client, orgs):
    response = editor_client.post(
        reverse("wagtail_lti_register_tool"),
        {"tool_url": REGISTRATION_URL, "organization": orgs["partner"].pk},
    )
    assert response.status_code == 200
    assert "Choose an organization you manage" in response.content.decode()
    assert not ToolRegistration.objects.exists()


@pytest.mark.parametrize("tool_url", ["", "javascript:alert(1)", "http://tool.example/register"])
def test_registration_url_must_be_https(editor_client, orgs, tool_url):
    response = editor_client.post(
        reverse("wagtail_lti_register_tool"),
        {"tool_url": tool_url, "organization": orgs["acme"].pk},
    )
    assert response.status_code == 200 and "<iframe" not in response.content.decode()
    assert not ToolRegistration.objects.exists()


def test_people_without_provider_permission_cannot_start(orgs, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    response = client.get(reverse("wagtail_lti_register_tool"))
    assert response.status_code in (302, 403)


def test_another_editor_cannot_follow_the_registration(editor_client, orgs, make_editor):
    opened = start_registration(editor_client, orgs["acme"])
    other = Client()
    other.force_login(make_editor("otto", orgs["acme"]))
    assert other.get(opened["done_url"]).status_code == 404


# --- Disabled providers -----------------------------------------------------------------------


def test_disabled_provider_gets_no_access_token(orgs):
    from tests.support.lti13 import make_tool

    tool = make_tool(orgs["acme"], name="Disabled tool", is_enabled=False)
    response = post_token(Client(), tool.assertion())
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "not been enabled" in response.json()["error_description"]
    tool.provider.is_enabled = True
    tool.provider.save()
    assert post_token(Client(), tool.assertion()).status_code == 200
