"""The learner's LTI 1.1 launch through the real launch view, checked by independent verifiers.

The form the view renders is read back from its HTML and handed to what a tool would run: the
``lti`` package's ``ToolProvider`` and oauthlib's server-side ``SignatureOnlyEndpoint`` with a
validator written here. Neither shares code with ``wagtail_lti.lti.lti11`` beyond oauthlib's
primitives.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from lti import ToolProvider
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from tests.support.factories import (
    KEY,
    SECRET,
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from tests.support.forms import first_form
from wagtail_lti.launch import lti13 as lti13_launch_view
from wagtail_lti.models import LearnerActivity
from wagtail_lti.security.identifiers import context_id, opaque_user_id


pytestmark = pytest.mark.django_db


class ToolValidator(RequestValidator):
    """What the tool knows: one key and its secret; nonces it has seen."""

    enforce_ssl = False
    dummy_client = "dummy"
    client_key_length = (3, 100)
    nonce_length = (16, 64)

    def __init__(self, key=KEY, secret=SECRET):
        super().__init__()
        self.key, self.secret, self.seen = key, secret, set()

    def check_client_key(self, client_key):
        return bool(client_key)

    def check_nonce(self, nonce):
        return bool(nonce)

    def validate_client_key(self, client_key, request):
        return client_key == self.key

    def get_client_secret(self, client_key, request):
        return self.secret if client_key == self.key else "dummy"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        if (timestamp, nonce) in self.seen:
            return False
        self.seen.add((timestamp, nonce))
        return True


def launch(client, placement):
    return client.post(f"/lti/launch/{placement.lti_id}/")


def launched_form(client, user, placement) -> dict:
    client.force_login(user)
    response = launch(client, placement)
    assert response.status_code == 200, response.content.decode()
    return first_form(response)


def verified_params(form: dict, *, secret=SECRET) -> dict[str, str]:
    """Verify like a tool: the lti ToolProvider, then oauthlib on the exact urlencoded body."""
    assert form["method"] == "post"
    tool = ToolProvider.from_unpacked_request(secret, form["fields"], form["action"], {})
    assert tool.is_valid_request(ToolValidator(secret=secret)), "ToolProvider refused the launch"
    endpoint = SignatureOnlyEndpoint(ToolValidator(secret=secret))
    valid, _ = endpoint.validate_request(
        form["action"],
        "POST",
        urlencode(form["pairs"]),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert valid, "oauthlib refused the launch"
    return form["fields"]


def test_enrolled_learner_gets_a_signed_launch_the_tool_accepts(client, orgs, learner):
    """LTI 1.1 §B (basic-lti-launch-request), §4 (OAuth 1.0a HMAC-SHA1); checklist §1."""
    provider = make_provider(orgs["acme"], custom_parameters="custom_level=2\ncustom_b=provider")
    link = make_link(
        provider,
        name="Fire drill quiz",
        description="Ten questions.\nAllow 10 minutes.",
        url="https://tool.example.com/launch?item=7&mode=a%20b",
        requires_score=True,
        custom_parameters="custom_b=link\ncustom_uid=$User.id\ncustom_ctx=$Context.id\ncustom_x=$Not.a.variable",
    )
    page = make_course(orgs["engineering"], [link], title="Safety at work", code="SAF-101")
    enroll(learner, page)
    (placement,) = placements_of(page)

    form = launched_form(client, learner, placement)
    assert form["action"] == "https://tool.example.com/launch?item=7&mode=a%20b"
    assert form["buttons"] == 1  # the <noscript> button: works without JavaScript
    params = verified_params(form)

    assert params["lti_message_type"] == "basic-lti-launch-request"
    assert params["lti_version"] == "LTI-1p0"
    assert params["resource_link_id"] == placement.lti_id
    assert params["resource_link_title"] == "Fire drill quiz"
    assert params["resource_link_description"] == "Ten questions.\r\nAllow 10 minutes."
    assert params["user_id"] == opaque_user_id(learner)
    assert params["user_id"] not in {str(learner.pk), learner.username}
    assert params["roles"] == "Learner"
    assert params["context_id"] == context_id(page)
    assert str(page.pk) != params["context_id"]
    assert params["context_title"] == "Safety at work"
    assert params["context_label"] == "SAF-101"
    assert params["launch_presentation_document_target"] == "iframe"
    assert params["launch_presentation_locale"] == "en-US"
    assert params["launch_presentation_height"] == "600"
    assert (
        params["launch_presentation_return_url"]
        == f"http://testserver/lti/launch/{placement.lti_id}/return/"
    )
    assert params["tool_consumer_instance_guid"] == "testserver"
    assert params["tool_consumer_instance_name"] == "Wagtail LTI example"
    assert params["tool_consumer_instance_contact_email"] == "lti-admin@example.com"
    assert params["tool_consumer_info_product_family_code"] == "wagtail-lti"
    # Privacy defaults: name yes, email no.
    assert params["lis_person_name_full"] == "Lee Learner"
    assert params["lis_person_name_given"] == "Lee"
    assert params["lis_person_name_family"] == "Learner"
    assert "lis_person_contact_email_primary" not in params
    # Custom parameters: provider's merged with link's (link wins), with substitutions.
    assert params["custom_level"] == "2"
    assert params["custom_b"] == "link"
    assert params["custom_uid"] == opaque_user_id(learner)
    assert params["custom_ctx"] == context_id(page)
    assert params["custom_x"] == "$Not.a.variable"
    # Basic Outcomes: offered because the link requires a score.
    assert params["lis_outcome_service_url"] == "http://testserver/lti/1.1/outcomes/"
    assert params["lis_result_sourcedid"]

    activity = LearnerActivity.objects.get(placement=placement, user=learner)
    assert activity.status == "launched" and activity.launch_count == 1


def test_the_launch_page_is_private_and_frameable_by_the_site(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    response = launch(client, placement)
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Referrer-Policy"] == "origin"
    assert 'src="/static/wagtail_lti/launch.js"' in response.content.decode()


def test_a_tampered_launch_is_refused_by_the_tool(client, course, learner):
    """The verifier is not a rubber stamp: a changed role or another secret fails."""
    enroll(learner, course)
    (placement,) = placements_of(course)
    form = launched_form(client, learner, placement)
    tampered = dict(form["fields"], roles="Instructor")
    tool = ToolProvider.from_unpacked_request(SECRET, tampered, form["action"], {})
    assert not tool.is_valid_request(ToolValidator())
    tool = ToolProvider.from_unpacked_request("other", form["fields"], form["action"], {})
    assert not tool.is_valid_request(ToolValidator(secret="other"))


def test_privacy_options_are_respected_in_parameters_and_substitutions(client, orgs, learner):
    provider = make_provider(orgs["acme"], send_name=False, send_email=True)
    link = make_link(
        provider,
        custom_parameters="custom_name=$Person.name.full\ncustom_login=$User.username\ncustom_mail=$Person.email.primary",
    )
    page = make_course(orgs["engineering"], [link])
    enroll(learner, page)
    params = verified_params(launched_form(client, learner, placements_of(page)[0]))
    assert not any(name.startswith("lis_person_name") for name in params)
    assert params["lis_person_contact_email_primary"] == "lee@example.com"
    assert params["custom_name"] == "$Person.name.full"
    assert params["custom_login"] == "$User.username"
    assert params["custom_mail"] == "lee@example.com"
    assert "Lee" not in str(params.values())


def test_instructor_role_and_no_outcomes_for_an_unscored_link(client, orgs, provider):
    link = make_link(provider, requires_score=False, open_in="window")
    page = make_course(orgs["engineering"], [link])
    teacher = make_learner("tess", first_name="Tess")
    enroll(teacher, page, role="instructor")
    (placement,) = placements_of(page)
    params = verified_params(launched_form(client, teacher, placement))
    assert params["roles"] == "Instructor"
    assert params["launch_presentation_document_target"] == "window"
    assert "launch_presentation_height" not in params
    assert "lis_outcome_service_url" not in params
    assert "lis_result_sourcedid" not in params
    # A link that requires no score is completed by the launch.
    assert LearnerActivity.objects.get(placement=placement, user=teacher).status == "completed"


def test_user_id_is_stable_across_launches_and_courses(client, orgs, provider, learner):
    link = make_link(provider)
    first = make_course(orgs["engineering"], [link])
    second = make_course(orgs["engineering"], [link])
    enroll(learner, first)
    enroll(learner, second)
    a = verified_params(launched_form(client, learner, placements_of(first)[0]))
    b = verified_params(launched_form(client, learner, placements_of(first)[0]))
    c = verified_params(launched_form(client, learner, placements_of(second)[0]))
    assert a["user_id"] == b["user_id"] == c["user_id"]
    assert a["resource_link_id"] == b["resource_link_id"] != c["resource_link_id"]
    assert a["context_id"] != c["context_id"]
    assert a["oauth_nonce"] != b["oauth_nonce"]


def test_an_lti13_link_hands_over_to_the_oidc_login(client, orgs, learner, monkeypatch):
    provider = make_provider(orgs["acme"], version="1.3", key="")
    page = make_course(orgs["engineering"], [make_link(provider)])
    enroll(learner, page)
    calls = []

    def start_login(request, placement, ctx):
        calls.append((placement, ctx))
        return HttpResponse("login started")

    monkeypatch.setattr(lti13_launch_view, "start_login", start_login)
    client.force_login(learner)
    (placement,) = placements_of(page)
    response = launch(client, placement)
    assert response.content == b"login started"
    ((got, ctx),) = calls
    assert got == placement
    assert ctx.resource_link_id == placement.lti_id
    assert ctx.user.id == opaque_user_id(learner)
