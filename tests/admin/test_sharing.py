"""Sharing for editors: the Availability tab (issue 13.3).

The rule is ``wagtail_lti.scoping.shareable_organizations`` (who may share with whom); the door is
the provider and resource link forms (``wagtail_lti.forms.OrganizationOwnedForm``).
"""

from __future__ import annotations

import re

import pytest

from tests.support.admin import field_errors, link_post, provider_post, text, url
from tests.support.factories import make_link, make_provider
from wagtail_lti import scoping
from wagtail_lti.models import LtiProvider, LtiResourceLink


pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(orgs, make_editor):
    """Manages the Platform team only: a leaf of Acme's tree."""
    return make_editor("pat", orgs["platform"])


@pytest.fixture
def client_pat(client, pat):
    client.force_login(pat)
    return client


def test_rule_shareable_is_managed_and_same_top_level(orgs, pat, superuser, make_editor):
    assert set(scoping.shareable_organizations(pat)) == {
        orgs["acme"],
        orgs["engineering"],
        orgs["platform"],
        orgs["sales"],
    }
    partner_editor = make_editor("pia", orgs["partner"])
    assert set(scoping.shareable_organizations(partner_editor)) == {orgs["partner"]}
    assert scoping.shareable_organizations(superuser).count() == 5
    from django.contrib.auth.models import AnonymousUser

    assert not scoping.shareable_organizations(AnonymousUser()).exists()


def test_leaf_editor_is_offered_more_than_the_owner(client_pat, orgs):
    response = client_pat.get(url(LtiProvider, "add"))
    form = response.context["form"]
    offered = set(form.fields["available_to"].queryset)
    assert offered - {orgs["platform"]}  # not only the owning organization
    assert orgs["partner"] not in offered
    html = response.content.decode()
    assert "data-lti-org-tree" in html and "Find organizations" in html
    assert "Partner Co" not in text(response)


def test_leaf_editor_shares_with_sales_and_sales_may_only_use(
    client, client_pat, orgs, make_editor
):
    response = client_pat.post(
        url(LtiProvider, "add"),
        provider_post(
            orgs["platform"], name="Team tool", secret="s3cret", available_to=[orgs["sales"]]
        ),
    )
    assert response.status_code == 302
    tool = LtiProvider.objects.get(name="Team tool")
    assert set(tool.available_to.all()) == {orgs["sales"]}
    sam = make_editor("sam", orgs["sales"])
    assert scoping.may_use(sam, tool) and not scoping.may_edit(sam, tool)
    client.force_login(sam)
    assert client.get(url(LtiProvider, "edit", tool.pk)).status_code == 404
    assert client.get(url(LtiProvider, "inspect", tool.pk)).status_code == 200
    listed = client.get(url(LtiProvider, "list", query="ownership=shared"))
    assert [r.name for r in listed.context["object_list"]] == ["Team tool"]


def test_sharing_outside_the_top_level_is_refused_and_nothing_saved(client_pat, orgs):
    response = client_pat.post(
        url(LtiProvider, "add"),
        provider_post(orgs["platform"], name="Team tool", available_to=[orgs["partner"]]),
    )
    assert response.status_code == 200
    assert field_errors(response, "available_to")
    assert not LtiProvider.objects.filter(name="Team tool").exists()


def test_unknown_organization_id_is_a_form_error(client_pat, orgs):
    data = provider_post(orgs["platform"], name="Team tool")
    data["available_to"] = ["999999"]
    response = client_pat.post(url(LtiProvider, "add"), data)
    assert response.status_code == 200
    assert field_errors(response, "available_to")


def test_partner_sharing_set_by_superuser_is_kept(client_pat, orgs):
    tool = make_provider(orgs["platform"], name="Team tool", available_to=[orgs["partner"]])
    response = client_pat.get(url(LtiProvider, "edit", tool.pk))
    assert "Partner Co" in text(response)  # named as kept on the owner's own record
    response = client_pat.post(
        url(LtiProvider, "edit", tool.pk),
        provider_post(
            orgs["platform"], name="Team tool", secret="s3cret", available_to=[orgs["sales"]]
        ),
    )
    assert response.status_code == 302
    assert set(tool.available_to.all()) == {orgs["partner"], orgs["sales"]}


def test_link_shared_where_its_provider_is_not_usable_is_refused(client_pat, orgs):
    tool = make_provider(orgs["platform"], name="Team tool")
    response = client_pat.post(
        url(LtiResourceLink, "add"),
        link_post(orgs["platform"], tool, name="Team quiz", available_to=[orgs["sales"]]),
    )
    assert response.status_code == 200
    assert "cannot use the provider" in " ".join(field_errors(response, "available_to"))
    assert not LtiResourceLink.objects.filter(name="Team quiz").exists()
    tool.available_to.add(orgs["sales"])
    tool.save()  # a ParentalManyToManyField: saved with the record
    response = client_pat.post(
        url(LtiResourceLink, "add"),
        link_post(orgs["platform"], tool, name="Team quiz", available_to=[orgs["sales"]]),
    )
    assert response.status_code == 302, response.context["form"].errors
    link = LtiResourceLink.objects.get(name="Team quiz")
    assert set(link.available_to.all()) == {orgs["sales"]}


def test_listing_names_the_organizations_shared_with(client_pat, orgs):
    tool = make_provider(orgs["platform"], name="Team tool", available_to=[orgs["sales"]])
    make_link(tool, name="Team quiz", available_to=[orgs["sales"], orgs["engineering"]])
    page = text(client_pat.get(url(LtiResourceLink, "list")))
    assert "Engineering, Sales" in page


def test_tree_is_indented_by_css_and_labels_are_plain_names(client_pat, orgs):
    html = client_pat.get(url(LtiProvider, "add")).content.decode()
    assert "lti-org-tree__depth-0" in html  # Acme, the top
    assert "lti-org-tree__depth-2" in html  # the Platform team, two levels below
    assert "\u2014 Sales" not in html
    assert re.search(r">\s*Sales</label>", html)
