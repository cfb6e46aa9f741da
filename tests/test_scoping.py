"""The availability rule and "organizations a user manages" (wagtail_lti.scoping)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_lti import scoping
from wagtail_lti.models import LtiProvider, OrganizationMembership


pytestmark = pytest.mark.django_db


def test_managing_an_organization_means_managing_its_subtree(orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    managed = set(scoping.managed_organizations(alice))
    assert managed == {orgs["engineering"], orgs["platform"]}
    assert scoping.user_manages(alice, orgs["platform"])
    assert not scoping.user_manages(alice, orgs["acme"])
    assert not scoping.user_manages(alice, orgs["sales"])


def test_members_manage_nothing(orgs, make_editor):
    bob = make_editor("bob")
    OrganizationMembership.objects.create(user=bob, organization=orgs["acme"])
    assert list(scoping.managed_organizations(bob)) == []


def test_superuser_manages_all(orgs, superuser):
    assert scoping.managed_organizations(superuser).count() == 5


def test_managed_organizations_is_one_query_whatever_the_tree(orgs, make_editor):
    carol = make_editor("carol", orgs["acme"], orgs["partner"], orgs["platform"])
    with CaptureQueriesContext(connection) as ctx:
        names = sorted(o.name for o in scoping.managed_organizations(carol))
    assert names == ["Acme", "Engineering", "Partner Co", "Platform team", "Sales"]
    assert len(ctx.captured_queries) == 2  # memberships, then organizations


def test_availability_rule(orgs):
    """Owner, organizations on the Availability tab, and their sub-organizations may use a record."""
    provider = LtiProvider.objects.create(name="Tool", organization=orgs["sales"])
    provider.available_to.add(orgs["engineering"])
    provider.save()  # ParentalManyToManyField changes are written on save
    qs = LtiProvider.objects.all()
    assert scoping.is_usable_by(provider, orgs["sales"])  # owner
    assert scoping.is_usable_by(provider, orgs["engineering"])  # made available
    assert scoping.is_usable_by(
        provider, orgs["platform"]
    )  # sub-organization of one made available
    assert not scoping.is_usable_by(provider, orgs["acme"])  # parent of the owner
    assert not scoping.is_usable_by(provider, orgs["partner"])
    assert list(scoping.usable_by(qs, orgs["platform"])) == [provider]
