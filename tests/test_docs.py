"""The documentation stays true to the code: settings reference, README quick start, links, URLs."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from wagtail_lti.conf import DEFAULTS


ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def settings_doc():
    spec = importlib.util.spec_from_file_location(
        "settings_doc", ROOT / "scripts" / "settings_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_every_setting_is_documented_with_its_default_and_meaning():
    documented = {s.name: s for section in settings_doc().parse() for s in section.settings}
    assert set(documented) == set(DEFAULTS)
    undocumented = [name for name, s in documented.items() if not s.description]
    assert not undocumented, (
        f"WAGTAIL_LTI settings without a description: {undocumented}. Add a comment above the key "
        "or after it in wagtail_lti/conf.py, then run scripts/settings_doc.py."
    )
    text = (DOCS / "settings.md").read_text()
    for name in DEFAULTS:
        assert f"| `{name}` |" in text, f"{name} is missing from docs/settings.md"


def test_settings_reference_is_up_to_date():
    module = settings_doc()
    assert (DOCS / "settings.md").read_text() == module.render(module.parse()), (
        "docs/settings.md is stale: run scripts/settings_doc.py"
    )


def test_the_generator_notices_an_undocumented_setting():
    source = (
        "DEFAULTS = {\n"
        "    # --- Things.\n"
        '    "DOCUMENTED": 1,  # what it does\n'
        '    "FORGOTTEN": 2,\n'
        "    # The third one.\n"
        '    "THIRD": 256 * 1024,\n'
        "}\n"
    )
    (section,) = settings_doc().parse(source)
    assert section.title == "Things"
    assert [(s.name, s.default, s.description) for s in section.settings] == [
        ("DOCUMENTED", "1", "what it does"),
        ("FORGOTTEN", "2", ""),
        ("THIRD", "256 * 1024", "The third one."),
    ]


def test_readme_quick_start_is_one_shell_block_of_two_commands_that_exist():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, flags=re.M | re.S)
    assert match, "README has no '## Quick start' section"
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", match.group(1), flags=re.M | re.S)
    assert len(blocks) == 1
    language, body = blocks[0]
    assert language in {"sh", "bash", "shell", "console"}
    lines = body.splitlines()
    assert lines == ["scripts/demo", "scripts/test"]
    for line in lines:
        path = ROOT / line.split()[0]
        assert path.is_file() and os.access(path, os.X_OK), f"{line} is not an executable script"


@pytest.mark.parametrize(
    "path", ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in DOCS.glob("*.md"))]
)
def test_relative_links_point_at_existing_files(path):
    source = ROOT / path
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", source.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        assert (source.parent / target).exists(), f"{path} links to missing {target}"


def _display_path(pattern) -> str:
    """A URL pattern as the docs write it, with every variable part as ``<>``."""
    text = str(pattern.pattern)
    if text.startswith("^"):  # a regular expression
        text = re.sub(r"\(\?P<\w+>[^)]*\)", "<>", text.lstrip("^").rstrip("$"))
        text = text.replace("/?", "").replace("\\.", ".")
    return re.sub(r"<[^>]*>", "<>", text)


def test_tool_vendor_guide_lists_every_plugin_url():
    from wagtail_lti import urls

    guide = re.sub(r"<[^>]*>", "<>", (DOCS / "tool-vendors.md").read_text())
    missing = [_display_path(p) for p in urls.urlpatterns if _display_path(p) not in guide]
    assert not missing, f"docs/tool-vendors.md does not mention: {missing}"
