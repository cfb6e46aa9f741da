// wagtail-lti "Register a tool by URL": when the tool posts {subject: "org.imsglobal.lti.close"}
// (LTI Dynamic Registration §3.7; "lti.close" is accepted too), go on to the review of the new
// provider. Only messages from the tool's origin, sent by the frame or the tab we opened, count.
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
    });
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
    if (tab) {
      try {
        tab.close();
      } catch (e) {
        /* the tab may have closed itself */
      }
    }
    window.location.assign(doneUrl);
  });
})();
