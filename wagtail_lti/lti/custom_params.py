"""Custom parameters: one ``custom_name=value`` per line.

The name starts with ``custom_`` and is in snake case (lower-case letters, digits and
underscores); blank lines are ignored; the value is kept verbatim, ``=`` and spaces included.
"""

from __future__ import annotations

import re

from .errors import CustomParameterError


NAME_RE = re.compile(r"^custom_[a-z0-9]+(?:_[a-z0-9]+)*$")


def parse_custom_parameters(text: str) -> dict[str, str]:
    """Parse the text of a Custom Parameters field into an ordered dict.

    Raises :class:`CustomParameterError` listing every bad line (missing ``=``, a name that is
    not ``custom_`` + snake case, a duplicate name) with its 1-based line number.
    """
    result: dict[str, str] = {}
    errors: list[tuple[int, str]] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if "=" not in line:
            errors.append((number, f"“{line.strip()}” has no “=”; write custom_name=value."))
            continue
        name, value = line.split("=", 1)
        name = name.strip()
        if not NAME_RE.match(name):
            errors.append(
                (
                    number,
                    f"“{name}” is not a valid name: it must start with “custom_” and be in snake "
                    "case (lower-case letters, digits and single underscores), e.g. custom_value_1.",
                )
            )
            continue
        if name in result:
            errors.append((number, f"“{name}” is given more than once."))
            continue
        result[name] = value
    if errors:
        raise CustomParameterError(errors)
    return result


def merge_custom_parameters(provider: dict[str, str], link: dict[str, str]) -> dict[str, str]:
    """Merge the provider's and the link's parameters; on the same name the link wins."""
    merged = dict(provider)
    merged.update(link)
    return merged
