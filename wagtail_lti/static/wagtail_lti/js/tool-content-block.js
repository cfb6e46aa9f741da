// The "Tool content" StreamField block: "Choose from a tool" opens the tool content window
// (place block, the page's organization); the item the tool returned comes back by postMessage
// (same origin only) and its id goes into the block's hidden input. Delegated, so blocks added
// later work too.
(() => {
    if (window.wagtailLtiToolContentBlock) return;
    window.wagtailLtiToolContentBlock = true;
    let pending = null;
    document.addEventListener("click", (event) => {
        const button = event.target.closest("[data-lti-tool-content-choose]");
        if (!button) return;
        event.preventDefault();
        const chooser = button.closest("[data-lti-tool-content-chooser]");
        const url = new URL(chooser.dataset.chooserUrl, window.location.origin);
        url.searchParams.set("place", "block");
        const organization = document.querySelector("#id_course_organization");
        if (organization && organization.value) url.searchParams.set("organization", organization.value);
        pending = chooser;
        window.open(url.toString(), "wagtail-lti-tool-content", "width=960,height=760");
    });
    window.addEventListener("message", (event) => {
        const data = event.data || {};
        if (event.origin !== window.location.origin || data.type !== "wagtail-lti-tool-content") return;
        if (data.place !== "block" || !pending || !Array.isArray(data.items) || !data.items.length) return;
        const item = data.items[0];
        const input = pending.querySelector("input");
        input.value = String(item.id);
        input.dispatchEvent(new Event("change", { bubbles: true }));
        pending.querySelector("[data-lti-tool-content-preview]").textContent =
            `${item.kindLabel}: ${item.title} (${item.provider})`;
        pending = null;
    });
})();
