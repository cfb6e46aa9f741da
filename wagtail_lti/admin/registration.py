"""Admin: "Register a tool by URL" (LTI Dynamic Registration) and the review of what it created.

* ``wagtail_lti_register_tool`` (``<admin>/lti/register-tool/``): the editor pastes the tool's
  registration URL and picks an organization they manage; the next page opens the tool in a frame
  (or, by a button, in a new tab, as D2L does) with ``openid_configuration`` and a single-use
  ``registration_token``. The page is served with ``Cross-Origin-Opener-Policy:
  same-origin-allow-popups`` so a tool in a new tab keeps ``window.opener``. When the tool posts
  ``{subject: "org.imsglobal.lti.close"}``, or when ``wagtail_lti_register_tool_status``
  (``<admin>/lti/register-tool/<pk>/status/``, polled by the page) says the tool has registered
  (a tool that severs ``window.opener`` cannot send its message), the page moves on to
* ``wagtail_lti_register_tool_done`` (``<admin>/lti/register-tool/<pk>/``): the new provider's
  edit form (disabled until the editor enables it), or a note that the tool has not registered.

Where editors find it: a header button on the LTI providers listing. The provider edit form shows
what the tool asked for (:class:`RegistrationReviewPanel`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.panels import Panel
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from .. import scoping
from ..forms import IndentedOrganizationChoiceField
from ..lti import scopes as lti_scopes
from ..models import LtiProvider, Organization, ToolRegistration
from ..registration import service


START_URL_NAME = "wagtail_lti_register_tool"
DONE_URL_NAME = "wagtail_lti_register_tool_done"
STATUS_URL_NAME = "wagtail_lti_register_tool_status"
OPENER_POLICY = "same-origin-allow-popups"
#: How often the waiting page asks whether the tool has registered (milliseconds).
POLL_INTERVAL_MS = 2000


class RegisterToolForm(forms.Form):
    tool_url = forms.CharField(
        label=gettext_lazy("Registration URL"),
        max_length=1024,
        help_text=gettext_lazy(
            "The tool's dynamic registration (initiation) URL, from the tool's documentation or "
            "its vendor: an https URL."
        ),
    )
    organization = IndentedOrganizationChoiceField(
        queryset=Organization.objects.none(),
        label=gettext_lazy("Organization"),
        help_text=gettext_lazy("The new LTI provider will belong to this organization."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = scoping.managed_organizations(user).order_by("path")
        self.fields["organization"].error_messages["invalid_choice"] = _(
            "Choose an organization you manage."
        )


def _breadcrumbs(current: str) -> list[dict]:
    return [
        {"url": reverse("wagtailadmin_home"), "label": _("Home")},
        {
            "url": reverse(LtiProvider.snippet_viewset.get_url_name("list")),
            "label": _("LTI providers"),
        },
        {"url": "", "label": current},
    ]


class RegisterToolView(WagtailAdminTemplateMixin, FormView):
    template_name = "wagtail_lti/admin/registration/start.html"
    form_class = RegisterToolForm
    header_icon = "link-external"

    def get_page_title(self):
        return _("Register a tool by URL")

    def get_breadcrumbs_items(self):
        return _breadcrumbs(self.get_page_title())

    def dispatch(self, request, *args, **kwargs):
        if not service.may_register(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        first = scoping.first_managed_organization(self.request.user)
        return {"organization": first.pk} if first is not None else {}

    def form_valid(self, form):
        try:
            record, url = service.start(
                self.request, form.cleaned_data["organization"], form.cleaned_data["tool_url"]
            )
        except service.RegistrationRefused as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        parts = urlsplit(record.tool_url)
        context = self.get_context_data(form=form)
        context.update(
            {
                "registration": record,
                "tool_frame_url": url,
                "tool_origin": f"{parts.scheme}://{parts.netloc}",
                "done_url": reverse(DONE_URL_NAME, args=[record.pk]),
                "status_url": reverse(STATUS_URL_NAME, args=[record.pk]),
                "poll_interval": POLL_INTERVAL_MS,
            }
        )
        response = self.response_class(
            request=self.request,
            template=["wagtail_lti/admin/registration/in_progress.html"],
            context=context,
        )
        # The page shows the registration token (in the frame's URL): keep it out of caches.
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        # The tool may be opened in a new tab: keep that tab's window.opener, so the tool's close
        # message can reach this page (Django's default "same-origin" would sever it).
        response["Cross-Origin-Opener-Policy"] = OPENER_POLICY
        return response


class RegistrationDoneView(WagtailAdminTemplateMixin, TemplateView):
    """After the tool's close message: the new provider's review, or "not registered yet"."""

    template_name = "wagtail_lti/admin/registration/not_registered.html"
    header_icon = "link-external"

    def get_page_title(self):
        return _("Register a tool by URL")

    def get_breadcrumbs_items(self):
        return _breadcrumbs(self.get_page_title())

    @cached_property
    def registration(self) -> ToolRegistration:
        record = service.editor_registration(self.request.user, self.kwargs["pk"])
        if record is None:
            raise Http404
        return record

    def get(self, request, *args, **kwargs):
        if not service.may_register(request.user):
            raise PermissionDenied
        record = self.registration
        provider = record.provider
        if provider is not None and scoping.user_manages(request.user, provider.organization):
            if not provider.is_enabled:
                messages.warning(
                    request,
                    _(
                        "“%(provider)s” registered itself. Review the services and the personal "
                        "data it may receive, then tick “Enabled” and save."
                    )
                    % {"provider": provider},
                )
            return redirect(LtiProvider.snippet_viewset.get_url_name("edit"), provider.pk)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["registration"] = self.registration
        context["again_url"] = reverse(START_URL_NAME)
        return context


@never_cache
def registration_status(request, pk: int) -> JsonResponse:
    """Where the editor's registration ``pk`` is, for the waiting page: ``{"state": "waiting" |
    "registered" | "expired"}`` (404 for a registration of another editor). The page moves on
    when the tool has registered even if its close message cannot arrive (a tool in a new tab
    that severs ``window.opener``)."""
    if not service.may_register(request.user):
        raise PermissionDenied
    record = service.editor_registration(request.user, pk)
    if record is None:
        raise Http404
    return JsonResponse({"state": service.registration_state(record)})


# --- The review on the provider's edit form ----------------------------------------------------


SCOPE_LABELS = {
    lti_scopes.AGS_LINEITEM: gettext_lazy("Manage line items (grade columns)"),
    lti_scopes.AGS_LINEITEM_READONLY: gettext_lazy("Read line items"),
    lti_scopes.AGS_RESULT_READONLY: gettext_lazy("Read results"),
    lti_scopes.AGS_SCORE: gettext_lazy("Send scores"),
    lti_scopes.NRPS_CONTEXT_MEMBERSHIP_READONLY: gettext_lazy("Read course rosters"),
}


def registration_of(provider: LtiProvider | None) -> ToolRegistration | None:
    if provider is None or not provider.pk:
        return None
    return ToolRegistration.objects.filter(provider=provider).order_by("-pk").first()


class RegistrationReviewPanel(Panel):
    """For a provider that registered itself: what it asked for, and whether it is enabled yet."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/registration_review.html"

        def is_shown(self):
            return registration_of(self.instance) is not None

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            record = registration_of(self.instance)
            requested = record.requested if record is not None else {}
            context.update(
                {
                    "registration": record,
                    "provider": self.instance,
                    "scopes": [SCOPE_LABELS.get(s, s) for s in requested.get("scope", [])],
                    "claims": requested.get("claims", []),
                    "tool_description": requested.get("description", ""),
                }
            )
            return context


# --- Entry points ---------------------------------------------------------------------------------


def register_tool_header_button(user) -> HeaderButton | None:
    """The "Register a tool by URL" button of the LTI providers listing."""
    if not service.may_register(user):
        return None
    return HeaderButton(
        _("Register a tool by URL"), url=reverse(START_URL_NAME), icon_name="plus", priority=20
    )


@hooks.register("register_admin_urls")
def register_registration_urls():
    return [
        path("lti/register-tool/", RegisterToolView.as_view(), name=START_URL_NAME),
        path("lti/register-tool/<int:pk>/", RegistrationDoneView.as_view(), name=DONE_URL_NAME),
        path("lti/register-tool/<int:pk>/status/", registration_status, name=STATUS_URL_NAME),
    ]
