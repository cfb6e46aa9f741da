"""The resource link form's maximum score: required only when the link requires a score
(``forms.py: LtiResourceLinkForm``)."""

from __future__ import annotations

import pytest

from tests.support.admin import field_errors, link_post, text, url
from tests.support.factories import make_link, make_provider
from wagtail_lti.models import LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def client_alice(client, orgs, make_editor):
    client.force_login(make_editor("alice", orgs["engineering"]))
    return client


@pytest.fixture
def provider(orgs):
    return make_provider(orgs["engineering"], name="Engineering tool")


def test_empty_maximum_without_a_required_score_saves_the_default(client_alice, orgs, provider):
    response = client_alice.post(
        url(LtiResourceLink, "add"), link_post(orgs["engineering"], provider, score_maximum="")
    )
    assert response.status_code == 302, text(response)
    link = LtiResourceLink.objects.get()
    assert not link.requires_score and link.score_maximum == 100


def test_empty_maximum_on_edit_keeps_the_stored_one(client_alice, orgs, provider):
    link = make_link(provider, score_maximum=20)
    response = client_alice.post(
        url(LtiResourceLink, "edit", link.pk),
        link_post(orgs["engineering"], provider, score_maximum=""),
    )
    assert response.status_code == 302, text(response)
    link.refresh_from_db()
    assert link.score_maximum == 20


def test_a_required_score_needs_a_maximum(client_alice, orgs, provider):
    response = client_alice.post(
        url(LtiResourceLink, "add"),
        link_post(orgs["engineering"], provider, requires_score="on", score_maximum=""),
    )
    assert response.status_code == 200
    assert field_errors(response, "score_maximum") == [
        "Enter the maximum score: this resource requires a score for completion."
    ]
    assert not LtiResourceLink.objects.exists()


@pytest.mark.parametrize(("value", "error"), [("ten", "Enter a number."), ("-1", "greater")])
def test_a_bad_maximum_is_still_explained(client_alice, orgs, provider, value, error):
    response = client_alice.post(
        url(LtiResourceLink, "add"), link_post(orgs["engineering"], provider, score_maximum=value)
    )
    assert response.status_code == 200
    assert any(error in message for message in field_errors(response, "score_maximum"))
    assert not LtiResourceLink.objects.exists()


def test_the_form_marks_the_maximum_as_optional(client_alice):
    page = text(client_alice.get(url(LtiResourceLink, "add")))
    assert "Needed when this resource requires a score" in page
