"""mkdocs hook: lay the packages out as they install, so mkdocstrings (griffe) finds ``qubitlab.pulse`` & co.

The repository maps top-level folders to import names (``pulse/`` is ``qubitlab.pulse``, see
``[tool.setuptools.package-dir]``); griffe reads source folders and does not follow setuptools' editable
finder for subpackages. Like ``dev.py``'s type check, this builds ``.cache/docs-src/qubitlab/`` out of
symlinks before any page is rendered; ``mkdocs.yml`` points the handler's ``paths`` there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ROOT / ".cache" / "docs-src"
LAYERS = ("drivers", "pulse", "circuits", "calibration", "runtime")


@event_priority(100)  # before mkdocstrings' own on_config, which keeps only search paths that exist
def on_config(config: Any) -> Any:
    package = LAYOUT / "qubitlab"
    if LAYOUT.exists():
        shutil.rmtree(LAYOUT)
    package.mkdir(parents=True)
    for entry in (ROOT / "qubitlab").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for layer in LAYERS:
        (package / layer).symlink_to(ROOT / layer)
    return config
