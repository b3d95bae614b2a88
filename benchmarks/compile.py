"""Compiler benchmarks: B1 (from the pulse suite) compiled for ``lab_configs/virtual_5q.yaml`` (with the default
cache, as a script does, and with a cold ``CompileCache`` each time), a 100-point Rabi sweep compiled as one
program, and a lowered 2-qubit Bell circuit recompiled with a new rz angle on a warm cache (a daemon's job).
The reference is B1's render (the same samples at dt, no modulation)."""

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


BELL_FRAMES = {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9, "m0": 7.051e9, "m1": 7.118e9}


def build_bell(lab: Any) -> tuple[Any, Any]:
    """h(0), cx(0, 1), rz(theta, 1), measure both, lowered through a gate map built by hand as in README.md's
    "Circuits" section; returns the lowered circuit and theta."""
    from qubitlab import pulse
    from qubitlab.circuits import Circuit, GateMap, LoweredCircuit, Parameter, Target, translate
    from qubitlab.pulse import AcquireChannel, ControlChannel, DriveChannel, MeasureChannel, MemorySlot

    gate_map = GateMap.from_lab(lab)
    for q in (0, 1):
        with pulse.build() as sx:
            pulse.play(pulse.Drag(160, 0.1, 40, 0.5), DriveChannel(q))
        with pulse.build() as x:
            pulse.play(pulse.Drag(160, 0.2, 40, 0.5), DriveChannel(q))
        with pulse.build() as measure:
            pulse.play(pulse.GaussianSquare(1000, 0.1, 32, width=872), MeasureChannel(q))
            pulse.acquire(1000, AcquireChannel(q), MemorySlot(q))
        gate_map.add("sx", (q,), sx).add("x", (q,), x).add("measure", (q,), measure)
    with pulse.build(default_alignment="sequential") as ecr:
        pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272), ControlChannel(0))
        pulse.play(pulse.Drag(160, 0.2, 40, 0.5), DriveChannel(0))
        pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272, angle=3.141592653589793), ControlChannel(0))
    gate_map.add("ecr", (0, 1), ecr)
    theta = Parameter("theta")
    circuit = Circuit(2).h(0).cx(0, 1).rz(theta, 1).measure_all()
    return LoweredCircuit.build(translate(circuit, Target.from_lab(lab, gate_map)), gate_map), theta


def run(repeat: int = 20) -> list[Row]:
    from qubitlab import load_lab, pulse
    from qubitlab.pulse.cache import CompileCache
    from qubitlab.pulse.compiler import compile

    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    frames = frames_for(lab)
    b1 = build_b1(pulse)
    render = measure(lambda: pulse.render(b1), repeat=repeat)
    rows = [Row("compile", "reference: render B1", render)]
    rows.append(Row("compile", "B1 -> payloads (virtual_5q)", measure(lambda: compile(b1, lab, frames), repeat=repeat),
                    target=60e-3, reference=render.median, reference_name="render"))
    rows.append(Row("compile", "B1 -> payloads, cold CompileCache each run",
                    measure(lambda: compile(b1, lab, frames, cache=CompileCache()), repeat=repeat),
                    reference=render.median, reference_name="render"))
    amp = pulse.Parameter("a")
    rabi = build_b2(pulse, amp)
    values = [{amp: float(a)} for a in np.linspace(-0.8, 0.8, 100)]  # within the outputs' 0.9 limit
    lab2 = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    frames2 = frames_for(lab2)
    rows.append(Row("compile", "100-point Rabi sweep -> one program (virtual_2q)",
                    measure(lambda: compile(rabi, lab2, frames2, values=values), repeat=repeat), target=10e-3))
    rows.append(_bell_row(lab2, repeat))
    return rows


def _bell_row(lab: Any, repeat: int) -> Row:
    """Bind a new theta (a different value every run) and compile on a cache warmed by one earlier compile."""
    from qubitlab.pulse.cache import CompileCache
    from qubitlab.pulse.compiler import compile

    lowered, theta = build_bell(lab)
    cache = CompileCache()
    compile(lowered.bind({theta: 0.0}), lab, BELL_FRAMES, cache=cache)
    angles = iter(np.linspace(0.01, 3.0, 10 * (repeat + 2)).tolist())
    return Row("compile", "Bell 2q: new rz angle, bind + compile, warm CompileCache (virtual_2q)",
               measure(lambda: compile(lowered.bind({theta: next(angles)}), lab, BELL_FRAMES, cache=cache),
                       repeat=repeat), target=2e-3)
