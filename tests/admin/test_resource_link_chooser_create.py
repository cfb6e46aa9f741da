""" "Create new" inside the resource link chooser (the course page's activity block): Wagtail's
chooser creation tab with ``forms.LtiResourceLinkCreationForm`` (the link form's checks, scoped to
the editor), saved with its first revision and history entry."""

from __future__ import annotations

import json

import pytest
from wagtail.models import ModelLogEntry

from tests.support.admin import chooser_url
from tests.support.factories import make_link, make_provider
from wagtail_lti.admin.history import LtiLogEntry
from wagtail_lti.models import LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(orgs, make_editor):
    return make_editor("alice", orgs["engineering"])


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def providers(orgs):
    return {
        "eng": make_provider(orgs["engineering"], name="Engineering tool"),
        "private": make_provider(orgs["partner"], name="Partner's private tool"),
    }


def creation_data(orgs, provider, **overrides):
    data = {
        "name": "Fire quiz",
        "organization": orgs["engineering"].pk,
        "provider": provider.pk,
        "url": "https://tool.example.com/fire",
        "description": "",
        "score_maximum": "",
        "open_in": "embed",
    }
    data.update(overrides)
    return data


def modal(response) -> dict:
    assert response.status_code == 200
    return json.loads(response.content)


def test_chooser_offers_a_create_new_tab_scoped_to_the_editor(client_alice, orgs, providers):
    query = f"organization={orgs['platform'].pk}"
    html = modal(client_alice.get(chooser_url(LtiResourceLink, query=query)))["html"]
    assert "Create new" in html and "Create and choose" in html
    assert "Engineering tool (LTI 1.1)" in html
    assert "Partner's private tool" not in html
    # The course page's organization is the form's first choice.
    assert f'<option value="{orgs["platform"].pk}" selected>' in html


def test_an_organization_the_editor_does_not_manage_is_not_offered_first(client_alice, orgs):
    html = modal(
        client_alice.get(chooser_url(LtiResourceLink, query=f"organization={orgs['sales'].pk}"))
    )["html"]
    assert f'value="{orgs["sales"].pk}"' not in html
    assert f'<option value="{orgs["engineering"].pk}" selected>' in html


def test_create_new_saves_the_link_and_chooses_it(client_alice, orgs, providers, alice):
    create = chooser_url(LtiResourceLink, "create", query=f"organization={orgs['engineering'].pk}")
    answer = modal(client_alice.post(create, creation_data(orgs, providers["eng"])))

    link = LtiResourceLink.objects.get()
    assert answer["step"] == "chosen" and answer["result"]["id"] == str(link.pk)
    assert (link.name, link.provider, link.organization) == (
        "Fire quiz",
        providers["eng"],
        orgs["engineering"],
    )
    assert link.score_maximum == 100  # optional without a required score
    assert link.revisions.count() == 1
    entries = LtiLogEntry.objects.filter(object_id=str(link.pk), action="wagtail.create")
    assert (
        entries.count()
        + ModelLogEntry.objects.filter(object_id=str(link.pk), action="wagtail.create").count()
        == 1
    )
    assert entries.get().user == alice


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"name": ""}, "name"),
        ({"requires_score": "on", "score_maximum": ""}, "score_maximum"),
    ],
)
def test_bad_input_reshows_the_form_and_saves_nothing(
    client_alice, orgs, providers, overrides, field
):
    answer = modal(
        client_alice.post(
            chooser_url(LtiResourceLink, "create"),
            creation_data(orgs, providers["eng"], **overrides),
        )
    )
    assert answer["step"] == "reshow_creation_form"
    assert "error" in answer["htmlFragment"]
    assert not LtiResourceLink.objects.exists()


def test_a_provider_or_organization_outside_is_refused(client_alice, orgs, providers):
    for data in (
        creation_data(orgs, providers["private"]),
        creation_data(orgs, providers["eng"], organization=orgs["sales"].pk),
    ):
        answer = modal(client_alice.post(chooser_url(LtiResourceLink, "create"), data))
        assert answer["step"] == "reshow_creation_form"
        assert "Partner's private tool" not in answer["htmlFragment"]
    assert not LtiResourceLink.objects.exists()


def test_people_who_may_not_add_links_get_no_creation(client, orgs, providers, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("val", password="x", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_ltiresourcelink"),
    )
    make_link(providers["eng"])
    client.force_login(viewer)
    response = client.post(
        chooser_url(LtiResourceLink, "create"), creation_data(orgs, providers["eng"])
    )
    assert response.status_code in (302, 403)
    assert LtiResourceLink.objects.count() == 1
