"""Permission policies: Django model permissions, narrowed to the organizations a user manages.

Wagtail consults the registered policy of a model in its generic views (listing buttons, the
edit view's delete button, bulk actions, the usage view's links, the admin URL finder). The
row-level part of each policy asks ``wagtail_lti.scoping``; the admin views of wagtail-lti check
the same policy again on every object they load (``wagtail_lti.admin.scoped``), because Wagtail
does not consult instance permissions everywhere.

Policies are registered in ``WagtailLtiAppConfig.ready()`` with Wagtail 8's
``register_permission_policy``; on Wagtail 7, which has no registry, the viewsets carry them
(see ``LEGACY_POLICY_ATTRIBUTE``).
"""

from __future__ import annotations

from wagtail.permission_policies import ModelPermissionPolicy

from . import scoping
from .models import LtiProvider, LtiResourceLink, Organization, OrganizationMembership


try:  # Wagtail >= 8
    from wagtail.permissions import register_permission_policy
except ImportError:  # pragma: no cover - Wagtail 7.x
    register_permission_policy = None

#: True when the running Wagtail has no policy registry: viewsets then set ``permission_policy``.
LEGACY_POLICY_ATTRIBUTE = register_permission_policy is None


class _ScopedPolicy(ModelPermissionPolicy):
    """Model permissions AND the record lies in an organization the user manages."""

    def organization_of(self, instance) -> Organization | None:
        raise NotImplementedError

    def in_scope(self, user, instance) -> bool:
        return scoping.user_manages(user, self.organization_of(instance))

    def scoped_queryset(self, user):
        raise NotImplementedError

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and self.in_scope(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions) and self.in_scope(user, instance)

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return self.model._default_manager.none()
        return self.scoped_queryset(user)


class OrganizationOwnedPermissionPolicy(_ScopedPolicy):
    """For LTI providers and resource links: the owning organization must be managed."""

    def organization_of(self, instance):
        if getattr(instance, "organization_id", None) is None:
            return None
        return instance.organization

    def scoped_queryset(self, user):
        return scoping.owned_by_managed(self.model._default_manager.all(), user)


class OrganizationPermissionPolicy(_ScopedPolicy):
    """For organizations themselves: managed organizations (the user's subtrees)."""

    def organization_of(self, instance):
        return instance if getattr(instance, "path", None) else None

    def scoped_queryset(self, user):
        return scoping.managed_organizations(user)

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "delete":
            # Deleting takes a manager of the parent (``scoping.may_delete_organization``).
            return self.user_has_permission(user, action) and scoping.may_delete_organization(
                user, instance
            )
        return super().user_has_permission_for_instance(user, action, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(
            self.user_has_permission_for_instance(user, action, instance) for action in actions
        )


class MembershipPermissionPolicy(_ScopedPolicy):
    """For memberships: the membership's organization must be managed."""

    def organization_of(self, instance):
        if getattr(instance, "organization_id", None) is None:
            return None
        return instance.organization

    def scoped_queryset(self, user):
        return scoping.memberships_of_managed(self.model._default_manager.all(), user)


provider_policy = OrganizationOwnedPermissionPolicy(LtiProvider)
resource_link_policy = OrganizationOwnedPermissionPolicy(LtiResourceLink)
organization_policy = OrganizationPermissionPolicy(Organization)
membership_policy = MembershipPermissionPolicy(OrganizationMembership)

POLICIES = {
    LtiProvider: provider_policy,
    LtiResourceLink: resource_link_policy,
    Organization: organization_policy,
    OrganizationMembership: membership_policy,
}


def register_policies() -> None:
    """Register the policies with Wagtail (8+); called from ``AppConfig.ready``."""
    if register_permission_policy is None:  # pragma: no cover - Wagtail 7.x
        return
    for model, policy in POLICIES.items():
        register_permission_policy(model, policy)
