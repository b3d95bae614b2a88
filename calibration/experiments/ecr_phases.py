"""The ECR's target virtual Zs measured on the whole gate, after the cross-resonance tomography proposed them.

Why it exists: :func:`~qubitlab.calibration.experiments.cross_resonance.target_phases` derives
``target_rz_before`` / ``target_rz_after`` from the tomography's model (constant rotation vectors over an
effective width; the static ZZ shift also acts over the edges and the echo, the CR's Stark shift only where
the tone is strong). On pairs with a strong ZZ and short halves the model is off by 0.1-0.2 rad: on seed 41's
three-qubit line (0.46 MHz of static ZZ, 128-ns halves) the pair (1, 2) lost 0.45 % of average gate fidelity to
its virtual Zs alone, measured by process tomography on the virtual device. Here the composed ECR is played
as users play it and the two angles are read off it:

- from ``|c, 0>`` the ideal ECR leaves the target on ``-+Y``; a Z rotation ``a`` after the pulses turns it
  towards X by ``a``;
- from ``|c, +>`` the ideal ECR leaves the target on ``+X``; a Z rotation ``b`` before the pulses makes Y,
  which the conditional ``RX(+-pi/2)`` turns into ``+-Z``, and ``a`` turns X towards Y.

The target's <X>, <Y>, <Z> (readout corrected) after the four inputs are fitted to the ideal ECR with ``rz(b)``
before and ``rz(a)`` after it on the target (:func:`predicted`, from the circuit layer's gate matrices), and
the stored angles move by ``-b`` and ``-a``. A second round checks the result. Errors that virtual Zs cannot
remove (IY, ZY, ZZ, decoherence) shorten the vectors or tilt them in ways the fit's residual reports.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.optimize import least_squares

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import excited_population
from qubitlab.calibration.fitting import FloatArray, Gate
from qubitlab.calibration.gates import build_gate_map
from qubitlab.calibration.parameters import pkey
from qubitlab.calibration.two_qubit import (
    BASIS_CHANGE,
    assignment_matrix,
    assignment_programs,
    corrected_p1,
    lowered,
)
from qubitlab.circuits import Circuit
from qubitlab.pulse.block import ScheduleBlock

INPUTS = ((0, "0"), (1, "0"), (0, "+"), (1, "+"))
"""(control state, target state) before the ECR."""
BASES = "XYZ"
SHOTS_FACTOR = 4
"""Shots per point relative to the context's: 12 points instead of a tomography's 54."""
ROUNDS = 2
"""Measure and correct, then measure again (the check; its small correction is applied too)."""
TOLERANCE = 0.05
"""Rad: the last round's correction must be below this (or three of its standard errors)."""


def _circuit(control_state: int, target_state: str, basis: str, before: float = 0.0, after: float = 0.0,
             measured: bool = False, width: int = 2, control: int = 0, target: int = 1) -> Circuit:
    qc = Circuit(width, width)
    if control_state:
        qc.x(control)
    if target_state == "+":
        qc.h(target)
    if before:
        qc.rz(before, target)
    qc.ecr(control, target)
    if after:
        qc.rz(after, target)
    for (name,) in BASIS_CHANGE[basis]:
        qc.append(name, [target])
    if measured:
        qc.barrier(control, target).measure(control, control).measure(target, target)
    return qc


def predicted(before: float, after: float) -> FloatArray:
    """The target's <X>, <Y>, <Z> (``(inputs, bases)``) after the ideal ECR with ``rz(before)`` before it and
    ``rz(after)`` after it on the target, for each of :data:`INPUTS` (qubit 0 the control)."""
    out = np.empty((len(INPUTS), len(BASES)))
    z_target = np.diag([1.0, 1.0, -1.0, -1.0])  # qubit 1 (the target) is the more significant bit
    for i, (c, t) in enumerate(INPUTS):
        for j, basis in enumerate(BASES):
            state = _circuit(c, t, basis, before, after).to_matrix()[:, 0]
            out[i, j] = float(np.real(np.conj(state) @ z_target @ state))
    return out


def programs(ctx: Context, control: int, target: int) -> list[ScheduleBlock]:
    """One lowered program per (input, basis), then the assignment programs of the target."""
    gm = build_gate_map(ctx, pairs=[(control, target)], qubits=[control, target])
    width = max(ctx.lab.topology.qubits) + 1
    out = [lowered(ctx, gm, _circuit(c, t, basis, measured=True, width=width, control=control, target=target))
           for c, t in INPUTS for basis in BASES]
    return out + assignment_programs(ctx, [control, target])


def measure(ctx: Context, control: int, target: int) -> tuple[FloatArray, float]:
    """The target's readout-corrected <X>, <Y>, <Z> per input (``(inputs, bases)``) and their standard error."""
    shots = SHOTS_FACTOR * ctx.shots
    iq = ctx.run(programs(ctx, control, target), shots=shots)[target]
    matrix = assignment_matrix(ctx, iq, target)
    p1 = corrected_p1(excited_population(iq[:-2], ctx, target), matrix)
    sigma = 1 / math.sqrt(shots) / max(matrix[0, 0] + matrix[1, 1] - 1, 0.1)
    return (1 - 2 * p1).reshape(len(INPUTS), len(BASES)), sigma


def fit_errors(data: FloatArray, sigma: float) -> tuple[float, float, float, float]:
    """The Z rotations ``(b, a)`` before and after an ideal ECR that best explain ``data``, their standard error,
    and the rms residual. The vectors' lengths are free (``shrink``): decoherence shortens them."""

    def residuals(p: FloatArray) -> FloatArray:
        return np.asarray((p[2] * predicted(p[0], p[1]) - data).ravel(), dtype=np.float64)

    result = least_squares(residuals, np.array([0.0, 0.0, 1.0]), x_scale=np.array([0.1, 0.1, 0.1]))
    jac = result.jac
    try:
        cov = np.linalg.inv(jac.T @ jac) * sigma**2
        error = float(math.sqrt(max(cov[0, 0], cov[1, 1])))
    except np.linalg.LinAlgError:
        error = math.inf
    rms = float(np.sqrt(np.mean(result.fun**2)))
    return float(result.x[0]), float(result.x[1]), error, rms


def refine(ctx: Context, control: int, target: int, updates: dict[str, tuple[float, float | None]]
           ) -> tuple[dict[str, tuple[float, float | None]], list[Gate], str]:
    """``updates`` (a passed cross-resonance calibration) with its target virtual Zs measured on the gate; the
    gates and a message describing the rounds."""
    before_key, after_key = pkey(control, target, "target_rz_before"), pkey(control, target, "target_rz_after")
    before, after = updates[before_key][0], updates[after_key][0]
    notes, error, rms, b, a = [], math.inf, math.inf, math.inf, math.inf
    for _ in range(ROUNDS):
        values = {**updates, before_key: (before, None), after_key: (after, None)}
        trial = replace(ctx, snapshot=ctx.snapshot.with_values(values))
        data, sigma = measure(trial, control, target)
        b, a, error, rms = fit_errors(data, sigma)
        before, after = _wrap(before - b), _wrap(after - a)
        notes.append(f"{b:+.3f} / {a:+.3f}")
    gates = [Gate("target Zs converged", max(abs(b), abs(a)) <= max(TOLERANCE, 3 * error),
                  f"last correction {b:+.3f} / {a:+.3f} rad +- {error:.2g} (need within {TOLERANCE} or 3 sigma)"),
             Gate("ECR checks explained", rms <= 0.1, f"rms residual {rms:.3f} of the target's <X>, <Y>, <Z> "
                  "against the ideal ECR with two Z errors (need <= 0.1)")]
    refined = {**updates, before_key: (before, error), after_key: (after, error)}
    return refined, gates, f"target rz measured on the gate: corrections {', then '.join(notes)} rad"


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi
