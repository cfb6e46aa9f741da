"""LTI 1.1 Content-Item Message: an editor adds resource links chosen in an LTI 1.1 tool.

The tool's side is built independently: our ``ContentItemSelectionRequest`` is verified with
oauthlib's ``SignatureOnlyEndpoint`` and a tool's validator (``tests/support/oauth1.py``),
and the tool's ``ContentItemSelection`` is signed with oauthlib's ``Client`` over the form body,
exactly as a tool signs it, then posted by the editor's browser (the test client).
Spec: IMS Content-Item Message 1.0, §3 (request), §4 (response), §5 (LtiLinkItem).
"""

from __future__ import annotations

import json
import time
from functools import partial
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from oauthlib.oauth1 import (
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    SignatureOnlyEndpoint,
)
from oauthlib.oauth1 import Client as OAuthClient

from tests.support.forms import the_form
from tests.support.oauth1 import ToolValidator as SharedToolValidator


KEY = "ci-tool-key"
SECRET = "ci tool secret & more"
SELECT_URL = "https://tool.example/ci/select"
FORM = "application/x-www-form-urlencoded"
LTI_LINK = "application/vnd.ims.lti.v1.ltilink"

pytestmark = pytest.mark.django_db


# The tool knows our key and secret.
ToolValidator = partial(SharedToolValidator, key=KEY, secret=SECRET)


# --- The world ----------------------------------------------------------------------------------


@pytest.fixture
def world(orgs, make_editor):
    from wagtail_lti.models import LtiProvider, LtiResourceLink

    provider = LtiProvider(
        name="Library tool",
        organization=orgs["acme"],
        lti_version="1.1",
        consumer_key=KEY,
        content_selection_url=SELECT_URL,
        custom_parameters="custom_source=platform\ncustom_who=$User.id",
        send_name=True,
        send_email=False,
    )
    provider.secret = SECRET
    provider.save()
    existing = LtiResourceLink.objects.create(
        name="Existing", organization=orgs["acme"], provider=provider, url=f"{SELECT_URL}?id=0"
    )
    editor = make_editor("alice", orgs["acme"])
    client = Client()
    client.force_login(editor)
    return {
        "orgs": orgs,
        "provider": provider,
        "existing": existing,
        "editor": editor,
        "client": client,
    }


def links():
    from wagtail_lti.models import LtiResourceLink

    return LtiResourceLink.objects.order_by("pk")


def return_path() -> str:
    return reverse("wagtail_lti:lti11_content_item_return")


def start(world, client=None) -> dict:
    """The editor starts; returns the signed request the browser posts to the tool (checked)."""
    response = (client or world["client"]).post(
        reverse("wagtail_lti_select_content"),
        {"provider": world["provider"].pk, "organization": world["orgs"]["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    assert form["action"] == SELECT_URL
    return dict(form["fields"])


def tool_verifies(fields: dict, validator=None) -> bool:
    valid, _request = SignatureOnlyEndpoint(validator or ToolValidator()).validate_request(
        SELECT_URL, http_method="POST", body=urlencode(fields), headers={"Content-Type": FORM}
    )
    return valid


def link_item(title, url=None, **extra) -> dict:
    item = {"@type": "LtiLinkItem", "mediaType": LTI_LINK, "title": title}
    if url:
        item["url"] = url
    item.update(extra)
    return item


def answer_fields(data: str, items: list[dict] | None, **extra) -> dict:
    fields = {"lti_message_type": "ContentItemSelection", "lti_version": "LTI-1p0", "data": data}
    if items is not None:
        fields["content_items"] = json.dumps(
            {"@context": "http://purl.imsglobal.org/ctx/lti/v1/ContentItem", "@graph": items}
        )
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def sign(fields: dict, *, key=KEY, secret=SECRET, nonce=None, timestamp=None, header=False):
    """Sign the answer as a tool does (oauthlib Client, HMAC-SHA1), for our return URL."""
    client = OAuthClient(
        key,
        client_secret=secret,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER if header else SIGNATURE_TYPE_BODY,
        nonce=nonce,
        timestamp=str(timestamp) if timestamp is not None else None,
    )
    uri, headers, body = client.sign(
        "http://testserver" + return_path(),
        http_method="POST",
        body=urlencode(fields),
        headers={"Content-Type": FORM},
    )
    return body, headers


def post(client, body, headers=None):
    extra = {}
    if headers and "Authorization" in headers:
        extra["HTTP_AUTHORIZATION"] = headers["Authorization"]
    return client.post(return_path(), data=body, content_type=FORM, **extra)


# --- The flow -----------------------------------------------------------------------------------


def test_request_is_a_signed_content_item_selection_request(world):
    """Content-Item §3.1: the request a tool receives, verified by the tool's own OAuth check."""
    fields = start(world)
    assert tool_verifies(fields)
    assert fields["lti_message_type"] == "ContentItemSelectionRequest"
    assert fields["lti_version"] == "LTI-1p0"
    assert fields["content_item_return_url"] == "http://testserver" + return_path()
    assert fields["accept_media_types"] == LTI_LINK
    assert fields["accept_presentation_document_targets"] == "iframe,window"
    assert fields["accept_multiple"] == "true"
    assert fields["accept_unsigned"] == "false"
    assert len(fields["data"]) >= 32
    assert fields["roles"] == "Instructor,ContentDeveloper"
    assert fields["custom_source"] == "platform"
    assert fields["custom_who"] == fields["user_id"]
    assert fields["lis_person_name_full"] == "Alice Editor"
    assert "lis_person_contact_email_primary" not in fields  # privacy: email not allowed
    for absent in ("resource_link_id", "context_id", "lis_outcome_service_url"):
        assert absent not in fields
    # A tampered request does not verify.
    assert not tool_verifies({**fields, "data": "other"})


def test_editor_adds_links_from_a_signed_selection(world):
    data = start(world)["data"]
    body, _ = sign(
        answer_fields(
            data,
            [
                link_item(
                    "Week 1 reading",
                    "https://tool.example/ci/item/1",
                    text="Read it",
                    custom={"item": "1"},
                    placementAdvice={"presentationDocumentTarget": "window"},
                    lineItem={
                        "@type": "LineItem",
                        "label": "Week 1",
                        "reportingMethod": "res:totalScore",
                        "scoreConstraints": {"@type": "NumericLimits", "normalMaximum": 10},
                    },
                ),
                link_item("Week 2 quiz", placementAdvice={"presentationDocumentTarget": "iframe"}),
            ],
            lti_msg="Two items added.",
        )
    )
    answer = post(world["client"], body)
    assert answer.status_code == 303, answer.content.decode()
    existing, reading, quiz = links()
    assert existing.name == "Existing"
    assert (reading.name, reading.url, reading.description) == (
        "Week 1 reading",
        "https://tool.example/ci/item/1",
        "Read it",
    )
    assert reading.custom_parameters == "custom_item=1"
    assert reading.open_in == "window"
    assert reading.requires_score and reading.score_maximum == 10
    assert reading.organization == world["orgs"]["acme"] and reading.provider == world["provider"]
    assert quiz.url == SELECT_URL and quiz.open_in == "embed" and not quiz.requires_score
    page = world["client"].get(answer["Location"]).content.decode()
    assert "Two items added." in page and "Week 2 quiz" in page


def test_signature_in_the_authorization_header_is_accepted(world):
    data = start(world)["data"]
    body, headers = sign(
        answer_fields(data, [link_item("Quiz", "https://tool.example/q")]), header=True
    )
    assert "oauth_signature" not in body
    assert post(world["client"], body, headers).status_code == 303
    assert links().count() == 2


def test_answer_without_session_cookie_is_reposted(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz", "https://tool.example/q")]))
    first = post(Client(), body)
    assert first.status_code == 200
    form = the_form(first)
    assert form["action"] == return_path()
    assert ("wagtail_lti_repost", "1") in form["pairs"]
    # The editor's browser re-posts the same fields (and our marker) to the same URL.
    answer = world["client"].post(return_path(), urlencode(form["pairs"]), content_type=FORM)
    assert answer.status_code == 303, answer.content.decode()
    assert links().count() == 2


# --- Refused answers ----------------------------------------------------------------------------


def _refused(answer, expected: str):
    text = answer.content.decode()
    assert answer.status_code in (400, 401, 403), answer.status_code
    assert expected in text, text
    assert links().count() == 1


def test_bad_signature_is_refused(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz")]), secret="wrong secret")
    _refused(post(world["client"], body), "signature does not match")


def test_tampered_body_is_refused(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz", "https://tool.example/q")]))
    body = body.replace("tool.example", "evil.example")
    _refused(post(world["client"], body), "signature does not match")


def test_other_consumer_key_is_refused(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz")]), key="someone-else")
    _refused(post(world["client"], body), "consumer key")


def test_stale_timestamp_is_refused(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz")]), timestamp=int(time.time()) - 3600)
    _refused(post(world["client"], body), "oauth_timestamp")


def test_replayed_nonce_is_refused(world):
    first = start(world)["data"]
    body, _ = sign(answer_fields(first, [link_item("Quiz")]), nonce="nonce-0123456789")
    assert post(world["client"], body).status_code == 303

    second = start(world)["data"]
    body, _ = sign(answer_fields(second, [link_item("Other")]), nonce="nonce-0123456789")
    answer = post(world["client"], body)
    assert answer.status_code == 400
    assert "oauth_nonce was already used" in answer.content.decode()
    assert links().count() == 2


def test_the_same_answer_twice_adds_once(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz")]))
    assert post(world["client"], body).status_code == 303
    assert post(world["client"], body).status_code == 400
    assert links().count() == 2


def test_wrong_or_missing_data_is_refused(world):
    start(world)
    body, _ = sign(answer_fields("forged", [link_item("Quiz")]))
    _refused(post(world["client"], body), "data value is unknown")
    body, _ = sign(answer_fields("", [link_item("Quiz")]))
    _refused(post(world["client"], body), "data value is unknown")


def test_data_of_another_editor_is_refused(world, make_editor):
    data = start(world)["data"]
    bob = make_editor("bob", world["orgs"]["acme"])
    other = Client()
    other.force_login(bob)
    body, _ = sign(answer_fields(data, [link_item("Quiz")]))
    _refused(post(other, body), "another user")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"@type": "FileItem", "mediaType": "application/pdf", "url": "https://t/x.pdf"},
            "application/pdf",
        ),
        ({"@type": "ContentItem", "mediaType": "text/html", "url": "https://t/x"}, "text/html"),
        ({"@type": "LtiLinkItem", "mediaType": "text/html", "title": "x"}, "text/html"),
    ],
)
def test_unaccepted_media_type_is_refused(world, item, expected):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Good one"), item]))
    answer = post(world["client"], body)
    _refused(answer, expected)
    assert "Nothing was added" in answer.content.decode()


def test_wrong_message_type_is_refused(world):
    data = start(world)["data"]
    body, _ = sign(
        answer_fields(data, [link_item("Quiz")], lti_message_type="basic-lti-launch-request")
    )
    _refused(post(world["client"], body), "not a content-item selection")


def test_content_items_not_json_is_refused(world):
    data = start(world)["data"]
    fields = answer_fields(data, None, content_items="{not json")
    body, _ = sign(fields)
    _refused(post(world["client"], body), "not JSON")


def test_errormsg_is_shown_only_after_verification(world):
    data = start(world)["data"]
    unsigned = urlencode(answer_fields(data, [], lti_errormsg="Visit evil.example now"))
    answer = post(world["client"], unsigned)
    _refused(answer, "Missing OAuth parameters")
    assert "evil.example" not in answer.content.decode()

    body, _ = sign(answer_fields(data, [], lti_errormsg="The library is closed."))
    answer = post(world["client"], body)
    assert answer.status_code == 303
    assert "The library is closed." in world["client"].get(answer["Location"]).content.decode()


def test_provider_without_content_selection_url_cannot_start(world):
    world["provider"].content_selection_url = ""
    world["provider"].save()
    response = world["client"].post(
        reverse("wagtail_lti_select_content"),
        {"provider": world["provider"].pk, "organization": world["orgs"]["acme"].pk},
    )
    assert response.status_code == 200
    assert "has no content selection URL" in response.content.decode()


def test_cleanup_deletes_expired_selections(world):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from wagtail_lti.models import ContentSelection

    start(world)
    start(world)
    ContentSelection.objects.filter(pk=ContentSelection.objects.first().pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    out = StringIO()
    call_command("lti_cleanup", stdout=out)
    assert "content selections: 1" in out.getvalue()
    assert ContentSelection.objects.count() == 1


def test_editor_sets_the_content_selection_url_on_the_provider_form(world):
    from tests.support.admin import field_errors, provider_post, url
    from wagtail_lti.models import LtiProvider

    acme = world["orgs"]["acme"]
    refused = world["client"].post(
        url(LtiProvider, "add"),
        provider_post(acme, secret="s", content_selection_url="javascript:alert(1)"),
    )
    assert refused.status_code == 200
    assert field_errors(refused, "content_selection_url")
    assert not LtiProvider.objects.filter(name="Moodle Law").exists()

    saved = world["client"].post(
        url(LtiProvider, "add"),
        provider_post(acme, secret="s", content_selection_url="https://moodle.example/ci"),
    )
    assert saved.status_code == 302, field_errors(saved, "content_selection_url")
    assert LtiProvider.objects.get(name="Moodle Law").content_selection_url == (
        "https://moodle.example/ci"
    )


# --- The launch log -----------------------------------------------------------------------------


def log_entries():
    from wagtail_lti.models import LaunchLogEntry

    return list(LaunchLogEntry.objects.order_by("pk"))


def test_the_request_and_the_answer_are_in_the_launch_log(world):
    from tests.launch.test_launch_log import assert_not_stored
    from wagtail_lti.models import ContentSelection

    fields = start(world)
    body, _ = sign(answer_fields(fields["data"], [link_item("Quiz", "https://tool.example/q")]))
    assert post(world["client"], body).status_code == 303
    selection = ContentSelection.objects.get()

    request, answer = log_entries()
    assert (request.kind, request.outcome, request.http_status) == ("content_selection", "ok", 200)
    assert request.action == f"ContentItemSelectionRequest form signed (selection {selection.pk})"
    assert (answer.kind, answer.outcome, answer.http_status) == ("content_selection", "ok", 303)
    assert answer.action == (
        f"ContentItemSelection: 1 resource link(s) added (selection {selection.pk})"
    )
    for entry in (request, answer):
        assert entry.user == world["editor"] and entry.provider == world["provider"]
        assert entry.error == "" and entry.debug_data is None
    answer_signature = dict(pair.split("=", 1) for pair in body.split("&"))["oauth_signature"]
    assert_not_stored(SECRET, fields["oauth_signature"], answer_signature, fields["data"])


def test_debug_keeps_the_parameters_without_data_or_signatures(world):
    from tests.launch.test_launch_log import assert_not_stored

    world["provider"].debug_launches = True
    world["provider"].save()
    fields = start(world)
    body, _ = sign(
        answer_fields(fields["data"], [link_item("Quiz", "https://tool.example/q")], lti_msg="Hi")
    )
    assert post(world["client"], body).status_code == 303

    request, answer = log_entries()
    sent = request.debug_data
    assert sent["url"] == SELECT_URL
    assert sent["parameters"]["lti_message_type"] == "ContentItemSelectionRequest"
    assert sent["parameters"]["data"] == sent["parameters"]["oauth_signature"] == "(not stored)"
    assert "%26data%3D%2528not%2520stored%2529%26" in sent["oauth_base_string"]
    received = answer.debug_data["parameters"]
    assert received["lti_message_type"] == "ContentItemSelection" and received["lti_msg"] == "Hi"
    assert json.loads(received["content_items"])["@graph"][0]["title"] == "Quiz"
    assert received["data"] == received["oauth_signature"] == "(not stored)"
    assert answer.debug_data["url"] == "http://testserver" + return_path()
    answer_signature = dict(pair.split("=", 1) for pair in body.split("&"))["oauth_signature"]
    assert_not_stored(SECRET, fields["oauth_signature"], answer_signature, fields["data"])


def test_refused_answers_are_logged_with_their_reason(world):
    data = start(world)["data"]
    body, _ = sign(answer_fields(data, [link_item("Quiz")]), secret="wrong secret")
    assert post(world["client"], body).status_code == 400
    body, _ = sign(answer_fields("unknown-data", [link_item("Quiz")]))
    assert post(world["client"], body).status_code == 400

    bad_signature, unknown_data = log_entries()[1:]
    for entry in (bad_signature, unknown_data):
        assert (entry.kind, entry.outcome) == ("content_selection", "error")
        assert entry.action == "ContentItemSelection" and entry.user == world["editor"]
        assert entry.http_status == 400
    assert bad_signature.provider == world["provider"]
    assert "could not be verified" in bad_signature.error
    assert "signature does not match" in bad_signature.error
    assert unknown_data.provider is None and "data value is unknown" in unknown_data.error


def test_a_request_that_cannot_be_signed_is_logged(world):
    from wagtail_lti.models import LtiProvider

    LtiProvider.objects.filter(pk=world["provider"].pk).update(secret_encrypted="garbage")
    response = world["client"].post(
        reverse("wagtail_lti_select_content"),
        {"provider": world["provider"].pk, "organization": world["orgs"]["acme"].pk},
    )
    assert response.status_code == 200 and "cannot be read" in response.content.decode()
    (entry,) = log_entries()
    assert (entry.kind, entry.outcome) == ("content_selection", "error")
    assert entry.action.startswith("ContentItemSelectionRequest not sent")
    assert "cannot be read" in entry.error and entry.provider == world["provider"]
