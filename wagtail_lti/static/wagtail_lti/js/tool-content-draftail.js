// The Draftail plugin of the rich-text feature "lti-tool": the control "Insert from a tool" opens
// the tool content window (place rich_text, the page's organization when the form has one); the
// items the tool returned come back by postMessage from that window (same origin only) and each
// is inserted as an atomic block whose entity holds the item's id (and a title for the preview).
(() => {
    const React = window.React;
    const DraftJS = window.DraftJS;
    const h = React.createElement;
    const MESSAGE_TYPE = "wagtail-lti-tool-content";

    function chooserUrl(entityType) {
        const url = new URL(entityType.chooserUrl, window.location.origin);
        url.searchParams.set("place", "rich_text");
        const organization = document.querySelector("#id_course_organization");
        if (organization && organization.value) {
            url.searchParams.set("organization", organization.value);
        }
        return url.toString();
    }

    class ToolContentSource extends React.Component {
        componentDidMount() {
            const { editorState, entityType, onComplete, onClose } = this.props;
            let finished = false;
            const finish = (state) => {
                if (finished) return;
                finished = true;
                window.removeEventListener("message", this.listener);
                window.clearInterval(this.timer);
                if (state) onComplete(state);
                else onClose();
            };
            this.listener = (event) => {
                const data = event.data || {};
                if (event.origin !== window.location.origin || data.type !== MESSAGE_TYPE) return;
                if (data.place !== "rich_text" || !Array.isArray(data.items)) return;
                let state = editorState;
                data.items.forEach((item) => {
                    const content = state.getCurrentContent().createEntity(
                        entityType.type,
                        "IMMUTABLE",
                        { id: item.id, kind: item.kind, kindLabel: item.kindLabel, title: item.title, provider: item.provider },
                    );
                    state = DraftJS.AtomicBlockUtils.insertAtomicBlock(
                        DraftJS.EditorState.set(state, { currentContent: content }),
                        content.getLastCreatedEntityKey(),
                        " ",
                    );
                });
                finish(state);
            };
            window.addEventListener("message", this.listener);
            this.popup = window.open(chooserUrl(entityType), "wagtail-lti-tool-content", "width=960,height=760");
            if (!this.popup) {
                finish(null);
                return;
            }
            // The editor closed the window without choosing: give up (a late message is ignored).
            this.timer = window.setInterval(() => {
                if (this.popup.closed) window.setTimeout(() => finish(null), 500);
            }, 500);
        }

        componentWillUnmount() {
            window.removeEventListener("message", this.listener);
            window.clearInterval(this.timer);
        }

        render() {
            return null;
        }
    }

    function ToolContentBlock(props) {
        const { blockProps } = props;
        const data = blockProps.entity.getData();
        return h(
            "div",
            { className: "lti-tool-content-editor", "data-lti-tool-content": data.id },
            h("span", { className: "lti-tool-content-editor__kind" }, data.kindLabel || data.kind || "Tool content"),
            " ",
            h("span", { className: "lti-tool-content-editor__title" }, data.title || ""),
            data.provider ? h("span", { className: "lti-tool-content-editor__provider" }, ` (${data.provider})`) : null,
            h(
                "button",
                {
                    type: "button",
                    className: "button button-small button-secondary lti-tool-content-editor__remove",
                    onClick: () => blockProps.onRemoveEntity(),
                },
                "Remove",
            ),
        );
    }

    window.draftail.registerPlugin(
        { type: "LTI_TOOL", source: ToolContentSource, block: ToolContentBlock },
        "entityTypes",
    );
})();
