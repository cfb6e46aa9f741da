"""The one verifier of signed LTI 1.1 requests from tools
(``wagtail_lti.security.lti11_requests.verify_signed_request``) and its two doors: Basic Outcomes
and the Content-Item answer.

Requests are signed as tools sign them: requests-oauthlib (``Authorization`` header + body hash)
for Basic Outcomes, oauthlib's ``Client`` over the form body for Content-Item. What the copies did
differently, and is now one rule: the nonce is single-use across both doors (it was one namespace
each); a disabled provider's signed Content-Item answer is refused (it added links); an error
other than an undecryptable secret is not turned into "unknown consumer key".
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import DatabaseError
from django.test import Client, RequestFactory
from django.urls import reverse
from oauthlib.oauth1 import SIGNATURE_TYPE_BODY
from oauthlib.oauth1 import Client as OAuthClient

from tests.support.factories import make_provider
from tests.support.forms import input_value
from tests.support.lti11 import (
    OUTCOMES_URL,
    TOOL_KEY,
    TOOL_SECRET,
    make_course_setup,
    send,
    sign_outcome,
)
from wagtail_lti.models import LaunchLogEntry, LtiProvider, LtiResourceLink, Result
from wagtail_lti.security.lti11_requests import SignedRequestRefused, verify_signed_request
from wagtail_lti.security.sourcedid import make_sourcedid
from wagtail_lti.services import access


pytestmark = pytest.mark.django_db

SELECT_URL = "https://tool.example/ci/select"
FORM = "application/x-www-form-urlencoded"


def pox(sourcedid: str = "sid", operation: str = "readResult") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<imsx_POXEnvelopeRequest xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">'
        "<imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version>"
        "<imsx_messageIdentifier>m-1</imsx_messageIdentifier></imsx_POXRequestHeaderInfo>"
        f"</imsx_POXHeader><imsx_POXBody><{operation}Request><resultRecord><sourcedGUID>"
        f"<sourcedId>{sourcedid}</sourcedId></sourcedGUID></resultRecord>"
        f"</{operation}Request></imsx_POXBody></imsx_POXEnvelopeRequest>"
    ).encode()


def as_django(prepared):
    """The tool's signed request as the Django request our door receives."""
    authorization = prepared.headers["Authorization"]
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    return RequestFactory().generic(
        "POST",
        prepared.url.split("testserver", 1)[1],
        prepared.body,
        content_type="application/xml",
        HTTP_AUTHORIZATION=authorization,
    )


def verify(prepared, provider):
    request = as_django(prepared)
    return verify_signed_request(request, request.body, provider)


@pytest.fixture
def provider(orgs):
    return make_provider(orgs["acme"], key=TOOL_KEY, secret=TOOL_SECRET)


# --- The rule -----------------------------------------------------------------------------------


def test_a_request_signed_with_the_providers_key_and_secret_is_verified(provider):
    verified = verify(sign_outcome(pox()), provider)
    assert verified.consumer_key == TOOL_KEY
    assert verified.signature_method == "HMAC-SHA1"
    assert verified.body_hash


@pytest.mark.parametrize(
    ("sign_kwargs", "reason"),
    [
        ({"secret": "wrong"}, "bad_signature"),
        ({"key": "another-key"}, "unknown_consumer_key"),
        ({"timestamp": "1000000000"}, "stale_timestamp"),
    ],
)
def test_a_request_not_signed_by_the_provider_is_refused(provider, sign_kwargs, reason):
    with pytest.raises(SignedRequestRefused) as refused:
        verify(sign_outcome(pox(), **sign_kwargs), provider)
    assert refused.value.reason == reason
    assert not refused.value.authenticated
    assert refused.value.message


def test_a_body_that_is_not_the_signed_one_is_refused(provider):
    request = as_django(sign_outcome(pox()))
    with pytest.raises(SignedRequestRefused) as refused:
        verify_signed_request(request, pox("other"), provider)
    assert refused.value.reason == "body_hash_mismatch"


def test_a_nonce_is_used_once_across_every_door(provider):
    """The nonce of a Basic Outcomes request is refused on a Content-Item answer and back."""
    verify(sign_outcome(pox(), nonce="shared-nonce-0123"), provider)
    fields = {"lti_message_type": "ContentItemSelection", "data": "d"}
    uri, headers, body = OAuthClient(
        TOOL_KEY,
        client_secret=TOOL_SECRET,
        signature_type=SIGNATURE_TYPE_BODY,
        nonce="shared-nonce-0123",
    ).sign(
        "http://testserver" + reverse("wagtail_lti:lti11_content_item_return"),
        http_method="POST",
        body=urlencode(fields),
        headers={"Content-Type": FORM},
    )
    request = RequestFactory().post(
        reverse("wagtail_lti:lti11_content_item_return"), body, content_type=FORM
    )
    with pytest.raises(SignedRequestRefused) as refused:
        verify_signed_request(request, request.body, provider)
    assert refused.value.reason == "replayed_nonce"


def test_a_disabled_provider_is_refused_only_once_its_signature_holds(provider):
    provider.is_enabled = False
    provider.save()
    with pytest.raises(SignedRequestRefused) as refused:
        verify(sign_outcome(pox(), secret="wrong"), provider)
    assert refused.value.reason == "bad_signature" and not refused.value.authenticated

    with pytest.raises(SignedRequestRefused) as refused:
        verify(sign_outcome(pox()), provider)
    assert refused.value.reason == access.PROVIDER_DISABLED
    assert refused.value.authenticated
    assert refused.value.message == access.MESSAGES[access.PROVIDER_DISABLED]


def test_a_secret_that_cannot_be_decrypted_counts_as_none(provider, caplog):
    LtiProvider.objects.filter(pk=provider.pk).update(secret_encrypted="not-a-fernet-token")
    provider.refresh_from_db()
    with pytest.raises(SignedRequestRefused) as refused:
        verify(sign_outcome(pox()), provider)
    assert refused.value.reason == "unknown_consumer_key"
    assert "cannot be decrypted" in caplog.text


def test_another_failure_reading_the_secret_is_not_a_refusal(provider, monkeypatch):
    """Content-Item's copy turned any exception into "unknown consumer key"."""

    def broken(self):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(LtiProvider, "secret", property(broken))
    with pytest.raises(DatabaseError):
        verify(sign_outcome(pox()), provider)


# --- The doors ----------------------------------------------------------------------------------


@pytest.fixture
def world(orgs, make_editor, provider):
    provider.content_selection_url = SELECT_URL
    provider.save()
    setup = make_course_setup(orgs, provider=provider)
    editor = make_editor("alice", orgs["acme"])
    client = Client()
    client.force_login(editor)
    return {"orgs": orgs, "provider": provider, "setup": setup, "client": client}


def start_selection(world) -> str:
    """The editor starts a content selection; returns its ``data`` value."""
    response = world["client"].post(
        reverse("wagtail_lti_select_content"),
        {"provider": world["provider"].pk, "organization": world["orgs"]["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    return input_value(response, "data")


def content_item_answer(world, data: str, *, nonce=None) -> str:
    fields = {
        "lti_message_type": "ContentItemSelection",
        "lti_version": "LTI-1p0",
        "data": data,
        "content_items": (
            '{"@context": "http://purl.imsglobal.org/ctx/lti/v1/ContentItem", "@graph": '
            '[{"@type": "LtiLinkItem", "mediaType": "application/vnd.ims.lti.v1.ltilink", '
            '"title": "Week 1", "url": "https://tool.example/ci/item/1"}]}'
        ),
    }
    uri, headers, body = OAuthClient(
        TOOL_KEY, client_secret=TOOL_SECRET, signature_type=SIGNATURE_TYPE_BODY, nonce=nonce
    ).sign(
        "http://testserver" + reverse("wagtail_lti:lti11_content_item_return"),
        http_method="POST",
        body=urlencode(fields),
        headers={"Content-Type": FORM},
    )
    return body


def post_answer(world, body, client=None):
    return (client or world["client"]).post(
        reverse("wagtail_lti:lti11_content_item_return"), body, content_type=FORM
    )


def outcome(world, *, nonce=None):
    sourcedid = make_sourcedid(world["setup"].placement, world["setup"].learner)
    return send(Client(), sign_outcome(pox(sourcedid), url=OUTCOMES_URL, nonce=nonce))


def test_content_item_answer_of_a_disabled_provider_adds_nothing(world):
    data = start_selection(world)
    world["provider"].is_enabled = False
    world["provider"].save()
    before = LtiResourceLink.objects.count()

    response = post_answer(world, content_item_answer(world, data))

    page = response.content.decode()
    assert response.status_code == 400, page
    assert "Nothing was added" in page and "not been enabled" in page
    assert LtiResourceLink.objects.count() == before
    entry = LaunchLogEntry.objects.filter(kind="content_selection").order_by("-pk").first()
    assert entry.outcome == LaunchLogEntry.Outcome.ERROR
    assert access.MESSAGES[access.PROVIDER_DISABLED] in entry.error


def test_content_item_answer_with_a_nonce_used_by_basic_outcomes_is_refused(world):
    assert b"success" in outcome(world, nonce="nonce-used-once-01").content
    data = start_selection(world)
    before = LtiResourceLink.objects.count()

    response = post_answer(world, content_item_answer(world, data, nonce="nonce-used-once-01"))

    assert response.status_code == 400
    assert "oauth_nonce was already used" in response.content.decode()
    assert LtiResourceLink.objects.count() == before


def test_basic_outcomes_with_a_nonce_used_by_a_content_item_answer_is_refused(world):
    data = start_selection(world)
    response = post_answer(world, content_item_answer(world, data, nonce="nonce-used-once-02"))
    assert response.status_code == 303, response.content.decode()

    response = outcome(world, nonce="nonce-used-once-02")

    assert response.status_code == 401
    assert b"oauth_nonce was already used" in response.content
    assert not Result.objects.exists()


def test_content_item_answer_with_an_unreadable_secret_store_is_an_error(world, monkeypatch):
    """A failure that is not a bad secret is an error (reported), not "unknown consumer key"."""
    data = start_selection(world)
    before = LtiResourceLink.objects.count()

    def broken(self):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(LtiProvider, "secret", property(broken))
    with pytest.raises(DatabaseError):  # the test client re-raises what would be a 500
        post_answer(world, content_item_answer(world, data))

    assert LtiResourceLink.objects.count() == before
