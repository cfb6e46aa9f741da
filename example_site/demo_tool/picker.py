"""The demo tool's content picker: what it offers a platform asking for content.

A platform's editor opens the tool with an LTI 1.3 ``LtiDeepLinkingRequest`` or an LTI 1.1
``ContentItemSelectionRequest``; the tool shows :data:`CATALOGUE` with a checkbox each, the custom
parameters each item will carry and, for scored items, the line item's maximum. The chosen items go
back as PyLTI1p3 ``DeepLinkResource`` objects (1.3, :func:`deep_link_resources`) or as Content-Item
``LtiLinkItem`` JSON-LD (1.1, :func:`content_items`). Each item is a launch of the demo tool itself
(``?activity=<id>`` on its launch URL), so what an editor adds can be launched at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem


@dataclass(frozen=True)
class Activity:
    id: str
    title: str
    text: str
    custom: str  # "name=value" lines, the picker's default
    maximum: int | None = None  # scored items: the line item's default maximum


CATALOGUE: tuple[Activity, ...] = (
    Activity(
        "fractions",
        "Quiz: fractions",
        "Ten short questions on adding and comparing fractions, scored automatically.",
        "activity=fractions\nlevel=beginner",
        maximum=10,
    ),
    Activity(
        "water-cycle",
        "Video: the water cycle",
        "A four-minute video on evaporation, condensation and rain.",
        "activity=water_cycle",
    ),
    Activity(
        "lab-safety",
        "Checklist: safe lab work",
        "A checklist learners tick off before their first lab session, scored on completion.",
        "activity=lab_safety",
        maximum=5,
    ),
)


@dataclass(frozen=True)
class Content:
    """Content for a page, offered when the platform asks for more than LTI links (Deep Linking
    ``link``/``html``/``image``/``file`` items; Content-Item ``ContentItem``/``FileItem``)."""

    id: str
    kind: str  # link, html, image, file
    title: str
    text: str
    html: str = ""


#: What the picker offers for a page (a rich-text field or a "Tool content" block). The HTML
#: snippet carries a script on purpose: the platform must remove it.
CONTENT: tuple[Content, ...] = (
    Content(
        "water-article",
        "link",
        "Article: where rain comes from",
        "A link to a page of the demo tool about the water cycle.",
    ),
    Content(
        "fact-box",
        "html",
        "Fact box: water on Earth",
        "An HTML snippet (with a script the platform removes).",
        html=(
            '<aside class="fact-box"><h3>Did you know?</h3><p>About <strong>97%</strong> of '
            "the water on Earth is salt water.</p>"
            "<script>document.title = 'hacked by the fact box'</script></aside>"
        ),
    ),
    Content(
        "cycle-diagram",
        "image",
        "Diagram: the water cycle",
        "An image served by the demo tool.",
    ),
    Content(
        "lab-notes",
        "file",
        "Lab notes (text file)",
        "A file the platform fetches and keeps; its link here expires after an hour.",
    ),
)

#: Custom parameter names the platform can store: lower-case letters, digits, single underscores.
NAME_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
MAX_CUSTOM = 10
MAX_SCORE = 1000


def parse_custom(text: str) -> dict[str, str]:
    """``name=value`` lines to a dict; raises ``forms.ValidationError`` with a sentence."""
    custom: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not NAME_RE.match(name):
            raise forms.ValidationError(
                f"Line {number} is not name=value with a name of lower-case letters, digits and "
                "single underscores (e.g. level=beginner)."
            )
        if name in custom:
            raise forms.ValidationError(f"The name {name} is given twice.")
        custom[name] = value.strip()
    if len(custom) > MAX_CUSTOM:
        raise forms.ValidationError(f"At most {MAX_CUSTOM} custom parameters per item.")
    return custom


class PickerForm(forms.Form):
    """The picker: ``item`` (the chosen ids), ``custom_<id>`` and ``maximum_<id>`` per item."""

    launch_id = forms.CharField(widget=forms.HiddenInput, max_length=255)
    item = forms.MultipleChoiceField(
        choices=[(activity.id, activity.title) for activity in CATALOGUE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    content = forms.MultipleChoiceField(
        choices=[(item.id, item.title) for item in CONTENT],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, accepts: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        #: The content kinds the platform takes besides LTI links (none: no content offered).
        self.accepts = tuple(accepts)
        self.fields["content"].choices = [
            (item.id, item.title) for item in CONTENT if item.kind in self.accepts
        ]
        for activity in CATALOGUE:
            self.fields[f"custom_{activity.id}"] = forms.CharField(
                label="Custom parameters",
                required=False,
                max_length=1000,
                initial=activity.custom,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="One name=value a line; sent back at every launch of this item.",
            )
            if activity.maximum is not None:
                self.fields[f"maximum_{activity.id}"] = forms.DecimalField(
                    label="Maximum score",
                    min_value=Decimal("0.01"),
                    max_value=MAX_SCORE,
                    max_digits=8,
                    decimal_places=2,
                    initial=activity.maximum,
                    help_text="The grade column's maximum on the platform.",
                )

    def clean(self):
        cleaned = super().clean()
        for activity in CATALOGUE:
            name = f"custom_{activity.id}"
            if name in cleaned:
                try:
                    cleaned[name] = parse_custom(cleaned[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned

    def rows(self):
        """One row per activity for the template: the activity and its bound fields."""
        chosen = set(self["item"].value() or [])
        for activity in CATALOGUE:
            maximum = f"maximum_{activity.id}"
            yield {
                "activity": activity,
                "checked": activity.id in chosen,
                "custom": self[f"custom_{activity.id}"],
                "maximum": self[maximum] if maximum in self.fields else None,
            }

    def content_rows(self):
        """The content the platform takes, for the template."""
        chosen = set(self["content"].value() or [])
        return [
            {"item": item, "checked": item.id in chosen}
            for item in CONTENT
            if item.kind in self.accepts
        ]

    def chosen_content(self) -> list[Content]:
        ids = set(self.cleaned_data.get("content") or [])
        return [item for item in CONTENT if item.id in ids and item.kind in self.accepts]

    def chosen(self) -> list[tuple[Activity, dict[str, str], Decimal | None]]:
        """The chosen activities with their custom parameters and maximum (a valid form)."""
        ids = set(self.cleaned_data["item"])
        return [
            (
                activity,
                self.cleaned_data.get(f"custom_{activity.id}") or {},
                self.cleaned_data.get(f"maximum_{activity.id}")
                if activity.maximum is not None
                else None,
            )
            for activity in CATALOGUE
            if activity.id in ids
        ]


def item_url(launch_url: str, activity: Activity) -> str:
    return f"{launch_url}?activity={activity.id}"


def deep_link_resources(form: PickerForm, launch_url: str) -> list[DeepLinkResource]:
    """The chosen items as PyLTI1p3 resources (Deep Linking 2.0 ``ltiResourceLink``)."""
    resources = []
    for activity, custom, maximum in form.chosen():
        resource = (
            DeepLinkResource()
            .set_title(activity.title)
            .set_url(item_url(launch_url, activity))
            .set_custom_params(custom)
        )
        if maximum is not None:
            resource.set_lineitem(
                LineItem()
                .set_label(activity.title)
                .set_score_maximum(float(maximum))
                .set_tag(f"demo-tool:{activity.id}")
            )
        resources.append(resource)
    return resources


def content_items(form: PickerForm, launch_url: str) -> dict:
    """The chosen items as Content-Item Message 1.0 JSON-LD (``LtiLinkItem``, §5)."""
    graph = []
    for activity, custom, maximum in form.chosen():
        item = {
            "@type": "LtiLinkItem",
            "mediaType": "application/vnd.ims.lti.v1.ltilink",
            "title": activity.title,
            "text": activity.text,
            "url": item_url(launch_url, activity),
            "placementAdvice": {"presentationDocumentTarget": "iframe"},
        }
        if custom:
            item["custom"] = custom
        if maximum is not None:
            item["lineItem"] = {
                "@type": "LineItem",
                "label": activity.title,
                "reportingMethod": "res:totalScore",
                "scoreConstraints": {
                    "@type": "NumericLimits",
                    "normalMaximum": float(maximum),
                    "totalMaximum": float(maximum),
                },
            }
        graph.append(item)
    return {"@context": "http://purl.imsglobal.org/ctx/lti/v1/ContentItem", "@graph": graph}


# --- Content for a page ---------------------------------------------------------------------------

CONTENT_KINDS = ("link", "html", "image", "file")


def accepted_kinds_13(settings: dict) -> tuple[str, ...]:
    """The content kinds a Deep Linking request's ``accept_types`` allow."""
    types = settings.get("accept_types") or []
    return tuple(kind for kind in CONTENT_KINDS if kind in types)


def accepted_kinds_11(params: dict) -> tuple[str, ...]:
    """The content kinds a Content-Item request's ``accept_media_types`` allow."""
    media = [m.strip() for m in str(params.get("accept_media_types") or "").split(",")]
    kinds = []
    if "text/html" in media:
        kinds += ["link", "html"]
    if "image/*" in media or "image/svg+xml" in media:
        kinds.append("image")
    if "text/plain" in media or "text/*" in media:
        kinds.append("file")
    return tuple(kinds)


def content_urls(base_url: str, item: Content) -> str:
    """Where the demo tool serves an item (``base_url``: its content view, absolute)."""
    return f"{base_url}{item.id}/"


def deep_link_content(form: PickerForm, base_url: str, expires_at: str) -> list[dict]:
    """The chosen content as Deep Linking 2.0 content items (§3.1, §3.3-3.5)."""
    items = []
    for item in form.chosen_content():
        url = content_urls(base_url, item)
        if item.kind == "link":
            items.append(
                {
                    "type": "link",
                    "url": url,
                    "title": item.title,
                    "text": item.text,
                    "window": {"targetName": "water-article"},
                }
            )
        elif item.kind == "html":
            items.append({"type": "html", "html": item.html, "title": item.title})
        elif item.kind == "image":
            items.append(
                {"type": "image", "url": url, "title": item.title, "width": 320, "height": 180}
            )
        else:
            items.append(
                {
                    "type": "file",
                    "url": url,
                    "title": item.title,
                    "mediaType": "text/plain",
                    "expiresAt": expires_at,
                }
            )
    return items


def content_item_content(form: PickerForm, base_url: str, expires_at: str) -> list[dict]:
    """The chosen content as Content-Item 1.0 items (``ContentItem``, ``FileItem``)."""
    items = []
    for item in form.chosen_content():
        url = content_urls(base_url, item)
        if item.kind == "link":
            items.append(
                {
                    "@type": "ContentItem",
                    "mediaType": "text/html",
                    "url": url,
                    "title": item.title,
                    "text": item.text,
                    "placementAdvice": {"presentationDocumentTarget": "window"},
                }
            )
        elif item.kind == "html":
            items.append(
                {
                    "@type": "ContentItem",
                    "mediaType": "text/html",
                    "text": item.html,
                    "title": item.title,
                    "placementAdvice": {"presentationDocumentTarget": "embed"},
                }
            )
        elif item.kind == "image":
            items.append(
                {
                    "@type": "ContentItem",
                    "mediaType": "image/svg+xml",
                    "url": url,
                    "title": item.title,
                    "placementAdvice": {
                        "presentationDocumentTarget": "embed",
                        "displayWidth": 320,
                        "displayHeight": 180,
                    },
                }
            )
        else:
            items.append(
                {
                    "@type": "FileItem",
                    "mediaType": "text/plain",
                    "url": url,
                    "title": item.title,
                    "expiresAt": expires_at,
                }
            )
    return items


def content_body(item_id: str) -> tuple[bytes, str] | None:
    """What the demo tool serves for an item: the body and its media type."""
    item = next((c for c in CONTENT if c.id == item_id), None)
    if item is None:
        return None
    if item.kind == "image":
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" '
            'viewBox="0 0 320 180" role="img" aria-label="The water cycle">'
            '<rect width="320" height="180" fill="#e6f2fb"/>'
            '<circle cx="270" cy="40" r="22" fill="#f5b301"/>'
            '<path d="M0 150 Q80 120 160 150 T320 150 V180 H0Z" fill="#2b7bb9"/>'
            '<path d="M60 60 q20 -25 45 -8 q25 -20 45 5 q15 20 -10 25 h-70 q-25 -5 -10 -22Z" '
            'fill="#fff" stroke="#9bb"/>'
            '<text x="160" y="30" font-family="sans-serif" font-size="16" text-anchor="middle" '
            'fill="#134">Evaporation, clouds, rain</text></svg>'
        )
        return svg.encode(), "image/svg+xml"
    if item.kind == "file":
        return (
            b"Lab notes: the water cycle\n\n1. Heat a beaker of water.\n"
            b"2. Hold a cold plate above it.\n3. Watch the drops form and fall.\n",
            "text/plain",
        )
    if item.kind == "link":
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Where rain comes "
            "from</title></head><body><h1>Where rain comes from</h1><p>The sun warms water, "
            "which rises as vapour, cools into clouds and falls as rain.</p></body></html>"
        )
        return page.encode(), "text/html; charset=utf-8"
    return None
