"""The layers import only the layers below them (docs/architecture.md, "Layers").

Every ``import`` in every module is read from the source (function-local and ``TYPE_CHECKING`` imports too, since
a lazy import is still a dependency), and a fresh interpreter shows what importing the bottom of the shell drags
in. Bottom to top: the shell's base (``qubitlab.errors``, ``qubitlab.units``, ``qubitlab.config``) < drivers
(with the virtual lab, ``drivers.mock``) < pulse < circuits < calibration < runtime < the shell's top (command
line, demos). Calibration may use the drivers but not the virtual lab: it reaches instruments only through the
composition root, ``qubitlab.drivers.open``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASE = ("qubitlab.errors", "qubitlab.units", "qubitlab.config")
FOLDERS = {"drivers": "qubitlab.drivers", "pulse": "qubitlab.pulse", "circuits": "qubitlab.circuits",
           "calibration": "qubitlab.calibration", "runtime": "qubitlab.runtime"}
ALLOWED: dict[str, tuple[str, ...]] = {
    "base": BASE,
    "qubitlab.drivers": (*BASE, "qubitlab.drivers"),
    "qubitlab.pulse": (*BASE, "qubitlab.drivers.payloads", "qubitlab.pulse"),
    "qubitlab.circuits": (*BASE, "qubitlab.drivers.payloads", "qubitlab.pulse", "qubitlab.circuits"),
    "qubitlab.calibration": (*BASE, "qubitlab.drivers", "qubitlab.pulse", "qubitlab.circuits",
                             "qubitlab.calibration"),
    "qubitlab.runtime": (*BASE, "qubitlab.drivers", "qubitlab.pulse", "qubitlab.circuits", "qubitlab.calibration",
                         "qubitlab.runtime"),
}
FORBIDDEN_BELOW: dict[str, tuple[str, ...]] = {"qubitlab.calibration": ("qubitlab.drivers.mock",)}


def _modules(path: Path) -> set[str]:
    """Every qubitlab module ``path`` imports (``from qubitlab import pulse`` counts as ``qubitlab.pulse``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "qubitlab":
                found.update(f"qubitlab.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return {m for m in found if m == "qubitlab" or m.startswith("qubitlab.")}


def _layer_files() -> list[tuple[str, Path]]:
    out = [("base", ROOT / "qubitlab" / name) for name in ("errors.py", "units.py")]
    out += [("base", p) for p in sorted((ROOT / "qubitlab" / "config").rglob("*.py"))]
    for folder, layer in FOLDERS.items():
        out += [(layer, p) for p in sorted((ROOT / folder).rglob("*.py"))]
    return out


def _inside(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize(("layer", "path"), _layer_files(), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(
    v, Path) else v)
def test_each_module_imports_only_layers_below_it(layer: str, path: Path) -> None:
    imported = _modules(path)
    upward = sorted(m for m in imported if not _inside(m, ALLOWED[layer]))
    assert not upward, f"{path.relative_to(ROOT)} ({layer}) imports {upward}: a layer above it"
    banned = sorted(m for m in imported if _inside(m, FORBIDDEN_BELOW.get(layer, ())))
    assert not banned, f"{path.relative_to(ROOT)} ({layer}) imports {banned}; use qubitlab.drivers.open instead"


def test_the_checker_sees_lazy_and_package_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from qubitlab import pulse\n\ndef f():\n    from qubitlab.drivers.mock.lab import VirtualLab\n"
                      "    import qubitlab.runtime.x\n")
    assert _modules(module) == {"qubitlab.pulse", "qubitlab.drivers.mock.lab", "qubitlab.runtime.x"}


def test_the_shell_base_loads_no_layer_in_a_fresh_interpreter() -> None:
    code = ("import sys, qubitlab.errors, qubitlab.units, qubitlab.config\n"
            "from qubitlab.config import load_lab\n"
            f"load_lab({str(ROOT / 'lab_configs' / 'virtual_2q.yaml')!r})\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('qubitlab.'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            check=True).stdout.split()
    layers = [m for m in loaded if not _inside(m, BASE)]
    assert not layers, f"loading a lab file imported {layers}"
