"""What an editor's organizations may use, listed read-only beside what they own (issue 13.2).

The rule is ``wagtail_lti.scoping`` (``listed_records``, ``may_use``, ``may_edit``,
``filter_ownership``, ``availability_shown``); the doors are the provider and resource link
listings, their filter, the inspect view and the edit and delete views.
"""

from __future__ import annotations

import pytest

from tests.support.admin import text, url
from tests.support.factories import make_link, make_provider
from wagtail_lti import scoping
from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def world(orgs):
    """Acme owns a tool and a link (shared with Sales); the Platform team owns its own link."""
    tool = make_provider(orgs["acme"], name="Acme quiz tool", available_to=[orgs["sales"]])
    parent_link = make_link(tool, name="Acme induction quiz", available_to=[orgs["sales"]])
    own_link = make_link(tool, name="Platform quiz", organization=orgs["platform"])
    hidden_tool = make_provider(orgs["partner"], name="Partner tool")
    return {"tool": tool, "parent_link": parent_link, "own_link": own_link, "hidden": hidden_tool}


@pytest.fixture
def pat(orgs, make_editor):
    """Manages the Platform team only (a child organization)."""
    return make_editor("pat", orgs["platform"])


@pytest.fixture
def client_pat(client, pat):
    client.force_login(pat)
    return client


# --- The rule -------------------------------------------------------------------------------------


def test_rule_may_use_and_may_edit(world, pat, superuser):
    assert scoping.may_use(pat, world["parent_link"])  # owned by a parent organization
    assert not scoping.may_edit(pat, world["parent_link"])
    assert scoping.may_use(pat, world["own_link"]) and scoping.may_edit(pat, world["own_link"])
    assert not scoping.may_use(pat, world["hidden"]) and not scoping.may_edit(pat, world["hidden"])
    assert scoping.may_edit(superuser, world["hidden"])


def test_rule_listed_records_marks_owned_and_shared(world, pat, superuser):
    rows = {r.name: r.is_owned for r in scoping.listed_records(LtiResourceLink.objects.all(), pat)}
    assert rows == {"Acme induction quiz": False, "Platform quiz": True}
    owned = scoping.filter_ownership(LtiResourceLink.objects.all(), pat, scoping.OWNED)
    shared = scoping.filter_ownership(LtiResourceLink.objects.all(), pat, scoping.SHARED)
    assert [r.name for r in owned] == ["Platform quiz"]
    assert [r.name for r in shared] == ["Acme induction quiz"]
    assert scoping.filter_ownership(LtiResourceLink.objects.all(), pat, "bogus").count() == 2
    # Nothing is merely shared with a superuser: they may edit everything.
    assert (
        scoping.filter_ownership(LtiProvider.objects.all(), superuser, scoping.SHARED).count() == 0
    )
    assert all(r.is_owned for r in scoping.listed_records(LtiProvider.objects.all(), superuser))


def test_rule_availability_names(world, orgs, pat, make_editor):
    acme_editor = make_editor("ann", orgs["acme"])
    assert scoping.availability_shown(world["parent_link"], acme_editor) == ([orgs["sales"]], 0)
    # Pat uses it but manages neither Sales: counted, not named.
    assert scoping.availability_shown(world["parent_link"], pat) == ([], 1)


# --- The doors ------------------------------------------------------------------------------------


def _names(client, model, query=""):
    response = client.get(url(model, "list", query=query))
    assert response.status_code == 200
    return sorted(str(r) for r in response.context["object_list"])


def test_child_editor_lists_parent_records_read_only(client_pat, world):
    assert _names(client_pat, LtiResourceLink) == ["Acme induction quiz", "Platform quiz"]
    assert _names(client_pat, LtiProvider) == ["Acme quiz tool"]
    response = client_pat.get(url(LtiResourceLink, "list"))
    html = response.content.decode()
    parent = world["parent_link"]
    own = world["own_link"]
    assert url(LtiResourceLink, "inspect", parent.pk) in html
    assert url(LtiResourceLink, "edit", parent.pk) not in html
    assert url(LtiResourceLink, "delete", parent.pk) not in html
    assert url(LtiResourceLink, "edit", own.pk) in html
    assert url(LtiResourceLink, "delete", own.pk) in html
    assert "Partner tool" not in text(client_pat.get(url(LtiProvider, "list")))


def test_listing_filter_owned_shared_all(client_pat, world):
    assert _names(client_pat, LtiResourceLink, "ownership=owned") == ["Platform quiz"]
    assert _names(client_pat, LtiResourceLink, "ownership=shared") == ["Acme induction quiz"]
    assert _names(client_pat, LtiResourceLink, "ownership=") == [
        "Acme induction quiz",
        "Platform quiz",
    ]
    assert _names(client_pat, LtiProvider, "ownership=owned") == []
    page = text(client_pat.get(url(LtiProvider, "list")))
    for label in ("Owned by us", "Shared with us"):
        assert label in page
    # A bad value is an invalid filter, not an error.
    assert client_pat.get(url(LtiProvider, "list", query="ownership=x")).status_code == 200


def test_inspect_view_is_read_only_and_shows_no_secret(client_pat, world):
    tool = world["tool"]
    response = client_pat.get(url(LtiProvider, "inspect", tool.pk))
    assert response.status_code == 200
    page = text(response)
    assert "Acme quiz tool" in page and "Acme" in page
    assert tool.consumer_key not in page
    assert "tool secret" not in page
    html = response.content.decode()
    assert url(LtiProvider, "edit", tool.pk) not in html
    assert url(LtiProvider, "delete", tool.pk) not in html
    response = client_pat.get(url(LtiResourceLink, "inspect", world["parent_link"].pk))
    assert response.status_code == 200
    assert "https://tool.example.com/launch?item=1" in text(response)


def test_shared_records_cannot_be_edited_or_deleted(client_pat, world):
    parent = world["parent_link"]
    for name in ("edit", "delete"):
        assert client_pat.get(url(LtiResourceLink, name, parent.pk)).status_code == 404
    response = client_pat.post(url(LtiResourceLink, "delete", parent.pk))
    assert response.status_code == 404
    assert LtiResourceLink.objects.filter(pk=parent.pk).exists()


def test_inspect_refuses_records_not_usable(client_pat, world):
    assert client_pat.get(url(LtiProvider, "inspect", world["hidden"].pk)).status_code == 404
    assert client_pat.get(url(LtiProvider, "inspect", 999999)).status_code == 404


def test_listing_shows_availability_names(client, world, orgs, make_editor):
    client.force_login(make_editor("ann", orgs["acme"]))
    response = client.get(url(LtiResourceLink, "list"))
    assert "Available to (organizations)" in text(response)
    assert "Sales" in text(response)


def test_owner_inspect_offers_edit(client, world, orgs, make_editor):
    client.force_login(make_editor("ann", orgs["acme"]))
    tool = world["tool"]
    response = client.get(url(LtiProvider, "inspect", tool.pk))
    assert response.status_code == 200
    assert url(LtiProvider, "edit", tool.pk) in response.content.decode()


def test_export_of_shared_providers_leaves_out_their_keys(client_pat, world, orgs):
    import csv
    import io

    make_provider(orgs["platform"], name="Team tool", key="team-key")
    response = client_pat.get(url(LtiProvider, "list", query="export=csv"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = {r["Name"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows["Team tool"]["LTI key"] == "team-key"
    assert rows["Acme quiz tool"]["LTI key"] == ""
    assert "Partner tool" not in rows
