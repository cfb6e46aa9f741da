"""Admin: "Add resource links from a tool" (LTI 1.3 Deep Linking, LTI 1.1 Content-Item).

Where editors find it: a header button on the LTI resource links listing, and an action on each
row of the LTI providers listing (which opens the form with that provider chosen).

* ``wagtail_lti_select_content`` (``<admin>/lti/select-content/``, ``?provider=<pk>``): the editor
  chooses a provider their organizations may use and the organization (one they manage) that will
  own the new links; the view records the selection and sends the browser to the tool;
* ``wagtail_lti_select_content_result`` (``<admin>/lti/select-content/<pk>/``): what the tool's
  answer added, with links to edit each new resource link, and the tool's messages.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button, HeaderButton

from .. import scoping
from ..content_selection import service
from ..forms import IndentedOrganizationChoiceField
from ..models import ContentSelection, LtiProvider, LtiResourceLink, Organization


START_URL_NAME = "wagtail_lti_select_content"
RESULT_URL_NAME = "wagtail_lti_select_content_result"


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: LtiProvider) -> str:
        return obj.label_with_version()


class SelectContentForm(forms.Form):
    provider = ProviderChoiceField(
        queryset=LtiProvider.objects.none(),
        label=gettext_lazy("LTI provider"),
        help_text=gettext_lazy(
            "The tool to choose content in. LTI 1.3 tools are opened with a Deep Linking request, "
            "LTI 1.1 tools with a Content-Item request."
        ),
    )
    organization = IndentedOrganizationChoiceField(
        queryset=Organization.objects.none(),
        label=gettext_lazy("Organization"),
        help_text=gettext_lazy(
            "The new resource links will belong to this organization; it must be allowed to use "
            "the provider."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        providers = scoping.choosable(LtiProvider.objects.all(), user).order_by("name")
        self.fields["provider"].queryset = providers
        self.fields["provider"].error_messages["invalid_choice"] = _(
            "Choose an LTI provider that an organization you manage may use."
        )
        organizations = scoping.managed_organizations(user).order_by("path")
        self.fields["organization"].queryset = organizations
        self.fields["organization"].error_messages["invalid_choice"] = _(
            "Choose an organization you manage."
        )

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider")
        organization = cleaned.get("organization")
        if provider is not None and organization is not None:
            try:
                service.check_can_select(self.user, provider, organization)
            except service.SelectionRefused as exc:
                raise forms.ValidationError(exc.message) from None
        return cleaned


def _breadcrumbs(current: str) -> list[dict]:
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {
            "url": reverse(LtiResourceLink.snippet_viewset.get_url_name("list")),
            "label": _("LTI resource links"),
        },
        {"url": "", "label": current},
    ]


class SelectContentView(WagtailAdminTemplateMixin, FormView):
    """Choose a tool and an organization, then go to the tool."""

    template_name = "wagtail_lti/admin/content_selection/start.html"
    form_class = SelectContentForm
    header_icon = "link"

    def get_page_title(self):
        return _("Add resource links from a tool")

    def get_breadcrumbs_items(self):
        return _breadcrumbs(self.get_page_title())

    def dispatch(self, request, *args, **kwargs):
        if not service.may_add_links(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("provider", "")
        if raw.isdigit():
            initial["provider"] = int(raw)
            provider = (
                scoping.choosable(LtiProvider.objects.all(), self.request.user)
                .filter(pk=int(raw))
                .first()
            )
            if provider is not None:
                # The first managed organization that may use it.
                for organization in scoping.managed_organizations(self.request.user).order_by(
                    "path"
                ):
                    if scoping.is_usable_by(provider, organization):
                        initial["organization"] = organization.pk
                        break
        if "organization" not in initial:
            first = scoping.first_managed_organization(self.request.user)
            if first is not None:
                initial["organization"] = first.pk
        return initial

    def form_valid(self, form):
        from ..content_selection.service import start_content_item, start_deep_linking

        provider = form.cleaned_data["provider"]
        organization = form.cleaned_data["organization"]
        try:
            selection, data = service.start(self.request, provider, organization)
            start = start_deep_linking if provider.is_lti13 else start_content_item
            return start(
                self.request,
                selection,
                data,
                title=_("Add resource links for %(organization)s") % {"organization": organization},
                text=_(
                    "Choose the content to add. Each item becomes an LTI resource link of "
                    "%(organization)s."
                )
                % {"organization": organization},
            )
        except service.SelectionRefused as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)


class SelectContentResultView(WagtailAdminTemplateMixin, TemplateView):
    """What a tool's answer added."""

    template_name = "wagtail_lti/admin/content_selection/result.html"
    header_icon = "link"

    def get_page_title(self):
        return _("Resource links added from %(tool)s") % {"tool": self.selection.provider.name}

    def get_breadcrumbs_items(self):
        return _breadcrumbs(self.get_page_title())

    @cached_property
    def selection(self) -> ContentSelection:
        selection = (
            ContentSelection.objects.select_related("provider", "organization")
            .filter(pk=self.kwargs["pk"], user=self.request.user, used_at__isnull=False)
            .first()
        )
        if selection is None:
            raise Http404
        return selection

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        selection = self.selection
        links = scoping.owned_by_managed(
            LtiResourceLink.objects.filter(pk__in=selection.created_link_ids), self.request.user
        ).order_by("pk")
        edit_url_name = LtiResourceLink.snippet_viewset.get_url_name("edit")
        context.update(
            {
                "selection": selection,
                "links": [
                    {"link": link, "edit_url": reverse(edit_url_name, args=[link.pk])}
                    for link in links
                ],
                "list_url": reverse(LtiResourceLink.snippet_viewset.get_url_name("list")),
                "again_url": reverse(START_URL_NAME) + f"?provider={selection.provider_id}",
            }
        )
        return context


# --- Content for a page: "Insert from a tool" (rich text) and the "Tool content" block --------------

TOOL_CONTENT_URL_NAME = "wagtail_lti_tool_content"
TOOL_CONTENT_DONE_URL_NAME = "wagtail_lti_tool_content_done"
PAGE_PLACES = ("rich_text", "block")


class ToolContentView(SelectContentView):
    """Choose a tool for content in a page (opened in a window of its own by the rich-text
    control or the block); ``?place=rich_text|block&organization=<pk>`` (the page's)."""

    template_name = "wagtail_lti/admin/content_selection/tool_content_start.html"

    @cached_property
    def place(self) -> str:
        place = self.request.GET.get("place", "")
        return place if place in PAGE_PLACES else "rich_text"

    def get_page_title(self):
        return _("Insert content from a tool")

    def get_breadcrumbs_items(self):
        return []

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("organization", "")
        if raw.isdigit():
            initial["organization"] = int(raw)
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "place": self.place}

    def form_valid(self, form):
        from ..content_selection.service import start_content_item, start_deep_linking

        provider = form.cleaned_data["provider"]
        organization = form.cleaned_data["organization"]
        try:
            selection, data = service.start(self.request, provider, organization, place=self.place)
            start = start_deep_linking if provider.is_lti13 else start_content_item
            return start(
                self.request,
                selection,
                data,
                title=_("Content for a page of %(organization)s") % {"organization": organization},
                text=_("Choose the content to insert into the page."),
            )
        except service.SelectionRefused as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)


class ToolContentDoneView(SelectContentResultView):
    """What the tool returned for a page: handed to the editor's page (``postMessage`` to the
    window that opened this one, same origin only), then this window closes."""

    template_name = "wagtail_lti/admin/content_selection/tool_content_done.html"

    def get_page_title(self):
        return _("Content from %(tool)s") % {"tool": self.selection.provider.name}

    def get_breadcrumbs_items(self):
        return []

    def get_context_data(self, **kwargs):
        from ..content_selection.tool_content import preview
        from ..models import ToolContent

        context = super().get_context_data(**kwargs)
        contents = ToolContent.objects.filter(
            pk__in=self.selection.created_content_ids, created_by=self.request.user
        ).order_by("pk")
        items = [preview(content) for content in contents]
        context.update(
            {
                "items": items,
                "message": {
                    "type": "wagtail-lti-tool-content",
                    "place": self.selection.place,
                    "items": items,
                },
            }
        )
        return context


# --- Entry points ---------------------------------------------------------------------------------


def select_content_header_button(user) -> HeaderButton | None:
    """The "Add from a tool" button of the resource links listing, for editors who may add.

    Without an icon: with one, the header's buttons left too little room for the listing's title
    ("LTI resource links" was cut off at 1280 pixels)."""
    if not service.may_add_links(user):
        return None
    return HeaderButton(_("Add from a tool"), url=reverse(START_URL_NAME), priority=20)


@hooks.register("register_admin_urls")
def register_content_selection_urls():
    return [
        path("lti/select-content/", SelectContentView.as_view(), name=START_URL_NAME),
        path(
            "lti/select-content/<int:pk>/", SelectContentResultView.as_view(), name=RESULT_URL_NAME
        ),
        path("lti/tool-content/", ToolContentView.as_view(), name=TOOL_CONTENT_URL_NAME),
        path(
            "lti/tool-content/<int:pk>/",
            ToolContentDoneView.as_view(),
            name=TOOL_CONTENT_DONE_URL_NAME,
        ),
    ]


@hooks.register("register_snippet_listing_buttons")
def provider_select_content_button(snippet, user, next_url=None):
    if isinstance(snippet, LtiProvider) and service.may_add_links(user):
        yield Button(
            _("Add resource links from this tool"),
            url=reverse(START_URL_NAME) + f"?provider={snippet.pk}",
            icon_name="link",
            priority=30,
        )
