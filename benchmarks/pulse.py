"""Pulse-layer benchmarks B1, B1-rebind and B2 (definitions fixed; see benchmarks/README.md).

B1 "wide": 5 qubits, 200 layers of [align_left(Drag on d0..d4), ShiftPhase on d0..d4,
align_sequential(GaussianSquare on u0..u3)] inside align_sequential, then a measurement on every qubit.
The reference floor is numpy allocating and filling a complex128 buffer with as many samples as B1 plays.
When Qiskit 1.x (with qiskit.pulse) is importable, the same B1 build is timed with it as a peer.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np

from benchmarks._harness import Row, measure

N_QUBITS = 5
N_LAYERS = 200
N_CONTROL = 4


def build_b1(pulse: Any, amp: Any = 0.2, phases: Any = None, n_layers: int = N_LAYERS) -> Any:
    """B1 with the given pulse module (qubitlab.pulse or qiskit.pulse); ``amp``/``phases`` may be Parameters."""
    phases = phases if phases is not None else [0.1] * N_QUBITS
    with pulse.build(name="B1") as program:
        with pulse.align_sequential():
            for _ in range(n_layers):
                with pulse.align_sequential():
                    with pulse.align_left():
                        for q in range(N_QUBITS):
                            pulse.play(pulse.Drag(160, amp, 40, 1.0), pulse.DriveChannel(q))
                    for q in range(N_QUBITS):
                        pulse.shift_phase(phases[q], pulse.DriveChannel(q))
                    with pulse.align_sequential():
                        for c in range(N_CONTROL):
                            pulse.play(pulse.GaussianSquare(800, 0.1, 64, width=544), pulse.ControlChannel(c))
            with pulse.align_left():
                for q in range(N_QUBITS):
                    pulse.play(pulse.GaussianSquare(2000, 0.1, 64, width=1744), pulse.MeasureChannel(q))
                    pulse.acquire(2000, pulse.AcquireChannel(q), pulse.MemorySlot(q))
    return program


def build_b2(pulse: Any, amp: Any) -> Any:
    """B2: Drag(160, amp, 40, 1) on d0, then the measurement of q0."""
    with pulse.build(name="B2") as program:
        with pulse.align_sequential():
            pulse.play(pulse.Drag(160, amp, 40, 1.0), pulse.DriveChannel(0))
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(2000, 0.1, 64, width=1744), pulse.MeasureChannel(0))
                pulse.acquire(2000, pulse.AcquireChannel(0), pulse.MemorySlot(0))
    return program


B1_PLAYED_SAMPLES = N_LAYERS * (N_QUBITS * 160 + N_CONTROL * 800) + N_QUBITS * 2000


def _floor() -> None:
    buffer = np.empty(B1_PLAYED_SAMPLES, dtype=np.complex128)
    buffer.fill(0.1 + 0.1j)


B1_DURATION = N_LAYERS * (160 + N_CONTROL * 800) + 2000
B1_CHANNELS = 2 * N_QUBITS + N_CONTROL


def _dense_floor() -> list[np.ndarray]:
    """What render's output format costs at least: one zeroed array per channel over the whole program, with
    B1's played samples written into it (one numpy slice assignment per play, no pulse logic)."""
    layer = 160 + N_CONTROL * 800
    drive, control, meas = np.full(160, 0.1 + 0.1j), np.full(800, 0.1 + 0.1j), np.full(2000, 0.1 + 0.1j)
    out = [np.zeros(B1_DURATION, dtype=np.complex128) for _ in range(B1_CHANNELS)]
    for k in range(N_LAYERS):
        for q in range(N_QUBITS):
            out[q][k * layer: k * layer + 160] = drive
        for c in range(N_CONTROL):
            start = k * layer + 160 + c * 800
            out[N_QUBITS + c][start: start + 800] = control
    for q in range(N_QUBITS):
        out[N_QUBITS + N_CONTROL + q][-2000:] = meas
    return out


def _import_time() -> float:
    """Median wall time of a fresh ``python -c 'import qubitlab.pulse'`` minus a bare interpreter start."""
    def run(code: str) -> float:
        out = subprocess.run([sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; "
                              "print(time.perf_counter()-t)"], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())

    return float(np.median([run("import qubitlab.pulse") for _ in range(7)]))


def run(repeat: int = 20) -> list[Row]:
    from qubitlab import pulse
    from qubitlab.pulse.library import clear_sample_cache

    floor = measure(_floor, repeat=repeat)
    dense = measure(_dense_floor, repeat=repeat)
    rows = [
        Row("pulse", "floor: numpy fill of B1's samples", floor, extra={"samples": B1_PLAYED_SAMPLES}),
        Row("pulse", "dense floor: zeroed channel arrays + writes", dense, reference=floor.median,
            reference_name="floor", extra={"channels": B1_CHANNELS, "samples_per_channel": B1_DURATION}),
    ]

    def b1_build() -> Any:
        return build_b1(pulse)

    def b1_build_render() -> None:
        pulse.render(build_b1(pulse))

    rows.append(Row("pulse", "B1 builder construction", measure(b1_build, repeat=repeat, setup=clear_sample_cache),
                    reference=floor.median, reference_name="floor"))
    rows.append(Row("pulse", "B1 construction + render", measure(b1_build_render, repeat=repeat,
                                                                setup=clear_sample_cache),
                    target=25e-3, reference=dense.median, reference_name="dense floor"))

    amp = pulse.Parameter("amp")
    phases = [pulse.Parameter(f"phi{q}") for q in range(N_QUBITS)]
    template = build_b1(pulse, amp, phases)
    values = iter(np.linspace(0.05, 0.3, 10_000))
    pulse.render(template.assign_parameters({amp: 0.2, **{p: 0.1 for p in phases}}, inplace=False))

    def b1_rebind() -> None:
        value = float(next(values))
        bound = template.assign_parameters({amp: value, **{p: value / 2 for p in phases}}, inplace=False)
        pulse.render(bound)

    rows.append(Row("pulse", "B1 rebind + re-render", measure(b1_rebind, repeat=repeat), target=20e-3,
                    reference=dense.median, reference_name="dense floor"))

    a = pulse.Parameter("a")
    rabi = build_b2(pulse, a)
    amps = np.linspace(-1.0, 1.0, 100)

    def b2() -> None:
        for value in amps:
            pulse.render(rabi.assign_parameters({a: float(value)}, inplace=False))

    rows.append(Row("pulse", "B2 100-point Rabi bind + render", measure(b2, repeat=repeat, setup=clear_sample_cache),
                    target=5e-3, reference=floor.median, reference_name="floor"))

    import_seconds = _import_time()
    from benchmarks._harness import Timing

    rows.append(Row("pulse", "python -c 'import qubitlab.pulse'", Timing((import_seconds,)), target=0.25))
    rows.extend(_qiskit_peer(repeat))
    return rows


def _qiskit_peer(repeat: int) -> list[Row]:
    """Qiskit Pulse 1.x building B1, when it is installed (it is not a dependency)."""
    try:
        import warnings

        warnings.filterwarnings("ignore", category=DeprecationWarning)
        from qiskit import pulse as qpulse  # type: ignore[import-not-found]
    except ImportError:
        return []
    timing = measure(lambda: build_b1(qpulse), repeat=max(3, repeat // 5), warmup=1)
    return [Row("pulse", "peer: Qiskit Pulse B1 builder construction", timing)]
