/* The Availability tab's organization tree: a search box narrows the list of checkboxes to the
 * organizations whose name matches (ticked ones stay visible). Without JavaScript the search box
 * stays hidden and every organization is listed, indented under its parent. */
(function () {
  'use strict';

  function setUp(tree) {
    var wrap = tree.querySelector('[data-lti-org-tree-search-wrap]');
    var input = tree.querySelector('[data-lti-org-tree-search]');
    var none = tree.querySelector('[data-lti-org-tree-none]');
    if (!wrap || !input || tree.dataset.ltiOrgTreeReady) {
      return;
    }
    tree.dataset.ltiOrgTreeReady = '1';
    wrap.hidden = false;
    input.addEventListener('input', function () {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      tree.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
        var label = box.closest('label');
        var item = label && label.parentElement ? label.parentElement : box;
        var name = (label ? label.textContent : '').trim().toLowerCase();
        var match = !query || box.checked || name.indexOf(query) !== -1;
        item.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      if (none) {
        none.hidden = shown > 0;
      }
    });
  }

  function init() {
    document.querySelectorAll('[data-lti-org-tree]').forEach(setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
