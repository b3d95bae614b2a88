#!/usr/bin/env python3
"""Set up and run qubitlab from a fresh clone with nothing but Python >= 3.11 and pip.

    python3 dev.py demo     # create .venv, install qubitlab, run the main job on the virtual lab (bring-up + VQE)
    python3 dev.py test     # create .venv, install qubitlab[test], run the test suite and the type check
    python3 dev.py bench    # run the benchmarks (python -m benchmarks all)
    python3 dev.py docs     # install qubitlab[docs], build the documentation site strictly into out/site/
    python3 dev.py gallery  # run the examples that declare a PLOT, copy their plots into docs/examples/img/

Everything it writes stays inside the clone (.venv/, .cache/, out/): pip's cache and matplotlib's
configuration are pointed here so nothing lands in the home directory by surprise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CACHE = ROOT / ".cache"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
# Folders mapped to qubitlab.<name> in pyproject.toml; the type check mirrors that layout.
LAYERS = ("drivers", "pulse", "circuits", "calibration", "runtime")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PIP_CACHE_DIR=str(CACHE / "pip"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        MPLCONFIGDIR=str(CACHE / "matplotlib"),
        MPLBACKEND="Agg",
    )
    env.pop("PYTHONHOME", None)
    return env


def _run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, env=_env(), check=True)


def ensure_venv(extras: str) -> None:
    """Create .venv and (re)install qubitlab with ``extras`` when pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"qubitlab needs Python >= 3.11; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".qubitlab-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


# -- Qiskit 1.4 beside the suite (the PulseQobj interop test; kept apart from the shared code above) ----------
QISKIT1 = ROOT / ".venv-qiskit1"
"""A second venv with Qiskit 1.4, whose ``PulseQobj``/``assemble`` Qiskit 2.0 removed: tests/pulse/
test_qobj_qiskit1.py runs a script under it (and skips when it is absent, as under a bare ``pytest``)."""
QISKIT1_SPEC = ("qiskit>=1.4,<2", "numpy")


def ensure_qiskit1_venv() -> None:
    """Create .venv-qiskit1 once (from the package index, pip's cache in .cache/); a stamp marks it complete."""
    stamp = QISKIT1 / ".qubitlab-qiskit1"
    if stamp.exists() and stamp.read_text() == " ".join(QISKIT1_SPEC):
        return
    print(f"creating the Qiskit 1.4 environment in {QISKIT1}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(QISKIT1)
    _run(QISKIT1 / BIN.name / PY.name, "-m", "pip", "install", "--quiet", *QISKIT1_SPEC)
    stamp.write_text(" ".join(QISKIT1_SPEC))
# -- end of the Qiskit 1.4 part ----------------------------------------------------------------------------


def typecheck() -> None:
    """mypy over the packages, laid out as they install (qubitlab/pulse -> pulse/, ...) by symlinks."""
    with tempfile.TemporaryDirectory(prefix="qubitlab-mypy-") as tmp:
        pkg = Path(tmp) / "qubitlab"
        pkg.mkdir()
        for entry in (ROOT / "qubitlab").iterdir():
            if entry.name != "__pycache__":
                (pkg / entry.name).symlink_to(entry)
        for layer in LAYERS:
            (pkg / layer).symlink_to(ROOT / layer)
        cmd = [str(PY), "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(CACHE / "mypy"), "-p", "qubitlab"]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=tmp, env=_env(), check=True)
        print("mypy: the packages type-check", flush=True)


def gallery() -> None:
    """Refresh the documentation gallery's images: bring the virtual lab up once, run every example that
    declares ``PLOT = "<file>.png"`` on it (as tests/test_examples.py does) and copy that file into
    docs/examples/img/. The images are committed; the test suite checks each declared one exists and is shown."""
    import ast
    import shutil

    images = ROOT / "docs" / "examples" / "img"
    with tempfile.TemporaryDirectory(prefix="qubitlab-gallery-") as tmp:
        lab = Path(tmp) / "lab" / "virtual_2q.yaml"
        lab.parent.mkdir()
        shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab)
        _run(BIN / "qubitlab", "calibrate", "all", "--lab", lab)
        for script in sorted((ROOT / "examples").glob("[!_]*.py")):
            plot = next((ast.literal_eval(node.value) for node in ast.parse(script.read_text()).body
                         if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PLOT" for t in node.targets)),
                        None)
            if plot is None:
                continue
            out = Path(tmp) / script.stem
            env = {**_env(), "QUBITLAB_EXAMPLES_OUT": str(out), "QUBITLAB_EXAMPLES_CALIBRATED": str(lab)}
            print("+", script.name, flush=True)
            subprocess.run([str(PY), str(script)], cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
            images.mkdir(exist_ok=True)
            shutil.copy(next(out.rglob(plot)), images / plot)
    print(f"gallery images: {images}", flush=True)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "help"
    if command == "demo":
        ensure_venv("")
        _run(BIN / "qubitlab", "pulse-demo", "--out", "out")
        # the main job: bring-up of the virtual two-qubit lab (its store in out/.qubitlab/: a second run finds it
        # fresh), then an H2 VQE through the daemon in a session, with its report
        _run(BIN / "qubitlab", "demo", "--out", "out")
    elif command == "test":
        # the Qiskit bridge's tests and the strict docs build run in the suite too (both skip without them)
        ensure_venv("test,qiskit,docs")
        ensure_qiskit1_venv()  # Qiskit 1.4's PulseQobj checks our export (tests/pulse/test_qobj_qiskit1.py)
        _run(PY, "-m", "pytest", "-q", *argv[1:])
        typecheck()
    elif command == "docs":
        ensure_venv("docs")
        # strict: a broken link, a page left out of the nav or an unresolved reference fails the build
        _run(PY, "-m", "mkdocs", "build", "--strict", "--site-dir", str(ROOT / "out" / "site"), *argv[1:])
        print(f"documentation: {ROOT / 'out' / 'site' / 'index.html'}", flush=True)
    elif command == "gallery":
        ensure_venv("test")
        gallery()
    elif command == "bench":
        ensure_venv("test")
        _run(PY, "-m", "benchmarks", *(argv[1:] or ["all"]))
    else:
        print(__doc__)
        sys.exit(0 if command in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
