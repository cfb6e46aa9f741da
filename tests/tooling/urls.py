"""Test-only URLconf: the example site plus the PyLTI1p3 test tool at ``/test-tool/`` and the
LTI 1.1 test tool (the ``lti`` package) at ``/test-tool-11/``.

Browser tests switch to it with ``settings.ROOT_URLCONF = "tests.tooling.urls"``.
"""

from django.urls import include, path

from example_site.urls import urlpatterns as site_urlpatterns

from . import lti11_tool, lti13_tool


urlpatterns = [
    path("test-tool/", include(lti13_tool)),
    path("test-tool-11/", include(lti11_tool)),
    *site_urlpatterns,
]
