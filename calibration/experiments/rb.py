"""Single-qubit randomized benchmarking: the error per Clifford of the calibrated x/sx/rz gates.

Random sequences of ``m`` Cliffords from :func:`qubitlab.circuits.clifford_group` plus the recovery Clifford
are translated to rz/sx/x and lowered with the gate map built from the current values -- the gates users
get -- and all sequences run as one program. The ground-state survival averaged over the sequences of each
length is fitted to ``A p^m + B``; the error per Clifford is ``EPC = (1 - p) / 2`` (``(d - 1)/d`` with
``d = 2``). The message also gives the physical pulses per Clifford (sx and x), which is what a coherence
limit needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, excited_population
from qubitlab.calibration.fitting import FloatArray, Gate, check, fit, rb_decay
from qubitlab.calibration.gates import build_gate_map
from qubitlab.calibration.parameters import qkey
from qubitlab.circuits import Target, clifford_group, lower, translate

NAME = "rb"
LENGTHS = (1, 50, 150, 300, 600, 1000)
"""Sequence lengths when the qubit's T1 and T2 are not known yet."""
SPREAD = (0.0, 0.05, 0.15, 0.3, 0.6, 1.0)
"""Lengths as fractions of the longest, which is chosen from the coherence limit (:func:`lengths_for`)."""
SEQUENCES = 8
SHOTS = 4000
"""Eight random sequences per length, 4000 shots each: with five sequences at 1000 shots the estimate's scatter
(which sequences were drawn, and the shots) was ~30 % of the EPC on the virtual lab; this halves it. Shots are
cheap on the virtual lab (one evolution per sequence), sequences are not (each is translated and lowered)."""


def lengths_for(ctx: Context, qubit: int, longest: tuple[int, int] = (1000, 3000)) -> tuple[int, ...]:
    """RB lengths reaching a decay of about ``1/e`` at the coherence limit of the qubit's stored T1 and T2: the
    longest is ``0.5 / r`` Cliffords for ``r = (3 - exp(-t/T1) - 2 exp(-t/T2)) / 6`` over the average Clifford
    (20/24 pulses), within ``longest``. A decay that stops at two thirds (long coherence, 1000 Cliffords) leaves
    the fit's asymptote free to trade against ``p``, and the error per Clifford unresolved."""
    t1 = ctx.snapshot.value(qkey(qubit, "t1"), None)
    t2 = ctx.snapshot.value(qkey(qubit, "t2_ramsey"), ctx.snapshot.value(qkey(qubit, "t2_echo"), None))
    if not t1 or not t2:
        return LENGTHS
    t = 20 / 24 * ctx.pulse_shape(qubit)[0] * ctx.lab.dt
    limit = (3 - math.exp(-t / t1) - 2 * math.exp(-t / t2)) / 6
    m = int(min(max(0.5 / max(limit, 1e-12), longest[0]), longest[1]))
    return tuple(sorted({max(1, int(round(f * m / 10)) * 10) if f else 1 for f in SPREAD}))


def run(ctx: Context, qubit: int, lengths: Sequence[int] | None = None, sequences: int = SEQUENCES,
        seed: int = 2024, shots: int = SHOTS) -> Outcome:
    """Error per Clifford of ``qubit``'s gates; ``lengths`` default to :func:`lengths_for`."""
    lengths = lengths_for(ctx, qubit) if lengths is None else tuple(lengths)
    gm = build_gate_map(ctx, pairs=[], qubits=[qubit])
    target = Target.from_lab(ctx.lab, gm)
    group = clifford_group(1)
    rng = np.random.default_rng(seed)
    width = max(ctx.lab.topology.qubits) + 1
    programs, pulses, cliffords = [], 0, 0
    for m in lengths:
        for _ in range(sequences):
            native = translate(group.rb_circuit(m, rng, qubits=[qubit], num_qubits=width), target)
            pulses += sum(op.name in ("sx", "x") for op in native)
            cliffords += m + 1
            programs.append(lower(native, gm))
    result = ctx.run(programs, shots=shots)
    survival = 1 - excited_population(result[0], ctx, qubit).reshape(len(lengths), sequences)
    x = np.asarray(lengths, dtype=np.float64)
    y = survival.mean(axis=1)
    shots = result[0].shape[-1]
    # each length's mean is uncertain by the scatter between its random sequences (and, at least, by the shots'
    # binomial noise): the fit weights by it and takes p's error from it, not from how well 8 means line up
    scatter = survival.var(axis=1, ddof=1) / sequences if sequences > 1 else np.zeros_like(y)
    sigma = float(np.sqrt(np.mean(scatter) + 0.25 / (shots * sequences)))
    binomial = y * (1 - y) / (shots * sequences)
    point_errors = np.sqrt(np.maximum(scatter, binomial) + 0.25 / (shots * sequences) ** 2)
    decay = fit(rb_decay, x, y, _start(x, y), ("a", "p", "b"), sigma=sigma,
                bounds=([0.0, 0.0, 0.0], [1.5, 1.0, 1.0]), point_errors=point_errors)
    p, p_error = decay["p"], decay.error("p")
    epc, epc_error = (1 - p) / 2, p_error / 2
    gates = check(decay, "p", min_r2=0.8, max_rel_error=1.0, min_snr=3.0, bounds=(0.5, 1.0))
    gates.append(Gate("EPC resolved", decay.converged and epc > 0 and epc_error <= 0.5 * epc,
                      f"EPC = {epc:.3g} +- {epc_error:.2g} (need error <= 50 %: longer sequences or more of them)"))
    per_clifford = pulses / max(cliffords, 1)
    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=decay, gates=gates,
                    updates={qkey(qubit, "epc_1q"): (epc, epc_error)}, xlabel="Cliffords m",
                    ylabel="ground-state survival", raw={"survival": survival},
                    message=f"EPC {epc:.3g} +- {epc_error:.2g}; {per_clifford:.3f} pulses (sx, x) per Clifford")


def _start(x: FloatArray, y: FloatArray) -> list[float]:
    """Starting point of the decay fit from the data: the asymptote at 1/2 (a qubit's ground-state survival under
    depolarizing noise) and ``p`` from the first and last lengths' survival above it. A fixed ``p = 0.99``
    started sequences of 1800 Cliffords at a decay of 1e-8, from where the fit settled on a fast drop to a
    high floor."""
    above = (float(y[-1]) - 0.5) / max(float(y[0]) - 0.5, 1e-3)
    p = above ** (1 / max(float(x[-1] - x[0]), 1.0)) if above > 0 else 0.999
    return [max(float(y[0]) - 0.5, 0.05), float(np.clip(p, 0.9, 0.999999)), 0.5]
