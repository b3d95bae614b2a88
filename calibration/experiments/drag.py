"""DRAG beta (the phase error of the x pulse), as Qiskit's RoughDrag: ``[x(beta) x(-amp, beta)]^n`` for
n = 1, 3, 5 and a sweep of beta, with |0> and |1> calibration points, one program.

A pair of opposite pulses is the identity only when the DRAG term cancels the phase error the second level
causes; otherwise each pair turns the qubit by an angle proportional to ``beta - beta0``, so the excited
population oscillates in beta, ``n`` times faster for ``n`` pairs, and every n returns to |0> at ``beta0``.
The sign of beta0 is found, not assumed (an IQ mixer that conjugates the envelope flips it).
"""

from __future__ import annotations

import math

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import FloatArray, Outcome, conclude, population_or_signal
from qubitlab.calibration.fitting import Gate, check, fit
from qubitlab.calibration.parameters import qkey

NAME = "drag"


STRIDE = 100.0
"""The fit's x is ``STRIDE n + beta`` (beta in samples, |beta| < STRIDE / 2): one variable for all n."""


def pairs_model(u: FloatArray, beta0: float, rate: float, contrast: float, offset: float) -> FloatArray:
    """Normalised P(1) of ``[x x-bar]^n`` at beta: ``offset + contrast (1 - cos(n rate (beta - beta0))) / 2``."""
    n = np.round(np.asarray(u) / STRIDE)
    beta = np.asarray(u) - STRIDE * n
    return np.asarray(offset + contrast * (1 - np.cos(n * rate * (beta - beta0))) / 2, dtype=np.float64)


def run(ctx: Context, qubit: int, betas: FloatArray | None = None, reps: tuple[int, ...] = (1, 3, 5),
        shots: int | None = None) -> Outcome:
    betas = np.linspace(-2.0, 2.0, 41) if betas is None else np.asarray(betas, dtype=np.float64)  # samples
    x_amp = ctx.value(qkey(qubit, "x_amp"))
    programs = []
    for n, beta in [(-1, 0.0), (-2, 0.0)] + [(n, float(b)) for n in reps for b in betas]:
        with pulse.build(name=f"drag_q{qubit}") as schedule:
            with pulse.align_sequential():
                if n == -2:
                    schedules.x(ctx, qubit)
                for _ in range(max(n, 0)):
                    schedules.drag(ctx, qubit, x_amp, beta)
                    schedules.drag(ctx, qubit, -x_amp, beta)
                schedules.measure(ctx, [qubit])
        programs.append(schedule)
    iq = np.asarray(ctx.run(programs, shots=shots)[qubit], dtype=np.complex128)
    raw, sigma, label = population_or_signal(iq, ctx, qubit, reference=0)
    scale = raw[1] - raw[0]
    y, sigma = (raw[2:] - raw[0]) / scale, sigma / abs(scale)
    x = np.tile(betas, len(reps))
    n_of = np.repeat(np.asarray(reps, dtype=np.float64), len(betas))
    result = fit(pairs_model, STRIDE * n_of + x, y, _start(x, y, n_of), ("beta0", "rate", "contrast", "offset"),
                 sigma=sigma)
    span = (float(betas.min()), float(betas.max()))
    gates = check(result, "beta0", within=span, min_snr=5, max_rel_error=math.inf, min_r2=0.7)
    if result.converged:
        limit = 0.1 * float(np.ptp(betas)) / 4
        gates.append(Gate("beta standard error", result.error("beta0") <= limit,
                          f"beta0 = {result['beta0']:.3f} +- {result.error('beta0'):.3f} samples (need <= {limit:.3g})"))
        gates.append(Gate("returns to |0>", abs(result["offset"]) <= 0.15,
                          f"fitted P(1) at beta0 is {result['offset']:.3f} (need |.| <= 0.15)"))
    beta0, error = result["beta0"], result.error("beta0")
    updates = {qkey(qubit, "drag_beta"): (beta0 * ctx.lab.dt, error * ctx.lab.dt)}

    def draw(axis: object) -> None:
        fine = np.linspace(*span, 400)
        for n in reps:
            axis.plot(fine, pairs_model(STRIDE * n + fine, *result.values), "-", lw=0.8,  # type: ignore[attr-defined]
                      label=f"fit, n = {n}")

    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=None, gates=gates, updates=updates,
                    xlabel="DRAG beta (samples)", ylabel=f"{label}, normalised", raw={"iq": iq[2:].mean(axis=-1)},
                    message=f"beta = {beta0:+.3f} +- {error:.3f} samples", draw=draw)


def _start(x: FloatArray, y: FloatArray, n_of: FloatArray) -> list[float]:
    """Grid over beta0 and rate (least squares for contrast and offset at each)."""
    best: tuple[float, list[float]] = (math.inf, [0.0, 1.0, 1.0, 0.0])
    for rate in np.linspace(0.1, 4.0, 40):
        for beta0 in np.linspace(float(x.min()), float(x.max()), 81):
            basis = np.stack([(1 - np.cos(n_of * rate * (x - beta0))) / 2, np.ones_like(x)], axis=1)
            (contrast, offset), *_ = np.linalg.lstsq(basis, y, rcond=None)
            cost = float(np.sum((basis @ np.array([contrast, offset]) - y) ** 2))
            if contrast > 0 and cost < best[0]:
                best = (cost, [float(beta0), float(rate), float(contrast), float(offset)])
    return best[1]
