"""Organization tree and membership admin: create under a parent, rename, move; scoped."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.support.admin import text
from tests.support.factories import make_provider
from wagtail_lti import scoping
from wagtail_lti.models import Organization, OrganizationMembership


pytestmark = pytest.mark.django_db


def org_url(name, *args):
    return reverse(f"wagtail_lti_organizations:{name}", args=args)


def membership_url(name, *args):
    return reverse(f"wagtail_lti_memberships:{name}", args=args)


@pytest.fixture
def alice(orgs, make_editor):
    """Manages Engineering (and the Platform team)."""
    return make_editor("alice", orgs["engineering"])


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def _listing_names(response) -> list[str]:
    assert response.status_code == 200
    cells = re.findall(
        r'<td class="title">.*?<a [^>]*>\s*(.*?)\s*</a>', response.content.decode(), re.S
    )
    return [unescape(c) for c in cells]


def test_listing_is_the_managed_subtree_indented(client_alice, orgs):
    orgs["platform"].add_child(name="Infra")
    assert _listing_names(client_alice.get(org_url("index"))) == [
        "Engineering",
        "— Platform team",
        "— — Infra",
    ]


def test_superuser_listing_is_the_whole_tree(client, superuser, orgs):
    client.force_login(superuser)
    assert _listing_names(client.get(org_url("index"))) == [
        "Acme",
        "— Engineering",
        "— — Platform team",
        "— Sales",
        "Partner Co",
    ]


def test_create_under_a_managed_parent(client_alice, orgs, alice):
    response = client_alice.get(org_url("add"))
    assert response.context["form"].initial["parent"] == orgs["engineering"].pk
    response = client_alice.post(
        org_url("add"), {"name": "Data team", "parent": orgs["engineering"].pk}
    )
    assert response.status_code == 302
    data = Organization.objects.get(name="Data team")
    assert data.get_parent() == orgs["engineering"]
    assert data.depth == 3
    # Managing Engineering means managing its new sub-organization too.
    assert data in scoping.managed_organizations(alice)


def test_editor_cannot_create_outside_or_at_the_top(client_alice, orgs):
    response = client_alice.post(org_url("add"), {"name": "Rogue", "parent": orgs["sales"].pk})
    assert response.status_code == 200
    assert response.context["form"].errors["parent"]
    response = client_alice.post(org_url("add"), {"name": "Rogue", "parent": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == ["This field is required."]
    assert not Organization.objects.filter(name="Rogue").exists()


def test_superuser_creates_a_top_level_organization(client, superuser):
    client.force_login(superuser)
    response = client.post(org_url("add"), {"name": "Beta Corp", "parent": ""})
    assert response.status_code == 302
    assert Organization.objects.get(name="Beta Corp").is_root()


def test_rename_and_move(client_alice, orgs):
    infra = orgs["platform"].add_child(name="Infra")
    response = client_alice.post(
        org_url("edit", infra.pk), {"name": "Infrastructure", "parent": orgs["engineering"].pk}
    )
    assert response.status_code == 302
    infra.refresh_from_db()
    assert infra.name == "Infrastructure"
    assert infra.get_parent() == orgs["engineering"]


def test_cannot_move_under_itself_or_outside(client_alice, orgs):
    infra = orgs["platform"].add_child(name="Infra")
    response = client_alice.post(
        org_url("edit", orgs["platform"].pk), {"name": "Platform team", "parent": infra.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["parent"]
    response = client_alice.post(
        org_url("edit", orgs["platform"].pk), {"name": "Platform team", "parent": orgs["sales"].pk}
    )
    assert response.status_code == 200
    orgs["platform"].refresh_from_db()
    assert orgs["platform"].get_parent() == orgs["engineering"]


def test_top_of_own_subtree_can_be_renamed_not_moved(client_alice, orgs):
    response = client_alice.get(org_url("edit", orgs["engineering"].pk))
    assert "parent" not in response.context["form"].fields
    response = client_alice.post(
        org_url("edit", orgs["engineering"].pk), {"name": "R&D", "parent": orgs["sales"].pk}
    )
    assert response.status_code == 302
    orgs["engineering"].refresh_from_db()
    assert orgs["engineering"].name == "R&D"
    assert orgs["engineering"].get_parent() == orgs["acme"]


def test_other_organizations_are_not_reachable(client_alice, orgs):
    for view in ("edit", "delete", "history"):
        assert client_alice.get(org_url(view, orgs["sales"].pk)).status_code == 404
    assert client_alice.post(org_url("edit", orgs["sales"].pk), {"name": "x"}).status_code == 404
    assert client_alice.post(org_url("delete", orgs["sales"].pk)).status_code == 404
    orgs["sales"].refresh_from_db()
    assert orgs["sales"].name == "Sales"


def test_delete_refused_while_in_use(client_alice, orgs):
    # Engineering is Alice's own top organization: only a manager of Acme may delete it.
    response = client_alice.post(org_url("delete", orgs["engineering"].pk))
    assert response.status_code == 302
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert messages == [
        "“Engineering” can only be deleted by a manager of the organization above it."
    ]
    make_provider(orgs["platform"], name="Platform tool")
    response = client_alice.post(org_url("delete", orgs["platform"].pk))
    assert response.status_code == 200
    assert "LTI provider “Platform tool”" in text(response)
    orgs["platform"].add_child(name="Infra")
    response = client_alice.post(org_url("delete", orgs["platform"].pk))
    assert response.status_code == 200
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert "sub-organization “Infra”" in messages[-1]
    assert Organization.objects.filter(pk=orgs["platform"].pk).exists()
    assert Organization.objects.filter(pk=orgs["engineering"].pk).exists()


def test_delete_an_unused_leaf(client_alice, orgs):
    infra = orgs["platform"].add_child(name="Infra")
    assert client_alice.post(org_url("delete", infra.pk)).status_code == 302
    assert not Organization.objects.filter(name="Infra").exists()


# --- The Organization chooser ---------------------------------------------------------------------


def test_organization_chooser_offers_managed_organizations(client_alice, orgs):
    response = client_alice.get(reverse("wagtail_lti_organization_chooser:choose"))
    html = json.loads(response.content)["html"]
    choices = [
        unescape(c)
        for c in re.findall(r"<a data-chooser-modal-choice[^>]*>\s*(.*?)\s*</a>", html, re.S)
    ]
    assert choices == ["Engineering", "— Platform team"]
    response = client_alice.get(
        reverse("wagtail_lti_organization_chooser:choose_results") + "?q=plat"
    )
    assert (
        "Platform team" in response.content.decode()
        and "Engineering" not in response.content.decode()
    )
    chosen = reverse("wagtail_lti_organization_chooser:chosen", args=(orgs["sales"].pk,))
    assert client_alice.get(chosen).status_code == 404


# --- Memberships ----------------------------------------------------------------------------------


def test_memberships_are_managed_within_managed_organizations(
    client_alice, orgs, make_editor, alice
):
    bob = make_editor("bob")
    response = client_alice.post(
        membership_url("add"),
        {"organization": orgs["platform"].pk, "user": bob.pk, "role": "manager"},
    )
    assert response.status_code == 302
    membership = OrganizationMembership.objects.get(user=bob)
    assert membership.role == "manager" and membership.organization == orgs["platform"]

    # Not in an organization Alice does not manage.
    response = client_alice.post(
        membership_url("add"), {"organization": orgs["sales"].pk, "user": bob.pk, "role": "manager"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["organization"] == ["Choose an organization you manage."]
    assert not OrganizationMembership.objects.filter(organization=orgs["sales"]).exists()

    # The listing and the edit/delete doors are scoped too.
    carol = make_editor("carol", orgs["sales"])
    other = OrganizationMembership.objects.get(user=carol)
    html = client_alice.get(membership_url("index")).content.decode()
    assert "bob" in html and "carol" not in html
    assert client_alice.get(membership_url("edit", other.pk)).status_code == 404
    assert client_alice.post(membership_url("delete", other.pk)).status_code == 404
    assert OrganizationMembership.objects.filter(pk=other.pk).exists()
    response = client_alice.post(
        membership_url("edit", membership.pk),
        {"organization": orgs["platform"].pk, "user": bob.pk, "role": "member"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "member"


def test_duplicate_membership_is_refused(client_alice, orgs, alice):
    response = client_alice.post(
        membership_url("add"),
        {"organization": orgs["engineering"].pk, "user": alice.pk, "role": "member"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert OrganizationMembership.objects.filter(user=alice).count() == 1
