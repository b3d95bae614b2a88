"""What the two-qubit experiments share: circuits lowered through the calibrated gate map, and readout correction.

Preparations and basis changes are written as circuits (``h``, ``sdg``...) and lowered with
:func:`qubitlab.calibration.gates.build_gate_map`, so their sign conventions are the circuit layer's, the
same ones users get. Readout errors are corrected with per-qubit assignment matrices measured in the same
program (all-|0> and all-|1> preparations appended to the sweep).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import assigned_one, excited_population
from qubitlab.circuits import Circuit, GateMap, Target, lower
from qubitlab.pulse.block import ScheduleBlock

FloatArray = NDArray[np.float64]
BASIS_CHANGE = {"X": (("h",),), "Y": (("sdg",), ("h",)), "Z": ()}
"""Gates that turn a measurement of Z into one of X or Y (Heisenberg: H Z H = X, S H Z H S^dag = Y)."""


def lowered(ctx: Context, gate_map: GateMap, circuit: Circuit) -> ScheduleBlock:
    """``circuit`` translated to the native gates of ``gate_map`` and lowered."""
    return lower(circuit, gate_map, Target.from_lab(ctx.lab, gate_map))


def basis_change(ctx: Context, gate_map: GateMap, qubit: int, basis: str) -> ScheduleBlock:
    """The lowered basis change that makes a Z measurement of ``qubit`` measure ``basis`` (X, Y or Z)."""
    qc = Circuit(max(ctx.lab.topology.qubits) + 1)
    for (name,) in BASIS_CHANGE[basis]:
        qc.append(name, [qubit])
    return lowered(ctx, gate_map, qc)


def assignment_programs(ctx: Context, qubits: Sequence[int]) -> list[ScheduleBlock]:
    """Two programs: every qubit in |0>, every qubit in |1>, then measured (append them to a sweep)."""
    out = []
    for excite in (False, True):
        with pulse.build(name=f"assignment_{int(excite)}") as block:
            with pulse.align_sequential():
                if excite:
                    with pulse.align_left():
                        for q in qubits:
                            schedules.x(ctx, q)
                schedules.measure(ctx, qubits)
        out.append(block)
    return out


def assignment_matrix(ctx: Context, iq: NDArray[np.complex128], qubit: int) -> FloatArray:
    """``M[measured, prepared]`` from the last two points of ``iq`` (the :func:`assignment_programs`)."""
    p1 = excited_population(iq[-2:], ctx, qubit)
    return np.array([[1 - p1[0], 1 - p1[1]], [p1[0], p1[1]]], dtype=np.float64)


def corrected_p1(p1: FloatArray, matrix: FloatArray) -> FloatArray:
    """Measured P(1) per point corrected for readout errors (may leave [0, 1] by noise; not clipped)."""
    e0, e1 = matrix[1, 0], matrix[0, 1]  # P(read 1 | 0), P(read 0 | 1)
    return np.asarray((p1 - e0) / max(1 - e0 - e1, 1e-9), dtype=np.float64)


def joint_probabilities(ctx: Context, iqs: Sequence[NDArray[np.complex128]], qubits: Sequence[int],
                        matrices: Sequence[FloatArray] | None = None) -> FloatArray:
    """Per point, the probabilities of the 2^n outcomes (index bit k = ``qubits[k]``), corrected with the
    inverse of the tensor product of ``matrices`` when given. ``iqs[k]`` is ``(points, shots)`` of qubit k."""
    bits = []
    for q, iq in zip(qubits, iqs):
        bits.append(assigned_one(iq, ctx, q).astype(np.int64))
    index = sum(b << k for k, b in enumerate(bits))
    n = len(qubits)
    probs = np.stack([np.mean(index == i, axis=-1) for i in range(2**n)], axis=-1).astype(np.float64)
    if matrices is None:
        return probs
    full: NDArray[np.float64] = np.ones((1, 1), dtype=np.float64)
    for m in matrices:          # bit k of the index is qubit k: later qubits are more significant
        full = np.asarray(np.kron(m, full), dtype=np.float64)
    return np.asarray(np.linalg.solve(full, probs.T).T, dtype=np.float64)


def parity(probs: FloatArray) -> FloatArray:
    """``<Z...Z>`` from outcome probabilities (sum of (-1)^popcount(index) p)."""
    signs = np.array([(-1) ** bin(i).count("1") for i in range(probs.shape[-1])], dtype=np.float64)
    return np.asarray(probs @ signs, dtype=np.float64)
