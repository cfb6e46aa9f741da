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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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
