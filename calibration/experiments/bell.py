"""Bell-state fidelity through the calibrated gates: the end-to-end check of a pair's ECR.

``h(c); cx(c, t)`` prepares |Phi+> = (|00> + |11>) / sqrt(2); the circuit is translated to rz/sx/x/ecr and
lowered with the gate map built from the current values, exactly as a user's circuit would be. It is measured
in ZZ, XX and YY (basis changes ``h`` and ``sdg; h`` on both qubits), with the all-|0> and all-|1>
preparations in the same program for the per-qubit assignment matrices that correct the joint outcome
probabilities. For |Phi+> the stabilisers XX, -YY, ZZ give ``F = (1 + <XX> - <YY> + <ZZ>) / 4``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.parameters import pkey
from qubitlab.calibration.gates import build_gate_map
from qubitlab.calibration.two_qubit import (
    BASIS_CHANGE,
    assignment_matrix,
    assignment_programs,
    joint_probabilities,
    lowered,
    parity,
)
from qubitlab.circuits import Circuit
from qubitlab.pulse.block import ScheduleBlock

NAME = "bell"
BASES = ("ZZ", "XX", "YY")


def bell_programs(ctx: Context, control: int, target: int) -> list[ScheduleBlock]:
    """|Phi+> measured in ZZ, XX, YY (each qubit into the memory slot of its own index)."""
    gm = build_gate_map(ctx, pairs=[(control, target)], qubits=[control, target])
    width = max(ctx.lab.topology.qubits) + 1
    out = []
    for basis in BASES:
        qc = Circuit(width, width, name=f"bell_{basis}")
        qc.h(control).cx(control, target)
        for q, letter in zip((control, target), basis):
            for (name,) in BASIS_CHANGE[letter]:
                qc.append(name, [q])
        # the barrier makes translate emit both basis changes before the measurements, which the lowering then
        # starts together (without it the target's pending gates come after the control's measure)
        qc.barrier(control, target).measure(control, control).measure(target, target)
        out.append(lowered(ctx, gm, qc))
    return out


def fidelity_error(raw_parities: Sequence[float], shots: int, contrast: float) -> float:
    """Standard error of the readout-corrected ``(1 + XX - YY + ZZ) / 4`` from ``shots`` shots per basis: the
    binomial variance ``(1 - v^2) / shots`` of each *measured* parity ``v`` (before correction, so always in
    [-1, 1]), scaled by the correction, ``1 / contrast`` per qubit. (The corrected parities of a near-perfect
    state sit at +-1, where their own binomial variance would claim no noise at all.)"""
    variance = sum(1 - v * v for v in raw_parities) / shots
    return 0.25 * math.sqrt(variance) / max(contrast, 0.1) ** 2


def run(ctx: Context, control: int, target: int, min_fidelity: float = 0.5) -> Outcome:
    result = ctx.run(bell_programs(ctx, control, target) + assignment_programs(ctx, [control, target]))
    qubits = [control, target]
    matrices = [assignment_matrix(ctx, result[q], q) for q in qubits]
    iqs = [result[q][:-2] for q in qubits]
    raw = parity(joint_probabilities(ctx, iqs, qubits))
    corrected = parity(joint_probabilities(ctx, iqs, qubits, matrices))
    zz, xx, yy = (float(v) for v in corrected)
    fidelity = (1 + xx - yy + zz) / 4
    raw_fidelity = float(1 + raw[1] - raw[2] + raw[0]) / 4
    contrast = [float(m[0, 0] + m[1, 1] - 1) for m in matrices]
    shots = result[control].shape[-1]
    error = fidelity_error([float(v) for v in raw], shots, min(contrast))
    gates = [
        Gate("readout contrast", min(contrast) >= 0.5,
             "assignment fidelity - error " + ", ".join(f"q{q}: {c:.3f}" for q, c in zip(qubits, contrast))
             + " (need >= 0.5 to correct readout)"),
        Gate("entangled", fidelity >= min_fidelity,
             f"Bell fidelity {fidelity:.4f} +- {error:.2g} (need >= {min_fidelity}; 0.5 separates entangled states)"),
        Gate("physical", -0.05 <= fidelity <= 1.05, f"fidelity {fidelity:.4f} in [-0.05, 1.05]"),
    ]
    # readout correction and shot noise can put the estimate of a near-perfect state above 1 (inside the
    # "physical" gate's margin); the store keeps fidelities within [0, 1], so the nearest physical value is stored
    stored = min(max(fidelity, 0.0), 1.0)
    message = (f"<ZZ> {zz:+.4f}, <XX> {xx:+.4f}, <YY> {yy:+.4f}; fidelity {fidelity:.4f} "
               f"({raw_fidelity:.4f} before readout correction)"
               + (f", stored as {stored:g}" if stored != fidelity else ""))
    x = np.arange(len(BASES), dtype=np.float64)

    def draw(axis: object) -> None:
        axis.plot(x, raw, "x", label="before readout correction")  # type: ignore[attr-defined]
        axis.plot(x, [1.0, 1.0, -1.0], "_", ms=20, label="ideal |Phi+>")  # type: ignore[attr-defined]
        axis.set_xticks(x, BASES)  # type: ignore[attr-defined]

    return conclude(ctx, NAME, qubits, x=x, y=np.asarray(corrected, dtype=np.float64), fit=None, gates=gates,
                    updates={pkey(control, target, "bell_fidelity"): (stored, error)}, xlabel="basis",
                    ylabel="parity (readout corrected)", raw={"corrected": corrected, "raw": raw},
                    message=message, draw=draw)
