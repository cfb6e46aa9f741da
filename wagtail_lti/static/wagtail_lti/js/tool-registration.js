// wagtail-lti "Register a tool by URL": when the tool posts {subject: "org.imsglobal.lti.close"}
// (LTI Dynamic Registration §3.7; "lti.close" is accepted too), go on to the review of the new
// provider. Only messages from the tool's origin, sent by the frame or the tab we opened, count.
// Once the tool is opened in a new tab, the page also asks the platform (data-status-url) whether
// the tool has registered, so it moves on even when no message can arrive (a tool that severs
// window.opener). In the frame, the message always can arrive (window.parent).
(function () {
  "use strict";
  var root = document.getElementById("wagtail-lti-tool-registration");
  if (!root) return;
  var origin = root.getAttribute("data-tool-origin");
  var toolUrl = root.getAttribute("data-tool-url");
  var doneUrl = root.getAttribute("data-done-url");
  var frame = root.querySelector("[data-tool-frame]");
  var tab = null;
  var openButton = root.querySelector("[data-open-tab]");
  if (openButton) {
    openButton.addEventListener("click", function () {
      tab = window.open(toolUrl, "_blank");
      // In a tab the close message may never arrive (a tool that severs window.opener): ask.
      startPolling();
    });
  }
  var statusUrl = root.getAttribute("data-status-url");
  var interval = parseInt(root.getAttribute("data-poll-interval"), 10) || 2000;
  var statusNote = root.querySelector("[data-registration-status]");
  var finished = false;

  function finish() {
    if (finished) return;
    finished = true;
    if (tab) {
      try {
        tab.close();
      } catch (e) {
        /* the tab may have closed itself */
      }
    }
    window.location.assign(doneUrl);
  }

  function poll() {
    if (finished || !statusUrl || !window.fetch) return;
    window
      .fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer && answer.state === "registered") {
          finish();
        } else if (answer && answer.state === "expired") {
          if (statusNote) {
            statusNote.textContent = root.getAttribute("data-expired-text") || "";
            statusNote.hidden = !statusNote.textContent;
          }
        } else {
          var polling = false;

  function startPolling() {
    if (polling) return;
    polling = true;
    window.setTimeout(poll, interval);
  }
        }
      })
      .catch(function () {
        window.setTimeout(poll, interval * 2);
      });
  }
  var polling = false;

  function startPolling() {
    if (polling) return;
    polling = true;
    window.setTimeout(poll, interval);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var fromFrame = frame && event.source === frame.contentWindow;
    var fromTab = tab && event.source === tab;
    if (!fromFrame && !fromTab) return;
    var data = event.data;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch (e) {
        return;
      }
    }
    if (!data || (data.subject !== "org.imsglobal.lti.close" && data.subject !== "lti.close")) return;
    finish();
  });
})();
