"""Circuit-layer benchmarks C1 (lowering) and C1-rebind (definitions fixed; see benchmarks/README.md).

C1: a random 5-qubit circuit on the chain 0-1-2-3-4 of ``lab_configs/virtual_5q.yaml``, 200 layers; each layer
is one random single-qubit native gate per qubit (``sx``, ``x``, or ``rz`` of a fresh Parameter, equally likely)
and an ``ecr`` on two disjoint coupled pairs ((0,1),(2,3) on even layers, (1,2),(3,4) on odd ones, each in a
random direction), then ``measure_all``. Gate map: Drag sx/x on d_q, echoed cross-resonance (GaussianSquare on
u_k, x on d_c, GaussianSquare on u_k) per control channel, GaussianSquare readout + acquire per qubit.
Timed: ``lower(circuit, gate_map)``; ``LoweredCircuit.bind`` of new values for every rz parameter.
Reference: the same ASAP arithmetic producing a flat list of ``(time, channel, kind, value)`` tuples in plain
Python, with no pulse objects -- a floor for any lowering written in Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._harness import Row, measure

ROOT = Path(__file__).resolve().parents[1]
N_QUBITS = 5
N_LAYERS = 200


def gate_map(lab: Any) -> Any:
    from qubitlab import pulse
    from qubitlab.circuits import GateMap

    gm = GateMap.from_lab(lab)
    for q in range(N_QUBITS):
        for name, amp in (("sx", 0.1), ("x", 0.2)):
            with pulse.build(name=f"{name}{q}") as block:
                pulse.play(pulse.Drag(160, amp, 40, 0.5), pulse.DriveChannel(q))
            gm.add(name, (q,), block)
        with pulse.build(name=f"measure{q}") as meas:
            pulse.play(pulse.GaussianSquare(2000, 0.1, 64, width=1744), pulse.MeasureChannel(q))
            pulse.acquire(2000, pulse.AcquireChannel(q), pulse.MemorySlot(q))
        gm.add("measure", (q,), meas)
    for index, (control, target) in lab.control_channels().items():
        with pulse.build(name=f"ecr{control}{target}", default_alignment="sequential") as ecr:
            pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272), pulse.ControlChannel(index))
            pulse.play(pulse.Drag(160, 0.2, 40, 0.5), pulse.DriveChannel(control))
            pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272, angle=np.pi), pulse.ControlChannel(index))
        gm.add("ecr", (control, target), ecr)
    return gm


def random_circuit(seed: int = 7) -> Any:
    from qubitlab.circuits import Circuit, Parameter

    rng = np.random.default_rng(seed)
    qc = Circuit(N_QUBITS, name="C1")
    k = 0
    for layer in range(N_LAYERS):
        for q in range(N_QUBITS):
            choice = rng.integers(3)
            if choice == 0:
                qc.sx(q)
            elif choice == 1:
                qc.x(q)
            else:
                qc.rz(Parameter(f"t{k}"), q)
                k += 1
        for a, b in (((0, 1), (2, 3)) if layer % 2 == 0 else ((1, 2), (3, 4))):
            qc.ecr(a, b) if rng.random() < 0.5 else qc.ecr(b, a)
    qc.measure_all()
    return qc


def tuple_reference(circuit: Any, durations: dict[tuple[str, tuple[int, ...]], int],
                    frames: dict[int, tuple[str, ...]]) -> list[tuple[int, str, str, Any]]:
    """The floor: per-qubit ASAP times and a flat instruction list as tuples (no pulse objects, no blocks)."""
    clock = [0] * circuit.num_qubits
    out: list[tuple[int, str, str, Any]] = []
    for op in circuit:
        if op.name == "rz":
            q = op.qubits[0]
            for ch in frames[q]:
                out.append((clock[q], ch, "shift_phase", op.params[0]))
        elif op.name == "barrier":
            t = max(clock[q] for q in op.qubits)
            for q in op.qubits:
                clock[q] = t
        else:
            t = max(clock[q] for q in op.qubits)
            out.append((t, f"d{op.qubits[0]}", op.name, op.qubits))
            end = t + durations[(op.name, op.qubits)]
            for q in op.qubits:
                clock[q] = end
    return out


def run(repeat: int = 20) -> list[Row]:
    from qubitlab import load_lab
    from qubitlab.circuits import LoweredCircuit, lower

    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    gm = gate_map(lab)
    circuit = random_circuit()
    durations = {key: entry.schedule.duration for key, entry in gm.entries.items()}
    frames = {q: tuple(ch.name for ch in chans) for q, chans in gm.frame_channels.items()}
    reference = measure(lambda: tuple_reference(circuit, durations, frames), repeat=repeat)
    n_ops = len(circuit)
    rows = [Row("circuits", "reference: ASAP tuples in plain Python", reference, extra={"operations": n_ops})]
    rows.append(Row("circuits", "C1 lower (200 layers, 5 qubits)", measure(lambda: lower(circuit, gm), repeat=repeat),
                    target=20e-3, reference=reference.median, reference_name="tuples",
                    extra={"operations": n_ops}))
    rows.append(Row("circuits", "C1 lower + timing (block.duration)",
                    measure(lambda: lower(circuit, gm).duration, repeat=repeat),
                    reference=reference.median, reference_name="tuples"))

    lowered = LoweredCircuit.build(circuit, gm)
    params = sorted(lowered.parameters, key=lambda p: p.name)
    values = iter(np.random.default_rng(1).uniform(-np.pi, np.pi, (10_000, len(params))))

    def rebind() -> Any:
        return lowered.bind(dict(zip(params, map(float, next(values)))))

    rows.append(Row("circuits", f"C1 rebind ({len(params)} parameters)", measure(rebind, repeat=repeat), target=2e-3,
                    extra={"parameters": len(params)}))
    rows.append(Row("circuits", "C1 rebind + timing (duration)", measure(lambda: rebind().duration, repeat=repeat)))
    return rows
