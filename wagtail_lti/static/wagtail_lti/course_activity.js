// wagtail-lti course activity blocks. Without JavaScript the frame is always shown and the status
// is the one of the page's last load; with it:
//
// * an embedded activity's frame is hidden until it is launched, then shown with its controls
//   (open in a new window: a new launch, not the tool's URL; full screen; close) and focused;
// * on a phone an embedded activity fills the screen, until its tool says how tall it is
//   (lti.frameResize, answered in platform_storage.js): then it sits in the page at that height,
//   so no scrolling frame sits inside the scrolling page;
// * the status and score of the activities are asked again (the block's data-lti-status URL, the
//   learner's own progress, courses/status.py) when an activity's frame loads a page after a
//   launch (the tool moved on, or came back), when the tab regains focus (after a launch in a new
//   window, say), and every POLL_FIRST ms while a launched activity is open and the tab visible,
//   less often while nothing changes (up to POLL_MAX), never while the tab is hidden.
// * a new-window activity with a size or window features opens its window with them first (a
//   form's target cannot say them), then the launch form posts into it.
(function () {
  "use strict";
  if (window.wagtailLtiCourseActivity) return;

  var PHONE = "(max-width: 30rem)";
  var POLL_FIRST = window.WAGTAIL_LTI_STATUS_POLL_MS || 15000;
  var POLL_MAX = 120000;
  var POLL_GROWTH = 1.5;
  var LOAD_SETTLE = 600; // a launch loads several pages in a row: ask once they settle
  var FOCUS_GAP = 3000; // at most one refresh for focus and visibility within this time
  var STATUSES = ["not_started", "launched", "completed"];

  var statusUrls = [];
  var open = []; // sections of launched activities still open (a frame, or a new window)
  var pollTimer = null;
  var pollDelay = POLL_FIRST;
  var loadTimer = null;
  var lastFocusRefresh = 0;
  var focusTimer = null;
  var inFlight = null;
  var askAgain = false; // asked while a request was under way: ask once more after it
  var refused = false; // the endpoint said no (logged out, say): stop asking

  function sectionOf(element) {
    return element.closest("[data-lti-activity]");
  }

  // --- Status ---------------------------------------------------------------------------------

  function show(section, activity) {
    var status = activity.status;
    if (STATUSES.indexOf(status) === -1) return false;
    var line = section.querySelector(".lti-activity__status");
    var badge = line && line.querySelector(".lti-badge");
    if (!badge) return false;
    var score = line.querySelector(".lti-activity__score");
    var scoreText = activity.score_text || "";
    var changed =
      badge.textContent !== activity.status_label ||
      !badge.classList.contains("lti-badge--" + status) ||
      (score ? score.textContent : "") !== scoreText;
    if (!changed) return false;
    STATUSES.forEach(function (name) {
      section.classList.toggle("lti-activity--" + name, name === status);
      badge.classList.toggle("lti-badge--" + name, name === status);
    });
    badge.textContent = activity.status_label;
    if (scoreText) {
      if (!score) {
        score = document.createElement("span");
        score.className = "lti-activity__score";
        line.appendChild(score);
      }
      score.textContent = scoreText;
    } else if (score) {
      score.remove();
    }
    relabel(section, activity.launch_label);
    if (status === "completed") {
      var hint = section.querySelector(".lti-activity__hint");
      if (hint) hint.remove();
    }
    return true;
  }

  function relabel(section, label) {
    // The launch button's own text ("Start activity" becomes "Open activity again"); what else
    // the button holds (a hidden hint, an arrow) stays.
    var button = section.querySelector("form.lti-activity__launch button");
    var text = button && button.firstChild;
    if (!label || !text || text.nodeType !== 3 || !text.nodeValue.trim()) return;
    text.nodeValue = text.nodeValue.replace(text.nodeValue.trim(), label);
  }

  function refresh() {
    if (refused || !statusUrls.length) return Promise.resolve(false);
    if (inFlight) {
      askAgain = true; // its answer may be older than what made us ask
      return inFlight;
    }
    inFlight = Promise.all(
      statusUrls.map(function (url) {
        return fetch(url, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            if (response.status === 401 || response.status === 403 || response.status === 404) {
              refused = true;
              return {};
            }
            return response.ok ? response.json() : {};
          })
          .then(function (answer) {
            var activities = (answer && answer.activities) || {};
            var changed = false;
            Object.keys(activities).forEach(function (id) {
              var section = document.getElementById("lti-activity-" + id);
              if (section && show(section, activities[id])) changed = true;
            });
            return changed;
          })
          .catch(function () {
            return false; // offline for a moment: the next trigger asks again
          });
      })
    ).then(function (results) {
      inFlight = null;
      var changed = results.indexOf(true) !== -1;
      if (askAgain) {
        askAgain = false;
        return refresh().then(function (again) {
          return changed || again;
        });
      }
      return changed;
    });
    return inFlight;
  }

  function schedule() {
    window.clearTimeout(pollTimer);
    pollTimer = null;
    if (refused || document.hidden || !open.length) return;
    pollTimer = window.setTimeout(function () {
      refresh().then(function (changed) {
        pollDelay = changed ? POLL_FIRST : Math.min(POLL_MAX, pollDelay * POLL_GROWTH);
        schedule();
      });
    }, pollDelay);
  }

  function opened(section) {
    if (open.indexOf(section) === -1) open.push(section);
    pollDelay = POLL_FIRST;
    schedule();
  }

  function closed(section) {
    var index = open.indexOf(section);
    if (index !== -1) open.splice(index, 1);
    schedule();
  }

  function onFocus() {
    if (document.hidden) {
      schedule(); // stops the poll
      return;
    }
    // At most one refresh per FOCUS_GAP; a focus within it is answered at its end.
    var wait = lastFocusRefresh + FOCUS_GAP - Date.now();
    window.clearTimeout(focusTimer);
    focusTimer = window.setTimeout(function () {
      lastFocusRefresh = Date.now();
      refresh();
    }, Math.max(0, wait));
    pollDelay = POLL_FIRST;
    schedule();
  }

  // --- The frame ------------------------------------------------------------------------------

  function setOverlay(container, reason) {
    container.classList.toggle("lti-activity__frame--overlay", !!reason);
    if (reason) {
      container.setAttribute("data-lti-overlay", reason);
    } else {
      container.removeAttribute("data-lti-overlay");
    }
    var anyOverlay = document.querySelector(".lti-activity__frame--overlay");
    document.documentElement.classList.toggle("lti-frame-overlay-open", !!anyOverlay);
  }

  function fullScreenButton(container) {
    return container.querySelector("[data-lti-frame-action='full-screen']");
  }

  function isFullScreen(container) {
    return (
      document.fullscreenElement === container ||
      container.getAttribute("data-lti-overlay") === "full-screen"
    );
  }

  function syncFullScreen(container) {
    var button = fullScreenButton(container);
    if (button) button.setAttribute("aria-pressed", isFullScreen(container) ? "true" : "false");
  }

  function toggleFullScreen(container) {
    if (document.fullscreenElement === container) {
      document.exitFullscreen();
    } else if (container.getAttribute("data-lti-overlay") === "full-screen") {
      setOverlay(container, null);
    } else if (container.requestFullscreen && document.fullscreenEnabled) {
      container.requestFullscreen().catch(function () {
        setOverlay(container, "full-screen");
        syncFullScreen(container);
      });
    } else {
      setOverlay(container, "full-screen"); // no Fullscreen API (iPhone): fill the window
    }
    syncFullScreen(container);
  }

  function showFrame(container, iframe) {
    var section = sectionOf(container);
    container.hidden = false;
    var controls = container.querySelector("[data-lti-frame-controls]");
    if (controls) controls.hidden = false;
    if (window.matchMedia && window.matchMedia(PHONE).matches) {
      if (!iframe.hasAttribute("data-lti-resized")) setOverlay(container, "phone");
    }
    if (section) opened(section);
    iframe.focus();
  }

  function closeFrame(container, iframe, form) {
    if (document.fullscreenElement === container) document.exitFullscreen();
    setOverlay(container, null);
    syncFullScreen(container);
    iframe.src = "about:blank";
    iframe.removeAttribute("data-lti-resized");
    iframe.style.height = "";
    container.hidden = true;
    var section = sectionOf(container);
    if (section) closed(section);
    var button = form.querySelector("button, [type=submit]");
    if (button) button.focus();
    refresh();
  }

  function launchInNewWindow(form) {
    // A new launch of the activity (the launch view checks and records it), in a new window.
    var copy = form.cloneNode(true);
    copy.removeAttribute("data-lti-launch");
    copy.removeAttribute("id");
    copy.target = "_blank";
    copy.hidden = true;
    document.body.appendChild(copy);
    copy.submit();
    copy.remove();
  }

  function initFrame(form) {
    var container = document.getElementById(form.getAttribute("data-lti-launch"));
    if (!container) return;
    var iframe = container.querySelector("iframe");
    if (!iframe) return;
    var launched = false;
    container.hidden = true;
    form.addEventListener("submit", function () {
      launched = true;
      showFrame(container, iframe);
    });
    iframe.addEventListener("load", function () {
      // The launch, the tool's pages and its way back: ask once the frame settles.
      if (!launched) return;
      window.clearTimeout(loadTimer);
      loadTimer = window.setTimeout(refresh, LOAD_SETTLE);
    });
    iframe.addEventListener("wagtail-lti:frameresize", function () {
      // The tool's page has a height of its own: in the page at that height, not on top of it.
      if (container.getAttribute("data-lti-overlay") === "phone") {
        setOverlay(container, null);
        container.scrollIntoView({ block: "start" });
      }
    });
    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-lti-frame-action]");
      if (!button || !container.contains(button)) return;
      var action = button.getAttribute("data-lti-frame-action");
      if (action === "new-window") {
        launchInNewWindow(form);
        var section = sectionOf(container);
        closeFrame(container, iframe, form);
        launched = false;
        if (section) opened(section); // the new window's activity is open
      } else if (action === "full-screen") {
        toggleFullScreen(container);
      } else if (action === "close") {
        launched = false;
        closeFrame(container, iframe, form);
      }
    });
    container.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && container.getAttribute("data-lti-overlay") === "full-screen") {
        setOverlay(container, null);
        syncFullScreen(container);
      }
    });
    container.addEventListener("fullscreenchange", function () {
      syncFullScreen(container);
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

  function init() {
    document.querySelectorAll("form[data-lti-launch]").forEach(initFrame);
    document.querySelectorAll("form.lti-activity__launch:not([data-lti-launch])").forEach(
      function (form) {
        // Launched in a new window: this tab catches up when it is back in front.
        form.addEventListener("submit", function () {
          var section = sectionOf(form);
          if (section) opened(section);
        });
      }
    );
    document.querySelectorAll("[data-lti-status]").forEach(function (element) {
      var url = element.getAttribute("data-lti-status");
      if (url && statusUrls.indexOf(url) === -1) statusUrls.push(url);
      var section = sectionOf(element);
      var line = section && section.querySelector(".lti-activity__status");
      if (line) line.setAttribute("aria-live", "polite"); // a new status or score is read out
    });
    if (!statusUrls.length || !window.fetch) return;
    document.addEventListener("visibilitychange", onFocus);
    window.addEventListener("focus", onFocus);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) refresh(); // back from the history cache: the page is old
    });
  }

  window.wagtailLtiCourseActivity = { refresh: refresh };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
