"""Organization tree and membership admin views, and the Organization chooser, all scoped.

Organizations are a treebeard ``MP_Node``: new ones are created with ``parent.add_child`` (or
``add_root`` for superusers) and moved with ``move(parent, "sorted-child")``, as Wagtail's own
Collection views do.
"""

from __future__ import annotations

import django_filters
from django.db.models import Min
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.log_actions import log

from .. import scoping
from ..forms import indented_name
from ..models import Organization, OrganizationMembership
from .scoped import (
    IndentedTitleChooseMixin,
    NameSearchFilterForm,
    RefuseDeleteInUseMixin,
    ScopedIndexMixin,
    ScopedObjectMixin,
)


# --- Organizations --------------------------------------------------------------------------------


class OrganizationIndexView(ScopedIndexMixin, generic.IndexView):
    """The managed organizations, in tree order, indented under their parents."""

    default_ordering = "path"

    def get_base_queryset(self):
        return super().get_base_queryset().order_by("path")

    def get_valid_orderings(self):
        return ["path"]

    def order_queryset(self, queryset):
        return queryset.order_by("path")

    @cached_property
    def columns(self):
        base_depth = self.get_base_queryset().aggregate(depth=Min("depth"))["depth"] or 1
        title = self._get_title_column("name")
        title.accessor = lambda org: indented_name(org, base_depth)
        title.sort_key = None
        return [
            title,
            Column(
                "parent",
                label=_("Parent organization"),
                accessor=lambda org: org.get_parent() or "",
            ),
        ]


class OrganizationCreateView(generic.CreateView):
    def save_instance(self):
        instance = self.form.save(commit=False)
        parent = self.form.cleaned_data.get("parent")
        if parent is not None:
            instance = parent.add_child(instance=instance)
        else:
            instance = Organization.add_root(instance=instance)
        log(instance=instance, action="wagtail.create", user=self.request.user)
        return instance


class OrganizationEditView(ScopedObjectMixin, generic.EditView):
    def save_instance(self):
        instance = self.form.save()
        moved = "parent" in self.form.fields and "parent" in self.form.changed_data
        if moved or "name" in self.form.changed_data:
            # Move, or keep siblings in name order after a rename (node_order_by = name).
            if moved:
                parent = self.form.cleaned_data.get("parent")
            else:
                parent = instance.get_parent()
            if parent is not None:
                instance.move(parent, "sorted-child")
            elif moved:
                instance.move(Organization.get_first_root_node(), "sorted-sibling")
            instance.refresh_from_db()
        log(instance=instance, action="wagtail.edit", user=self.request.user)
        return instance


class OrganizationDeleteView(RefuseDeleteInUseMixin, ScopedObjectMixin, generic.DeleteView):
    """Only a manager of the parent (or a superuser) may delete an organization: a manager of one
    of their own top organizations is told so and sent back to its edit page."""

    def dispatch(self, request, *args, **kwargs):
        if not scoping.may_delete_organization(request.user, self.object):
            messages.error(
                request,
                _(
                    "“%(organization)s” can only be deleted by a manager of the organization "
                    "above it."
                )
                % {"organization": self.object},
            )
            return redirect(self._edit_url() or reverse("wagtailadmin_home"))
        return super().dispatch(request, *args, **kwargs)


class OrganizationHistoryView(ScopedObjectMixin, HistoryView):
    pass


class OrganizationUsageView(ScopedObjectMixin, generic.UsageView):
    pass


# --- Memberships ----------------------------------------------------------------------------------


def _managed_organizations(request):
    if request is None:
        return Organization.objects.none()
    return scoping.managed_organizations(request.user).order_by("path")


class MembershipFilterSet(WagtailFilterSet):
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"), queryset=_managed_organizations
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=OrganizationMembership.Role.choices)

    class Meta:
        model = OrganizationMembership
        fields = ["organization", "role"]


class MembershipIndexView(ScopedIndexMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user", "organization")


class MembershipEditView(ScopedObjectMixin, generic.EditView):
    pass


class MembershipDeleteView(ScopedObjectMixin, generic.DeleteView):
    pass


class MembershipHistoryView(ScopedObjectMixin, HistoryView):
    pass


class MembershipUsageView(ScopedObjectMixin, generic.UsageView):
    pass


# --- Organization chooser -------------------------------------------------------------------------


class OrganizationChooseMixin(IndentedTitleChooseMixin):
    filter_form_class = NameSearchFilterForm

    def get_object_list(self):
        return scoping.managed_organizations(self.request.user).order_by("path")


class OrganizationChooseView(OrganizationChooseMixin, chooser_views.ChooseView):
    pass


class OrganizationChooseResultsView(OrganizationChooseMixin, chooser_views.ChooseResultsView):
    pass


class OrganizationChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        organization = Organization.objects.get(pk=pk)
        if not scoping.user_manages(self.request.user, organization):
            raise Http404
        return organization


class OrganizationChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        return scoping.managed_organizations(self.request.user).filter(pk__in=pks)


class OrganizationChooserViewSet(ChooserViewSet):
    """Choose an organization you manage (used for every ForeignKey to Organization)."""

    model = Organization
    url_prefix = "lti/choose-organization"
    icon = "group"
    choose_one_text = _("Choose an organization")
    choose_another_text = _("Choose another organization")
    edit_item_text = _("Edit this organization")
    per_page = 50
    choose_view_class = OrganizationChooseView
    choose_results_view_class = OrganizationChooseResultsView
    chosen_view_class = OrganizationChosenView
    chosen_multiple_view_class = OrganizationChosenMultipleView
