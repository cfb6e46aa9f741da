"""Security review: deleting organizations, and the people membership and enrollment forms offer.

* Only a manager of an organization's parent (or a superuser) may delete it: a manager of X may
  not delete X itself when X is one of their top organizations (its other managers' memberships
  would go with it).
* Membership and enrollment forms offer active users who are not superusers.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.support.factories import make_course, make_learner
from wagtail_lti import scoping
from wagtail_lti.models import Organization, OrganizationMembership
from wagtail_lti.permissions import organization_policy


pytestmark = pytest.mark.django_db


def org_url(name, *args):
    return reverse(f"wagtail_lti_organizations:{name}", args=args)


@pytest.fixture
def people(make_editor, orgs):
    return {
        "alice": make_editor("alice", orgs["engineering"]),
        "erin": make_editor("erin", orgs["engineering"]),
        "ada": make_editor("ada", orgs["acme"]),
    }


def test_rule_only_a_manager_of_the_parent_deletes(people, orgs, superuser):
    alice, ada = people["alice"], people["ada"]
    assert not scoping.may_delete_organization(alice, orgs["engineering"])
    assert scoping.may_delete_organization(alice, orgs["platform"])
    assert not scoping.may_delete_organization(alice, orgs["sales"])
    assert scoping.may_delete_organization(ada, orgs["engineering"])
    assert not scoping.may_delete_organization(ada, orgs["acme"])
    assert scoping.may_delete_organization(superuser, orgs["acme"])
    # Wagtail's buttons ask the policy: no delete button on Alice's own top organization.
    assert not organization_policy.user_has_permission_for_instance(
        alice, "delete", orgs["engineering"]
    )
    assert organization_policy.user_has_permission_for_instance(
        alice, "change", orgs["engineering"]
    )
    assert organization_policy.user_has_permission_for_instance(alice, "delete", orgs["platform"])


def test_manager_cannot_delete_their_own_top_organization(client, people, orgs):
    team = orgs["engineering"].add_child(name="Tooling")  # an unused leaf under Alice's top
    alice = people["alice"]
    client.force_login(alice)
    response = client.post(org_url("delete", orgs["engineering"].pk))
    assert response.status_code == 302
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert messages == [
        "“Engineering” can only be deleted by a manager of the organization above it."
    ]
    assert Organization.objects.filter(pk=orgs["engineering"].pk).exists()
    assert OrganizationMembership.objects.filter(user=people["erin"]).exists()
    edit_page = client.get(org_url("edit", orgs["engineering"].pk)).content.decode()
    assert org_url("delete", orgs["engineering"].pk) not in edit_page
    # A sub-organization is hers to delete.
    assert client.post(org_url("delete", team.pk)).status_code == 302
    assert not Organization.objects.filter(pk=team.pk).exists()


def test_manager_of_the_parent_deletes(client, people, orgs):
    lone = orgs["acme"].add_child(name="Lone")
    client.force_login(people["ada"])
    assert client.post(org_url("delete", lone.pk)).status_code == 302
    assert not Organization.objects.filter(pk=lone.pk).exists()


def test_rule_offerable_users(people, superuser):
    inactive = make_learner("gone", is_active=False)
    offered = set(scoping.offerable_users().values_list("username", flat=True))
    assert "alice" in offered and "admin" not in offered and "gone" not in offered
    assert "gone" in set(scoping.offerable_users(inactive.pk).values_list("username", flat=True))


def test_membership_and_enrollment_forms_offer_no_superusers_or_inactive_users(
    client, people, orgs, superuser
):
    make_learner("gone", is_active=False)
    make_learner("kim")
    make_course(orgs["engineering"], [], title="Eng course")
    client.force_login(people["alice"])
    for url in (reverse("wagtail_lti_memberships:add"), reverse("wagtail_lti_enrollments:add")):
        response = client.get(url)
        assert response.status_code == 200
        choices = {user.username for user in response.context["form"].fields["user"].queryset}
        assert "kim" in choices and "alice" in choices
        assert "admin" not in choices and "gone" not in choices
        html = response.content.decode()
        assert "admin@example.com" not in html and "(gone)" not in html


def test_a_superuser_cannot_be_posted_into_a_membership(client, people, orgs, superuser):
    client.force_login(people["alice"])
    response = client.post(
        reverse("wagtail_lti_memberships:add"),
        {
            "organization": orgs["engineering"].pk,
            "user": get_user_model().objects.get(username="admin").pk,
            "role": "manager",
        },
    )
    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    assert not OrganizationMembership.objects.filter(user__username="admin").exists()
