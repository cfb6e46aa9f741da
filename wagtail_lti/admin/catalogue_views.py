"""Views of the LTI Provider and LTI Resource Link snippets and their choosers, all scoped.

Doors and how each is scoped (``wagtail_lti.scoping`` answers every time):

* listing, CSV/XLSX export: ``SnippetViewSet.get_queryset(request)`` (``scoping.listed_records``:
  what the user's organizations may use; rows they may not edit link to the inspect view and have
  no edit or delete buttons, :class:`SharedListingMixin`; filter "Owned by us / Shared with us");
* inspect (read-only): :class:`ScopedInspectView` (``scoping.may_use``);
* edit, revert, delete, usage, revision comparison: :class:`ScopedObjectMixin` (404);
* history: :class:`ScopedHistoryView` (``scoping.may_read_history``: also the organizations that
  may use the record; no edit or revision links for them);
* chooser, chooser results, chosen: :class:`ScopedChooseMixin` / :class:`ScopedChosenMixin`;
* bulk delete: :class:`ScopedDeleteBulkAction`;
* the submitted form: ``wagtail_lti.forms`` (``for_user``).
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.chooser import SnippetChooserViewSet

from .. import scoping
from ..models import LtiProvider, LtiResourceLink, Organization
from .scoped import (
    NameSearchFilterForm,
    NoAutosaveMixin,
    RefuseDeleteInUseMixin,
    ScopedObjectMixin,
    policy_for,
)
from .usage import describe_blockers, usage_blockers


# --- Listings and object views ----------------------------------------------------------------------------------


class SharedListingMixin:
    """A listing of what the user's organizations may use (``scoping.listed_records``): rows the
    user may not edit (``is_owned`` false: shared with them) link to the inspect view and have no
    edit, copy or delete buttons."""

    def _owned(self, instance) -> bool:
        owned = getattr(instance, "is_owned", None)
        return scoping.may_edit(self.request.user, instance) if owned is None else bool(owned)

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if self._owned(instance) else None

    def get_copy_url(self, instance):
        return super().get_copy_url(instance) if self._owned(instance) else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if self._owned(instance) else None

    #: Exported only for the records the user may edit (the inspect view does not show them).
    owner_only_export_fields: tuple[str, ...] = ()

    def to_row_dict(self, item):
        row = super().to_row_dict(item)
        if not self._owned(item):
            for name in self.owner_only_export_fields:
                if name in row:
                    row[name] = ""
        return row


class ProviderIndexView(SharedListingMixin, snippet_views.IndexView):
    add_item_label = _("Create LTI Provider")
    owner_only_export_fields = ("consumer_key", "client_id", "deployment_id")

    @cached_property
    def header_buttons(self):
        # "Register a tool by URL": LTI Dynamic Registration (admin/registration.py).
        from .registration import register_tool_header_button

        button = register_tool_header_button(self.request.user)
        return [*super().header_buttons, button] if button else super().header_buttons


class ResourceLinkIndexView(SharedListingMixin, snippet_views.IndexView):
    add_item_label = _("Create LTI Resource Link")

    @cached_property
    def header_buttons(self):
        # "Add from a tool": Deep Linking / Content-Item (admin/content_selection.py).
        from .content_selection import select_content_header_button

        button = select_content_header_button(self.request.user)
        return [*super().header_buttons, button] if button else super().header_buttons


class ScopedCreateView(NoAutosaveMixin, snippet_views.CreateView):
    pass


class ScopedEditView(NoAutosaveMixin, ScopedObjectMixin, snippet_views.EditView):
    pass


@method_decorator(sensitive_post_parameters("secret"), name="dispatch")
class ProviderCreateView(ScopedCreateView):
    pass


@method_decorator(sensitive_post_parameters("secret"), name="dispatch")
class ProviderEditView(ScopedEditView):
    pass


class ScopedDeleteView(RefuseDeleteInUseMixin, ScopedObjectMixin, snippet_views.DeleteView):
    pass


class ScopedUsageView(ScopedObjectMixin, snippet_views.UsageView):
    pass


class ScopedHistoryView(snippet_views.HistoryView):
    """A record's history: for whoever may read it (``scoping.may_read_history``: the owner's
    managers, and the managers of the organizations that may use the record), else 404. Those
    who may not edit the record get no links to its edit view or its revisions."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is None or not scoping.may_read_history(self.request.user, obj):
            raise Http404
        if not policy_for(self.model).in_scope(self.request.user, obj):
            self.edit_url_name = None
            self.revisions_view_url_name = None
            self.revisions_revert_url_name = None
            self.revisions_compare_url_name = None
            self.revisions_unschedule_url_name = None
        return obj

    @cached_property
    def header_buttons(self):
        if not self.edit_url_name:
            return []
        return getattr(super(), "header_buttons", [])


class ScopedInspectView(snippet_views.InspectView):
    """A record's read-only page: for whoever may use it (``scoping.may_use``), else 404. Edit and
    delete buttons only for those who may edit it. Only the fields the viewset lists
    (``inspect_view_fields``: never a secret or a key)."""

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not scoping.may_use(self.request.user, obj):
            raise Http404
        return obj

    @cached_property
    def may_edit(self) -> bool:
        return scoping.may_edit(self.request.user, self.object)

    def get_edit_url(self):
        return super().get_edit_url() if self.may_edit else None

    def get_delete_url(self):
        return super().get_delete_url() if self.may_edit else None

    template_name = "wagtail_lti/admin/inspect.html"

    def get_field_display_value(self, field_name, field):
        if field_name == "available_to":
            shown, others = scoping.availability_shown(self.object, self.request.user)
            return availability_text(shown, others)
        value = super().get_field_display_value(field_name, field)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return value

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_edit"] = self.may_edit
        return context


def availability_text(shown, others: int) -> str:
    """ "Engineering, Sales and 2 other organizations", "—" when none."""
    from django.utils.translation import ngettext

    names = [org.name for org in shown]
    if others:
        names.append(
            ngettext("%(count)d other organization", "%(count)d other organizations", others)
            % {"count": others}
        )
    return ", ".join(names) if names else "—"


class ScopedRevisionsCompareView(ScopedObjectMixin, snippet_views.RevisionsCompareView):
    pass


# --- Listings -------------------------------------------------------------------------------------


def _managed_organizations(request):
    if request is None:
        return Organization.objects.none()
    return scoping.managed_organizations(request.user).order_by("path")


class _OrganizationFilter(django_filters.ModelChoiceFilter):
    """Records owned by the chosen organization or one of its sub-organizations."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(organization__path__startswith=value.path)


class _IndentedModelChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_indented_name()


class _IndentedOrganizationFilter(_OrganizationFilter):
    field_class = _IndentedModelChoiceField


class OwnershipFilter(django_filters.ChoiceFilter):
    """ "Owned by us" (records the user may edit), "Shared with us" (may only use), or all."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Owned or shared"))
        kwargs.setdefault(
            "choices", [(scoping.OWNED, _("Owned by us")), (scoping.SHARED, _("Shared with us"))]
        )
        kwargs.setdefault("empty_label", _("All"))
        super().__init__(**kwargs)

    def filter(self, qs, value):
        request = getattr(self.parent, "request", None)
        if not value or request is None:
            return qs
        return scoping.filter_ownership(qs, request.user, value)


class ProviderFilterSet(WagtailFilterSet):
    ownership = OwnershipFilter()
    organization = _IndentedOrganizationFilter(
        label=_("Organization"),
        queryset=_managed_organizations,
        help_text=_("Includes its sub-organizations."),
    )
    lti_version = django_filters.ChoiceFilter(
        label=_("LTI version"), choices=LtiProvider.Version.choices
    )

    class Meta:
        model = LtiProvider
        fields = ["ownership", "organization", "lti_version"]


class ResourceLinkFilterSet(WagtailFilterSet):
    ownership = OwnershipFilter()
    organization = _IndentedOrganizationFilter(
        label=_("Organization"),
        queryset=_managed_organizations,
        help_text=_("Includes its sub-organizations."),
    )
    lti_version = django_filters.ChoiceFilter(
        label=_("LTI version"),
        choices=LtiProvider.Version.choices,
        field_name="provider__lti_version",
    )

    class Meta:
        model = LtiResourceLink
        fields = ["ownership", "organization", "lti_version"]


# --- Choosers -------------------------------------------------------------------------------------


class ScopedChooseMixin:
    """Chooser listing limited to what the user may pick (see ``scoping.choosable``).

    The ``organization`` URL parameter (sent by the form's linked field) narrows the choice to the
    records that organization may use.
    """

    filter_form_class = NameSearchFilterForm

    def get_linked_organization(self):
        raw = self.request.GET.get("organization")
        if not raw:
            return None
        try:
            return Organization.objects.get(pk=int(raw))
        except (ValueError, Organization.DoesNotExist):
            raise Http404 from None

    def get_object_list(self):
        queryset = self.model_class.objects.select_related("organization")
        return scoping.choosable(queryset, self.request.user, self.get_linked_organization())

    @property
    def title_column(self):
        column = super().title_column
        column.label = _("Name")
        return column

    @property
    def columns(self):
        return [
            *super().columns,
            Column("organization", label=_("Organization"), accessor="organization"),
            *self.extra_columns,
        ]

    extra_columns = []


class ScopedChosenMixin:
    def get_object(self, pk):
        queryset = scoping.choosable(self.model_class.objects.all(), self.request.user)
        return queryset.get(pk=pk)

    def get_objects(self, pks):
        queryset = scoping.choosable(self.model_class.objects.all(), self.request.user)
        return queryset.filter(pk__in=pks)


class ProviderChooseMixin(ScopedChooseMixin):
    extra_columns = [
        Column("lti_version", label=_("LTI version"), accessor="get_lti_version_display")
    ]


class ResourceLinkChooseMixin(ScopedChooseMixin):
    extra_columns = [Column("provider", label=_("LTI provider"), accessor="provider")]

    def get_object_list(self):
        return super().get_object_list().select_related("provider")


class ProviderChooseView(ProviderChooseMixin, snippet_chooser.ChooseView):
    pass


class ProviderChooseResultsView(ProviderChooseMixin, snippet_chooser.ChooseResultsView):
    pass


class ResourceLinkChooseView(ResourceLinkChooseMixin, snippet_chooser.ChooseView):
    pass


class ResourceLinkChooseResultsView(ResourceLinkChooseMixin, snippet_chooser.ChooseResultsView):
    pass


class ResourceLinkCreationMixin:
    """ "Create new" in the resource link chooser: ``forms.LtiResourceLinkCreationForm`` for the
    editor (organizations they manage, providers they may use, checked on save); the organization
    of the course page's form (``?organization=``) is the initial one when the editor manages it.
    Saved as the snippet's create view saves: a first revision and the "created" history entry."""

    def get_creation_form_class(self):
        from ..forms import LtiResourceLinkCreationForm

        return LtiResourceLinkCreationForm

    def get_creation_form_kwargs(self):
        kwargs = super().get_creation_form_kwargs()
        kwargs["for_user"] = self.request.user
        raw = self.request.GET.get("organization", "")
        if raw.isdigit():
            kwargs["course_organization"] = int(raw)
        return kwargs

    def save_form(self, form):
        from wagtail.log_actions import log

        instance = form.save()
        revision = instance.save_revision(user=self.request.user, log_action=False)
        log(instance=instance, action="wagtail.create", revision=revision, content_changed=True)
        return instance


class ResourceLinkCreateChooserView(ResourceLinkCreationMixin, snippet_chooser.SnippetCreateView):
    pass


class ResourceLinkChooseWithCreationView(ResourceLinkCreationMixin, ResourceLinkChooseView):
    pass


class ScopedChosenView(ScopedChosenMixin, snippet_chooser.SnippetChosenView):
    pass


class ScopedChosenMultipleView(ScopedChosenMixin, snippet_chooser.SnippetChosenMultipleView):
    pass


class ProviderChooserViewSet(SnippetChooserViewSet):
    choose_view_class = ProviderChooseView
    choose_results_view_class = ProviderChooseResultsView
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView
    preserve_url_parameters = ["multiple", "organization"]


class ResourceLinkChooserViewSet(SnippetChooserViewSet):
    choose_view_class = ResourceLinkChooseWithCreationView
    choose_results_view_class = ResourceLinkChooseResultsView
    create_view_class = ResourceLinkCreateChooserView
    creation_tab_label = _("Create new")
    create_action_label = _("Create and choose")
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView
    preserve_url_parameters = ["multiple", "organization"]


# --- Bulk delete ----------------------------------------------------------------------------------


class ScopedDeleteBulkAction(DeleteBulkAction):
    """The snippets' bulk delete, for providers and links: scoped, and refusing records in use.

    Records outside the user's organizations are ignored as if they did not exist (not even
    listed as "no access", which would reveal their names).
    """

    models = [LtiProvider, LtiResourceLink]

    @cached_property
    def _actionable_objects(self):
        ids = self.request.GET.getlist("id")
        queryset = policy_for(self.model).instances_user_has_permission_for(
            self.request.user, "delete"
        )
        if "all" not in ids:
            queryset = queryset.filter(pk__in=[i for i in ids if i.isdigit()])
        objects = list(queryset)
        if not objects:
            raise Http404
        return objects, {"items_with_no_access": []}

    def prepare_action(self, objects, objects_without_access):
        refused = []
        for obj in objects:
            blockers = usage_blockers(obj, self.request.user)
            if blockers:
                refused.append(describe_blockers(obj, blockers))
        if refused:
            for message in refused:
                messages.error(self.request, message)
            return redirect(self.next_url)
        return super().prepare_action(objects, objects_without_access)
