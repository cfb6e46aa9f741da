"""Organizations: a tree of companies, departments and partners that own LTI records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class Organization(MP_Node):
    """A node of the organization tree (materialized path, as Wagtail's own pages and collections).

    The path of an organization starts with the paths of all its ancestors, so "this organization
    and its sub-organizations" and "this organization and its ancestors" are each a single query
    (see ``wagtail_lti.scoping``).
    """

    name = models.CharField(_("name"), max_length=255)
    node_order_by = ["name"]

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    def move(self, target, pos=None):
        """Move in the tree (treebeard rewrites paths with ``UPDATE``, sending no signal), then
        drop what launches kept about availability (``wagtail_lti.launch.targets``)."""
        from ..launch.targets import catalogue_changed

        result = super().move(target, pos)
        catalogue_changed()
        return result

    def ancestor_paths(self) -> list[str]:
        """Paths of this organization and of every ancestor, computed without a query."""
        step = self.steplen
        return [self.path[: step * i] for i in range(1, len(self.path) // step + 1)]

    def get_indented_name(self) -> str:
        return "\u2014 " * (self.depth - 1) + self.name


class OrganizationMembership(models.Model):
    """Links a user to an organization as a member or as a manager.

    Managers manage the organization and all of its sub-organizations.
    """

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MANAGER = "manager", _("Manager")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="lti_organization_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("organization membership")
        verbose_name_plural = _("organization memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="wagtail_lti_unique_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.organization} ({self.get_role_display()})"
