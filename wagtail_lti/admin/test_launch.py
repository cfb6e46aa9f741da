"""Trying a tool in the admin: an editor's test launch, and a provider's check.

* ``admin/lti/test-launch/?placement=…|link=…|provider=…&role=instructor|learner``: the test
  launch page. A banner says who the tool sees and that nothing counts in learners' results; a
  frame loads the launch itself (``wagtail_lti:test_launch``, ``launch/views.py``). Who may
  is ``launch/test_launch.py: check_may_test_launch``; a record the editor may not see is 404.
  The doors: the "Try the tool" panel of a provider's and a resource link's edit form, and the
  activity blocks of a course page and its preview, for the course's editors
  (``courses/view.py``).
* ``admin/lti/providers/<pk>/check/``: the provider check (``launch/provider_check.py``), for
  whoever may edit the provider; POST runs it and shows the report.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.panels import Panel
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..conf import lti_settings
from ..launch import test_launch as service
from ..launch.rules import LaunchRefused
from ..models import LtiProvider, LtiResourceLink
from .notices import ProviderPageView


URL_NAME = "wagtail_lti_test_launch"
CHECK_URL_NAME = "wagtail_lti_provider_check"


def test_launch_url(query: dict, role: str) -> str:
    """The admin's test launch page of the target named by ``query`` (``TestTarget.query``)."""
    return f"{reverse(URL_NAME)}?{urlencode({**query, 'role': role})}"


test_launch_url.__test__ = False


class TestLaunchView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_lti/admin/test_launch.html"
    header_icon = "link-external"

    def dispatch(self, request, *args, **kwargs):
        self.refused = None
        try:
            self.test = service.find_target(request.GET)
            self.role = service.role_of(request.GET)
            service.check_may_test_launch(request.user, self.test)
        except LaunchRefused as refused:
            if refused.status == 404 or not hasattr(self, "test"):
                raise Http404 from refused
            self.refused = refused
            self.role = service.INSTRUCTOR
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Test launch")

    def get_page_subtitle(self):
        return self.test.title

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse("wagtailadmin_home"), "label": _("Home")},
            {"url": "", "label": _("Test launch of “%(title)s”") % {"title": self.test.title}},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.test.query()
        course = self.test.course
        context.update(
            {
                "test": self.test,
                "refused": self.refused,
                "role": self.role,
                "role_label": service.role_label(self.role),
                "course_title": course.title if course is not None else "",
                "frame_url": f"{reverse('wagtail_lti:test_launch')}?"
                + urlencode({**query, "role": self.role}),
                "frame_height": lti_settings.IFRAME_HEIGHT,
                "roles": [
                    (role, str(label), test_launch_url(query, role), role == self.role)
                    for role, label in service.ROLES.items()
                ],
            }
        )
        return context


class TryToolPanel(Panel):
    """On a provider's and a resource link's edit form: test launches (and the provider check)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_lti/admin/panels/try_tool.html"

        def is_shown(self):
            return bool(getattr(self.instance, "pk", None))

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance
            if isinstance(instance, LtiResourceLink):
                query = {"link": str(instance.pk)}
            else:
                query = {"provider": str(instance.pk)}
                context["check_url"] = reverse(CHECK_URL_NAME, args=[instance.pk])
            context["launch_urls"] = [
                (str(label), test_launch_url(query, role)) for role, label in service.ROLES.items()
            ]
            return context


class ProviderCheckView(ProviderPageView):
    template_name = "wagtail_lti/admin/provider_check.html"

    def dispatch(self, request, pk, *args, **kwargs):
        self.report = None
        return super().dispatch(request, pk, *args, **kwargs)

    def get_page_title(self):
        return _("Check the tool's set-up")

    def post(self, request, pk, *args, **kwargs):
        from ..launch.provider_check import check_provider

        self.report = check_provider(request, self.provider)
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "provider": self.provider,
                "report": self.report,
                "edit_url": reverse(
                    LtiProvider.snippet_viewset.get_url_name("edit"), args=[self.provider.pk]
                ),
            }
        )
        return context


@hooks.register("register_admin_urls")
def register_test_launch_urls():
    return [
        path("lti/test-launch/", TestLaunchView.as_view(), name=URL_NAME),
        path("lti/providers/<int:pk>/check/", ProviderCheckView.as_view(), name=CHECK_URL_NAME),
    ]


TestLaunchView.__test__ = False
