// wagtail-lti course activity blocks: keep an embedded activity's frame hidden until it is
// launched, then show it and move focus to it. Without JavaScript the frame is always shown.
// A new-window activity with a size or window features opens its window with them first (a
// form's target cannot say them), then the launch form posts into it.
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
    document.querySelectorAll("form[data-lti-window-features]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var name = form.target;
        if (!name || name.charAt(0) === "_") {
          name = "lti-window-" + Date.now();
          form.target = name;
        }
        window.open("", name, form.getAttribute("data-lti-window-features"));
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
