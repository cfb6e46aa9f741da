// wagtail-lti platform storage: the course page answers the LTI Client Side postMessages of the
// tools in its activity frames (LTI Client Side postMessages and Platform Storage, v0.1):
// lti.capabilities, lti.put_data, lti.get_data, lti.frameResize, and the older org.imsglobal.lti.*
// names. This is the page's one listener of the tools' postMessages: a new message is one more
// case of handle().
//
// Any other lti.* subject is answered with the error "unsupported_subject".
// Only a message sent by an activity iframe (event.source is its contentWindow) from one of that
// activity's tool origins (its data-lti-tool-origins attribute) is answered, and the answer goes
// to that origin only. Values live in this tab's sessionStorage, one namespace per tool origin,
// at most MAX_KEYS keys of MAX_KEY_LENGTH characters and MAX_VALUE_LENGTH characters per value.
// lti.frameResize ({subject: "lti.frameResize", height: N}, N pixels, a number or "Npx") sets
// the frame's height to N, kept between MIN_HEIGHT and MAX_HEIGHT, answers the height set, and
// tells the page's script (course_activity.js) with a "wagtail-lti:frameresize" event on the
// iframe. A message sent as a JSON string, as many tools send lti.frameResize, is read as well.
(function () {
  "use strict";
  if (window.wagtailLtiPlatformStorage) return;

  var PREFIX = "wagtail-lti-storage|";
  var MAX_KEYS = 500;
  var MAX_KEY_LENGTH = 256;
  var MAX_VALUE_LENGTH = 4096;
  var MIN_HEIGHT = 150;
  var MAX_HEIGHT = 10000;
  var SUBJECTS = ["lti.capabilities", "lti.put_data", "lti.get_data", "lti.frameResize"];
  var LEGACY = "org.imsglobal.";

  function activityFrameOf(source) {
    var frames = document.querySelectorAll("iframe[data-lti-tool-origins]");
    for (var i = 0; i < frames.length; i++) {
      if (source && frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  function allowedOrigins(frame) {
    return (frame.getAttribute("data-lti-tool-origins") || "").split(/\s+/).filter(Boolean);
  }

  function storageKey(origin, key) {
    return PREFIX + origin + "|" + key;
  }

  function keysOf(origin) {
    var prefix = PREFIX + origin + "|";
    var count = 0;
    for (var i = 0; i < window.sessionStorage.length; i++) {
      var name = window.sessionStorage.key(i);
      if (name && name.indexOf(prefix) === 0) count++;
    }
    return count;
  }

  function error(code, message) {
    return { error: { code: code, message: message } };
  }

  function frameHeight(value) {
    if (typeof value === "string" && /^\s*\d+(\.\d+)?\s*(px)?\s*$/.test(value)) {
      value = parseFloat(value);
    }
    if (typeof value !== "number" || !isFinite(value) || value <= 0) return null;
    return Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, value)));
  }

  function frameEdges(frame) {
    // What a border-box frame's borders and padding take from the tool's window.
    var style = window.getComputedStyle(frame);
    if (style.boxSizing !== "border-box") return 0;
    return ["borderTopWidth", "borderBottomWidth", "paddingTop", "paddingBottom"].reduce(
      function (sum, name) {
        return sum + (parseFloat(style[name]) || 0);
      },
      0
    );
  }

  function resize(frame, data) {
    var height = frameHeight(data.height);
    if (height === null) {
      return error("bad_request", "height must be a positive number of pixels.");
    }
    frame.style.height = height + frameEdges(frame) + "px"; // the tool's window: height
    frame.setAttribute("data-lti-resized", String(height));
    var event;
    try {
      event = new CustomEvent("wagtail-lti:frameresize", { detail: { height: height } });
    } catch (e) {
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("wagtail-lti:frameresize", false, false, { height: height });
    }
    frame.dispatchEvent(event);
    return { height: height };
  }

  function handle(name, data, origin, frame) {
    if (name === "lti.capabilities") {
      // No "frame": send storage messages to the same window as this one (lti_storage_target).
      return {
        supported_messages: SUBJECTS.map(function (subject) {
          return { subject: subject };
        }),
      };
    }
    if (name === "lti.frameResize") return resize(frame, data);
    if (name !== "lti.put_data" && name !== "lti.get_data") {
      return error("unsupported_subject", "This platform does not support “" + data.subject + "”.");
    }
    if (data.message_id === undefined || data.message_id === null || data.message_id === "") {
      return error("bad_request", "message_id is required.");
    }
    var key = data.key;
    if (typeof key !== "string" || !key || key.length > MAX_KEY_LENGTH) {
      return error("bad_request", "key must be a string of 1 to " + MAX_KEY_LENGTH + " characters.");
    }
    var stored = storageKey(origin, key);
    try {
      if (name === "lti.get_data") {
        var value = window.sessionStorage.getItem(stored);
        return { key: key, value: value };
      }
      var newValue = data.value;
      if (typeof newValue !== "string") {
        return error("bad_request", "value must be a string.");
      }
      if (newValue.length > MAX_VALUE_LENGTH) {
        return error(
          "storage_exhausted",
          "value is longer than " + MAX_VALUE_LENGTH + " characters."
        );
      }
      if (window.sessionStorage.getItem(stored) === null && keysOf(origin) >= MAX_KEYS) {
        return error("storage_exhausted", "A tool may keep at most " + MAX_KEYS + " keys.");
      }
      window.sessionStorage.setItem(stored, newValue);
      return { key: key, value: newValue };
    } catch (e) {
      return error("storage_exhausted", "The browser's storage is not available or full.");
    }
  }

  function onMessage(event) {
    var data = event.data;
    if (typeof data === "string" && data.charAt(0) === "{") {
      try {
        data = JSON.parse(data);
      } catch (e) {
        return;
      }
    }
    if (!data || typeof data !== "object" || typeof data.subject !== "string") return;
    var subject = data.subject;
    var name = subject.indexOf(LEGACY) === 0 ? subject.slice(LEGACY.length) : subject;
    if (name.indexOf("lti.") !== 0 || /\.response$/.test(name)) return;
    var frame = activityFrameOf(event.source);
    if (!frame) return; // not one of this page's activity frames
    if (allowedOrigins(frame).indexOf(event.origin) === -1) return; // not the tool of that frame
    var answer = handle(name, data, event.origin, frame);
    answer.subject = subject + ".response";
    if (data.message_id !== undefined) answer.message_id = data.message_id;
    event.source.postMessage(answer, event.origin);
  }

  window.addEventListener("message", onMessage);
  window.wagtailLtiPlatformStorage = {
    maxKeys: MAX_KEYS,
    maxValueLength: MAX_VALUE_LENGTH,
    minHeight: MIN_HEIGHT,
    maxHeight: MAX_HEIGHT,
  };
})();
