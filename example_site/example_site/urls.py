from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_lti import urls as wagtail_lti_urls


class FaviconView(RedirectView):
    """``/favicon.ico``: the site's icon (its static URL worked out per request)."""

    def get_redirect_url(self, *args, **kwargs):
        return static("example_site/favicon.svg")


urlpatterns = [
    # Browsers ask for /favicon.ico on every page that names no icon (the launch pages, the
    # demo tool): the site's icon, not a 404.
    path("favicon.ico", FaviconView.as_view()),
    path("admin/", include(wagtailadmin_urls)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lti/", include(wagtail_lti_urls)),
    path("demo-tool/", include("demo_tool.urls")),
    # Files a tool returns into a page are kept as Wagtail documents, served from here.
    path("documents/", include(wagtaildocs_urls)),
    path("", include(wagtail_urls)),
]
