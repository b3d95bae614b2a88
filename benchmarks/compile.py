"""Compiler benchmarks: B1 (from the pulse suite) compiled for ``lab_configs/virtual_5q.yaml``, and a 100-point
Rabi sweep compiled as one program. The reference is B1's render (the same samples at dt, no modulation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._harness import Row, measure
from benchmarks.pulse import build_b1, build_b2

ROOT = Path(__file__).resolve().parents[1]


def frames_for(lab: Any) -> dict[str, float]:
    """Frame frequencies for every wired channel: each line's LO plus a fixed IF (drive 100 MHz, CR at the
    target's drive frame, readout 50 MHz + 10 MHz per qubit)."""
    from qubitlab.pulse.passes.hardware import hardware_view

    view = hardware_view(lab)
    frames: dict[str, float] = {}
    for channel, line_name in view.channel_lines.items():
        line = view.lines[line_name]
        if channel.startswith("m"):
            frames[channel] = line.lo_frequency + 50e6 + 10e6 * int(channel[1:])
        else:
            frames[channel] = line.lo_frequency + 100e6
    return frames


def run(repeat: int = 20) -> list[Row]:
    from qubitlab import load_lab, pulse
    from qubitlab.pulse.compiler import compile

    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    frames = frames_for(lab)
    b1 = build_b1(pulse)
    render = measure(lambda: pulse.render(b1), repeat=repeat)
    rows = [Row("compile", "reference: render B1", render)]
    rows.append(Row("compile", "B1 -> payloads (virtual_5q)", measure(lambda: compile(b1, lab, frames), repeat=repeat),
                    target=60e-3, reference=render.median, reference_name="render"))
    amp = pulse.Parameter("a")
    rabi = build_b2(pulse, amp)
    values = [{amp: float(a)} for a in np.linspace(-0.8, 0.8, 100)]  # within the outputs' 0.9 limit
    lab2 = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    frames2 = frames_for(lab2)
    rows.append(Row("compile", "100-point Rabi sweep -> one program (virtual_2q)",
                    measure(lambda: compile(rabi, lab2, frames2, values=values), repeat=repeat), target=10e-3))
    return rows
