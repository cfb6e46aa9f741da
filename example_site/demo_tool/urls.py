"""The demo tool: a real LTI tool served by the example site, apart from the plugin.

Mounted at ``demo-tool/``. Register it with a platform using:

- LTI 1.1 launch URL: ``/demo-tool/1.1/launch/``
- LTI 1.3 OIDC login URL: ``/demo-tool/1.3/login/``; target link and redirect URI:
  ``/demo-tool/1.3/launch/`` (also answers Deep Linking requests); public keyset:
  ``/demo-tool/1.3/jwks/``
- LTI 1.1 Content-Item (content selection) URL: ``/demo-tool/1.1/content-item/``
- LTI Dynamic Registration (initiation) URL: ``/demo-tool/register/``
- Content the picker offers for pages (a page, an image, a text file): ``/demo-tool/content/<id>/``
"""

from django.urls import path

from . import views


app_name = "demo_tool"
urlpatterns = [
    path("", views.index, name="index"),
    path("1.1/launch/", views.lti11_launch, name="lti11_launch"),
    path("1.1/score/", views.lti11_score, name="lti11_score"),
    path("1.3/login/", views.lti13_login, name="lti13_login"),
    path("1.3/launch/", views.lti13_launch, name="lti13_launch"),
    path("1.3/score/", views.lti13_score, name="lti13_score"),
    path("1.3/jwks/", views.lti13_jwks, name="lti13_jwks"),
    path("1.3/deep-link/", views.lti13_deep_link, name="lti13_deep_link"),
    path("1.1/content-item/", views.lti11_content_item, name="lti11_content_item"),
    path(
        "1.1/content-item/answer/",
        views.lti11_content_item_respond,
        name="lti11_content_item_respond",
    ),
    path("register/", views.register, name="register"),
    path("content/<slug:item_id>/", views.content, name="content"),
]
