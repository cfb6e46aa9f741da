// wagtail-lti launch pages: submit the signed launch form, or leave the activity's frame when the
// tool sends the learner back. Each page also works without JavaScript (a button or a link).
(function () {
  "use strict";
  var form = document.querySelector("form[data-lti-autosubmit]");
  if (form) {
    form.submit();
  }
  var back = document.querySelector("a[data-lti-break-out]");
  if (back) {
    window.top.location.href = back.href;
  }
  // Load a page again from this site's own page, in the same frame (a test launch's return).
  var follow = document.querySelector("a[data-lti-follow]");
  if (follow) {
    window.location.replace(follow.href);
  }
})();
