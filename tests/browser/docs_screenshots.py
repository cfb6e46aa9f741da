"""The README's screenshots, taken by the browser tests.

``docs_shot(page, name, area=None)`` saves one screen (the page's current viewport, which the tests
keep at 1280x800) or the part of it covered by the locator ``area``, as
``test-artifacts/screenshots/docs-<name>.png``; with ``UPDATE_DOCS_SCREENSHOTS=1`` in the
environment also as ``docs/screenshots/<name>.png``, the file the README shows. Commit those after
looking at them. A screenshot over ``MAX_BYTES`` is reduced to a 256-colour palette, which keeps
text sharp and the repository small.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
MAX_BYTES = 200_000
VIEWPORT = {"width": 1280, "height": 800}


def docs_shot(page, name: str, area=None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"docs-{name}.png"
    size = page.viewport_size
    if size != VIEWPORT:
        page.set_viewport_size(VIEWPORT)
    # No hover effect where the last click left the pointer.
    page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)
    try:
        clip = None
        if area is not None:
            box = area.bounding_box()
            top = max(box["y"], 0)
            clip = {
                "x": max(box["x"], 0),
                "y": top,
                "width": min(box["width"], VIEWPORT["width"] - max(box["x"], 0)),
                "height": min(box["height"], VIEWPORT["height"] - top),
            }
        page.screenshot(path=str(path), clip=clip, animations="disabled", caret="hide")
    finally:
        if size != VIEWPORT:
            page.set_viewport_size(size)
    if path.stat().st_size > MAX_BYTES:
        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                path, optimize=True
            )
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{name}.png")
    return path
