// wagtail-lti course activity blocks: keep an embedded activity's frame hidden until it is
// launched, then show it and move focus to it. Without JavaScript the frame is always shown.
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("form[data-lti-launch]").forEach(function (form) {
      var frame = document.getElementById(form.getAttribute("data-lti-launch"));
      if (!frame) return;
      frame.hidden = true;
      form.addEventListener("submit", function () {
        frame.hidden = false;
        var iframe = frame.querySelector("iframe");
        if (iframe) {
          iframe.focus();
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
