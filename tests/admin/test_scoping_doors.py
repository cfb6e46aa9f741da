"""Organization scoping at every door of the provider and resource link admin.

Alice manages Engineering; Pat manages Partner Co. Each test takes one door and checks that Pat's
record is invisible to Alice there (404, as if it did not exist, and nothing changed) while her
own record goes through the same door normally.
"""

from __future__ import annotations

import json

import pytest
from django.urls import NoReverseMatch, reverse

from tests.support.admin import chooser_url, link_post, provider_post, url
from tests.support.factories import make_link, make_provider
from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(orgs, make_editor):
    return make_editor("alice", orgs["engineering"])


@pytest.fixture
def pat(orgs, make_editor):
    return make_editor("pat", orgs["partner"])


@pytest.fixture
def records(orgs):
    mine_provider = make_provider(orgs["engineering"], name="Alice tool")
    theirs_provider = make_provider(orgs["partner"], name="Pat tool")
    return {
        LtiProvider: (mine_provider, theirs_provider),
        LtiResourceLink: (
            make_link(mine_provider, organization=orgs["engineering"], name="Alice link"),
            make_link(theirs_provider, organization=orgs["partner"], name="Pat link"),
        ),
    }


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


MODELS = pytest.mark.parametrize("model", [LtiProvider, LtiResourceLink], ids=["provider", "link"])


def _edit_post(model, record, orgs, **overrides):
    overrides.setdefault("name", record.name)
    if model is LtiProvider:
        return provider_post(record.organization, **overrides)
    return link_post(record.organization, record.provider, **overrides)


@MODELS
def test_listing(client_alice, records, model):
    mine, theirs = records[model]
    for view in ("list", "list_results"):
        response = client_alice.get(url(model, view))
        assert response.status_code == 200
        html = response.content.decode()
        assert mine.name in html and theirs.name not in html
    export = client_alice.get(url(model, "list", query="export=csv"))
    body = b"".join(export.streaming_content).decode()
    assert mine.name in body and theirs.name not in body


@MODELS
def test_listing_for_the_other_editor(client, pat, records, model):
    mine, theirs = records[model]
    client.force_login(pat)
    html = client.get(url(model, "list")).content.decode()
    assert theirs.name in html and mine.name not in html


@MODELS
def test_superuser_sees_everything(client, superuser, records, model):
    client.force_login(superuser)
    html = client.get(url(model, "list")).content.decode()
    assert all(r.name in html for r in records[model])


@MODELS
def test_edit_view(client_alice, records, model, orgs):
    mine, theirs = records[model]
    assert client_alice.get(url(model, "edit", mine.pk)).status_code == 200
    assert client_alice.get(url(model, "edit", theirs.pk)).status_code == 404
    response = client_alice.post(
        url(model, "edit", theirs.pk), _edit_post(model, theirs, orgs, name="Hijacked")
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name.startswith("Pat")


@MODELS
def test_delete_view(client_alice, records, model):
    mine, theirs = records[model]
    assert client_alice.get(url(model, "delete", theirs.pk)).status_code == 404
    assert client_alice.post(url(model, "delete", theirs.pk)).status_code == 404
    assert model.objects.filter(pk=theirs.pk).exists()
    if model is LtiResourceLink:  # unused: Alice may delete her own
        assert client_alice.post(url(model, "delete", mine.pk)).status_code == 302
        assert not model.objects.filter(pk=mine.pk).exists()


@MODELS
def test_history_views(client_alice, records, model):
    mine, theirs = records[model]
    for view in ("history", "history_results"):
        assert client_alice.get(url(model, view, mine.pk)).status_code == 200
        assert client_alice.get(url(model, view, theirs.pk)).status_code == 404


@MODELS
def test_usage_view(client_alice, records, model):
    mine, theirs = records[model]
    assert client_alice.get(url(model, "usage", mine.pk)).status_code == 200
    assert client_alice.get(url(model, "usage", theirs.pk)).status_code == 404


@MODELS
def test_revision_views(client_alice, records, model, pat, orgs):
    mine, theirs = records[model]
    revision = theirs.save_revision(user=pat)
    compare = url(model, "revisions_compare", theirs.pk, "earliest", "latest")
    assert client_alice.get(compare).status_code == 404
    revert = url(model, "revisions_revert", theirs.pk, revision.pk)
    assert client_alice.get(revert).status_code == 404
    assert (
        client_alice.post(revert, _edit_post(model, theirs, orgs, name="Reverted")).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.name.startswith("Pat")
    own = mine.save_revision(user=None)
    assert client_alice.get(url(model, "revisions_revert", mine.pk, own.pk)).status_code == 200


@MODELS
def test_copy_is_not_offered(model):
    # The inspect view is offered: the read-only page of a record shared with the user's
    # organizations (tests/admin/test_shared_listings.py).
    with pytest.raises(NoReverseMatch):
        url(model, "copy", 1)


@MODELS
def test_chooser_and_chooser_results(client_alice, records, model):
    mine, theirs = records[model]
    for view in ("choose", "choose_results"):
        response = client_alice.get(chooser_url(model, view))
        assert response.status_code == 200
        body = response.content.decode()
        html = json.loads(body)["html"] if view == "choose" else body
        assert mine.name in html and theirs.name not in html
    assert client_alice.get(chooser_url(model, "chosen", theirs.pk)).status_code == 404
    response = client_alice.get(chooser_url(model, "chosen_multiple", query=f"id={theirs.pk}"))
    assert json.loads(response.content)["result"] == []


@MODELS
def test_bulk_delete(client_alice, records, model):
    mine, theirs = records[model]
    path = reverse(
        "wagtail_bulk_action",
        args=(model._meta.app_label, model._meta.model_name, "delete"),
    )
    response = client_alice.get(f"{path}?id={theirs.pk}")
    assert response.status_code == 404
    response = client_alice.post(f"{path}?id={theirs.pk}")
    assert response.status_code == 404
    # "all" means all of Alice's: the other record is not even listed.
    response = client_alice.get(f"{path}?id=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert theirs.name not in html
    assert model.objects.filter(pk=theirs.pk).exists()
    if model is LtiResourceLink:
        response = client_alice.post(f"{path}?id={mine.pk}&id={theirs.pk}")
        assert response.status_code == 302
        assert not model.objects.filter(pk=mine.pk).exists()
        assert model.objects.filter(pk=theirs.pk).exists()


def test_editor_without_managed_organizations_sees_nothing(client, orgs, make_editor, records):
    from wagtail_lti.models import OrganizationMembership

    bob = make_editor("bob")
    OrganizationMembership.objects.create(user=bob, organization=orgs["engineering"])  # member only
    client.force_login(bob)
    for model in (LtiProvider, LtiResourceLink):
        html = client.get(url(model, "list")).content.decode()
        assert all(r.name not in html for r in records[model])
        response = client.post(
            url(model, "add"), {"name": "x", "organization": orgs["engineering"].pk}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["organization"]
