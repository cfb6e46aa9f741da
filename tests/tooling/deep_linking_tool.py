"""A small LTI 1.3 tool offering content through Deep Linking 2.0, built on PyLTI1p3 (tests only).

Served on the live server by ``tests/tooling/deep_linking_urls.py`` at ``/dl-tool/``:

* ``login/`` — OIDC login initiation (PyLTI1p3 ``DjangoOIDCLogin``);
* ``launch/`` — the redirect URI: PyLTI1p3 validates the ``LtiDeepLinkingRequest`` and the page
  lists the tool's catalogue with a checkbox per item;
* ``respond/`` — restores the launch from PyLTI1p3's cache and answers with
  ``get_deep_link().output_response_form(...)``: the auto-submitting form that posts the signed
  ``LtiDeepLinkingResponse`` to the platform's ``deep_link_return_url``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import requests
from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.tool_config import ToolConfDict


#: The tool's catalogue: (id, title, score maximum or None).
CATALOGUE = [
    ("fire-quiz", "Fire safety quiz", 10),
    ("first-aid", "First aid video", None),
    ("ladder", "Ladder safety checklist", None),
]


@dataclass
class ToolState:
    conf: ToolConfDict | None = None
    requests: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


STATE = ToolState()


def configure(conf: ToolConfDict) -> ToolState:
    STATE.conf = conf
    STATE.requests.clear()
    STATE.errors.clear()
    return STATE


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:sans-serif;margin:2rem'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status=status,
    )


@csrf_exempt
def login(request):
    oidc_login = DjangoOIDCLogin(request, STATE.conf, launch_data_storage=DjangoCacheDataStorage())
    return oidc_login.redirect(request.build_absolute_uri(reverse("dl_test_tool:launch")))


@csrf_exempt
def launch(request):
    try:
        message_launch = DjangoMessageLaunch(
            request,
            STATE.conf,
            launch_data_storage=DjangoCacheDataStorage(),
            requests_session=requests.Session(),
        )
        data = message_launch.get_launch_data()
    except Exception as exc:
        STATE.errors.append(f"launch: {exc}")
        return _page("Launch failed", f"<p id='tool-error'>{html.escape(str(exc))}</p>", 400)
    if not message_launch.is_deep_link_launch():
        return _page("Not a deep linking request", "<p id='tool-error'>Expected deep linking.</p>")
    STATE.requests.append(data)
    settings = data["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    rows = "".join(
        f"<li><label><input type='checkbox' name='item' value='{item_id}'> {html.escape(title)}"
        + (f" (graded out of {maximum})" if maximum else "")
        + "</label></li>"
        for item_id, title, maximum in CATALOGUE
    )
    return _page(
        "Demo content catalogue",
        f"<p id='tool-request'>{html.escape(settings.get('title', ''))}</p>"
        f"<form method='post' action='{reverse('dl_test_tool:respond')}'>"
        f"<input type='hidden' name='launch_id' value='{message_launch.get_launch_id()}'>"
        f"<ul style='list-style:none;padding:0'>{rows}</ul>"
        "<button type='submit' id='tool-add'>Add selected</button></form>",
    )


@csrf_exempt
def respond(request):
    message_launch = DjangoMessageLaunch.from_cache(
        request.POST["launch_id"],
        request,
        STATE.conf,
        launch_data_storage=DjangoCacheDataStorage(),
        requests_session=requests.Session(),
    )
    chosen = set(request.POST.getlist("item"))
    resources = []
    for item_id, title, maximum in CATALOGUE:
        if item_id not in chosen:
            continue
        resource = (
            DeepLinkResource()
            .set_title(title)
            .set_url(request.build_absolute_uri(f"/dl-tool/content/{item_id}/"))
            .set_custom_params({"item": item_id})
        )
        if maximum:
            resource.set_lineitem(LineItem().set_label(title).set_score_maximum(maximum))
        resources.append(resource)
    return HttpResponse(message_launch.get_deep_link().output_response_form(resources))


app_name = "dl_test_tool"
urlpatterns = [
    path("login/", login, name="login"),
    path("launch/", launch, name="launch"),
    path("respond/", respond, name="respond"),
]
