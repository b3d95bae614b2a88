"""What the two-qubit experiments share: circuits lowered through the calibrated gate map, and readout correction.

Preparations and basis changes are written as circuits (``h``, ``sdg``...) and lowered with
:func:`qubitlab.calibration.gates.build_gate_map`, so their sign conventions are the circuit layer's, the
same ones users get. Readout errors are corrected with per-qubit assignment matrices measured in the same
program (all-|0> and all-|1> preparations appended to the sweep); bits, outcome probabilities and the
correction are :mod:`qubitlab.drivers.decode`'s, the same functions the runtime's primitives use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import discriminator, excited_population
from qubitlab.circuits import Circuit, GateMap, Target, lower
from qubitlab.drivers import decode
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
    return decode.assignment_matrix_1q(float(p1[0]), float(p1[1]))


def corrected_p1(p1: FloatArray, matrix: FloatArray) -> FloatArray:
    """Measured P(1) per point corrected for readout errors (may leave [0, 1] by noise; not clipped)."""
    probs = np.stack([1 - p1, p1], axis=-1)
    return np.asarray(decode.mitigate(probs, [matrix])[..., 1], dtype=np.float64)


def joint_probabilities(ctx: Context, iqs: Sequence[NDArray[np.complex128]], qubits: Sequence[int],
                        matrices: Sequence[FloatArray] | None = None) -> FloatArray:
    """Per point, the probabilities of the 2^n outcomes (index bit k = ``qubits[k]``), corrected with the
    inverse of the tensor product of ``matrices`` when given. ``iqs[k]`` is ``(points, shots)`` of qubit k."""
    joint = decode.JointDiscriminator(tuple(discriminator(ctx, q) for q in qubits))
    probs = decode.probabilities(joint.bits(list(iqs)))
    return probs if matrices is None else decode.mitigate(probs, list(matrices))


def parity(probs: FloatArray) -> FloatArray:
    """``<Z...Z>`` from outcome probabilities (sum of (-1)^popcount(index) p)."""
    n = probs.shape[-1].bit_length() - 1
    return np.asarray(decode.expectation_z(probs, (1 << n) - 1, shots=1).value, dtype=np.float64)
