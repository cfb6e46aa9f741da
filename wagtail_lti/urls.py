"""Public (learner- and tool-facing) URLs of wagtail-lti. Include them under a prefix, e.g. ``lti/``.

The LTI 1.3 endpoint URLs are fixed here so editors can copy them into tools.
"""

from django.urls import path

from .views import outcomes, platform


app_name = "wagtail_lti"

urlpatterns = [
    # LTI 1.3 platform endpoints (see docs/tool-vendors.md).
    path("1.3/authorize/", platform.authorize, name="lti13_authorize"),
    path("1.3/token/", platform.token, name="lti13_token"),
    path("1.3/jwks/", platform.jwks, name="lti13_jwks"),
    # LTI 1.1 Basic Outcomes (lis_outcome_service_url).
    path("1.1/outcomes/", outcomes.lti11_outcomes, name="lti11_outcomes"),
]
