"""One way to start an LTI 1.3 message: ``wagtail_lti.launch.lti13.start_message``.

A learner's launch (``start_login``) and an editor's Deep Linking request
(``content_selection.service.start_deep_linking``) both start here, and so will later messages.
Checked at the rule (the pending launch row and the login initiation form) and at the door: a
message of a type no door sends yet (``LtiSubmissionReviewRequest``) goes through the OIDC
authorization endpoint to a tool written here from the spec (PyJWT, LTI Core 1.3 §5.1, OIDC Core
§3.1.2): the tool gets an id_token of that type with what was kept.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.utils import timezone

from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from tests.support.forms import read_page, the_form
from tests.support.lti13 import decode_platform_token, oidc_authorization_params
from tests.tooling.lti13_tool import make_key_pair


TOOL = "https://tool.example"
LOGIN_URL = f"{TOOL}/lti/login/"
REDIRECT_URI = f"{TOOL}/lti/launch/"
REVIEW_URL = f"{TOOL}/lti/review/"
ISSUER = "http://testserver"
SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"
FOR_USER = "https://purl.imsglobal.org/spec/lti/claim/for_user"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tool_keys():
    return make_key_pair()


@pytest.fixture
def setup(orgs, tool_keys, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    provider = make_provider(
        orgs["acme"],
        version="1.3",
        key="",
        secret=None,
        login_url=LOGIN_URL,
        launch_url=f"{TOOL}/lti/",
        redirect_uris=REDIRECT_URI,
        public_key_pem=tool_keys[1],
    )
    link = make_link(provider, name="Essay", url=f"{TOOL}/lti/essay")
    course = make_course(orgs["acme"], [link], title="Writing")
    learner = make_learner("lena", first_name="Lena")
    enroll(learner, course)
    from wagtail_lti.models import Placement

    return {
        "provider": provider,
        "placement": Placement.objects.get(page=course),
        "learner": learner,
    }


def learner_request(user):
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = user
    return request


def learner_context(request, placement, **changes):
    import dataclasses

    from wagtail_lti.launch.context import build_launch_context
    from wagtail_lti.launch.rules import check_can_launch
    from wagtail_lti.launch.targets import launch_target

    target = launch_target(pk=placement.pk)
    ctx = build_launch_context(request, target, check_can_launch(request.user, target))
    return dataclasses.replace(ctx, **changes)


def start_review(request, setup, **overrides):
    """A submission review message: the message type, what to keep, who, where."""
    from wagtail_lti.launch.lti13 import start_message

    ctx = learner_context(request, setup["placement"], target_url=REVIEW_URL)
    values = {
        "message_type": SUBMISSION_REVIEW,
        "keep": {
            "placement_id": setup["placement"].pk,
            "extra_claims": {FOR_USER: {"user_id": "student-7", "name": "Sam Student"}},
        },
        "deployment_id": setup["provider"].deployment_id,
        "title": "Review",
        "message": "Opening the review…",
        "button": "Continue to the review",
        "framable": True,
    }
    values.update(overrides)
    return start_message(request, setup["provider"], ctx, **values)


def pending_launches():
    from wagtail_lti.models import PendingLaunch

    return PendingLaunch.objects.order_by("pk")


# --- The rule: the pending launch row and the form ----------------------------------------------


def test_a_started_message_keeps_its_type_its_data_and_only_the_hash_of_its_hint(setup):
    from wagtail_lti.launch.lti13 import hash_hint

    request = learner_request(setup["learner"])
    started = start_review(request, setup)

    pending = pending_launches().get()
    assert started.pending == pending
    assert pending.message_type == SUBMISSION_REVIEW
    assert pending.user == setup["learner"] and pending.provider == setup["provider"]
    assert pending.data["placement_id"] == setup["placement"].pk
    assert pending.data["extra_claims"] == {
        FOR_USER: {"user_id": "student-7", "name": "Sam Student"}
    }
    assert pending.data["target_link_uri"] == REVIEW_URL
    assert pending.data["context"]["target_url"] == REVIEW_URL
    assert pending.data["deployment_id"] == setup["provider"].deployment_id
    assert pending.used_at is None
    assert timezone.now() < pending.expires_at <= timezone.now() + timedelta(seconds=300)

    form = the_form(started.response)
    fields = form["fields"]
    assert form["action"] == LOGIN_URL and form["method"] == "post"
    assert fields["iss"] == ISSUER
    assert fields["target_link_uri"] == REVIEW_URL
    assert fields["login_hint"] == pending.data["login_hint"]
    assert fields["client_id"] == setup["provider"].client_id
    assert fields["lti_deployment_id"] == setup["provider"].deployment_id
    assert fields["lti_storage_target"] == "_parent"  # an activity in the course page's iframe
    assert pending.hint == hash_hint(fields["lti_message_hint"])
    assert fields["lti_message_hint"] not in str(pending.data)


def test_starting_drops_only_this_users_expired_rows(setup):
    request = learner_request(setup["learner"])
    start_review(request, setup)
    other = make_learner("otto")
    enroll(other, setup["placement"].page)
    start_review(learner_request(other), setup)
    pending_launches().update(expires_at=timezone.now() - timedelta(seconds=1))

    start_review(request, setup)

    assert [p.user.username for p in pending_launches()] == ["otto", "lena"]


def test_a_message_shown_outside_a_frame_is_not_made_framable(setup):
    request = learner_request(setup["learner"])
    framed = start_review(request, setup).response
    top = start_review(request, setup, framable=False).response
    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    assert "X-Frame-Options" not in top  # left to the site (XFrameOptionsMiddleware: DENY)
    for response in (framed, top):
        assert response["Cache-Control"] == "no-store"
        assert response["Referrer-Policy"] == "origin"


def test_a_window_launch_asks_for_no_platform_storage_target(setup):
    request = learner_request(setup["learner"])
    from wagtail_lti.launch.lti13 import start_message

    ctx = learner_context(request, setup["placement"], document_target="window")
    started = start_message(
        request,
        setup["provider"],
        ctx,
        message_type="LtiResourceLinkRequest",
        keep={"placement_id": setup["placement"].pk},
        deployment_id=setup["provider"].deployment_id,
        title="t",
        message="m",
        button="b",
        framable=False,
    )
    fields = the_form(started.response)["fields"]
    assert "lti_storage_target" not in fields


# --- The door: a tool written from the spec receives the message ---------------------------------


def test_a_new_message_type_reaches_a_tool_through_the_authorization_endpoint(setup, client):
    """LTI Core 1.3 §5.1.1 (message_type claim), OIDC Core §3.1.2.1/§3.1.2.6 (authorization
    request, form_post answer): a message started by ``start_message`` comes back to the tool as
    an id_token of its type, with what was kept, signed with a key of our JWKS."""
    client.force_login(setup["learner"])
    init = the_form(start_review(learner_request(setup["learner"]), setup).response)["fields"]

    # The tool's authentication request (built from our login initiation, as a tool does).
    answer = client.get(
        "/lti/1.3/authorize/",
        oidc_authorization_params(init, redirect_uri=REDIRECT_URI, state="st-1", nonce="n-1"),
    )
    assert answer.status_code == 200, answer.content.decode()
    form = the_form(answer)
    assert form["action"] == REDIRECT_URI and form["fields"]["state"] == "st-1"
    token = form["fields"]["id_token"]
    claims = decode_platform_token(token, audience=setup["provider"].client_id)
    assert claims["nonce"] == "n-1"
    assert claims[LTI + "message_type"] == SUBMISSION_REVIEW
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "target_link_uri"] == REVIEW_URL
    assert claims[LTI + "deployment_id"] == setup["provider"].deployment_id
    assert claims[FOR_USER] == {"user_id": "student-7", "name": "Sam Student"}
    assert claims["sub"] == init["login_hint"]
    # The same one-page form as every other door, never cached.
    assert "wagtail_lti/autosubmit.html" in [t.name for t in answer.templates]
    assert answer["Cache-Control"] == "no-store"
    # Single use: the same hint again is refused the OIDC way (posted back with an error).
    again = client.get(
        "/lti/1.3/authorize/",
        oidc_authorization_params(init, redirect_uri=REDIRECT_URI, state="st-2", nonce="n-2"),
    )
    assert "id_token" not in the_form(again)["fields"]
    assert read_page(again).forms[0]["fields"]["error"]
