/* LTI Provider form: show only the fields of the chosen LTI version.
 * Sections carry data-lti-version="1.1" or "1.3"; without JavaScript every section stays visible. */
(function () {
  'use strict';

  function update(form) {
    var checked = form.querySelector('input[name="lti_version"]:checked');
    if (!checked) {
      return;
    }
    form.querySelectorAll('[data-lti-version]').forEach(function (section) {
      section.hidden = section.getAttribute('data-lti-version') !== checked.value;
    });
  }

  function init() {
    document.querySelectorAll('input[name="lti_version"]').forEach(function (radio) {
      var form = radio.form || document;
      radio.addEventListener('change', function () {
        update(form);
      });
      update(form);
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
