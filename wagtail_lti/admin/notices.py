"""Platform notices in the admin: a provider's handlers and deliveries, and a test notice.

``admin/lti/providers/<pk>/notices/``: for whoever may edit the provider. GET shows the handlers
the tool registered and its latest notices (status, attempts, the last error, the tool's
answer); POST queues an ``LtiHelloWorldNotice`` (``services/notices.send_hello_world``) and
comes back here. The editor's request never waits for the tool: the worker sends it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.panels import Panel
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..models import LtiProvider, NoticeDelivery
from ..services import notices as service
from .scoped import policy_for


URL_NAME = "wagtail_lti_provider_notices"
SHOWN = 20


def may_manage(user, provider: LtiProvider) -> bool:
    """Whether ``user`` may see the provider's notices and send it a test notice: whoever may
    edit the provider."""
    policy = policy_for(LtiProvider)
    return policy.in_scope(user, provider) and policy.user_has_permission_for_instance(
        user, "change", provider
    )


class ProviderPageView(WagtailAdminTemplateMixin, TemplateView):
    """An admin page about one provider (``<pk>`` in its URL), for whoever may edit it
    (:func:`may_manage`; 404 for anyone else), under the provider's breadcrumbs. The notices page
    and the provider check (``admin/test_launch.py``) are two."""

    header_icon = "link-external"

    def dispatch(self, request, pk, *args, **kwargs):
        self.provider = get_object_or_404(LtiProvider, pk=pk)
        if not may_manage(request.user, self.provider):
            raise Http404
        return super().dispatch(request, pk, *args, **kwargs)

    def get_page_subtitle(self):
        return self.provider.name

    def get_breadcrumbs_items(self):
        viewset = LtiProvider.snippet_viewset
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": reverse(viewset.get_url_name("list")), "label": _("LTI providers")},
            {
                "url": reverse(viewset.get_url_name("edit"), args=[self.provider.pk]),
                "label": self.provider.name,
            },
            {"url": "", "label": self.get_page_title()},
        ]


class ProviderNoticesView(ProviderPageView):
    template_name = "wagtail_lti/admin/notices/provider.html"

    def get_page_title(self):
        return _("Platform notices")

    def post(self, request, pk, *args, **kwargs):
        delivery = service.send_hello_world(request, self.provider)
        if delivery is None:
            messages.error(
                request,
                _(
                    "No test notice was sent: the tool has not registered a handler for "
                    "LtiHelloWorldNotice, or it is not an enabled LTI 1.3 tool."
                ),
            )
        else:
            messages.success(
                request,
                _("A test notice (LtiHelloWorldNotice) is on its way to %(url)s.")
                % {"url": delivery.handler_url},
            )
        return redirect(URL_NAME, pk=self.provider.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        handlers = service.handlers_of(self.provider)
        context.update(
            {
                "provider": self.provider,
                "may_use": service.may_use(self.provider),
                "handlers": sorted(handlers.items()),
                "has_hello_world": "LtiHelloWorldNotice" in handlers,
                "deliveries": NoticeDelivery.objects.filter(provider=self.provider)
                .select_related("course")
                .order_by("-created_at", "-pk")[:SHOWN],
            }
        )
        return context


class NoticesPanel(Panel):
    """On an LTI 1.3 provider's edit form: its notice handlers and a link to its notices."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/notices.html"

        def is_shown(self):
            return bool(getattr(self.instance, "pk", None))

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["handlers"] = sorted(service.handlers_of(self.instance).items())
            context["notices_url"] = reverse(URL_NAME, args=[self.instance.pk])
            return context


@hooks.register("register_admin_urls")
def register_notice_urls():
    return [
        path("lti/providers/<int:pk>/notices/", ProviderNoticesView.as_view(), name=URL_NAME),
    ]
