// The window "Insert content from a tool" opens: its Cancel / Close buttons, and, once the tool
// has answered, handing what it returned to the page editor that opened the window (same origin
// only), which inserts it.
(() => {
    document.querySelectorAll("[data-lti-close-window]").forEach((button) => {
        button.addEventListener("click", () => window.close());
    });
    const script = document.getElementById("wagtail-lti-tool-content-message");
    if (!script) return;
    const message = JSON.parse(script.textContent);
    if (!message.items.length) return;
    if (window.opener && !window.opener.closed) {
        window.opener.postMessage(message, window.location.origin);
        window.setTimeout(() => window.close(), 300);
    } else {
        document.getElementById("wagtail-lti-tool-content-status").hidden = false;
    }
})();
