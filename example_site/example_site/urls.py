from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_lti import urls as wagtail_lti_urls


urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("lti/", include(wagtail_lti_urls)),
    path("demo-tool/", include("demo_tool.urls")),
    # Files a tool returns into a page are kept as Wagtail documents, served from here.
    path("documents/", include(wagtaildocs_urls)),
    path("", include(wagtail_urls)),
]
