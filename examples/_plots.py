"""Shared by the examples that save a plot (not an example itself: its name starts with ``_``).

Each plotting example declares ``PLOT = "<file>.png"`` at module level; ``tests/test_examples.py`` checks the
script writes that file into ``$QUBITLAB_EXAMPLES_OUT``, and the documentation gallery shows the copy that
``python3 dev.py gallery`` keeps in ``docs/examples/img/``. Figures are made with ``matplotlib.figure.Figure``
(no pyplot, no window), so the scripts run the same on a headless control PC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def figure(width: float = 6.4, height: float = 3.8) -> Any:
    """A new figure, not attached to any GUI backend."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Any, out: Path, name: str) -> Path:
    """Write ``fig`` to ``out/name`` (``out``: the example's output folder) and say where."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")
    return path
