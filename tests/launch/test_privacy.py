"""One privacy rule: what a tool learns about a person (``wagtail_lti.launch.privacy.launch_user``).

The rule is pinned on its own (a table of the provider's two options), then each door that tells a
tool about a person is checked against the same table, read by what a tool runs:

* a learner's LTI 1.1 launch: the ``lti`` package's ``ToolProvider`` and oauthlib verify the form;
* a learner's LTI 1.3 launch: PyLTI1p3 validates the id_token;
* the NRPS roster: PyLTI1p3's ``get_nrps().get_members()`` after that launch;
* an editor's Deep Linking request: PyLTI1p3 validates the ``LtiDeepLinkingRequest``;
* an editor's Content-Item request: oauthlib verifies the ``ContentItemSelectionRequest``.

Each door gives exactly the rule's answer: the name (full, given, family), the username (through
``$User.username``) and the email (also through ``$Person.email.primary``), or nothing of them.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.content_selection import test_content_item as content_item
from tests.content_selection import test_deep_linking as deep_linking
from tests.launch import test_lti11_launch as lti11
from tests.launch.test_lti13_launch import full_launch, tool_keys, world  # noqa: F401 - fixtures
from tests.support.factories import (
    enroll,
    make_course,
    make_learner,
    make_link,
    make_provider,
    placements_of,
)
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.launch.privacy import launch_user
from wagtail_lti.lti.lti13 import LTI_CLAIM
from wagtail_lti.models import LtiProvider
from wagtail_lti.security.identifiers import opaque_user_id


pytestmark = pytest.mark.django_db

FIELDS = ("name", "given_name", "family_name", "username", "email")
#: Custom parameters that reveal the same fields through substitution.
SUBSTITUTIONS = "custom_login=$User.username\ncustom_mail=$Person.email.primary"

# (send_name, send_email) -> the fields a tool receives.
TABLE = [
    pytest.param(False, False, set(), id="nothing"),
    pytest.param(True, False, {"name", "given_name", "family_name", "username"}, id="name"),
    pytest.param(False, True, {"email"}, id="email"),
    pytest.param(True, True, set(FIELDS), id="name-and-email"),
]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person_of(user) -> dict[str, str]:
    """Everything there is to know about ``user``, under the names of :data:`FIELDS`."""
    return {
        "name": user.get_full_name(),
        "given_name": user.first_name,
        "family_name": user.last_name,
        "username": user.get_username(),
        "email": user.email,
    }


def expected(user, sent: set[str]) -> dict[str, str]:
    return {field: value if field in sent else "" for field, value in person_of(user).items()}


def substituted(value: str | None, variable: str) -> str:
    """A custom parameter's value; an unsubstituted variable (privacy said no) counts as empty."""
    return "" if value in (None, variable) else value


def from_lti11(params: dict[str, str]) -> dict[str, str]:
    """The person in LTI 1.1 parameters (a launch or a Content-Item request)."""
    email = params.get("lis_person_contact_email_primary", "")
    assert substituted(params.get("custom_mail"), "$Person.email.primary") == email
    return {
        "name": params.get("lis_person_name_full", ""),
        "given_name": params.get("lis_person_name_given", ""),
        "family_name": params.get("lis_person_name_family", ""),
        "username": substituted(params.get("custom_login"), "$User.username"),
        "email": email,
    }


def from_lti13(claims: dict) -> dict[str, str]:
    """The person in LTI 1.3 claims (a resource link launch or a deep linking request)."""
    custom = claims.get(LTI_CLAIM + "custom", {})
    email = claims.get("email", "")
    assert substituted(custom.get("mail"), "$Person.email.primary") == email
    return {
        "name": claims.get("name", ""),
        "given_name": claims.get("given_name", ""),
        "family_name": claims.get("family_name", ""),
        "username": substituted(custom.get("login"), "$User.username"),
        "email": email,
    }


# --- The rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("send_name", "send_email", "sent"), TABLE)
def test_the_rule(send_name, send_email, sent):
    user = make_learner("lee", first_name="Lee", last_name="Learner ", email=" lee@example.com ")
    provider = LtiProvider(send_name=send_name, send_email=send_email)
    person = launch_user(provider, user)
    assert person.id == opaque_user_id(user)  # always
    got = {
        "name": person.full_name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "username": person.username,
        "email": person.email,
    }
    want = {
        "name": "Lee Learner",
        "given_name": "Lee",
        "family_name": "Learner",
        "username": "lee",
        "email": "lee@example.com",
    }
    assert got == {field: value if field in sent else "" for field, value in want.items()}


def test_only_a_true_option_lets_data_through():
    """An option that is not exactly ``True`` (a stray value set in code) sends nothing."""
    user = make_learner("lee")
    person = launch_user(LtiProvider(send_name="False", send_email=1), user)
    assert (person.full_name, person.username, person.email) == ("", "", "")


# --- The doors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("send_name", "send_email", "sent"), TABLE)
def test_lti11_launch(client, orgs, send_name, send_email, sent):
    provider = make_provider(
        orgs["acme"],
        send_name=send_name,
        send_email=send_email,
        custom_parameters=SUBSTITUTIONS,
    )
    page = make_course(orgs["engineering"], [make_link(provider)])
    learner = make_learner("lee")
    enroll(learner, page)
    (placement,) = placements_of(page)
    params = lti11.verified_params(lti11.launched_form(client, learner, placement))
    assert from_lti11(params) == expected(learner, sent)


def _set_privacy(launch_world, send_name, send_email, **fields):
    provider = launch_world.provider
    provider.send_name, provider.send_email = send_name, send_email
    provider.custom_parameters = SUBSTITUTIONS
    for name, value in fields.items():
        setattr(provider, name, value)
    provider.save()


@pytest.mark.parametrize(("send_name", "send_email", "sent"), TABLE)
def test_lti13_launch_and_nrps_roster(world, send_name, send_email, sent):  # noqa: F811
    _set_privacy(world, send_name, send_email, allow_nrps=True)
    session = routed_session("http://testserver")
    _init, _form, message_launch = full_launch(world, session=session)
    claims = message_launch.get_launch_data()
    assert from_lti13(claims) == expected(world.learner, sent)

    members = message_launch.get_nrps().get_members()
    (member,) = [m for m in members if m["user_id"] == claims["sub"]]
    got = {
        "name": member.get("name", ""),
        "given_name": member.get("given_name", ""),
        "family_name": member.get("family_name", ""),
        "email": member.get("email", ""),
    }
    want = expected(world.learner, sent)
    del want["username"]  # NRPS has no username field
    assert got == want


@pytest.mark.parametrize(("send_name", "send_email", "sent"), TABLE)
def test_deep_linking_request(orgs, make_editor, tool_keys, settings, send_name, send_email, sent):  # noqa: F811
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    provider = deep_linking.make_13_provider(
        orgs["acme"],
        tool_keys[1],
        send_name=send_name,
        send_email=send_email,
        custom_parameters=SUBSTITUTIONS,
    )
    editor = make_editor("alice", orgs["acme"])
    client = Client()
    client.force_login(editor)
    dl_world = deep_linking.World(
        client=client,
        orgs=orgs,
        provider=provider,
        editor=editor,
        tool_private=tool_keys[0],
        tool_public=tool_keys[1],
    )
    launched = deep_linking.deep_linking_launch(dl_world)
    claims = launched.message_launch.get_launch_data()
    assert from_lti13(claims) == expected(editor, sent)


@pytest.mark.parametrize(("send_name", "send_email", "sent"), TABLE)
def test_content_item_request(orgs, make_editor, send_name, send_email, sent):
    provider = LtiProvider(
        name="Library tool",
        organization=orgs["acme"],
        lti_version="1.1",
        consumer_key=content_item.KEY,
        content_selection_url=content_item.SELECT_URL,
        custom_parameters=SUBSTITUTIONS,
        send_name=send_name,
        send_email=send_email,
    )
    provider.secret = content_item.SECRET
    provider.save()
    editor = make_editor("alice", orgs["acme"])
    client = Client()
    client.force_login(editor)
    fields = content_item.start({"provider": provider, "orgs": orgs, "client": client})
    assert content_item.tool_verifies(fields)
    assert from_lti11(fields) == expected(editor, sent)
