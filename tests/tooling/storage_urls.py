"""Test-only URLconf: the example site plus the platform storage test tool at ``/storage-tool/``."""

from django.urls import include, path

from example_site.urls import urlpatterns as site_urlpatterns

from . import storage_tool


urlpatterns = [path("storage-tool/", include(storage_tool)), *site_urlpatterns]
