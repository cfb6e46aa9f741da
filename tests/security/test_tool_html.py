"""The one sanitiser of a tool's HTML (``security/html.py``, nh3): scripts, event handlers,
``javascript:`` URLs and foreign iframes removed; a trusted provider's own iframes kept."""

from __future__ import annotations

import pytest

from wagtail_lti.security.html import IFRAME_SANDBOX, is_sanitised, sanitise


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Hi<script>alert(1)</script></p>", "<p>Hi</p>"),
        (
            '<img src="https://i.example/a.png" onerror="alert(1)">',
            '<img src="https://i.example/a.png">',
        ),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        (
            '<a href="https://a.example/">x</a>',
            '<a href="https://a.example/" rel="noopener noreferrer">x</a>',
        ),
        ('<img src="data:image/png;base64,AAAA">', "<img>"),
        ('<p style="position:fixed" onclick="x()">s</p><!-- c -->', "<p>s</p>"),
        ("<style>body{display:none}</style><form><input name=p></form>ok", "ok"),
        ('<svg onload="alert(1)"><circle/></svg>t', "t"),
    ],
)
def test_unsafe_html_is_removed(html, expected):
    assert sanitise(html) == expected
    assert sanitise(html, embed_hosts={"tool.example"}) == expected
    assert is_sanitised(expected)


def test_iframes_are_removed_unless_the_host_is_trusted():
    frame = '<iframe src="https://tool.example/embed/1" width="640" onload="x()"></iframe>'
    assert sanitise(frame) == ""
    assert sanitise(frame, embed_hosts={"other.example"}) == ""
    kept = sanitise(frame, embed_hosts={"TOOL.example"})
    assert kept.startswith('<iframe src="https://tool.example/embed/1" width="640"')
    assert f'sandbox="{IFRAME_SANDBOX}"' in kept and "onload" not in kept


def test_foreign_and_plain_http_iframes_of_a_trusted_provider_are_removed():
    html = (
        '<iframe src="https://evil.example/x"></iframe>'
        '<iframe src="http://tool.example/x"></iframe>'
        '<iframe src="javascript:alert(1)"></iframe><p>after</p>'
    )
    assert sanitise(html, embed_hosts={"tool.example"}) == "<p>after</p>"


def test_a_sandbox_set_by_the_tool_is_replaced():
    html = '<iframe src="https://tool.example/x" sandbox="allow-top-navigation"></iframe>'
    assert "allow-top-navigation" not in sanitise(html, embed_hosts={"tool.example"})


def test_stored_html_that_was_not_passed_is_detected():
    assert not is_sanitised("<p onclick='x'>a</p>")
    assert is_sanitised(sanitise("<p onclick='x'>a</p>"))
