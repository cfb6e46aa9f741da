"""Reading the HTML forms and links of a page, as a browser reads them.

The platform answers many steps with an HTML form that a browser submits (LTI 1.1 launches, LTI 1.3
login initiation and ``id_token`` posts, deep-linking and content-item answers re-posted, error
answers to the tool). Tests read those forms back here and post them as the browser would.

Each form is a ``dict``:

* ``action``, ``method`` (as written; ``"get"`` when absent, the HTML default), ``target``;
* ``fields``: ``{name: value}`` of the named ``<input>`` elements inside the form (the last value
  of a repeated name wins);
* ``pairs``: every ``(name, value)`` in document order, repeated names included (what a browser
  posts);
* ``buttons``: how many ``<button>`` elements the form holds.

Inputs outside any ``<form>`` belong to no form (a browser would not post them).
"""

from __future__ import annotations

from html.parser import HTMLParser


class Page(HTMLParser):
    """The forms and the links (``<a>`` attributes) of one HTML page."""

    def __init__(self, html: str = ""):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[dict] = []
        self._open: dict | None = None
        self._textarea: str | None = None
        if html:
            self.feed(html)
            self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = {
                "action": attrs.get("action") or "",
                "method": attrs.get("method") or "get",
                "target": attrs.get("target") or "",
                "fields": {},
                "pairs": [],
                "checkboxes": [],
                "buttons": 0,
            }
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attrs.get("name"):
            value = attrs.get("value") or ""
            self._open["fields"][attrs["name"]] = value
            self._open["pairs"].append((attrs["name"], value))
            if attrs.get("type") == "checkbox":
                self._open["checkboxes"].append((attrs["name"], value))
        elif tag == "textarea" and self._open is not None and attrs.get("name"):
            self._textarea = attrs["name"]
            self._open["fields"][self._textarea] = ""
        elif tag == "button" and self._open is not None:
            self._open["buttons"] += 1
        elif tag == "a":
            self.links.append(attrs)

    def handle_data(self, data):
        if self._textarea is not None and self._open is not None:
            self._open["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self._open is not None:
            # As a browser submits it: the text, without the newline after the opening tag.
            text = self._open["fields"][self._textarea]
            self._open["fields"][self._textarea] = text[1:] if text.startswith("\n") else text
            self._open["pairs"].append((self._textarea, self._open["fields"][self._textarea]))
            self._textarea = None
        elif tag == "form":
            self._open = None


def page_text(page) -> str:
    """The HTML of ``page``: a string, a Django response or a ``requests`` response."""
    if isinstance(page, str):
        return page
    if isinstance(page, bytes):
        return page.decode()
    text = getattr(page, "text", None)  # requests.Response
    if isinstance(text, str):
        return text
    return page.content.decode()


def read_page(page) -> Page:
    """The forms and links of ``page`` (a string, a Django response or a ``requests`` response)."""
    return Page(page_text(page))


def the_form(page) -> dict:
    """The one form of ``page``; fails, showing the page, when it has none or several."""
    html = page_text(page)
    forms = Page(html).forms
    assert len(forms) == 1, html
    return forms[0]


def first_form(page) -> dict:
    """The first form of ``page``; fails, showing the page, when it has none."""
    html = page_text(page)
    forms = Page(html).forms
    assert forms, html
    return forms[0]


def input_value(page, name: str) -> str:
    """The value of the input named ``name`` in any form of ``page``; fails when there is none."""
    html = page_text(page)
    for form in Page(html).forms:
        if name in form["fields"]:
            return form["fields"][name]
    raise AssertionError(f"no input named {name!r} in {html}")
