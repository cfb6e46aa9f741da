"""Admin registrations of the LTI catalogue.

* The "LTI" menu: LTI providers and LTI resource links (snippets, so
  ``SnippetChooserBlock("wagtail_lti.LtiResourceLink")`` works), organizations and memberships.
* The Organization chooser (``register_admin_viewset``); it becomes the widget of every
  ``ForeignKey`` to ``Organization`` in admin forms, offering only managed organizations.
* The bulk delete of providers and links, scoped and refusing records in use.
* A dashboard panel with the guide's "Create LTI Provider" / "Create LTI Resource Link".

Chooser URL parameter: both snippet choosers accept ``?organization=<pk>`` (sent by a form's
linked field) and then offer only the records that organization may use.
"""

from __future__ import annotations

from django import forms
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, NumberColumn, StatusTagColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .. import scoping
from ..compat import chooser_widget
from ..forms import (
    LtiProviderForm,
    LtiResourceLinkForm,
    LtiVersionWidget,
    MembershipForm,
    OrganizationForm,
    OrganizationTreeWidget,
)
from ..models import LtiProvider, LtiResourceLink, Organization, OrganizationMembership
from ..permissions import LEGACY_POLICY_ATTRIBUTE, POLICIES
from . import catalogue_views as views
from . import organization_views as org_views
from .notices import NoticesPanel
from .panels import AvailabilityNotePanel, MovingFromLti11Panel, PlatformDetailsPanel
from .registration import RegistrationReviewPanel
from .test_launch import TryToolPanel


CUSTOM_PARAMETERS_HELP = _(
    "Optional. One custom_name=value per line; names start with “custom_” and are in snake case, "
    "for example custom_value_1=some value."
)


def _availability_tab():
    return ObjectList(
        [
            AvailabilityNotePanel(),
            FieldPanel(
                "available_to",
                widget=OrganizationTreeWidget,
                heading=_("Add Organizations"),
            ),
        ],
        heading=_("Availability"),
    )


# --- Shared by both snippets ----------------------------------------------------------------------

AVAILABLE_COUNT_LABEL = _("Available to (organizations)")


class AvailableToColumn(Column):
    """The names of the organizations a record is shared with (``scoping.availability_shown``:
    all of them for those who may edit it, else the ones they manage and a count of the others)."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        shown, others = scoping.availability_shown(instance, parent_context["request"].user)
        context["value"] = views.availability_text(shown, others)
        return context


def available_count_column() -> Column:
    return AvailableToColumn(
        "available_to", label=AVAILABLE_COUNT_LABEL, sort_key="available_count"
    )


class OrganizationOwnedViewSet(SnippetViewSet):
    """A snippet owned by an organization: every view scoped (``catalogue_views``), searched by
    name in the database, listed with its name and organization first."""

    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = views.ScopedInspectView
    search_fields = ["name"]
    search_backend_name = None
    add_view_class = views.ScopedCreateView
    edit_view_class = views.ScopedEditView
    delete_view_class = views.ScopedDeleteView
    usage_view_class = views.ScopedUsageView
    history_view_class = views.ScopedHistoryView
    revisions_compare_view_class = views.ScopedRevisionsCompareView

    @staticmethod
    def leading_columns() -> list:
        return [
            "name",
            StatusTagColumn(
                "is_owned",
                label=_("Access"),
                accessor=lambda record: (
                    _("Owned by us") if record.is_owned else _("Shared with us")
                ),
                primary=lambda record: record.is_owned,
                sort_key="is_owned",
            ),
            Column("organization", label=_("Organization"), sort_key="organization__name"),
        ]


# --- LTI providers --------------------------------------------------------------------------------


class LtiProviderViewSet(OrganizationOwnedViewSet):
    model = LtiProvider
    icon = "link-external"
    menu_label = _("LTI providers")
    index_view_class = views.ProviderIndexView
    filterset_class = views.ProviderFilterSet
    add_view_class = views.ProviderCreateView
    edit_view_class = views.ProviderEditView
    chooser_viewset_class = views.ProviderChooserViewSet
    # Read-only page for the organizations that may use the provider: never its key or secret,
    # its public key or its custom parameters.
    inspect_view_fields = [
        "name",
        "organization",
        "lti_version",
        "is_enabled",
        "launch_url",
        "login_url",
        "content_selection_url",
        "send_name",
        "send_email",
        "allow_ags",
        "allow_nrps",
        "available_to",
    ]
    list_display = [
        *OrganizationOwnedViewSet.leading_columns(),
        Column(
            "lti_version",
            label=_("LTI version"),
            accessor="get_lti_version_display",
            sort_key="lti_version",
        ),
        available_count_column(),
        NumberColumn("link_count", label=_("Used by (resource links)"), sort_key="link_count"),
        Column("is_enabled", label=_("Status"), accessor="status_label", sort_key="is_enabled"),
    ]
    # Never the secret: only the fields below are exported.
    list_export = [
        "name",
        "organization",
        "lti_version",
        "consumer_key",
        "client_id",
        "deployment_id",
        "available_count",
        "link_count",
    ]
    export_headings = {
        "name": _("Name"),
        "organization": _("Organization"),
        "lti_version": _("LTI version"),
        "consumer_key": _("LTI key"),
        "client_id": _("Client ID"),
        "deployment_id": _("Deployment ID"),
        "available_count": AVAILABLE_COUNT_LABEL,
        "link_count": _("Used by (resource links)"),
    }
    export_filename = "lti-providers"
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    RegistrationReviewPanel(),
                    FieldPanel("name"),
                    FieldPanel("organization"),
                    FieldPanel("is_enabled"),
                    FieldPanel("lti_version", widget=LtiVersionWidget),
                    MultiFieldPanel(
                        [FieldPanel("consumer_key"), FieldPanel("secret")],
                        heading=_("LTI 1.1"),
                        attrs={"data-lti-version": "1.1"},
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("login_url"),
                            FieldPanel("launch_url"),
                            FieldPanel(
                                "redirect_uris",
                                help_text=_(
                                    "One per line. Leave blank when the target link URL is the "
                                    "tool's only redirect URI."
                                ),
                            ),
                            FieldPanel(
                                "jwks_url",
                                help_text=_("The tool's public keyset URL; or paste a PEM below."),
                            ),
                            FieldPanel(
                                "public_key_pem",
                                help_text=_("“-----BEGIN PUBLIC KEY-----” … an RSA key."),
                            ),
                            FieldPanel("allow_ags"),
                            FieldPanel("allow_nrps"),
                        ],
                        heading=_("LTI 1.3: the tool's registration"),
                        attrs={"data-lti-version": "1.3"},
                    ),
                    MultiFieldPanel(
                        [PlatformDetailsPanel()],
                        heading=_("LTI 1.3: this platform's details, for the tool"),
                        attrs={"data-lti-version": "1.3"},
                    ),
                    MultiFieldPanel(
                        [MovingFromLti11Panel(), FieldPanel("keep_lti11")],
                        heading=_("Moving from LTI 1.1"),
                        attrs={"data-lti-version": "1.3"},
                    ),
                    MultiFieldPanel(
                        [NoticesPanel()],
                        heading=_("LTI 1.3: platform notices"),
                        attrs={"data-lti-version": "1.3"},
                    ),
                    FieldPanel(
                        "content_selection_url",
                        help_text=_(
                            "Optional. Where editors choose content in the tool (“Add from a "
                            "tool” on the resource links): for LTI 1.3 its Deep Linking URL "
                            "(blank: the target link URL), for LTI 1.1 its Content-Item URL."
                        ),
                    ),
                    FieldPanel("custom_parameters", help_text=CUSTOM_PARAMETERS_HELP),
                    MultiFieldPanel(
                        [FieldPanel("send_name"), FieldPanel("send_email")],
                        heading=_("Privacy"),
                    ),
                    MultiFieldPanel(
                        [FieldPanel("trusted_for_embeds")], heading=_("Content from the tool")
                    ),
                    MultiFieldPanel(
                        [TryToolPanel(), FieldPanel("debug_launches")],
                        heading=_("Troubleshooting"),
                    ),
                ],
                heading=_("Details"),
            ),
            _availability_tab(),
        ],
        base_form_class=LtiProviderForm,
    )

    def get_queryset(self, request):
        queryset = LtiProvider.objects.select_related("organization").annotate(
            available_count=Count("available_to", distinct=True),
            link_count=Count("resource_links", distinct=True),
        )
        return scoping.listed_records(queryset, request.user).prefetch_related("available_to")


# --- LTI resource links ---------------------------------------------------------------------------


class LtiResourceLinkViewSet(OrganizationOwnedViewSet):
    model = LtiResourceLink
    icon = "link"
    menu_label = _("LTI resource links")
    index_view_class = views.ResourceLinkIndexView
    filterset_class = views.ResourceLinkFilterSet
    chooser_viewset_class = views.ResourceLinkChooserViewSet
    inspect_view_fields = [
        "name",
        "organization",
        "provider",
        "url",
        "description",
        "requires_score",
        "score_maximum",
        "open_in",
        "available_to",
    ]
    list_display = [
        *OrganizationOwnedViewSet.leading_columns(),
        Column("provider", label=_("LTI provider"), sort_key="provider__name"),
        Column(
            "lti_version",
            label=_("LTI version"),
            accessor="provider.get_lti_version_display",
            sort_key="provider__lti_version",
        ),
        available_count_column(),
        NumberColumn("page_count", label=_("Used on (pages)"), sort_key="page_count"),
    ]
    list_export = [
        "name",
        "organization",
        "provider",
        "url",
        "requires_score",
        "available_count",
        "page_count",
    ]
    export_headings = {
        "name": _("Name"),
        "organization": _("Organization"),
        "provider": _("LTI provider"),
        "url": _("Resource link URL"),
        "requires_score": _("Requires a score"),
        "available_count": AVAILABLE_COUNT_LABEL,
        "page_count": _("Used on (pages)"),
    }
    export_filename = "lti-resource-links"

    def get_queryset(self, request):
        queryset = LtiResourceLink.objects.select_related("organization", "provider").annotate(
            available_count=Count("available_to", distinct=True),
            page_count=Count(
                "placements__page", filter=Q(placements__is_active=True), distinct=True
            ),
        )
        return scoping.listed_records(queryset, request.user).prefetch_related("available_to")

    def get_edit_handler(self):
        # Built here: the provider chooser widget needs the registered snippet chooser.
        provider_widget = chooser_widget(
            LtiProvider.snippet_viewset.chooser_viewset,
            linked_fields={"organization": "#id_organization"},
        )
        return TabbedInterface(
            [
                ObjectList(
                    [
                        FieldPanel("name"),
                        FieldPanel("organization"),
                        FieldPanel(
                            "provider",
                            widget=provider_widget,
                            help_text=_(
                                "Only providers the organization above may use are offered."
                            ),
                        ),
                        FieldPanel("url"),
                        FieldPanel("description"),
                        FieldPanel("custom_parameters", help_text=CUSTOM_PARAMETERS_HELP),
                        FieldPanel(
                            "requires_score",
                            heading=_("This resource requires a score for completion"),
                        ),
                        FieldPanel("score_maximum"),
                        MultiFieldPanel(
                            [
                                FieldPanel(
                                    "line_item_label",
                                    help_text=_("Empty: the activity's title in the course."),
                                ),
                                FieldPanel("line_item_resource_id"),
                                FieldPanel("line_item_tag"),
                                FieldPanel(
                                    "line_item_grades_released",
                                    widget=grades_released_widget(),
                                    help_text=_(
                                        "Whether learners may see the grades of this column "
                                        "(the line item's gradesReleased)."
                                    ),
                                ),
                            ],
                            heading=_("Gradebook column"),
                            help_text=_(
                                "The line item each course placing this link gets, as the tool "
                                "reads it through Assignment and Grade Services."
                            ),
                        ),
                        FieldPanel("open_in", widget=forms.RadioSelect),
                        MultiFieldPanel(
                            [
                                FieldPanel("available_start"),
                                FieldPanel("available_end"),
                                FieldPanel("submission_start"),
                                FieldPanel("submission_end"),
                                FieldPanel("late_submissions", widget=forms.RadioSelect),
                                FieldPanel("iframe_width"),
                                FieldPanel("iframe_height"),
                                FieldPanel("window_target_name"),
                                FieldPanel("window_width"),
                                FieldPanel("window_height"),
                                FieldPanel("window_features"),
                            ],
                            heading=_("Dates and presentation"),
                        ),
                        MultiFieldPanel([TryToolPanel()], heading=_("Try the tool")),
                    ],
                    heading=_("Details"),
                ),
                _availability_tab(),
            ],
            base_form_class=LtiResourceLinkForm,
        ).bind_to_model(LtiResourceLink)


def grades_released_widget() -> forms.NullBooleanSelect:
    """Yes, no, or not said (the tool's line item then has no ``gradesReleased``)."""
    widget = forms.NullBooleanSelect()
    widget.choices = [("unknown", _("Not set")), ("true", _("Yes")), ("false", _("No"))]
    return widget


# --- Organizations and memberships ----------------------------------------------------------------


class OrganizationViewSet(ModelViewSet):
    model = Organization
    name = "wagtail_lti_organizations"
    url_prefix = "lti/organizations"
    icon = "group"
    menu_label = _("Organizations")
    copy_view_enabled = False
    inspect_view_enabled = False
    search_fields = ["name"]
    search_backend_name = None
    index_view_class = org_views.OrganizationIndexView
    add_view_class = org_views.OrganizationCreateView
    edit_view_class = org_views.OrganizationEditView
    delete_view_class = org_views.OrganizationDeleteView
    history_view_class = org_views.OrganizationHistoryView
    usage_view_class = org_views.OrganizationUsageView
    panels = [FieldPanel("name"), FieldPanel("parent")]

    def get_edit_handler(self):
        return ObjectList(self.panels, base_form_class=OrganizationForm).bind_to_model(Organization)


class MembershipViewSet(ModelViewSet):
    model = OrganizationMembership
    name = "wagtail_lti_memberships"
    url_prefix = "lti/memberships"
    icon = "user"
    menu_label = _("Memberships")
    copy_view_enabled = False
    inspect_view_enabled = False
    search_fields = ["user__username", "user__first_name", "user__last_name", "organization__name"]
    search_backend_name = None
    filterset_class = org_views.MembershipFilterSet
    index_view_class = org_views.MembershipIndexView
    edit_view_class = org_views.MembershipEditView
    delete_view_class = org_views.MembershipDeleteView
    history_view_class = org_views.MembershipHistoryView
    usage_view_class = org_views.MembershipUsageView
    list_display = [
        "user",
        Column("organization", label=_("Organization"), sort_key="organization__name"),
        Column("role", label=_("Role"), accessor="get_role_display", sort_key="role"),
    ]
    panels = [FieldPanel("organization"), FieldPanel("user"), FieldPanel("role")]

    def get_edit_handler(self):
        return ObjectList(self.panels, base_form_class=MembershipForm).bind_to_model(
            OrganizationMembership
        )


if LEGACY_POLICY_ATTRIBUTE:  # pragma: no cover - Wagtail 7 has no policy registry
    for _viewset in (
        LtiProviderViewSet,
        LtiResourceLinkViewSet,
        OrganizationViewSet,
        MembershipViewSet,
    ):
        _viewset.permission_policy = POLICIES[_viewset.model]


class LtiViewSetGroup(SnippetViewSetGroup):
    menu_label = _("LTI")
    menu_icon = "link-external"
    menu_order = 250
    items = (LtiProviderViewSet, LtiResourceLinkViewSet, OrganizationViewSet, MembershipViewSet)


register_snippet(LtiViewSetGroup)


@hooks.register("register_admin_viewset")
def register_organization_chooser():
    return org_views.OrganizationChooserViewSet("wagtail_lti_organization_chooser")


# Registered after Wagtail's own snippet bulk delete (order=1), so it replaces it for our models.
hooks.register("register_bulk_action", views.ScopedDeleteBulkAction, order=1)


# --- Dashboard ------------------------------------------------------------------------------------


class LtiDashboardPanel(Component):
    """The "LTI" tile of the guide: quick links to create providers and resource links."""

    name = "wagtail_lti_catalogue"
    order = 150
    template_name = "wagtail_lti/admin/dashboard_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        user = self.request.user
        create_links, list_links = [], []
        for model, create_label, list_label in (
            (LtiProvider, _("Create LTI Provider"), _("LTI providers")),
            (LtiResourceLink, _("Create LTI Resource Link"), _("LTI resource links")),
        ):
            viewset = model.snippet_viewset
            policy = POLICIES[model]
            if policy.user_has_permission(user, "add"):
                create_links.append(
                    {"url": reverse(viewset.get_url_name("add")), "label": create_label}
                )
            if policy.user_has_any_permission(user, ["add", "change", "delete"]):
                list_links.append(
                    {"url": reverse(viewset.get_url_name("list")), "label": list_label}
                )
        return {"create_links": create_links, "list_links": list_links}


@hooks.register("construct_homepage_panels")
def add_lti_dashboard_panel(request, panels):
    user = request.user
    if user.is_superuser or scoping.managed_root_paths(user):
        panel = LtiDashboardPanel(request)
        if any(panel.get_context_data().values()):
            panels.append(panel)
