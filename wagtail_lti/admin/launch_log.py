"""The launch log in the admin (menu "Reports" → "LTI launch log").

* The listing (URL name ``wagtail_lti_launch_log``): each launch and service call, newest first,
  filtered by provider, kind, outcome and date; CSV and XLSX export (never the debug data).
* The detail view (``wagtail_lti_launch_log_entry``, ``reports/lti-launch-log/<pk>/``): every
  column, and the parameters or claims sent when the provider's debug switch was on.

Requires the ``wagtail_lti.view_launchlogentry`` permission (or superuser). Who sees which
entries and which of their fields is decided in ``scoping`` (``launch_log_visible_to``,
``launch_log_details_q``): the course's organization's managers see its entries in full; the
provider's owner sees that its tool was launched and the outcome, without the person, the course
or the debug data (unless the entry has no organization). The person, the course and activity are
blank, in the listing and in the exports, where the editor may not see them; searching by username
only finds entries whose person the editor may see. Anything else is 404.
"""

from __future__ import annotations

import json

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import PermissionCheckedMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy

from .. import scoping
from ..models import LaunchLogEntry, LtiProvider


permission_policy = ModelPermissionPolicy(LaunchLogEntry)
REQUIRED = ["view"]


def entries_for(user):
    """The log entries ``user`` may see, each with ``shows_details`` (see the module docstring)."""
    entries = LaunchLogEntry.objects.select_related("provider", "user", "placement", "course")
    return scoping.with_launch_log_details(scoping.launch_log_visible_to(entries, user), user)


def _person(entry) -> str:
    user = entry.user
    if user is None:
        return ""
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


def _activity(entry) -> str:
    parts = []
    if entry.course is not None:
        parts.append(entry.course.title)
    if entry.placement is not None:
        parts.append(entry.placement.title or entry.placement.lti_id)
    return " — ".join(parts)


def decorate_entry(entry):
    entry.kind_label = entry.get_kind_display()
    if entry.is_test:  # an editor's test launch (launch/test_launch.py), or a provider check
        entry.kind_label = _("%(kind)s (test)") % {"kind": entry.kind_label}
    entry.outcome_label = entry.get_outcome_display()
    entry.provider_name = entry.provider.name if entry.provider is not None else ""
    shows_details = getattr(entry, "shows_details", False)
    entry.person = _person(entry) if shows_details else ""
    entry.activity = _activity(entry) if shows_details else ""
    return entry


class LaunchLogFilterSet(WagtailFilterSet):
    provider = django_filters.ModelChoiceFilter(
        label=_("LTI provider"),
        queryset=lambda request: scoping.usable_by_any_managed(
            LtiProvider.objects.all(), request.user
        ).order_by("name"),
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=LaunchLogEntry.Kind.choices)
    outcome = django_filters.ChoiceFilter(
        label=_("Outcome"), choices=LaunchLogEntry.Outcome.choices
    )
    created_at = django_filters.DateFromToRangeFilter(label=_("Date"))
    is_test = django_filters.BooleanFilter(label=_("Editors' test launches and checks"))

    class Meta:
        model = LaunchLogEntry
        fields = ["provider", "kind", "outcome", "created_at", "is_test"]


def _detail_url(entry) -> str:
    return reverse("wagtail_lti_launch_log_entry", args=[entry.pk])


class LaunchLogView(ReportView):
    page_title = _("LTI launch log")
    header_icon = "list-ul"
    index_url_name = "wagtail_lti_launch_log"
    index_results_url_name = "wagtail_lti_launch_log_results"
    filterset_class = LaunchLogFilterSet
    is_searchable = True
    search_fields = ["action", "error", "user__username", "provider__name"]
    search_backend_name = None
    default_ordering = "-created_at"
    paginate_by = 50
    permission_policy = permission_policy
    any_permission_required = REQUIRED
    columns = [
        TitleColumn("kind_label", label=_("Kind"), get_url=_detail_url, sort_key="kind"),
        DateColumn("created_at", label=_("Date"), sort_key="created_at"),
        StatusTagColumn(
            "outcome_label",
            label=_("Outcome"),
            primary=lambda entry: entry.outcome == LaunchLogEntry.Outcome.OK,
            sort_key="outcome",
        ),
        Column("provider_name", label=_("LTI provider"), sort_key="provider__name"),
        Column("person", label=_("User"), sort_key="user__username"),
        Column("activity", label=_("Course and activity")),
        Column("action", label=_("Action")),
        Column("error", label=_("Error")),
    ]
    list_export = [
        "created_at",
        "kind_label",
        "outcome_label",
        "http_status",
        "provider_name",
        "person",
        "activity",
        "action",
        "error",
    ]
    export_headings = {
        "created_at": _("Date"),
        "kind_label": _("Kind"),
        "outcome_label": _("Outcome"),
        "http_status": _("HTTP status"),
        "provider_name": _("LTI provider"),
        "person": _("User"),
        "activity": _("Course and activity"),
        "action": _("Action"),
        "error": _("Error"),
    }

    def get_filename(self):
        return "lti-launch-log"

    def get_base_queryset(self):
        return entries_for(self.request.user)

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        text = self.search_query
        # The person's username is searched only where the editor may see the person.
        return queryset.filter(
            Q(action__icontains=text)
            | Q(error__icontains=text)
            | Q(provider__name__icontains=text)
            | (Q(user__username__icontains=text) & scoping.launch_log_details_q(self.request.user))
        )

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        return queryset.order_by(*queryset.query.order_by, "-pk")

    def decorate_paginated_queryset(self, object_list):
        for entry in object_list:
            decorate_entry(entry)
        return object_list


class LaunchLogEntryView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """One entry, with its debug data (parameters or claims sent) when there is any."""

    template_name = "wagtail_lti/admin/launch_log_entry.html"
    permission_policy = permission_policy
    any_permission_required = REQUIRED
    page_title = _("LTI launch log entry")
    header_icon = "list-ul"

    def get_object(self):
        entry = get_object_or_404(entries_for(self.request.user), pk=self.kwargs["pk"])
        return decorate_entry(entry)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("wagtail_lti_launch_log"), "label": _("LTI launch log")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        self.object = self.get_object()
        context = super().get_context_data(**kwargs)
        entry = self.object
        debug = None
        # What was sent holds the person's data: shown with the person only.
        if entry.debug_data and entry.shows_details:
            debug = entry.debug_data
        context.update(
            {
                "entry": entry,
                # What the tool said on the return URL: the person's, shown with the person only.
                "tool_messages": sorted((entry.tool_messages or {}).items())
                if entry.shows_details
                else [],
                "debug": debug,
                "debug_json": json.dumps(debug, indent=2, ensure_ascii=False) if debug else "",
            }
        )
        return context


@hooks.register("register_admin_urls")
def register_launch_log_urls():
    return [
        path("reports/lti-launch-log/", LaunchLogView.as_view(), name="wagtail_lti_launch_log"),
        path(
            "reports/lti-launch-log/results/",
            LaunchLogView.as_view(results_only=True),
            name="wagtail_lti_launch_log_results",
        ),
        path(
            "reports/lti-launch-log/<int:pk>/",
            LaunchLogEntryView.as_view(),
            name="wagtail_lti_launch_log_entry",
        ),
    ]


class LaunchLogMenuItem(MenuItem):
    def is_shown(self, request):
        return permission_policy.user_has_any_permission(request.user, REQUIRED)


@hooks.register("register_reports_menu_item")
def register_launch_log_menu_item():
    return LaunchLogMenuItem(
        _("LTI launch log"),
        reverse("wagtail_lti_launch_log"),
        name="lti-launch-log",
        icon_name="list-ul",
        order=1510,
    )
