"""The rich-text feature ``lti-tool``: "Insert from a tool" in Draftail.

A site enables it per field, like ``link`` or ``image``: ``RichTextField(features=[…, "lti-tool"])``
or ``RichTextBlock(features=[…, "lti-tool"])``. The control opens "Insert content from a tool"
(``admin/content_selection.py: ToolContentView``, place ``rich_text``) in a window of its own;
what the tool returns is stored as :class:`~wagtail_lti.models.ToolContent` rows and each one is
inserted as an atomic block holding only the row's id. Stored form:
``<embed embedtype="lti-tool" id="…"/>``; the HTML is made at render time
(``content_selection/tool_content.py: render``), never stored in the rich text.
"""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from draftjs_exporter.dom import DOM
from wagtail import hooks
from wagtail.admin.rich_text.converters.contentstate_models import Entity
from wagtail.admin.rich_text.converters.html_to_contentstate import (
    AtomicBlockEntityElementHandler,
)
from wagtail.admin.rich_text.editors.draftail import features as draftail_features
from wagtail.rich_text import EmbedHandler

from ..content_selection.tool_content import EMBED_TYPE, FEATURE


ENTITY_TYPE = "LTI_TOOL"


class ToolContentEmbedHandler(EmbedHandler):
    """``<embed embedtype="lti-tool" id="…"/>`` → the item's HTML, made now."""

    identifier = EMBED_TYPE

    @staticmethod
    def get_model():
        from ..models import ToolContent

        return ToolContent

    @classmethod
    def expand_db_attributes(cls, attrs: dict) -> str:
        return cls.expand_db_attributes_many([attrs])[0]

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        from ..content_selection.tool_content import contents_by_id, render, rendering_context

        found = contents_by_id(attrs.get("id", "") for attrs in attrs_list)
        context = rendering_context()
        return [
            render(
                found.get(int(a["id"])) if str(a.get("id", "")).isdigit() else None, context=context
            )
            for a in attrs_list
        ]


class ToolContentElementHandler(AtomicBlockEntityElementHandler):
    """The stored ``<embed>`` → the editor's entity (id, kind and title for its preview)."""

    def create_entity(self, name, attrs, state, contentstate):
        from ..content_selection.tool_content import contents_by_id, preview

        raw = attrs.get("id", "")
        content = contents_by_id([raw]).get(int(raw)) if str(raw).isdigit() else None
        data = preview(content) if content is not None else {"id": raw, "title": "", "kind": ""}
        return Entity(ENTITY_TYPE, "IMMUTABLE", data)


def tool_content_entity(props) -> DOM:
    """The editor's entity → the stored ``<embed>`` (only the id)."""
    return DOM.create_element("embed", {"embedtype": EMBED_TYPE, "id": props.get("id")})


@hooks.register("register_rich_text_features")
def register_tool_content_feature(features):
    features.register_embed_type(ToolContentEmbedHandler)
    features.register_editor_plugin(
        "draftail",
        FEATURE,
        draftail_features.EntityFeature(
            {
                "type": ENTITY_TYPE,
                "icon": "link-external",
                "label": _("Tool"),
                "description": _("Insert from a tool"),
                "chooserUrl": reverse_lazy("wagtail_lti_tool_content"),
                # What the editor's preview shows; the stored form keeps only the id.
                "attributes": ["id", "kind", "kindLabel", "title", "provider"],
                "allowlist": {"id": True},
            },
            js=["wagtail_lti/js/tool-content-draftail.js"],
            css={"all": ["wagtail_lti/css/tool-content-editor.css"]},
        ),
    )
    features.register_converter_rule(
        "contentstate",
        FEATURE,
        {
            "from_database_format": {
                f'embed[embedtype="{EMBED_TYPE}"]': ToolContentElementHandler()
            },
            "to_database_format": {"entity_decorators": {ENTITY_TYPE: tool_content_entity}},
        },
    )
