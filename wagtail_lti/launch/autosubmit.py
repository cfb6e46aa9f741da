"""The one auto-submitting form: every page that posts a form on to a tool, or back to us.

Used by every door that answers with such a form: the LTI 1.1 launch (``launch/lti11.py``), the
LTI 1.3 login initiation (``launch/lti13.py: start_message``, for launches and Deep Linking
requests), the id_token or OIDC error posted to the tool and the same-site re-post of the
authorization request (``launch/lti13.py``), the Content-Item request
(``content_selection/service.py``) and the re-post of a tool's content selection answer
(``content_selection/views.py``).

The page (``wagtail_lti/autosubmit.html``) is submitted by ``launch.js`` (a script file, so sites
with a ``script-src 'self'`` Content Security Policy work), or by its button, which is always shown
(without JavaScript, or when the script cannot load). :func:`protect` is what every such page
answers with: never cached, and a ``Referer`` that carries only our origin (not the request's
query: message hint, nonce, one-time signature).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


TEMPLATE = "wagtail_lti/autosubmit.html"


def form_value(value: str) -> str:
    """Line breaks as a browser submits them (CRLF), so what we sign is what the tool receives."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def protect(response: HttpResponse, *, framable: bool = False) -> HttpResponse:
    """Headers of the pages of a launch or a content selection: never cached, ``Referer`` with
    our origin only; ``framable``: shown inside an activity's iframe on a course page
    (``wagtail_lti.courses.framing.allow_framing``), otherwise the site's default (``DENY``)."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    response["Referrer-Policy"] = "origin"
    if framable:
        from ..courses.framing import allow_framing

        allow_framing(response)
    return response


def autosubmit(
    request: HttpRequest,
    *,
    action: str,
    fields: Mapping[str, str] | Iterable[tuple[str, str]],
    title: str,
    message: str,
    button: str,
    framable: bool = False,
) -> HttpResponse:
    """A page whose form posts ``fields`` to ``action`` by itself (see the module's text).

    ``fields``: a mapping, or ``(name, value)`` pairs when a name repeats; posted exactly as given
    (a signed form's values must already be what was signed). ``title`` is the page's title,
    ``message`` the sentence shown while it submits, ``button`` the button's text.
    """
    pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    response = render(
        request,
        TEMPLATE,
        {
            "action": action,
            "fields": pairs,
            "hidden_inputs": hidden_inputs(pairs),
            "title": title,
            "message": message,
            "button": button,
        },
    )
    return protect(response, framable=framable)


def hidden_inputs(pairs: Iterable[tuple[str, str]]) -> SafeString:
    """The form's hidden inputs, escaped as the template would (``conditional_escape``), built
    in one pass instead of a template loop: an LTI 1.1 launch has about 25 fields."""
    return mark_safe(  # noqa: S308 - every name and value is escaped here
        "".join(
            f'<input type="hidden" name="{conditional_escape(name)}" '
            f'value="{conditional_escape(value)}">\n  '
            for name, value in pairs
        )
    )
