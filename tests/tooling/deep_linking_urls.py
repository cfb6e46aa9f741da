"""Test-only URLconf: the example site plus the deep linking test tool at ``/dl-tool/``.

Browser tests of content selection switch to it with
``settings.ROOT_URLCONF = "tests.tooling.deep_linking_urls"``.
"""

from django.urls import include, path

from example_site.urls import urlpatterns as site_urlpatterns

from . import deep_linking_tool


urlpatterns = [
    path("dl-tool/", include(deep_linking_tool)),
    *site_urlpatterns,
]
