"""LTI Deep Linking 2.0: an editor adds resource links chosen in a tool, with PyLTI1p3 as the tool.

The editor's browser is Django's test client (logged in to the admin). The tool is PyLTI1p3:
``DjangoOIDCLogin`` answers our login initiation, ``DjangoMessageLaunch`` validates the
``LtiDeepLinkingRequest`` id_token (signature with our JWKS, nonce, state, deployment, the deep
linking message validator), and ``get_deep_link().get_response_jwt(...)`` /
``output_response_form(...)`` build the ``LtiDeepLinkingResponse`` posted back to our return URL.

Bad answers are built from PyLTI1p3's own message (``get_message_jwt``) with one thing changed and
signed with PyLTI1p3's ``encode_jwt`` (or with another key): each is refused with a message for the
editor and creates nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
import pytest
from django.test import Client
from django.urls import reverse
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from tests.support.factories import make_link, make_provider
from tests.support.forms import the_form
from tests.support.lti13 import decode_platform_token, pylti_launch, pylti_login
from tests.support.world import World
from tests.tooling.lti13_tool import make_key_pair
from wagtail_lti.lti.deep_linking import DATA_CLAIM, SETTINGS_CLAIM
from wagtail_lti.lti.lti13 import LTI_CLAIM


ISSUER = "http://testserver"
TOOL = "https://tool.example"
LOGIN_URL = f"{TOOL}/lti/login/"
REDIRECT_URI = f"{TOOL}/lti/launch/"
LAUNCH_URL = f"{TOOL}/lti/"
SELECT_URL = f"{TOOL}/lti/select/"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"

pytestmark = pytest.mark.django_db


# --- The world: an organization's editor, a 1.3 provider, an existing link -----------------------


@pytest.fixture(scope="module")
def tool_keys():
    return make_key_pair()


def make_13_provider(organization, public_pem, *, name="Content tool", **fields):
    """The deep-linking tool's registration (an LTI 1.3 provider without a 1.1 key or secret)."""
    values = {
        "login_url": LOGIN_URL,
        "launch_url": LAUNCH_URL,
        "redirect_uris": REDIRECT_URI,
        "content_selection_url": SELECT_URL,
        "public_key_pem": public_pem,
        "custom_parameters": "custom_mode=select",
    }
    values.update(fields)
    return make_provider(organization, name=name, version="1.3", key="", secret=None, **values)


@pytest.fixture
def world(orgs, make_editor, tool_keys, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    provider = make_13_provider(orgs["acme"], tool_keys[1])
    existing = make_link(
        provider,
        name="Existing activity",
        organization=orgs["acme"],
        url=f"{TOOL}/lti/existing",
        custom_parameters="custom_keep=me",
    )
    editor = make_editor("alice", orgs["acme"])
    client = Client()
    client.force_login(editor)
    return World(
        orgs=orgs,
        provider=provider,
        existing=existing,
        editor=editor,
        client=client,
        tool_private=tool_keys[0],
        tool_public=tool_keys[1],
    )


def start_path() -> str:
    return reverse("wagtail_lti_select_content")


def return_path() -> str:
    return reverse("wagtail_lti:lti13_deep_linking_return")


def links():
    from wagtail_lti.models import LtiResourceLink

    return LtiResourceLink.objects.order_by("pk")


def selections():
    from wagtail_lti.models import ContentSelection

    return ContentSelection.objects.order_by("pk")


# --- The flow, step by step ---------------------------------------------------------------------


def start(world, client=None, *, provider=None, organization=None) -> dict:
    """The editor chooses the tool and the organization: our login initiation form (checked)."""
    response = (client or world.client).post(
        start_path(),
        {
            "provider": (provider or world.provider).pk,
            "organization": (organization or world.orgs["acme"]).pk,
        },
    )
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    assert form["action"] == LOGIN_URL and form["method"] == "post"
    return form["fields"]


@dataclass
class Launched:
    init: dict
    id_token_form: dict
    message_launch: object

    @property
    def deep_link(self):
        return self.message_launch.get_deep_link()

    def message(self, resources) -> dict:
        """PyLTI1p3's response message (to change one thing before signing it)."""
        return self.deep_link.get_message_jwt(resources)

    def sign(self, message: dict) -> str:
        return self.deep_link.encode_jwt(message)


def deep_linking_launch(world, client=None, **start_kwargs) -> Launched:
    """Start a selection and let PyLTI1p3 validate the deep linking launch it receives."""
    client = client or world.client
    conf = world.tool_conf(start_kwargs.get("provider"))
    init = start(world, client, **start_kwargs)
    login_response = pylti_login(init, conf, REDIRECT_URI)
    answer = client.get(login_response["Location"])
    assert answer.status_code == 200, answer.content.decode()
    form = the_form(answer)
    message_launch = pylti_launch(form["fields"], login_response, conf)
    message_launch.get_launch_data()  # validates
    return Launched(init, form, message_launch)


def post_answer(client, token: str, **extra):
    return client.post(return_path(), {"JWT": token, **extra})


def resource(title, url=None, *, custom=None, line_item=None):
    res = DeepLinkResource().set_title(title)
    if url:
        res.set_url(url)
    if custom is not None:
        res.set_custom_params(custom)
    if line_item is not None:
        res.set_lineitem(line_item)
    return res


# --- The whole flow -----------------------------------------------------------------------------


def test_editor_adds_links_chosen_in_a_pylti1p3_tool(world):
    """Deep Linking 2.0 §4.4 (request), §4.5 (response), §3.2 (ltiResourceLink)."""
    launched = deep_linking_launch(world)
    message_launch = launched.message_launch
    assert message_launch.is_deep_link_launch()
    assert not message_launch.is_resource_launch()
    assert message_launch.check_teacher_access()

    # The login initiation targets the provider's content selection URL.
    assert launched.init["target_link_uri"] == SELECT_URL
    assert launched.init["lti_deployment_id"] == world.provider.deployment_id
    # The id_token went to the tool's registered redirect URI, not to our return URL.
    assert launched.id_token_form["action"] == REDIRECT_URI

    claims = decode_platform_token(
        launched.id_token_form["fields"]["id_token"], world.provider.client_id
    )
    assert claims[LTI_CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert claims[LTI_CLAIM + "version"] == "1.3.0"
    assert claims[LTI_CLAIM + "target_link_uri"] == SELECT_URL
    assert LTI_CLAIM + "resource_link" not in claims  # none in a deep linking request
    assert LTI_CLAIM + "context" not in claims  # not in a course
    assert (
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        in claims[LTI_CLAIM + "roles"]
    )
    assert claims[LTI_CLAIM + "custom"] == {"mode": "select"}
    settings = claims[SETTINGS_CLAIM]
    assert settings["deep_link_return_url"] == ISSUER + return_path()
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is True
    assert settings["title"] and settings["text"]
    data = settings["data"]
    assert len(data) >= 32
    # Only the hash of data is stored.
    assert not selections().filter(data_hash=data).exists()

    # The tool answers with PyLTI1p3's own auto-submitting form.
    html = launched.deep_link.output_response_form(
        [
            resource(
                "Chapter 3 quiz",
                f"{TOOL}/lti/quiz/3",
                custom={"chapter": "3", "level": "hard"},
                line_item=LineItem().set_label("Chapter 3").set_score_maximum(25),
            ),
            resource("Reading list"),
        ]
    )
    form = the_form(html)
    assert form["action"] == settings["deep_link_return_url"]
    token = form["fields"]["JWT"]
    answer = world.client.post(form["action"].removeprefix(ISSUER), form["fields"])
    assert answer.status_code == 303, answer.content.decode()
    selection = selections().get()
    assert answer["Location"] == reverse("wagtail_lti_select_content_result", args=[selection.pk])

    # Added, never replacing: the existing link is untouched.
    existing, quiz, reading = links()
    assert existing.name == "Existing activity" and existing.custom_parameters == "custom_keep=me"
    assert quiz.name == "Chapter 3 quiz"
    assert quiz.url == f"{TOOL}/lti/quiz/3"
    assert quiz.provider == world.provider and quiz.organization == world.orgs["acme"]
    assert quiz.custom_parameters == "custom_chapter=3\ncustom_level=hard"
    assert quiz.requires_score is True and quiz.score_maximum == 25
    assert quiz.open_in == "embed"
    assert reading.name == "Reading list"
    assert reading.url == LAUNCH_URL  # no URL in the item: the provider's launch URL
    assert reading.requires_score is False and reading.custom_parameters == ""
    assert quiz.latest_revision is not None  # like a link created in the admin

    assert selection.used_at is not None
    assert selection.created_link_ids == [quiz.pk, reading.pk]

    # The result page lists them with links to edit them.
    page = world.client.get(answer["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    edit = LtiResourceLink_edit_url
    assert edit(quiz) in text and edit(reading) in text
    assert "Existing activity" not in text

    # The same answer again: refused, nothing more.
    again = post_answer(world.client, token)
    assert again.status_code == 400
    assert "already completed" in again.content.decode()
    assert links().count() == 3


def LtiResourceLink_edit_url(link) -> str:
    return reverse(type(link).snippet_viewset.get_url_name("edit"), args=[link.pk])


def test_custom_parameters_round_trip_to_the_launch(world):
    """A link made from an item launches with the item's custom parameters named as the tool
    named them (LTI Core 1.3 §5.4.6)."""
    from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
    from wagtail_lti.lti.custom_params import parse_custom_parameters
    from wagtail_lti.lti.lti13 import custom_claim

    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt(
        [resource("Quiz", custom={"custom_x": "1", "unit_2": "a=b c", "n": 3})]
    )
    assert post_answer(world.client, token).status_code == 303
    link = links().last()
    ctx = LaunchContext(
        user=LaunchUser(id="u"),
        roles=("Learner",),
        context_id="c",
        context_title="",
        context_label="",
        resource_link_id="r",
        resource_link_title="",
        resource_link_description="",
        target_url=link.url,
        platform=PlatformInfo(guid="g", name="n"),
    )
    assert custom_claim(parse_custom_parameters(link.custom_parameters), ctx) == {
        "custom_x": "1",
        "unit_2": "a=b c",
        "n": "3",
    }


def test_presentation_window_and_iframe_map_to_opens_in(world):
    launched = deep_linking_launch(world)
    message = launched.message([resource("Pop-up", f"{TOOL}/a"), resource("Framed", f"{TOOL}/b")])
    message[CONTENT_ITEMS][0]["window"] = {"targetName": "_blank"}
    message[CONTENT_ITEMS][1]["iframe"] = {"width": 800, "height": 600}
    assert post_answer(world.client, launched.sign(message)).status_code == 303
    assert [(link.name, link.open_in) for link in links()[1:]] == [
        ("Pop-up", "window"),
        ("Framed", "embed"),
    ]


def test_tool_messages_are_shown_and_an_empty_answer_adds_nothing(world):
    """Deep Linking 2.0 §4.5: msg and errormsg for the user (ltijs sends "errormsg " with a space)."""
    launched = deep_linking_launch(world)
    message = launched.message([])
    message["https://purl.imsglobal.org/spec/lti-dl/claim/msg"] = "Nothing chosen."
    message["https://purl.imsglobal.org/spec/lti-dl/claim/errormsg "] = "The catalogue is down."
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code == 303
    page = world.client.get(answer["Location"]).content.decode()
    assert "Nothing chosen." in page and "The catalogue is down." in page
    assert "nothing was added" in page
    assert links().count() == 1


# --- Bad answers: each refused, nothing created --------------------------------------------------


def _other_key_token(launched, message):
    other_private, _ = make_key_pair()
    kid = launched.message_launch._registration.get_kid()
    return jwt.encode(message, other_private, algorithm="RS256", headers={"kid": kid})


def _set(claim, value):
    def change(message):
        message[claim] = value

    return change


def _drop(claim):
    def change(message):
        message.pop(claim, None)

    return change


def _expire(message):
    now = int(time.time())
    message["iat"], message["exp"] = now - 4000, now - 3600


def _items(*items):
    return _set(CONTENT_ITEMS, list(items))


BAD_ANSWERS = {
    "expired": (_expire, "expired"),
    "aud is another platform": (_set("aud", ["https://lms.other.example"]), "another platform"),
    "iss of no provider": (_set("iss", "not-a-client"), "client ID"),
    "wrong deployment_id": (_set(LTI_CLAIM + "deployment_id", "other"), "another deployment"),
    "wrong message_type": (
        _set(LTI_CLAIM + "message_type", "LtiResourceLinkRequest"),
        "not a deep linking response",
    ),
    "wrong version": (_set(LTI_CLAIM + "version", "1.2.0"), "LTI version"),
    "no nonce": (_drop("nonce"), "nonce"),
    "data missing": (_drop(DATA_CLAIM), "does not echo the data"),
    "data forged": (_set(DATA_CLAIM, "forged-data-value"), "data value is unknown"),
    "unaccepted item type": (
        _items({"type": "link", "url": f"{TOOL}/page", "title": "A page"}),
        "type “link”",
    ),
    "one bad item among good ones": (
        _items(
            {"type": "ltiResourceLink", "title": "Good", "url": f"{TOOL}/good"},
            {"type": "html", "html": "<p>hi</p>"},
        ),
        "type “html”",
    ),
    "custom name not storable": (
        _items({"type": "ltiResourceLink", "title": "Quiz", "custom": {"chapterId": "3"}}),
        "custom parameters",
    ),
    "item URL not http(s)": (
        _items({"type": "ltiResourceLink", "title": "Quiz", "url": "javascript:alert(1)"}),
        "not an http(s) web address",
    ),
    "score maximum not positive": (
        _items({"type": "ltiResourceLink", "title": "Quiz", "lineItem": {"scoreMaximum": 0}}),
        "maximum score",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answers_are_refused_and_create_nothing(world, case):
    change, expected = BAD_ANSWERS[case]
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    change(message)
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code in (400, 403), answer.status_code
    text = answer.content.decode()
    assert "Nothing was added" in text or "nothing was added" in text
    assert expected in text, text
    assert links().count() == 1
    assert selections().get().used_at is None

    # Nothing was half-recorded: the tool may still answer correctly.
    good = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])
    assert post_answer(world.client, good).status_code == 303
    assert links().count() == 2


def test_wrong_signature_is_refused(world):
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    answer = post_answer(world.client, _other_key_token(launched, message))
    assert answer.status_code == 400
    assert "could not be verified" in answer.content.decode()
    assert "signature" in answer.content.decode()
    assert links().count() == 1


def test_signed_by_another_registered_tool_is_refused(world):
    """iss names another provider: its key does not verify the signature."""
    other = make_13_provider(world.orgs["acme"], make_key_pair()[1], name="Other tool")
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    message["iss"] = other.client_id
    answer = post_answer(world.client, launched.sign(message))
    assert answer.status_code == 400
    assert links().count() == 1


def test_unsigned_or_hs256_answers_are_refused(world):
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    for token in (
        jwt.encode(message, None, algorithm="none"),
        jwt.encode(message, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256"),
        "not-a-jwt",
    ):
        answer = post_answer(world.client, token)
        assert answer.status_code == 400
    assert post_answer(world.client, "").status_code == 400
    assert links().count() == 1


def test_replayed_nonce_is_refused(world):
    """Checklist pitfall 4: a deep linking response's nonce is accepted once."""
    first = deep_linking_launch(world)
    message = first.message([resource("Quiz", f"{TOOL}/quiz")])
    assert post_answer(world.client, first.sign(message)).status_code == 303

    second = deep_linking_launch(world)
    replay = second.message([resource("Other quiz", f"{TOOL}/other")])
    replay["nonce"] = message["nonce"]
    answer = post_answer(world.client, second.sign(replay))
    assert answer.status_code == 400
    assert "nonce" in answer.content.decode()
    assert links().count() == 2
    assert selections().last().used_at is None


def test_answer_in_another_editors_session_is_refused(world, make_editor):
    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])

    bob = make_editor("bob", world.orgs["acme"])  # manages the same organization
    bobs = Client()
    bobs.force_login(bob)
    answer = post_answer(bobs, token)
    assert answer.status_code == 403
    assert "another user" in answer.content.decode()

    # Alice herself, in another browser session (another login): refused too.
    elsewhere = Client()
    elsewhere.force_login(world.editor)
    answer = post_answer(elsewhere, token)
    assert answer.status_code == 403
    assert "another browser session" in answer.content.decode()

    assert links().count() == 1
    assert post_answer(world.client, token).status_code == 303


def test_data_of_another_selection_of_the_same_editor_is_refused(world):
    """The data value binds an answer to one selection: another tool's selection does not do."""
    other = make_13_provider(
        world.orgs["acme"], world.tool_public, name="Second tool", content_selection_url=""
    )
    mine = deep_linking_launch(world)
    theirs = deep_linking_launch(world, provider=other)
    message = mine.message([resource("Quiz", f"{TOOL}/quiz")])
    message[DATA_CLAIM] = theirs.message([])[DATA_CLAIM]
    answer = post_answer(world.client, mine.sign(message))
    assert answer.status_code == 400
    assert "another tool" in answer.content.decode()
    assert links().count() == 1


def test_answer_without_session_cookie_is_reposted_same_site(world):
    """The tool's answer is a cross-site POST: a Lax session cookie does not come with it."""
    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])

    anonymous = Client()
    first = post_answer(anonymous, token)
    assert first.status_code == 200
    form = the_form(first)
    assert form["action"] == return_path()
    assert form["fields"] == {"JWT": token, "wagtail_lti_repost": "1"}
    assert selections().get().used_at is None

    # Still no session on the re-post: refused, nothing consumed.
    refused = anonymous.post(return_path(), form["fields"])
    assert refused.status_code == 403
    assert links().count() == 1

    # The browser that has the session re-posts: accepted.
    answer = world.client.post(return_path(), form["fields"])
    assert answer.status_code == 303
    assert links().count() == 2


def test_get_is_not_an_answer(world):
    assert world.client.get(return_path()).status_code == 405


# --- Scoping ------------------------------------------------------------------------------------


def test_editor_cannot_select_from_a_provider_their_organizations_may_not_use(world, tool_keys):
    from wagtail_lti.models import PendingLaunch

    foreign = make_13_provider(world.orgs["partner"], tool_keys[1], name="Partner tool")
    response = world.client.post(
        start_path(), {"provider": foreign.pk, "organization": world.orgs["acme"].pk}
    )
    assert response.status_code == 200
    assert "Partner tool" not in response.content.decode()  # not even offered
    assert not PendingLaunch.objects.exists() and not selections().exists()

    # Once the partner shares it with Acme, it can be used.
    foreign.available_to.set([world.orgs["acme"]])
    foreign.save()
    deep_linking_launch(world, provider=foreign)
    assert selections().get().provider == foreign


def test_editor_cannot_make_links_owned_by_an_organization_they_do_not_manage(world):
    world.provider.available_to.set([world.orgs["partner"]])
    world.provider.save()
    response = world.client.post(
        start_path(), {"provider": world.provider.pk, "organization": world.orgs["partner"].pk}
    )
    assert response.status_code == 200
    assert "Choose an organization you manage" in response.content.decode()
    assert not selections().exists()


def test_sub_organization_that_may_not_use_the_provider_is_refused(world, orgs):
    """Sales may use Acme's provider (inherited); a provider of Engineering is not for Sales."""
    from wagtail_lti.models import LtiProvider

    eng = LtiProvider.objects.filter(pk=world.provider.pk)
    eng.update(organization=orgs["engineering"])
    response = world.client.post(
        start_path(), {"provider": world.provider.pk, "organization": orgs["sales"].pk}
    )
    assert response.status_code == 200
    assert "may not be used by Sales" in response.content.decode()
    assert not selections().exists()


def test_editor_who_stops_managing_the_organization_cannot_complete(world):
    from wagtail_lti.models import OrganizationMembership

    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])
    OrganizationMembership.objects.filter(user=world.editor).delete()
    answer = post_answer(world.client, token)
    assert answer.status_code == 403
    assert links().count() == 1


def test_start_page_needs_the_add_permission(world, orgs):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("viewer", password="x")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = Client()
    client.force_login(user)
    assert client.get(start_path()).status_code in (302, 403)
    assert client.get(start_path()).status_code != 200


def test_start_page_offers_usable_providers_and_preselects_one(world):
    page = world.client.get(start_path() + f"?provider={world.provider.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Content tool (LTI 1.3)" in text
    assert f'<option value="{world.provider.pk}" selected>' in text


def test_entry_points_in_the_listings(world):
    from wagtail_lti.models import LtiProvider, LtiResourceLink

    listing = world.client.get(reverse(LtiResourceLink.snippet_viewset.get_url_name("list")))
    assert start_path() in listing.content.decode()
    providers = world.client.get(reverse(LtiProvider.snippet_viewset.get_url_name("list")))
    assert f"{start_path()}?provider={world.provider.pk}" in providers.content.decode()


def test_result_page_is_only_for_its_editor(world, make_editor):
    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])
    location = post_answer(world.client, token)["Location"]
    bob = make_editor("bob", world.orgs["acme"])
    other = Client()
    other.force_login(bob)
    assert other.get(location).status_code == 404


# --- The launch log -----------------------------------------------------------------------------


def log_entries():
    from wagtail_lti.models import LaunchLogEntry

    return list(LaunchLogEntry.objects.order_by("pk"))


def test_the_request_and_the_answer_are_in_the_launch_log(world):
    """The login initiation, the LtiDeepLinkingRequest id_token, the tool's answer: one row each,
    the editor and the provider named, nothing secret stored."""
    from tests.launch.test_launch_log import assert_not_stored

    launched = deep_linking_launch(world)
    html = launched.deep_link.output_response_form(
        [resource("Quiz", f"{TOOL}/quiz"), resource("Reading")]
    )
    token = the_form(html)["fields"]["JWT"]
    assert post_answer(world.client, token).status_code == 303
    selection = selections().get()

    request, issued, answer = log_entries()
    assert (request.kind, request.outcome, request.http_status) == ("content_selection", "ok", 200)
    assert request.action == (
        f"LtiDeepLinkingRequest: LTI 1.3 login initiation (selection {selection.pk})"
    )
    assert (issued.kind, issued.outcome) == ("id_token", "ok")
    assert issued.action == "id_token issued (LtiDeepLinkingRequest)"
    assert (answer.kind, answer.outcome, answer.http_status) == ("content_selection", "ok", 303)
    assert answer.action == (
        f"LtiDeepLinkingResponse: 2 resource link(s) added (selection {selection.pk})"
    )
    for entry in (request, issued, answer):
        assert entry.user == world.editor and entry.provider == world.provider
        assert entry.placement is None and entry.course is None and entry.error == ""
        assert entry.debug_data is None  # the provider's debug switch is off
    assert request.get_kind_display() == "Content selection (Deep Linking, Content-Item)"
    id_token = launched.id_token_form["fields"]["id_token"]
    data = decode_platform_token(id_token, world.provider.client_id)[SETTINGS_CLAIM]["data"]
    assert_not_stored(
        token, token.rsplit(".", 1)[1], id_token, launched.init["lti_message_hint"], data
    )


def test_debug_keeps_the_claims_without_data_or_jwt(world):
    from tests.launch.test_launch_log import assert_not_stored

    world.provider.debug_launches = True
    world.provider.save()
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    token = launched.sign(message)
    assert post_answer(world.client, token).status_code == 303

    request, issued, answer = log_entries()
    assert request.debug_data is None  # the login initiation carries only the message hint
    # The request's claims (the authorization endpoint's entry), all but the data value.
    sent = issued.debug_data["claims"]
    assert sent[LTI_CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert sent[SETTINGS_CLAIM]["data"] == "(not stored)"
    assert sent[SETTINGS_CLAIM]["deep_link_return_url"] == ISSUER + return_path()
    claims = answer.debug_data["claims"]
    assert claims[LTI_CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[CONTENT_ITEMS][0]["title"] == "Quiz"
    assert claims[DATA_CLAIM] == "(not stored)"
    assert answer.debug_data["header"]["alg"] == "RS256"
    assert_not_stored(token, token.rsplit(".", 1)[1], message[DATA_CLAIM])


def test_refused_answers_are_logged_with_their_reason(world):
    launched = deep_linking_launch(world)
    message = launched.message([resource("Quiz", f"{TOOL}/quiz")])
    assert post_answer(world.client, _other_key_token(launched, message)).status_code == 400
    unknown = {**message, "iss": "no-such-client"}
    assert post_answer(world.client, launched.sign(unknown)).status_code == 400
    assert post_answer(world.client, "").status_code == 400

    bad_signature, unknown_client, no_jwt = log_entries()[2:]
    for entry in (bad_signature, unknown_client, no_jwt):
        assert (entry.kind, entry.outcome, entry.http_status) == ("content_selection", "error", 400)
        assert entry.action == "LtiDeepLinkingResponse" and entry.user == world.editor
    assert bad_signature.provider == world.provider
    assert bad_signature.error.startswith("The tool's answer could not be verified")
    assert "signature" in bad_signature.error
    assert unknown_client.provider is None and "client ID" in unknown_client.error
    assert "no JWT" in no_jwt.error


def test_a_reposted_answer_is_logged_as_such(world):
    launched = deep_linking_launch(world)
    token = launched.deep_link.get_response_jwt([resource("Quiz", f"{TOOL}/quiz")])
    form = the_form(post_answer(Client(), token))
    assert world.client.post(return_path(), form["fields"]).status_code == 303

    reposted, answer = log_entries()[2:]
    assert reposted.action == "LtiDeepLinkingResponse re-posted: no session cookie"
    assert (reposted.outcome, reposted.user) == ("ok", None)
    assert answer.action.startswith("LtiDeepLinkingResponse: 1 resource link(s) added")
