"""Test-only URLconf: the example site and the test tools of ``tests/tooling/urls.py``, plus the
dynamic registration test tool at ``/reg-tool/``.

Browser tests of "Register a tool by URL" switch to it with
``settings.ROOT_URLCONF = "tests.tooling.registration_urls"``.
"""

from django.urls import include, path

from . import registration_tool
from .urls import urlpatterns as tooling_urlpatterns


urlpatterns = [
    path("reg-tool/", include(registration_tool)),
    *tooling_urlpatterns,
]
