"""A test tool that keeps a value in the platform through LTI platform storage (postMessage).

Its login initiation URL records the parameters (``lti_storage_target`` among them) and lets
PyLTI1p3 answer with the registration of ``tests.tooling.lti13_tool`` (configure that tool
first); its launch page validates the id_token with PyLTI1p3, then runs a script that talks to
``window.parent`` as the LTI Client Side postMessages spec says (``lti.capabilities``,
``lti.put_data``, ``lti.get_data``, legacy names, an unsupported subject, an oversized value) and
writes every answer as JSON into ``#results``. ``probe/`` is the same script without a launch, for
pages that should be refused. Test-only.
"""

from __future__ import annotations

import html
import json

from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin

from . import lti13_tool


LOGINS: list[dict] = []

SCRIPT = """
(function () {
  var platformOrigin = %(platform_origin)s;
  var target = %(target)s === "_parent" ? window.parent : window.parent.frames[%(target)s];
  var counter = 0;
  function send(message) {
    return new Promise(function (resolve) {
      var id = "msg-" + (++counter) + "-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      function onAnswer(event) {
        if (event.origin !== platformOrigin || !event.data || event.data.message_id !== id) return;
        window.removeEventListener("message", onAnswer);
        resolve(event.data);
      }
      window.addEventListener("message", onAnswer);
      target.postMessage(message, platformOrigin);
      setTimeout(function () {
        window.removeEventListener("message", onAnswer);
        resolve({ timeout: true });
      }, 1500);
    });
  }
  var steps = %(steps)s;
  var results = {};
  (async function () {
    for (var i = 0; i < steps.length; i++) {
      var step = steps[i];
      var message = Object.assign({}, step.message);
      if (message.value === "__BIG__") message.value = "x".repeat(5000);
      results[step.name] = await send(message);
    }
    var out = document.getElementById("results");
    out.textContent = JSON.stringify(results);
    out.setAttribute("data-done", "1");
  })();
})();
"""

LAUNCH_STEPS = [
    {"name": "capabilities", "message": {"subject": "lti.capabilities"}},
    {"name": "put", "message": {"subject": "lti.put_data", "key": "state", "value": "st-4711"}},
    {"name": "get", "message": {"subject": "lti.get_data", "key": "state"}},
    {
        "name": "legacy_put",
        "message": {"subject": "org.imsglobal.lti.put_data", "key": "nonce", "value": "n-42"},
    },
    {"name": "legacy_get", "message": {"subject": "org.imsglobal.lti.get_data", "key": "nonce"}},
    {"name": "missing", "message": {"subject": "lti.get_data", "key": "never-stored"}},
    {"name": "unsupported", "message": {"subject": "lti.frobnicate"}},
    {"name": "too_big", "message": {"subject": "lti.put_data", "key": "big", "value": "__BIG__"}},
    {"name": "no_key", "message": {"subject": "lti.put_data", "value": "v"}},
]

PROBE_STEPS = [
    {"name": "put", "message": {"subject": "lti.put_data", "key": "state", "value": "evil"}},
    {"name": "get", "message": {"subject": "lti.get_data", "key": "state"}},
]


def _page(title: str, script: str, body: str = "") -> HttpResponse:
    return HttpResponse(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1>{body}<pre id='results'>waiting…</pre>"
        f"<script>{script}</script></body></html>"
    )


def _script(platform_origin: str, target: str, steps: list[dict]) -> str:
    return SCRIPT % {
        "platform_origin": json.dumps(platform_origin),
        "target": json.dumps(target),
        "steps": json.dumps(steps),
    }


@csrf_exempt
@xframe_options_exempt
def login(request):
    params = request.POST.dict() if request.method == "POST" else request.GET.dict()
    LOGINS.append(params)
    oidc_login = DjangoOIDCLogin(
        request,
        lti13_tool.STATE.conf,
        cookie_service=lti13_tool._cookie_service(request),
        launch_data_storage=DjangoCacheDataStorage(),
    )
    target = request.build_absolute_uri(reverse("storage_test_tool:launch"))
    return oidc_login.redirect(target, js_redirect=True)


@csrf_exempt
@xframe_options_exempt
def launch(request):
    try:
        data = DjangoMessageLaunch(
            request,
            lti13_tool.STATE.conf,
            cookie_service=lti13_tool._cookie_service(request),
            launch_data_storage=DjangoCacheDataStorage(),
        ).get_launch_data()
    except Exception as exc:
        lti13_tool.STATE.errors.append(f"launch: {exc}")
        return HttpResponse(f"<p id='tool-error'>{html.escape(str(exc))}</p>", status=400)
    lti13_tool.STATE.launches.append(data)
    target = LOGINS[-1].get("lti_storage_target", "") if LOGINS else ""
    return _page(
        "Storage tool",
        _script(data["iss"], target or "_parent", LAUNCH_STEPS),
        "<p id='tool-launched'>Launched.</p>",
    )


@xframe_options_exempt
def probe(request):
    """Tries to write and read ``state`` in the platform ``?platform=<origin>``."""
    return _page("Storage probe", _script(request.GET["platform"], "_parent", PROBE_STEPS))


app_name = "storage_test_tool"
urlpatterns = [
    path("login/", login, name="login"),
    path("launch/", launch, name="launch"),
    path("probe/", probe, name="probe"),
]
