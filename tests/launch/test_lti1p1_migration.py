"""Moving a tool from LTI 1.1 to LTI 1.3, through the doors: the admin form, the learner's
launches (an LTI 1.1 tool verified by the ``lti`` package and oauthlib, then PyLTI1p3), Basic
Outcomes, AGS and NRPS.

LTI 1.3 Core, "LTI 1.1 migration claim" (https://www.imsglobal.org/spec/lti/v1p3/migr): every
LTI 1.3 message of a migrated tool carries ``https://purl.imsglobal.org/spec/lti/claim/lti1p1``
with the LTI 1.1 key, its ``oauth_consumer_key_sign`` and the LTI 1.1 ids; NRPS 2.0 members carry
``lti11_legacy_user_id``. PyLTI1p3 does not verify the claim, so the tool's check is the one
written from the spec in ``tests.support.migration``.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from lti import OutcomeRequest as ToolOutcomeRequest

from tests.launch.test_lti11_launch import ToolValidator
from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    AUTHORIZE_PATH,
    ISSUER,
    LOGIN_URL,
    REDIRECT_URI,
    TOOL,
    activity_of,
    authorization_params,
    full_launch,
    start_launch,
    tool_keys,
    world,
)
from tests.support.admin import lti13_post, provider_post, url
from tests.support.forms import first_form, the_form
from tests.support.lti11 import send, sign_outcome
from tests.support.migration import LTI1P1, tool_verifies_lti1p1
from tests.support.queries import data_statements
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.models import LtiProvider, Result


pytestmark = pytest.mark.django_db

KEY11 = "quiz-lti11-key"
SECRET11 = "quiz-lti11-secret"


@pytest.fixture
def lti11_world(world):  # noqa: F811
    """The world's tool as it was before: an LTI 1.1 provider with a key and secret."""
    w = world
    provider = w.provider
    provider.lti_version = LtiProvider.Version.LTI_1P1
    provider.consumer_key = KEY11
    provider.secret = SECRET11
    provider.save()
    return w


def lti11_launch(w) -> dict[str, str]:
    """The learner launches with LTI 1.1; the tool verifies the form (lti and oauthlib)."""
    from urllib.parse import urlencode

    from lti import ToolProvider
    from oauthlib.oauth1 import SignatureOnlyEndpoint

    response = w.client.post(reverse("wagtail_lti:launch", args=[w.placement.lti_id]))
    assert response.status_code == 200, response.content.decode()
    form = first_form(response)
    validator = ToolValidator(key=KEY11, secret=SECRET11)
    tool = ToolProvider.from_unpacked_request(SECRET11, form["fields"], form["action"], {})
    assert tool.is_valid_request(validator)
    valid, _ = SignatureOnlyEndpoint(ToolValidator(key=KEY11, secret=SECRET11)).validate_request(
        form["action"],
        "POST",
        urlencode(form["pairs"]),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert valid
    return form["fields"]


def post_lti11_score(w, params, score: float):
    xml = ToolOutcomeRequest(
        {
            "operation": "replaceResult",
            "score": score,
            "message_identifier": "m-1",
            "lis_result_sourcedid": params["lis_result_sourcedid"],
        }
    ).generate_request_xml()
    prepared = sign_outcome(xml, key=KEY11, secret=SECRET11, url=params["lis_outcome_service_url"])
    response = send(Client(), prepared)
    assert response.status_code == 200 and b"success" in response.content, response.content


def switch_to_lti13(w, superuser, **overrides):
    """The editor opens the provider, chooses LTI 1.3 and fills in the tool's registration."""
    editor = Client()
    editor.force_login(superuser)
    provider = w.provider
    edit = url(LtiProvider, "edit", provider.pk)
    page = editor.get(edit)
    assert page.status_code == 200
    data = lti13_post(
        provider.organization,
        name=provider.name,
        consumer_key=KEY11,  # the hidden LTI 1.1 fields are posted as they were
        login_url=LOGIN_URL,
        launch_url=f"{TOOL}/lti/",
        redirect_uris=REDIRECT_URI,
        jwks_url="",
        public_key_pem=w.tool_public,
        allow_ags="on",
        keep_lti11="on",
    )
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    response = editor.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    provider.refresh_from_db()
    return provider, page


def test_a_tool_moved_from_lti11_relinks_its_learner_and_keeps_their_results(
    lti11_world, superuser
):
    """LTI 1.3 Core, LTI 1.1 migration claim: the ids the tool saw with LTI 1.1, its key and
    a signature it verifies with the LTI 1.1 secret; the learner's progress and score stay."""
    w = lti11_world
    before = lti11_launch(w)
    post_lti11_score(w, before, 0.8)
    assert activity_of(w).launch_count == 1

    provider, page = switch_to_lti13(w, superuser)
    assert "Moving from LTI 1.1" in page.content.decode()
    assert provider.is_lti13 and provider.moved_from_lti11
    assert (provider.consumer_key, provider.secret) == (KEY11, SECRET11)

    session = routed_session(ISSUER)
    _, form, message_launch = full_launch(w, session=session)
    data = message_launch.get_launch_data()  # PyLTI1p3 accepted the launch
    claim = data[LTI1P1]
    assert claim["oauth_consumer_key"] == KEY11
    assert tool_verifies_lti1p1(data, lti11_keys={KEY11: SECRET11})
    assert not tool_verifies_lti1p1(data, lti11_keys={KEY11: "not-the-secret"})
    # The ids the tool received with LTI 1.1, and the same ones in the LTI 1.3 claims.
    assert claim["user_id"] == before["user_id"] == data["sub"]
    assert claim["context_id"] == before["context_id"]
    assert claim["context_id"] == data["https://purl.imsglobal.org/spec/lti/claim/context"]["id"]
    assert claim["resource_link_id"] == before["resource_link_id"] == w.placement.lti_id
    assert (
        claim["resource_link_id"]
        == data["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"]
    )
    assert claim["tool_consumer_instance_guid"] == before["tool_consumer_instance_guid"]
    legacy = "https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id"
    assert data[legacy] == before["user_id"]

    # Progress and results carried over: the same activity, and the tool reads the LTI 1.1
    # score on the launch's AGS line item.
    assert activity_of(w).launch_count == 2
    grades = message_launch.get_ags().get_grades()
    assert [(g["userId"], g["resultScore"]) for g in grades] == [(data["sub"], 8)]
    assert Result.objects.filter(user=w.learner).count() == 1
    # A score the tool still sends the LTI 1.1 way lands on the same result.
    post_lti11_score(w, before, 0.9)
    assert [g["resultScore"] for g in message_launch.get_ags().get_grades()] == [9]


def test_letting_the_lti11_key_go_deletes_it_and_ends_the_claim(lti11_world, superuser):
    provider, _ = switch_to_lti13(lti11_world, superuser, keep_lti11=None)
    assert provider.is_lti13 and not provider.moved_from_lti11
    assert provider.consumer_key == "" and not provider.has_secret
    _, _, message_launch = full_launch(lti11_world)
    assert LTI1P1 not in message_launch.get_launch_data()


def test_a_new_lti13_provider_is_not_offered_the_move(orgs, superuser):
    editor = Client()
    editor.force_login(superuser)
    page = editor.get(url(LtiProvider, "add"))
    html = page.content.decode()
    assert "Moving from LTI 1.1" in html and 'name="keep_lti11"' not in html
    assert "has no LTI 1.1 key and secret" in html
    # A key and secret typed in the LTI 1.1 section before choosing LTI 1.3 are not kept.
    data = lti13_post(orgs["acme"], consumer_key="typed-key", secret="typed", keep_lti11="on")
    response = editor.post(url(LtiProvider, "add"), data)
    assert response.status_code == 302
    created = LtiProvider.objects.get(name="Moodle Law")
    assert created.is_lti13 and not created.moved_from_lti11
    assert created.consumer_key == "" and not created.has_secret


def test_an_lti11_provider_edited_as_lti11_keeps_its_key(orgs, superuser):
    """The move changes nothing for a provider staying on LTI 1.1."""
    editor = Client()
    editor.force_login(superuser)
    response = editor.post(url(LtiProvider, "add"), provider_post(orgs["acme"], secret="s3cret"))
    assert response.status_code == 302
    provider = LtiProvider.objects.get(name="Moodle Law")
    response = editor.post(url(LtiProvider, "edit", provider.pk), provider_post(orgs["acme"]))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.consumer_key, provider.secret) == ("moodle-key", "s3cret")


def test_a_migrated_launch_runs_the_same_six_statements(lti11_world, superuser):
    """docs/benchmarks.md: the claim costs no statement (the provider row holds the key)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    switch_to_lti13(lti11_world, superuser)
    w = lti11_world
    first = w.client.get(AUTHORIZE_PATH, authorization_params(start_launch(w)))
    assert "id_token" in the_form(first)["fields"]
    init = start_launch(w)
    with CaptureQueriesContext(connection) as queries:
        response = w.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert "id_token" in the_form(response)["fields"]
    assert data_statements(queries) == [
        "SELECT wagtail_lti_pendinglaunch",
        "SELECT auth_user",
        "SELECT wagtail_lti_enrollment",
        "UPDATE wagtail_lti_pendinglaunch",
        "UPDATE wagtail_lti_learneractivity",
        "INSERT wagtail_lti_launchlogentry",
    ]


def test_nrps_members_carry_their_lti11_user_id_for_a_migrated_tool(lti11_world, superuser):
    """NRPS 2.0 member ``lti11_legacy_user_id``: the LTI 1.1 ``user_id`` (read by PyLTI1p3)."""
    w = lti11_world
    before = lti11_launch(w)
    provider, _ = switch_to_lti13(w, superuser, allow_nrps="on")
    session = routed_session(ISSUER)
    _, _, message_launch = full_launch(w, session=session)
    assert message_launch.has_nrps()
    members = message_launch.get_nrps().get_members()
    assert [m["lti11_legacy_user_id"] for m in members] == [before["user_id"]]
    assert members[0]["user_id"] == before["user_id"]

    provider.consumer_key = ""
    provider.save()
    members = message_launch.get_nrps().get_members()  # the provider no longer migrated
    assert "lti11_legacy_user_id" not in members[0]


def test_the_debug_launch_log_keeps_the_claim_but_not_its_signature(lti11_world, superuser):
    """The launch log never keeps a signature (a way to guess the LTI 1.1 secret offline)."""
    from wagtail_lti.models import LaunchLogEntry

    provider, _ = switch_to_lti13(lti11_world, superuser, debug_launches="on")
    assert provider.debug_launches
    _, _, message_launch = full_launch(lti11_world)
    sent = message_launch.get_launch_data()[LTI1P1]
    issued = LaunchLogEntry.objects.get(kind="id_token")
    kept = issued.debug_data["claims"][LTI1P1]
    assert kept == {**sent, "oauth_consumer_key_sign": "(not stored)"}
    assert sent["oauth_consumer_key_sign"] not in str(issued.debug_data)
