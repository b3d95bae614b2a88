"""Every script in examples/ runs, within its time limit, and prints a key figure inside the range it declares.

The scripts are discovered (every ``examples/*.py`` not starting with ``_``), never listed here. Each one
declares ``EXPECT = {"name": (low, high), ...}`` at module level, a literal whose ranges come from the physics
of the lab file or from exact counts (its comment says how); this file reads it with ``ast`` without importing
the script, runs the script in a fresh interpreter (a process group of its own) with a time limit, its working
directory, home directory and output folder (``QUBITLAB_EXAMPLES_OUT``) all inside ``tmp_path``, and checks the
exit code, that no process of its group is left running (a daemon it started must be stopped by the script),
that every declared figure is printed as ``RESULT name=value`` and lies in its range, that nothing printed is
unchecked, and that the repository gained no file.

The documentation site is built here too, strictly (a broken link or a missing reference fails), when
mkdocs is installed (``pip install -e '.[docs]'``); ``python3 dev.py docs`` builds the same into out/site/.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIME_LIMIT = 60.0
"""Seconds each example may take (issue 20: each runs on the virtual lab in under 60 s)."""
RESULT = re.compile(r"^RESULT (?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S+)\s*$", re.MULTILINE)


def discovered() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def declared(path: Path) -> tuple[str | None, dict[str, tuple[float, float]]]:
    """The script's docstring and its ``EXPECT`` literal, read without running it."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return ast.get_docstring(tree), literal(tree, "EXPECT") or {}


def declared_plot(path: Path) -> str | None:
    """The file name the script declares in ``PLOT`` (the plot the gallery shows), if it saves one."""
    return literal(ast.parse(path.read_text(), filename=str(path)), "PLOT")


def literal(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def repo_files() -> set[Path]:
    """Every file of the work tree outside the folders tools write to (.venv, caches, out/)."""
    skip = {".git", ".venv", ".cache", "out", "__pycache__", ".mypy_cache", ".pytest_cache", ".hypothesis"}
    found: set[Path] = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        found.update(Path(folder) / f for f in files)
    return found


def test_the_examples_are_discovered_and_each_declares_how_to_run_it_and_what_to_expect() -> None:
    scripts = discovered()
    assert len(scripts) >= 7, [p.name for p in scripts]
    for path in scripts:
        doc, expect = declared(path)
        assert doc and "Run it:" in doc and f"examples/{path.name}" in doc, f"{path.name}: docstring says how to run"
        assert expect, f"{path.name}: declare EXPECT = {{'figure': (low, high)}}"
        for name, (low, high) in expect.items():
            assert math.isfinite(low) and math.isfinite(high) and low <= high, f"{path.name}: EXPECT[{name!r}]"


def test_every_example_is_included_in_the_documentation_gallery() -> None:
    gallery = (ROOT / "docs" / "examples" / "index.md").read_text()
    missing = [p.name for p in discovered() if f'--8<-- "examples/{p.name}"' not in gallery]
    assert not missing, f"add these to docs/examples/index.md: {missing}"
    plots = {p.name: declared_plot(p) for p in discovered() if declared_plot(p)}
    assert len(plots) >= 5, plots
    for script, plot in plots.items():
        image = ROOT / "docs" / "examples" / "img" / str(plot)
        assert image.is_file(), f"{script}: run `python3 dev.py gallery` to put {plot} into docs/examples/img/"
        assert f"](img/{plot})" in gallery, f"{script}: show img/{plot} in docs/examples/index.md"
    shown = {p.name for p in (ROOT / "docs" / "examples" / "img").glob("*.png")}
    assert shown == set(plots.values()), f"images no example declares: {sorted(shown - set(plots.values()))}"


def test_a_result_outside_its_range_or_missing_is_caught() -> None:
    """The checker itself: it must be able to fail."""
    expect = {"pi_amp": (0.058, 0.064)}
    with pytest.raises(AssertionError, match="outside"):
        check_results("x.py", "RESULT pi_amp=0.07\n", expect)
    with pytest.raises(AssertionError, match="did not print"):
        check_results("x.py", "pi_amp=0.06\n", expect)
    with pytest.raises(AssertionError, match="declares no range"):
        check_results("x.py", "RESULT pi_amp=0.06\nRESULT other=1\n", expect)
    check_results("x.py", "noise\nRESULT pi_amp=0.0611\n", expect)


def check_results(name: str, stdout: str, expect: dict[str, tuple[float, float]]) -> None:
    printed = {m["name"]: float(m["value"]) for m in RESULT.finditer(stdout)}
    unchecked = sorted(set(printed) - set(expect))
    assert not unchecked, f"{name} prints {unchecked} but declares no range for them in EXPECT"
    for figure, (low, high) in expect.items():
        assert figure in printed, f"{name} did not print 'RESULT {figure}=...'"
        assert low <= printed[figure] <= high, f"{name}: {figure} = {printed[figure]} outside [{low}, {high}]"


@pytest.mark.parametrize("path", discovered(), ids=lambda p: p.stem)
def test_example_runs_and_prints_a_sensible_key_figure(path: Path, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    _, expect = declared(path)
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    env = {**os.environ, "QUBITLAB_EXAMPLES_OUT": str(out), "HOME": str(home), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(tmp_path / "mpl"), "PYTHONDONTWRITEBYTECODE": "1"}
    if "_calibrated" in path.read_text():
        # examples on a calibrated device get the lab the suite brought up once (they copy it), not a bring-up each
        env["QUBITLAB_EXAMPLES_CALIBRATED"] = str(request.getfixturevalue("calibrated_2q")[0])
    before = repo_files()
    start = time.monotonic()
    returncode, stdout, stderr = run_in_own_group(path, tmp_path, env)
    elapsed = time.monotonic() - start
    assert returncode == 0, f"{path.name} exited {returncode} after {elapsed:.1f} s:\n{stderr[-3000:]}"
    check_results(path.name, stdout, expect)
    assert repo_files() == before, f"{path.name} wrote into the repository: {sorted(repo_files() - before)}"
    for png in out.rglob("*.png") if out.exists() else []:
        assert png.stat().st_size > 5000, f"{path.name}: {png.name} looks empty"
    plot = declared_plot(path)
    if plot is not None:
        assert any(out.rglob(plot)), f"{path.name} declares PLOT = {plot!r} but did not write it"


def run_in_own_group(path: Path, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``path`` as the leader of a new process group; fail if it overruns :data:`TIME_LIMIT` or leaves a
    process of its group (a daemon it started, its worker) running. Either way nothing is left behind."""
    process = subprocess.Popen([sys.executable, str(path)], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, _ = process.communicate()
        pytest.fail(f"{path.name} took longer than {TIME_LIMIT:g} s; its output: {stdout[-2000:]!r}")
    deadline = time.monotonic() + 10.0
    while group_alive(process.pid):
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"{path.name} exited but left processes of its group running (killed now)")
        time.sleep(0.05)
    return process.returncode, stdout, stderr


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_documentation_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None:
        pytest.skip("mkdocs and mkdocstrings are not installed (pip install -e '.[docs]'); dev.py docs builds it")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    pages = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    assert {"index.html", "examples/index.html", "reference/pulse/index.html"} <= pages, sorted(pages)
