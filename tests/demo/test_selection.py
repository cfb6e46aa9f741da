"""The demo tool answers "Add from a tool": LTI 1.3 Deep Linking and LTI 1.1 Content-Item.

The editor's browser is the test client; the platform (wagtail-lti) and the demo tool talk over
HTTP routed into it (``tests.demo.test_demo_tool.routed``). The demo tool's answers are made by the
independent libraries (PyLTI1p3's ``DeepLink`` for 1.3, oauthlib's ``Client`` for 1.1) and read by
the platform's own checks, so a link that appears was accepted end to end.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.demo.test_demo_tool import post_form
from tests.support.demo import route_demo_http
from tests.support.factories import enroll, make_course, make_learner
from tests.support.forms import the_form


pytestmark = pytest.mark.django_db

# A host the platform's URL check accepts for new links (it has no dot, but it is localhost).
BASE = "http://localhost"

PICKER_13 = "/demo-tool/1.3/deep-link/"
PICKER_11 = "/demo-tool/1.1/content-item/answer/"


def picker(response) -> dict:
    """The picker's one form: its fields without the checkboxes, and the checkboxes' values."""
    form = the_form(response)
    boxes = {name for name, _ in form["checkboxes"]}
    form["checks"] = [value for _, value in form["checkboxes"]]
    form["fields"] = {k: v.strip("\n") for k, v in form["fields"].items() if k not in boxes}
    return form


def browser() -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def routed(monkeypatch):
    """The tool's and the platform's outgoing HTTP, answered by the test client on localhost."""
    yield from route_demo_http(monkeypatch, BASE)


@pytest.fixture
def demo(orgs, routed, make_editor):
    from demo_tool.setup import ensure_demo_registrations

    result = ensure_demo_registrations(BASE, orgs["acme"])
    editor = make_editor("eddie", orgs["acme"])
    client = browser()
    client.force_login(editor)
    return {"result": result, "client": client, "editor": editor, "orgs": orgs}


def start(demo, version: str):
    provider = demo["result"][f"lti{version.replace('.', '')}"]["provider"]
    response = demo["client"].post(
        reverse("wagtail_lti_select_content"),
        {"provider": provider.pk, "organization": demo["orgs"]["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    return the_form(response)


def open_picker_13(demo):
    """The editor's browser: our login initiation, the tool's redirect, our id_token, the picker."""
    client = demo["client"]
    init = start(demo, "1.3")
    assert init["action"] == BASE + "/demo-tool/1.3/launch/".replace("launch", "login")
    login = post_form(client, init["action"], init["fields"])
    assert login.status_code == 302, login.content.decode()
    token_form = the_form(client.get(login["Location"]))
    assert token_form["action"] == BASE + "/demo-tool/1.3/launch/"
    return post_form(client, token_form["action"], token_form["fields"])


def open_picker_11(demo):
    init = start(demo, "1.1")
    assert init["action"] == BASE + "/demo-tool/1.1/content-item/"
    assert init["fields"]["lti_message_type"] == "ContentItemSelectionRequest"
    return post_form(demo["client"], init["action"], init["fields"])


def links():
    from wagtail_lti.models import LtiResourceLink

    return LtiResourceLink.objects.order_by("pk")


def choose(form: dict, *ids: str, **fields) -> dict:
    return {**form["fields"], **fields, "item": list(ids)}


# --- The rules: the picker and what it sends --------------------------------------------------------


def test_picker_form_reads_custom_parameters_and_maximum():
    from demo_tool.picker import PickerForm, content_items, deep_link_resources

    form = PickerForm(
        {
            "launch_id": "x",
            "item": ["fractions", "water-cycle"],
            "custom_fractions": "activity=fractions\nlevel=hard",
            "maximum_fractions": "20",
            "custom_water-cycle": "",
            "custom_lab-safety": "activity=lab_safety",
            "maximum_lab-safety": "5",
        }
    )
    assert form.is_valid(), form.errors
    resources = deep_link_resources(form, "https://tool.example/launch/")
    assert [r.to_dict()["title"] for r in resources] == [
        "Quiz: fractions",
        "Video: the water cycle",
    ]
    quiz = resources[0].to_dict()
    assert quiz["url"] == "https://tool.example/launch/?activity=fractions"
    assert quiz["custom"] == {"activity": "fractions", "level": "hard"}
    assert quiz["lineItem"]["scoreMaximum"] == 20
    assert "lineItem" not in resources[1].to_dict()
    graph = content_items(form, "https://tool.example/11/")["@graph"]
    assert graph[0]["lineItem"]["scoreConstraints"]["totalMaximum"] == 20
    assert graph[1]["url"] == "https://tool.example/11/?activity=water-cycle"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("custom_fractions", "Level=hard", "lower-case letters"),
        ("custom_fractions", "just text", "name=value"),
        ("custom_fractions", "a=1\na=2", "given twice"),
        ("maximum_fractions", "0", "greater than or equal to 0.01"),
        ("maximum_fractions", "five", "Enter a number"),
    ],
)
def test_picker_form_refuses_bad_input_with_a_sentence(field, value, message):
    from demo_tool.picker import PickerForm

    data = {"launch_id": "x", "item": ["fractions"], "maximum_fractions": "10", field: value}
    form = PickerForm(data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


# --- LTI 1.3 Deep Linking through the admin ----------------------------------------------------


def test_deep_linking_adds_the_chosen_demo_activities(demo):
    from wagtail_lti.models import ContentSelection

    page = open_picker_13(demo)
    assert page.status_code == 200, page.content.decode()
    body = page.content.decode()
    assert "Choose activities to add" in body and "Add resource links for Acme" in body
    form = picker(page)
    assert form["action"] == PICKER_13
    assert set(form["checks"]) == {"fractions", "water-cycle", "lab-safety"}

    answer = demo["client"].post(
        form["action"],
        choose(form, "fractions", "water-cycle", maximum_fractions="20"),
    )
    assert answer.status_code == 200, answer.content.decode()
    back = the_form(answer)
    assert back["action"] == BASE + reverse("wagtail_lti:lti13_deep_linking_return")
    done = post_form(demo["client"], back["action"], back["fields"])
    assert done.status_code == 303, done.content.decode()

    quiz, video = links()
    assert quiz.name == "Quiz: fractions"
    assert quiz.url == BASE + "/demo-tool/1.3/launch/?activity=fractions"
    assert quiz.custom_parameters == "custom_activity=fractions\ncustom_level=beginner"
    assert quiz.requires_score and quiz.score_maximum == 20
    assert video.name == "Video: the water cycle" and not video.requires_score
    assert quiz.provider == demo["result"]["lti13"]["provider"]
    selection = ContentSelection.objects.get()
    assert selection.tool_message == "The demo tool added 2 items."
    result = demo["client"].get(done["Location"])
    assert "The demo tool added 2 items." in result.content.decode()


def test_deep_linking_picker_errors_are_shown_and_nothing_is_sent(demo):
    from wagtail_lti.models import ContentSelection

    form = picker(open_picker_13(demo))
    answer = demo["client"].post(
        form["action"], choose(form, "fractions", **{"custom_fractions": "Bad Name=1"})
    )
    assert answer.status_code == 400
    assert "lower-case letters" in answer.content.decode()
    assert not links().exists()
    assert ContentSelection.objects.get().used_at is None
    # Corrected, it goes through.
    fixed = demo["client"].post(form["action"], choose(form, "fractions"))
    back = the_form(fixed)
    assert post_form(demo["client"], back["action"], back["fields"]).status_code == 303
    assert links().count() == 1


def test_deep_linking_answer_for_an_unknown_request_is_refused(demo):
    response = demo["client"].post(PICKER_13, {"launch_id": "lti1p3-launch-nope"})
    assert response.status_code == 400
    assert "no longer knows this content request" in response.content.decode()
    assert demo["client"].get(PICKER_13).status_code == 405


# --- LTI 1.1 Content-Item through the admin ----------------------------------------------------


def test_content_item_adds_the_chosen_demo_activities_and_they_launch(demo):
    page = open_picker_11(demo)
    assert page.status_code == 200, page.content.decode()
    form = picker(page)
    assert form["action"] == PICKER_11

    answer = demo["client"].post(form["action"], choose(form, "lab-safety", "water-cycle"))
    assert answer.status_code == 200, answer.content.decode()
    back = the_form(answer)
    assert back["action"] == BASE + reverse("wagtail_lti:lti11_content_item_return")
    assert back["fields"]["lti_message_type"] == "ContentItemSelection"
    assert back["fields"]["oauth_signature_method"] == "HMAC-SHA1"
    items = json.loads(back["fields"]["content_items"])["@graph"]
    assert [i["@type"] for i in items] == ["LtiLinkItem", "LtiLinkItem"]
    done = post_form(demo["client"], back["action"], back["fields"])
    assert done.status_code == 303, done.content.decode()

    video, lab = links()
    assert video.name == "Video: the water cycle" and not video.requires_score
    assert lab.name == "Checklist: safe lab work"
    assert lab.url == BASE + "/demo-tool/1.1/launch/?activity=lab-safety"
    assert lab.requires_score and lab.score_maximum == 5
    assert lab.custom_parameters == "custom_activity=lab_safety"

    # The same answer again is refused by the tool: each request is answered once.
    again = demo["client"].post(form["action"], choose(form, "lab-safety"))
    assert again.status_code == 400
    assert "no longer knows this content request" in again.content.decode()

    # A learner launches the new link: the demo tool verifies the signed launch.
    course = make_course(demo["orgs"]["acme"], [lab], title="Lab basics")
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    learner_client = browser()
    learner_client.force_login(learner)
    from wagtail_lti.models import Placement

    placement = Placement.objects.get(page=course)
    launch = the_form(learner_client.post(reverse("wagtail_lti:launch", args=[placement.lti_id])))
    assert urlsplit(launch["action"]).query == "activity=lab-safety"
    shown = post_form(learner_client, launch["action"], launch["fields"])
    assert shown.status_code == 200, shown.content.decode()
    assert "lab_safety" in shown.content.decode()


def test_content_item_request_with_a_bad_signature_is_refused(demo):
    init = start(demo, "1.1")
    fields = {**init["fields"], "oauth_signature": "forged"}
    response = post_form(demo["client"], init["action"], fields)
    assert response.status_code == 401
    assert "signature is not valid" in response.content.decode()


def test_a_launch_is_not_a_content_item_request(demo):
    from tests.demo.test_demo_tool import lti11_params, sign11

    result = demo["result"]["lti11"]
    fields = sign11(
        lti11_params(),
        key=result["consumer_key"],
        secret=result["secret"],
        url=BASE + "/demo-tool/1.1/content-item/",
    )
    response = post_form(demo["client"], BASE + "/demo-tool/1.1/content-item/", fields)
    assert response.status_code == 401
    assert "ContentItemSelectionRequest" in response.content.decode()


def test_content_item_picker_errors_are_shown_and_nothing_is_signed(demo):
    form = picker(open_picker_11(demo))
    answer = demo["client"].post(
        form["action"], choose(form, "fractions", **{"maximum_fractions": "-1"})
    )
    assert answer.status_code == 400
    assert "greater than or equal to 0.01" in answer.content.decode()
    assert "oauth_signature" not in answer.content.decode()
    assert not links().exists()


def test_demo_provider_gets_the_content_item_url_and_keeps_another_one(orgs):
    from demo_tool.setup import ensure_demo_registrations

    first = ensure_demo_registrations(BASE, orgs["acme"])
    provider = first["lti11"]["provider"]
    assert provider.content_selection_url == BASE + "/demo-tool/1.1/content-item/"
    ensure_demo_registrations("http://localhost:9000", orgs["acme"])
    provider.refresh_from_db()
    assert provider.content_selection_url == "http://localhost:9000/demo-tool/1.1/content-item/"
    provider.content_selection_url = "https://elsewhere.example/ci/"
    provider.save()
    ensure_demo_registrations(BASE, orgs["acme"])
    provider.refresh_from_db()
    assert provider.content_selection_url == "https://elsewhere.example/ci/"


def test_signed_selection_verifies_with_an_independent_verifier(orgs):
    """oauthlib's server side checks the tool's ContentItemSelection signature."""
    from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

    from demo_tool.lti11 import sign_content_item_selection
    from demo_tool.models import ToolRegistration

    row = ToolRegistration.objects.create(
        slug="ci", name="CI", lti_version="1.1", consumer_key="k", shared_secret="s&s"
    )
    url = "https://platform.example/ci/return/?x=1"
    fields = sign_content_item_selection(
        row, return_url=url, content_items={"@graph": []}, data="d", message="none"
    )

    class Validator(RequestValidator):
        enforce_ssl = False
        dummy_client = "dummy"

        def check_client_key(self, key):
            return True

        def check_nonce(self, nonce):
            return True

        def validate_client_key(self, key, request):
            return key == "k"

        def get_client_secret(self, key, request):
            return "s&s"

        def validate_timestamp_and_nonce(self, *args, **kwargs):
            return True

    from urllib.parse import urlencode

    valid, _ = SignatureOnlyEndpoint(Validator()).validate_request(
        url,
        "POST",
        urlencode(fields),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert valid
    assert dict(parse_qsl(urlencode(fields)))["data"] == "d"


# --- The demo data says where to try it ----------------------------------------------------------


def test_demo_data_prints_where_to_try_and_the_demo_editor_can(routed):
    from io import StringIO

    from django.core.management import call_command

    from wagtail_lti.models import LtiProvider, Organization

    out = StringIO()
    call_command("load_demo_data", "--url", BASE + "/", stdout=out)
    text = out.getvalue()
    assert f"Demo tool: {BASE}/demo-tool/" in text
    assert f"Add from a tool ({BASE}/admin/lti/select-content/)" in text
    assert f"Register a tool by URL ({BASE}/admin/lti/register-tool/)" in text
    assert f"registration URL {BASE}/demo-tool/register/" in text

    client = browser()
    assert client.login(username="editor", password="editor")
    engineering = Organization.objects.get(name="Engineering")
    for version, url in (
        ("1.1", BASE + "/demo-tool/1.1/content-item/"),
        ("1.3", BASE + "/demo-tool/1.3/login/"),
    ):
        provider = LtiProvider.objects.get(lti_version=version)
        response = client.post(
            reverse("wagtail_lti_select_content"),
            {"provider": provider.pk, "organization": engineering.pk},
        )
        assert response.status_code == 200, response.content.decode()
        assert the_form(response)["action"] == url
    assert client.get(reverse("wagtail_lti_register_tool")).status_code == 200
