"""The Qiskit-style example runs (and, with Qiskit 1.x installed, prints exactly what Qiskit prints); plots work."""

from __future__ import annotations

import contextlib
import io
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from qubitlab import pulse

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "qiskit_pulse_style.py"


def run_example() -> list[str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    return buffer.getvalue().splitlines()


def test_example_runs_and_times_out_as_worked_out_by_hand() -> None:
    lines = run_example()
    assert lines[0] == "bell: duration 3520"  # sx 160 + ECR (800 + 160 + 800) + measure 1600
    # cpmg: 4 x 160 in an equispaced 2000: slack 1360 = 3 x 453 + 1, the odd sample goes first, so the block's
    # first pulse starts at 1; left alignment overlaps that idle sample with sx: 160 - 1 + 2000 + 160 = 2319.
    bell = [line.split() for line in lines[1: lines.index("cpmg: duration 2319")]]
    plays = [(int(t), ch) for t, kind, ch, _ in bell if kind == "Play"]
    assert plays[:3] == [(0, "d0"), (160, "d1"), (160, "u0")]
    assert (960, "d0") in plays and (1920, "m0") in plays and (1920, "m1") in plays
    acquires = [(int(t), ch, int(d)) for t, kind, ch, d in bell if kind == "Acquire"]
    assert acquires == [(1920, "a0,m0", 1600), (1920, "a1,m1", 1600)]
    assert "rabi template parameters: ['amp']" in lines
    assert lines[-1] == "manual: [(0, 'Play', 'd0'), (50, 'Play', 'd1'), (300, 'ShiftPhase', 'd0')] 300"


def test_example_is_qiskit_code_with_only_the_imports_changed() -> None:
    qiskit_pulse = pytest.importorskip("qiskit.pulse", reason="needs Qiskit 1.x (qiskit.pulse was removed in 2.0)")
    del qiskit_pulse
    source = EXAMPLE.read_text()
    twin = source.replace("from qubitlab import pulse  # was: from qiskit import pulse", "from qiskit import pulse")
    twin = twin.replace("from qubitlab.pulse import Parameter  # was: from qiskit.circuit import Parameter",
                        "from qiskit.circuit import Parameter")
    assert "qubitlab" not in twin.split('"""', 2)[2]
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", twin], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == run_example()


def test_program_draw_has_one_row_per_channel(tmp_path: Path) -> None:
    with pulse.build(name="drawn") as prog:
        pulse.play(pulse.Gaussian(64, 0.3, 8), pulse.DriveChannel(0))
        pulse.shift_phase(1.0, pulse.DriveChannel(0))
        pulse.play(pulse.Constant(200, 0.1), pulse.MeasureChannel(0))
        pulse.acquire(200, 0, pulse.MemorySlot(0))
    fig = prog.draw()
    assert [ax.get_ylabel() for ax in fig.axes] == ["d0", "m0", "a0"]
    fig.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 1000
    wave = pulse.Drag(64, 0.3, 8, 1.0).draw()
    assert wave.axes[0].get_xlabel().startswith("time")


def test_pulse_demo_writes_plot_and_json(tmp_path: Path) -> None:
    from qubitlab.demo import run_pulse_demo

    lines = list(run_pulse_demo(tmp_path))
    assert (tmp_path / "rabi_cr_readout.png").exists()
    assert "round trip exact" in lines[-1]
    loaded = pulse.loads((tmp_path / "rabi_cr_readout.json").read_text())
    assert loaded.duration == 160 + 800 + 160 + 800 + 1600


def test_cli_version_and_help() -> None:
    import qubitlab

    out = subprocess.run([sys.executable, "-m", "qubitlab", "--version"], capture_output=True, text=True, check=True)
    assert qubitlab.__version__ in out.stdout
    helped = subprocess.run([sys.executable, "-m", "qubitlab", "--help"], capture_output=True, text=True, check=True)
    assert "pulse-demo" in helped.stdout
