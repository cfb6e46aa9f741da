"""A small LTI 1.1 tool, for tests only, built on the ``lti`` package (an independent library).

Mounted at ``/test-tool-11/`` by ``tests/tooling/urls.py``. What a real 1.1 tool does:

* ``launch/`` receives the platform's form POST and verifies it with the ``lti`` package's
  ``ToolProvider`` (oauthlib's server-side signature check: HMAC-SHA1 over body and query, our
  consumer key and secret, a nonce not seen before, a fresh timestamp). A valid launch shows a page
  with the learner's name and a form to submit a score; an invalid one shows "Launch refused"
  (HTTP 401);
* ``score/<token>/`` posts the score to the platform's ``lis_outcome_service_url`` exactly as a
  tool does: ``ToolProvider.post_replace_result`` (a POX ``replaceResultRequest`` signed with
  OAuth 1.0a in the ``Authorization`` header, with ``oauth_body_hash``), over HTTP;
* its page links back to the platform's ``launch_presentation_return_url`` with ``lti_msg``;
* launched with ``frame=resize`` in its URL's query, its page is tall and talks to the platform's
  window (the launch's referrer) with LTI client side postMessages: ``lti.capabilities``, then
  ``lti.frameResize`` with a bad height, a huge one and (as a JSON string, as many tools send it)
  its own height; the answers are kept in ``#frame-results`` (``data-done="1"`` when complete);
  it tells its height again when its window is resized.

The tool keeps its own launches in memory (it is a test tool, not the platform).
"""

from __future__ import annotations

import html
import secrets
import threading
import time

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from lti import ToolProvider
from oauthlib.oauth1 import RequestValidator


KEY = "browser-tool-key"
SECRET = "browser-tool secret"

_lock = threading.Lock()
LAUNCHES: dict[str, dict[str, str]] = {}
SEEN_NONCES: set[str] = set()
OUTCOMES: list[dict[str, object]] = []


class _Validator(RequestValidator):
    enforce_ssl = False
    dummy_client = "dummy"

    def check_client_key(self, client_key):
        return bool(client_key)

    def check_nonce(self, nonce):
        return bool(nonce)

    def validate_client_key(self, client_key, request):
        return client_key == KEY

    def get_client_secret(self, client_key, request):
        return SECRET if client_key == KEY else "dummy"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        if abs(time.time() - int(timestamp)) > 300:
            return False
        with _lock:
            if nonce in SEEN_NONCES:
                return False
            SEEN_NONCES.add(nonce)
        return True


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}"
        "</title><style>body{font-family:sans-serif;margin:1rem;background:#f4f8ff}"
        "h1{color:#1b4f8a;font-size:1.4rem}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status=status,
    )


@csrf_exempt
@xframe_options_exempt
def launch(request):
    if request.method != "POST":
        return _page("Launch refused", "<p>LTI launches are POSTed.</p>", status=405)
    url = request.build_absolute_uri()
    tool = ToolProvider.from_unpacked_request(SECRET, request.POST.dict(), url, {})
    if not tool.is_valid_request(_Validator()) or not tool.is_launch_request():
        return _page("Launch refused", "<p>The OAuth signature is not valid.</p>", status=401)
    token = secrets.token_urlsafe(12)
    with _lock:
        LAUNCHES[token] = request.POST.dict()
    name = tool.lis_person_name_full or "learner"
    return_url = tool.launch_presentation_return_url or ""
    score_form = ""
    if tool.is_outcome_service():
        score_form = (
            f"<form method='post' action='../score/{token}/'>"
            "<label for='score'>Score (0 to 1)</label> "
            "<input id='score' name='score' value='0.85'> "
            "<button type='submit'>Submit score</button></form>"
        )
    extra = _FRAME_RESIZE if request.GET.get("frame") == "resize" else ""
    return _page(
        "Quiz tool",
        f"<p id='verified'>Launch verified for {html.escape(name)} "
        f"({html.escape(tool.roles[0] if tool.roles else '')}) in "
        f"“{html.escape(tool.context_title or '')}”.</p>"
        f"<p id='activity'>Activity: {html.escape(tool.resource_link_title or '')}</p>"
        f"{score_form}"
        f"<input type='hidden' id='return-url' value='{html.escape(return_url)}'>{extra}",
    )


#: The ``frame=resize`` page's part: tall content, and its postMessages to the platform.
_FRAME_RESIZE = (
    """
<ol id='questions'>"""
    + "".join(
        f"<li style='margin:1.5rem 0'>Question {n}: which exit is nearest?</li>"
        for n in range(1, 21)
    )
    + """</ol>
<pre id='frame-results' hidden></pre>
<script>
(function () {
  var platform = new URL(document.referrer).origin;
  function ask(message, asString) {
    return new Promise(function (resolve) {
      var id = "m-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      var timer = setTimeout(function () { done({ timeout: true }); }, 5000);
      function on(event) {
        if (event.origin === platform && event.data && event.data.message_id === id) done(event.data);
      }
      function done(answer) {
        clearTimeout(timer);
        window.removeEventListener("message", on);
        resolve(answer);
      }
      window.addEventListener("message", on);
      window.parent.postMessage(asString ? JSON.stringify(message) : message, platform);
    });
  }
  function contentHeight() {
    // The page's content (not the window, which is at least as tall as the frame).
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }
  var results = {};
  ask({ subject: "lti.capabilities" }).then(function (answer) {
    results.capabilities = answer;
    return ask({ subject: "lti.frameResize", height: "tall" });
  }).then(function (answer) {
    results.bad = answer;
    return ask({ subject: "lti.frameResize", height: 99999 });
  }).then(function (answer) {
    results.huge = answer;
    results.height = contentHeight();
    return ask({ subject: "lti.frameResize", height: results.height + "px" }, true);
  }).then(function (answer) {
    results.resize = answer;
    var out = document.getElementById("frame-results");
    out.textContent = JSON.stringify(results);
    out.setAttribute("data-done", "1");
    // Its width changed (the frame moved into the page): its height may have too.
    window.addEventListener("resize", function () {
      window.parent.postMessage({ subject: "lti.frameResize", height: contentHeight() }, platform);
    });
  });
})();
</script>
"""
)


@csrf_exempt
@xframe_options_exempt
def score(request, token: str):
    with _lock:
        params = LAUNCHES.get(token)
    if request.method != "POST" or params is None:
        return _page("Unknown launch", "", status=404)
    tool = ToolProvider(consumer_key=KEY, consumer_secret=SECRET, params=params)
    value = request.POST.get("score", "")
    response = tool.post_replace_result(value)
    ok = response.is_success()
    OUTCOMES.append({"score": value, "success": ok, "description": response.description})
    return_url = params.get("launch_presentation_return_url", "")
    back = ""
    if return_url:
        from urllib.parse import urlencode

        message = f"Quiz tool: your score {value} was recorded." if ok else "Quiz tool: error"
        sep = "&" if "?" in return_url else "?"
        back = (
            f"<p><a id='back' href='{html.escape(return_url + sep + urlencode({'lti_msg': message}))}'>"
            "Back to the course</a></p>"
        )
    status = "recorded" if ok else f"refused ({html.escape(response.description or '')})"
    return _page("Quiz tool", f"<p id='outcome'>Score {html.escape(value)} {status}.</p>{back}")


urlpatterns = [
    path("launch/", launch, name="launch"),
    path("score/<str:token>/", score, name="score"),
]
