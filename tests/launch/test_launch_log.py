"""The launch log: what launches and service calls write, what they never write, and who sees it.

Every entry is produced the way it is in production: a learner's browser (the test client) opens
activities, PyLTI1p3 completes LTI 1.3 launches and calls the token endpoint, AGS and NRPS,
outcomes are posted signed with requests-oauthlib as a tool posts them. After each, every column
of every row is searched for the provider's secret, OAuth signatures, access tokens, client
assertions, message hints and id_tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from io import StringIO
from urllib.parse import quote, quote_plus, unquote

import jwt
import pytest
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from lti import OutcomeRequest
from pylti1p3.names_roles import NamesRolesProvisioningService

from tests.launch.test_lti11_launch import launch, launched_form, verified_params
from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    AUTHORIZE_PATH,
    authorization_params,
    full_launch,
    start_launch,
    tool_keys,
    world,
)
from tests.services.test_ags import grade
from tests.services.test_nrps import fast_passwords, roster  # noqa: F401 - fixtures
from tests.support.admin import provider_post, url
from tests.support.factories import SECRET, enroll, make_course, make_learner, make_link
from tests.support.forms import the_form
from tests.support.lti11 import TOOL_SECRET, make_course_setup, send, sign_outcome
from tests.support.lti13 import NRPS_SCOPE, make_tool, post_token
from tests.tooling.requests_adapter import routed_session
from wagtail_lti import launch_log
from wagtail_lti.models import LaunchLogEntry, LtiProvider, Placement
from wagtail_lti.services import results
from wagtail_lti.services import urls as ags_urls


pytestmark = pytest.mark.django_db

LOG_URL = "wagtail_lti_launch_log"


def entries(**filters) -> list[LaunchLogEntry]:
    return list(LaunchLogEntry.objects.filter(**filters).order_by("pk"))


def assert_not_stored(*values: str) -> None:
    """No column of any log row holds any of ``values`` (nor their URL-encoded forms)."""
    rows = json.dumps(list(LaunchLogEntry.objects.values()), default=str, ensure_ascii=False)
    assert LaunchLogEntry.objects.exists()
    for value in values:
        assert value
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            assert form not in rows, f"{value[:12]}… is stored in the launch log"


def hmac_sha1(base_string: str, secret: str) -> str:
    """RFC 5849 §3.4.2, computed here: key = encoded secret + "&" (no token secret)."""
    key = quote(secret, safe="~") + "&"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- Launches ---------------------------------------------------------------------------------------


def test_lti11_launch_is_logged_without_parameters(client, course, learner, link):
    enroll(learner, course)
    placement = Placement.objects.get(page=course)
    form = launched_form(client, learner, placement)

    (entry,) = entries()
    assert (entry.kind, entry.outcome, entry.http_status) == ("launch", "ok", 200)
    assert entry.user == learner and entry.provider == link.provider
    assert entry.placement == placement and entry.course_id == course.pk
    assert entry.action == "LTI 1.1 launch form signed" and entry.error == ""
    assert entry.debug_data is None  # the provider's debug switch is off
    assert_not_stored(SECRET, form["fields"]["oauth_signature"])


def test_lti11_debug_keeps_the_exact_parameters_and_base_string_but_no_signature(
    client, course, learner, link
):
    """Moodle-style launch debugging: what was sent, down to the OAuth base string."""
    provider = link.provider
    provider.debug_launches = True
    provider.save()
    enroll(learner, course)
    placement = Placement.objects.get(page=course)
    params = verified_params(launched_form(client, learner, placement))  # the tool accepts it

    (entry,) = entries()
    debug = entry.debug_data
    assert debug["method"] == "POST" and debug["url"] == link.url
    expected = {name: value for name, value in params.items() if name != "oauth_signature"}
    expected["oauth_signature"] = "(not stored)"
    assert debug["parameters"] == expected
    # The base string is the one that was signed: with the secret (which the tool has and the
    # log has not) it gives the very signature the tool received.
    assert hmac_sha1(debug["oauth_base_string"], SECRET) == params["oauth_signature"]
    assert_not_stored(SECRET, params["oauth_signature"])


@pytest.mark.parametrize("who", ["stranger", "anonymous"])
def test_a_refused_launch_is_logged_with_its_reason(client, course, learner, link, who):
    placement = Placement.objects.get(page=course)
    if who == "stranger":
        client.force_login(learner)  # not enrolled
    response = launch(client, placement)
    assert response.status_code == 403

    (entry,) = entries()
    assert (entry.kind, entry.outcome, entry.http_status) == ("launch", "error", 403)
    assert entry.provider == link.provider and entry.placement == placement
    if who == "stranger":
        assert entry.user == learner and entry.error.startswith("not_enrolled: ")
    else:
        assert entry.user is None and entry.error.startswith("login_required: ")


def test_a_launch_of_an_unknown_activity_is_logged_for_superusers_only(client, learner):
    client.force_login(learner)
    assert client.get("/lti/launch/no-such-placement/").status_code == 404
    (entry,) = entries()
    assert (
        entry.outcome == "error" and entry.provider is None and entry.error.startswith("not_found")
    )


def test_lti13_launch_logs_the_login_and_the_id_token_with_its_claims(world):  # noqa: F811
    world.provider.debug_launches = True
    world.provider.allow_nrps = True
    world.provider.save()
    init, form, message_launch = full_launch(world)
    id_token = form["fields"]["id_token"]

    login, issued = entries()
    assert (login.kind, login.outcome, login.action) == ("launch", "ok", "LTI 1.3 login initiation")
    assert (issued.kind, issued.outcome, issued.action) == ("id_token", "ok", "id_token issued")
    for entry in (login, issued):
        assert entry.user == world.learner and entry.provider == world.provider
        assert entry.placement == world.placement and entry.course_id == world.course.pk
    assert login.debug_data is None  # the login initiation carries only the message hint
    # Exactly the claims PyLTI1p3 validated, and the header's key id; never the token.
    assert issued.debug_data["claims"] == message_launch.get_launch_data()
    assert issued.debug_data["header"]["kid"] == jwt.get_unverified_header(id_token)["kid"]
    assert_not_stored(id_token, id_token.rsplit(".", 1)[1], init["lti_message_hint"])


def test_a_refused_authorization_is_logged(world):  # noqa: F811
    init = start_launch(world)
    params = authorization_params(init)
    assert "id_token" in the_form(world.client.get(AUTHORIZE_PATH, params))["fields"]
    world.client.get(AUTHORIZE_PATH, params)  # replayed

    _login, issued, replayed = entries()
    assert issued.outcome == "ok"
    assert (replayed.kind, replayed.outcome) == ("id_token", "error")
    assert replayed.provider == world.provider and replayed.user == world.learner
    assert replayed.error.startswith("invalid_request: ") and "already been used" in replayed.error
    assert_not_stored(init["lti_message_hint"])


# --- Service calls --------------------------------------------------------------------------------------


def test_token_and_nrps_calls_are_logged_and_no_token_is_stored(roster, client):  # noqa: F811
    tool = roster["tool"]
    connector = tool.connector(routed_session("http://testserver"))
    members = NamesRolesProvisioningService(
        connector, {"context_memberships_url": roster["url"]}
    ).get_members()
    assert len(members) == 5
    (access_token,) = connector._access_tokens.values()

    token, roster_call = entries()
    assert (token.kind, token.outcome, token.provider) == ("token", "ok", tool.provider)
    assert token.action == "granted contextmembership.readonly"
    assert (roster_call.kind, roster_call.outcome, roster_call.http_status) == ("nrps", "ok", 200)
    assert roster_call.provider == tool.provider and roster_call.course_id == roster["course"].pk
    assert roster_call.action == "GET memberships"

    # A token asked for by hand: neither the assertion nor the token lands in the log.
    assertion = tool.assertion()
    answer = post_token(client, assertion, scope=NRPS_SCOPE)
    assert answer.status_code == 200
    assert_not_stored(access_token, assertion, answer.json()["access_token"])


def test_refused_service_calls_are_logged_with_their_error(roster, client):  # noqa: F811
    tool = roster["tool"]
    assertion = tool.assertion()
    assert post_token(client, assertion, scope=NRPS_SCOPE).status_code == 200
    assert post_token(client, assertion, scope=NRPS_SCOPE).status_code == 401  # replayed jti
    assert post_token(client, "not.a.jwt", scope=NRPS_SCOPE).status_code == 401  # no provider
    token = tool.access_token([NRPS_SCOPE])
    auth = {"Authorization": f"Bearer {token}"}
    other_rlid = roster["other_placement"].lti_id
    assert client.get(roster["url"], {"rlid": other_rlid}, headers=auth).status_code == 404
    assert client.get(roster["url"]).status_code == 401

    rows = entries()
    replay, unknown = rows[1], rows[2]
    assert (replay.kind, replay.outcome, replay.provider) == ("token", "error", tool.provider)
    assert replay.http_status == 401 and "jti" in replay.error
    assert (unknown.outcome, unknown.provider) == ("error", None)
    assert unknown.error.startswith("invalid_client: ")
    refused_rlid, no_token = rows[-2], rows[-1]
    assert (refused_rlid.kind, refused_rlid.outcome, refused_rlid.http_status) == (
        "nrps",
        "error",
        404,
    )
    assert refused_rlid.provider == tool.provider and refused_rlid.error.startswith("not_found: ")
    assert (no_token.kind, no_token.provider, no_token.http_status) == ("nrps", None, 401)
    assert_not_stored(assertion, token)


def test_ags_scores_are_logged_with_the_learner(orgs):
    tool = make_tool(orgs["acme"])
    link = make_link(tool.provider, requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link])
    learner = make_learner("lee")
    enroll(learner, course)
    placement = Placement.objects.get(page=course)
    line_item = results.line_item_for(placement)
    request = RequestFactory().get("/")
    ags = tool.ags(
        lineitems=ags_urls.ags_lineitems_url(request, course, tool.provider),
        lineitem=ags_urls.ags_lineitem_url(request, line_item),
    )
    ags.put_grade(grade(learner, 8, 10))

    token, score = entries()
    assert token.kind == "token" and token.outcome == "ok"
    assert (score.kind, score.outcome, score.action) == ("ags", "ok", "POST ags_scores")
    assert score.user == learner and score.placement == placement
    assert score.course_id == course.pk and score.provider == tool.provider


def test_outcomes_are_logged_and_a_bad_signature_is_an_error(orgs, client):
    setup = make_course_setup(orgs)
    from wagtail_lti.security.sourcedid import make_sourcedid

    xml = OutcomeRequest(
        {
            "operation": "replaceResult",
            "score": "0.5",
            "message_identifier": "msg-1",
            "lis_result_sourcedid": make_sourcedid(setup.placement, setup.learner),
        }
    ).generate_request_xml()
    signed = sign_outcome(xml)
    assert b"success" in send(client, signed).content
    forged = sign_outcome(xml, secret="not the secret")
    assert send(client, forged).status_code == 401

    ok, refused = entries()
    assert (ok.kind, ok.outcome, ok.action) == ("outcomes", "ok", "replaceResult: 0.5 (50%)")
    assert ok.provider == setup.provider and ok.user == setup.learner
    assert ok.placement == setup.placement
    assert (refused.outcome, refused.provider, refused.http_status) == (
        "error",
        setup.provider,
        401,
    )
    assert refused.error.startswith("Authentication failed")
    header = signed.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    signature = unquote(header.split('oauth_signature="')[1].split('"')[0])
    assert_not_stored(TOOL_SECRET, signature)


# --- Robustness, retention ------------------------------------------------------------------------------


def test_a_database_error_while_logging_does_not_break_the_launch(
    client, course, learner, monkeypatch, caplog
):
    enroll(learner, course)
    placement = Placement.objects.get(page=course)
    monkeypatch.setattr(LaunchLogEntry._meta, "db_table", "wagtail_lti_no_such_table")
    form = launched_form(client, learner, placement)
    verified_params(form)
    assert "Could not write a launch log entry" in caplog.text
    monkeypatch.undo()
    # The request's own work was kept, and the database is usable after the failed insert.
    assert placement.learner_activities.get(user=learner).launch_count == 1
    assert not LaunchLogEntry.objects.exists()


def test_failing_debug_data_still_writes_the_entry(client, course, learner, link, monkeypatch):
    link.provider.debug_launches = True
    link.provider.save()
    enroll(learner, course)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(launch_log, "lti11_debug", broken)
    launched_form(client, learner, Placement.objects.get(page=course))
    (entry,) = entries()
    assert entry.outcome == "ok" and entry.debug_data == {
        "error": "The debug data could not be recorded."
    }


def test_cleanup_deletes_entries_older_than_the_retention(settings):
    now = timezone.now()
    for days in (91, 89, 0):
        launch_log.record("launch", ok=True, action=f"{days} days old")
    for entry, days in zip(entries(), (91, 89, 0), strict=True):
        LaunchLogEntry.objects.filter(pk=entry.pk).update(created_at=now - timedelta(days=days))

    out = StringIO()
    call_command("lti_cleanup", stdout=out)
    assert "launch log entries: 1" in out.getvalue()
    assert [e.action for e in entries()] == ["89 days old", "0 days old"]

    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "LAUNCH_LOG_RETENTION_DAYS": 30}):
        call_command("lti_cleanup", stdout=StringIO())
        assert [e.action for e in entries()] == ["0 days old"]


def test_a_retention_of_zero_turns_the_log_off(client, course, learner, settings):
    launch_log.record("launch", ok=True)
    enroll(learner, course)
    with override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "LAUNCH_LOG_RETENTION_DAYS": 0}):
        launched_form(client, learner, Placement.objects.get(page=course))
        assert LaunchLogEntry.objects.count() == 1  # nothing new
        call_command("lti_cleanup", stdout=StringIO())
    assert not LaunchLogEntry.objects.exists()


# --- The admin --------------------------------------------------------------------------------------------


@pytest.fixture
def logged(orgs):
    """Entries of an Acme provider (one with debug data), of a Partner Co provider, and of none."""
    from tests.support.factories import make_provider

    acme = make_provider(orgs["acme"], name="Acme quiz", debug_launches=True)
    partner = make_provider(orgs["partner"], name="Partner quiz")
    acme_ok = launch_log.record(
        "launch",
        ok=True,
        provider=acme,
        action="acme-ok",
        debug={"parameters": {"lis_person_name_full": "Lee Learner"}},
    )
    acme_error = launch_log.record(
        "token", ok=False, provider=acme, action="acme-error", error="E1"
    )
    partner_entry = launch_log.record("nrps", ok=True, provider=partner, action="partner-ok")
    orphan = launch_log.record("token", ok=False, action="orphan-error", error="Unknown client_id.")
    LaunchLogEntry.objects.filter(pk=acme_error.pk).update(
        created_at=timezone.now() - timedelta(days=10)
    )
    return {
        "acme": acme,
        "partner": partner,
        "acme_ok": acme_ok,
        "acme_error": acme_error,
        "partner_entry": partner_entry,
        "orphan": orphan,
    }


def listed(client, **params) -> set[str]:
    response = client.get(reverse(LOG_URL), params)
    assert response.status_code == 200
    html = response.content.decode()
    return {a for a in ("acme-ok", "acme-error", "partner-ok", "orphan-error") if a in html}


def test_editors_see_the_entries_of_their_organizations_providers(
    client, logged, make_editor, superuser, orgs
):
    client.force_login(make_editor("alice", orgs["acme"]))
    assert listed(client) == {"acme-ok", "acme-error"}
    client.force_login(make_editor("paula", orgs["partner"]))
    assert listed(client) == {"partner-ok"}
    # Managing the courses' organization is not managing the provider's.
    client.force_login(make_editor("eddie", orgs["engineering"]))
    assert listed(client) == set()
    client.force_login(superuser)
    assert listed(client) == {"acme-ok", "acme-error", "partner-ok", "orphan-error"}


def test_the_log_needs_the_view_permission(client, logged, orgs, make_editor):
    from django.contrib.auth.models import Group, Permission

    nobody = make_editor("nora", orgs["acme"])
    nobody.groups.clear()
    group = Group.objects.create(name="Admin only")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    nobody.groups.add(group)
    client.force_login(nobody)
    assert client.get(reverse(LOG_URL)).status_code in (302, 403)
    entry_url = reverse("wagtail_lti_launch_log_entry", args=[logged["acme_ok"].pk])
    assert client.get(entry_url).status_code in (302, 403)
    assert "lti-launch-log" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_filters_by_provider_kind_outcome_and_date(client, logged, superuser):
    client.force_login(superuser)
    assert listed(client, provider=logged["acme"].pk) == {"acme-ok", "acme-error"}
    assert listed(client, kind="token") == {"acme-error", "orphan-error"}
    assert listed(client, outcome="error") == {"acme-error", "orphan-error"}
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert listed(client, created_at_after=since) == {"acme-ok", "partner-ok", "orphan-error"}
    results = client.get(reverse("wagtail_lti_launch_log_results"), {"outcome": "ok"})
    assert results.status_code == 200 and "acme-ok" in results.content.decode()


def test_the_provider_filter_offers_only_managed_providers(client, logged, make_editor, orgs):
    client.force_login(make_editor("alice", orgs["acme"]))
    html = client.get(reverse(LOG_URL)).content.decode()
    assert "Acme quiz" in html and "Partner quiz" not in html


def test_export_has_the_rows_but_never_debug_data(client, logged, make_editor, orgs):
    client.force_login(make_editor("alice", orgs["acme"]))
    response = client.get(reverse(LOG_URL), {"export": "csv"})
    assert response.status_code == 200
    csv = b"".join(response.streaming_content).decode()
    assert "acme-ok" in csv and "acme-error" in csv and "partner-ok" not in csv
    assert "Lee Learner" not in csv


def test_debug_data_is_shown_to_editors_of_the_providers_organization_only(
    client, logged, make_editor, superuser, orgs
):
    entry_url = reverse("wagtail_lti_launch_log_entry", args=[logged["acme_ok"].pk])
    client.force_login(make_editor("alice", orgs["acme"]))
    response = client.get(entry_url)
    assert response.status_code == 200
    assert "Lee Learner" in response.content.decode()
    for editor, org in (("paula", "partner"), ("eddie", "engineering"), ("sam", "sales")):
        client.force_login(make_editor(editor, orgs[org]))
        response = client.get(entry_url)
        assert response.status_code == 404
        assert "Lee Learner" not in response.content.decode()
    client.force_login(superuser)
    assert "Lee Learner" in client.get(entry_url).content.decode()
    orphan = client.get(reverse("wagtail_lti_launch_log_entry", args=[logged["orphan"].pk]))
    assert orphan.status_code == 200 and "Unknown client_id." in orphan.content.decode()


def test_an_entry_without_debug_data_says_how_to_get_it(client, logged, make_editor, orgs):
    client.force_login(make_editor("alice", orgs["acme"]))
    response = client.get(reverse("wagtail_lti_launch_log_entry", args=[logged["acme_error"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not recorded" in html and "E1" in html


def test_the_debug_switch_is_on_the_provider_form_and_off_deletes_the_data(
    client, logged, make_editor, orgs
):
    client.force_login(make_editor("alice", orgs["acme"]))
    edit_url = url(LtiProvider, "edit", logged["acme"].pk)
    assert 'name="debug_launches"' in client.get(edit_url).content.decode()
    data = provider_post(orgs["acme"], name="Acme quiz", consumer_key="tool-key")
    data["debug_launches"] = "on"
    assert client.post(edit_url, data).status_code == 302
    assert LaunchLogEntry.objects.get(pk=logged["acme_ok"].pk).debug_data is not None
    del data["debug_launches"]
    assert client.post(edit_url, data).status_code == 302
    provider = LtiProvider.objects.get(pk=logged["acme"].pk)
    assert provider.debug_launches is False
    assert LaunchLogEntry.objects.get(pk=logged["acme_ok"].pk).debug_data is None
    assert LaunchLogEntry.objects.filter(pk=logged["acme_ok"].pk).exists()  # the entry stays


def test_debug_off_stores_no_parameters_even_when_asked(orgs):
    from tests.support.factories import make_provider

    provider = make_provider(orgs["acme"])
    entry = launch_log.record("launch", ok=True, provider=provider, debug={"x": "y"})
    assert entry.debug_data is None
