"""Public (learner- and tool-facing) URLs of wagtail-lti. Include them under a prefix, e.g. ``lti/``.

The LTI 1.3 endpoint URLs are fixed here so editors can copy them into tools.
"""

from django.urls import path

from .views import ags, launch, outcomes, platform, services


app_name = "wagtail_lti"

urlpatterns = [
    # LTI 1.3 platform endpoints (see docs/tool-vendors.md).
    path("1.3/authorize/", platform.authorize, name="lti13_authorize"),
    path("1.3/token/", services.token, name="lti13_token"),
    path("1.3/jwks/", services.jwks, name="lti13_jwks"),
    # LTI 1.3 Assignment and Grade Services, per course and tool deployment (views/ags.py).
    path("1.3/ags/<int:course_id>/<int:provider_id>/lineitems/", ags.lineitems, name="ags_lineitems"),
    path(
        "1.3/ags/<int:course_id>/<int:provider_id>/lineitems/<int:line_item_id>/",
        ags.lineitem,
        name="ags_lineitem",
    ),
    path(
        "1.3/ags/<int:course_id>/<int:provider_id>/lineitems/<int:line_item_id>/scores/",
        ags.scores,
        name="ags_scores",
    ),
    path(
        "1.3/ags/<int:course_id>/<int:provider_id>/lineitems/<int:line_item_id>/results/",
        ags.results_view,
        name="ags_results",
    ),
    # LTI 1.1 Basic Outcomes (lis_outcome_service_url).
    path("1.1/outcomes/", outcomes.lti11_outcomes, name="lti11_outcomes"),
    # Course activities: the learner's launch of a placement, and the tool's return URL.
    path("launch/<str:placement_id>/", launch.launch, name="launch"),
    path("launch/<str:placement_id>/return/", launch.launch_return, name="launch_return"),
]
