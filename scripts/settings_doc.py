"""Writes docs/settings.md from wagtail_lti/conf.py, so the settings reference stays true.

    .venv/bin/python scripts/settings_doc.py           # rewrite docs/settings.md
    .venv/bin/python scripts/settings_doc.py --check   # exit 1 if docs/settings.md is stale

The reference is built from the ``DEFAULTS`` dictionary's source: each ``# --- Title.`` comment
opens a section (the rest of that comment describes the section's first setting, unless it has
its own comment); a setting is described by the comment lines right above it and by its trailing
comment. The default is shown as written in the source. tests/test_docs.py fails when a setting
has no description or the file is stale.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "wagtail_lti" / "conf.py"
DOC = ROOT / "docs" / "settings.md"
SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z\"'(])")


@dataclass
class Setting:
    name: str
    default: str
    description: str = ""


@dataclass
class Section:
    title: str
    settings: list[Setting] = field(default_factory=list)


def _comments(source: str) -> dict[int, str]:
    """Line number -> text of the comment on that line (without ``#``)."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def _defaults_node(tree: ast.Module) -> ast.Dict:
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if (
            isinstance(target, ast.Name)
            and target.id == "DEFAULTS"
            and isinstance(node.value, ast.Dict)
        ):
            return node.value
    raise SystemExit("DEFAULTS not found in wagtail_lti/conf.py")


def _join(lines: list[str]) -> str:
    return " ".join(line for line in lines if line).strip()


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def parse(source: str | None = None) -> list[Section]:
    """The sections and settings of ``DEFAULTS``, in source order."""
    source = source if source is not None else CONF.read_text()
    comments = _comments(source)
    node = _defaults_node(ast.parse(source))
    sections: list[Section] = []
    previous_end = node.lineno
    for key, value in zip(node.keys, node.values, strict=True):
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            raise SystemExit(f"line {value.lineno}: DEFAULTS keys must be plain strings")
        block = [comments[n] for n in range(previous_end + 1, key.lineno) if n in comments]
        trailing = [comments[n] for n in range(key.lineno, value.end_lineno + 1) if n in comments]
        previous_end = value.end_lineno

        own: list[str] = []
        section_rest = ""
        if block and block[0].startswith("---"):
            text = _join([block[0].lstrip("-").strip(), *block[1:]])
            parts = SENTENCE_END.split(text, maxsplit=1)
            first, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            if ":" in first:
                # "Title: what the first setting is. More." -> title, and the first setting's text.
                title, first_rest = first.split(":", 1)
                section_rest = _join([_capitalize(first_rest.strip()), rest])
            else:
                title = first.rstrip(".")
                # The first setting's text, or, for a one-sentence section, the whole sentence.
                section_rest = rest or text
            sections.append(Section(title=title.strip()))
        else:
            own = block
        if not sections:
            sections.append(Section(title="General"))
        description = _join([*own, *trailing]) or section_rest
        default = ast.get_source_segment(source, value) or ""
        sections[-1].settings.append(Setting(key.value, " ".join(default.split()), description))
    return sections


def render(sections: list[Section]) -> str:
    out = [
        "# Settings reference",
        "",
        "<!-- Generated from wagtail_lti/conf.py by scripts/settings_doc.py; do not edit by hand. -->",
        "",
        "wagtail-lti reads one dictionary from your Django settings, `WAGTAIL_LTI`. Every key is",
        "optional; a key that is not listed here is refused at start-up (`ImproperlyConfigured`), so a",
        "typo cannot go unnoticed. Code reads the values through `wagtail_lti.conf.lti_settings`,",
        "which follows `override_settings(WAGTAIL_LTI={...})` in tests.",
        "",
        "```python",
        "WAGTAIL_LTI = {",
        '    "PLATFORM_NAME": "Acme Learning",',
        '    "ISSUER": "https://learn.example.com",',
        '    "FRAME_ANCESTORS": ["https://intranet.example.com"],',
        "}",
        "```",
        "",
        "Durations are in seconds unless the name says otherwise. See also",
        "[production.md](production.md) for the Django settings a production site needs.",
        "",
    ]
    for section in sections:
        out += [f"## {section.title}", "", "| Setting | Default | Meaning |", "| --- | --- | --- |"]
        for setting in section.settings:
            description = setting.description.replace("|", "\\|")
            out.append(f"| `{setting.name}` | `{setting.default}` | {description} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render(parse())
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/settings.md is stale: run scripts/settings_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
