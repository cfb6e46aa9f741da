"""Public (learner- and tool-facing) URLs of wagtail-lti. Include them under a prefix, e.g. ``lti/``.

The LTI 1.3 endpoint URLs are fixed here so editors can copy them into tools.
"""

from django.urls import path, re_path

from .content_selection import views as content_selection
from .courses import class_views
from .courses import views as courses
from .launch import views as launch
from .registration import views as registration
from .services.views import ags, notices, nrps, outcomes, token


app_name = "wagtail_lti"

AGS = r"^1\.3/ags/(?P<course_id>[0-9]+)/(?P<provider_id>[0-9]+)/"

urlpatterns = [
    # LTI 1.3 platform endpoints (see docs/tool-vendors.md).
    path("1.3/authorize/", launch.authorize, name="lti13_authorize"),
    path("1.3/token/", token.token, name="lti13_token"),
    path("1.3/jwks/", token.jwks, name="lti13_jwks"),
    # LTI Dynamic Registration: the platform's OpenID configuration and registration endpoint.
    path(
        "1.3/.well-known/openid-configuration",
        registration.openid_configuration,
        name="lti13_openid_configuration",
    ),
    path("1.3/register/", registration.register, name="lti13_register"),
    # LTI 1.3 Assignment and Grade Services, per course and tool deployment (services/views/ags.py).
    # Line item ids carry no trailing slash, so "<id>/scores" and "<id>/results" (AGS §3.3.1,
    # §3.4.1) are plain paths; every route also accepts a trailing slash, without a redirect.
    re_path(AGS + r"lineitems/?$", ags.lineitems, name="ags_lineitems"),
    re_path(AGS + r"lineitems/(?P<line_item_id>[0-9]+)/?$", ags.lineitem, name="ags_lineitem"),
    re_path(AGS + r"lineitems/(?P<line_item_id>[0-9]+)/scores/?$", ags.scores, name="ags_scores"),
    re_path(
        AGS + r"lineitems/(?P<line_item_id>[0-9]+)/results/?$", ags.results_view, name="ags_results"
    ),
    # Editors selecting content from a tool: the tool's answer (content_selection/views.py).
    path(
        "1.3/deep-linking/return/",
        content_selection.deep_linking_return,
        name="lti13_deep_linking_return",
    ),
    path(
        "1.1/content-item/return/",
        content_selection.content_item_return,
        name="lti11_content_item_return",
    ),
    # LTI 1.3 Names and Role Provisioning Services, per course and tool deployment (services/views/nrps.py).
    re_path(
        r"^1\.3/nrps/(?P<course_id>[0-9]+)/(?P<provider_id>[0-9]+)/memberships/?$",
        nrps.memberships,
        name="nrps_memberships",
    ),
    # LTI Platform Notification Service: a tool deployment's notice handlers (services/views/notices.py).
    re_path(r"^1\.3/pns/(?P<provider_id>[0-9]+)/?$", notices.handlers, name="pns_handlers"),
    # LTI 1.1 Basic Outcomes (lis_outcome_service_url).
    path("1.1/outcomes/", outcomes.lti11_outcomes, name="lti11_outcomes"),
    # Course activities: the learner's launch of a placement, and the tool's return URL.
    path("launch/<str:placement_id>/", launch.launch, name="launch"),
    path("launch/<str:placement_id>/return/", launch.launch_return, name="launch_return"),
    # Submission Review 1.0: an instructor, an editor or the learner reviews a submission.
    path("review/<str:result_id>/", launch.review_submission, name="review_submission"),
    # A course page's activities: the learner's own status and scores, without a reload.
    path("course/<int:page_id>/status/", courses.course_status, name="course_status"),
    # A course's class (its instructors, and editors of its organization): the grid and its
    # export (``?export=csv`` / ``xlsx``), one learner's result on one activity and its override.
    path("class/<int:course_id>/", class_views.class_view, name="class_view"),
    path(
        "class/<int:course_id>/<int:placement_id>/<int:learner_id>/",
        class_views.class_cell,
        name="class_cell",
    ),
    # An editor's test launch (launch/test_launch.py) and its return URL.
    path("test-launch/", launch.test_launch, name="test_launch"),
    path("test-launch/return/", launch.test_launch_return, name="test_launch_return"),
    # A learner enrolling in a course that allows it (courses/enrollments.py).
    path("courses/<int:page_id>/enroll/", courses.self_enroll, name="self_enroll"),
]
