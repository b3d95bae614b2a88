"""Fine amplitude by error amplification: sx then N x pulses (N = 0..20), with |0> and |1> calibration points
in the same program to normalise the signal.

After sx and N x pulses that over-rotate by a fraction ``eps`` (and an sx off by ``eps_s``), the rotation is
``pi/2 + N pi + d_N`` with ``d_N = N pi eps + pi/2 eps_s``, so ``P(1) = 1/2 + 1/2 (-1)^N sin(d_N)``: a zig-zag
whose envelope grows with slope ``pi eps``. The fit (a grid over ``eps`` and the phase for the start, then least
squares) gives ``eps``; the proposal is ``x_amp / (1 + eps)`` and ``sx_amp`` half of it.
"""

from __future__ import annotations

import math

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import FloatArray, Outcome, conclude, population_or_signal
from qubitlab.calibration.fitting import Fit, Gate, check, fit
from qubitlab.calibration.parameters import qkey

NAME = "fine_amplitude"


def zigzag(n: FloatArray, eps: float, phase: float, offset: float) -> FloatArray:
    """Normalised P(1): half-amplitude fixed at 1/2 by the calibration points (so ``eps`` cannot trade off
    against the contrast near ``eps = 0``)."""
    sign = np.where(np.round(n) % 2 == 0, 1.0, -1.0)
    return np.asarray(offset + 0.5 * sign * np.sin(math.pi * eps * n + phase), dtype=np.float64)


def _start(n: FloatArray, y: FloatArray) -> list[float]:
    """Best ``eps`` and ``phase`` on a grid for :func:`zigzag` itself (half-amplitude 1/2, the offset solved at
    each point). A free amplitude would let noise on a flat trace -- a pulse already calibrated -- pick any
    ``eps`` at a tiny amplitude, which the model's fixed amplitude then turns into a false minimum."""
    eps = np.linspace(-0.1, 0.1, 401)[:, None, None]
    phase = np.linspace(-math.pi / 2, math.pi / 2, 181)[None, 1:-1, None]  # (eps, phase + pi) is (-eps, -phase)
    sign = np.where(np.round(n) % 2 == 0, 1.0, -1.0)
    residual = y - 0.5 * sign * np.sin(math.pi * eps * n + phase)
    offset = residual.mean(axis=-1, keepdims=True)
    cost = np.sum((residual - offset) ** 2, axis=-1)
    i, k = np.unravel_index(int(np.argmin(cost)), cost.shape)
    return [float(eps[i, 0, 0]), float(phase[0, k, 0]), float(offset[i, k, 0])]


def fit_zigzag(n: FloatArray, y: FloatArray, sigma: float) -> Fit:
    """Least squares of :func:`zigzag` to the normalised ``y`` after ``n`` x pulses, from the grid's best start."""
    return fit(zigzag, n, y, _start(n, y), ("eps", "phase", "offset"), sigma=sigma)


def run(ctx: Context, qubit: int, repetitions: int = 20, shots: int | None = None) -> Outcome:
    x_amp = ctx.value(qkey(qubit, "x_amp"))
    programs = []
    for n in [-1, -2, *range(repetitions + 1)]:  # -1: |0>, -2: |1> calibration points
        with pulse.build(name=f"fine_amplitude_q{qubit}_{n}") as schedule:
            with pulse.align_sequential():
                if n == -2:
                    schedules.x(ctx, qubit)
                elif n >= 0:
                    schedules.sx(ctx, qubit)
                    for _ in range(n):
                        schedules.x(ctx, qubit)
                schedules.measure(ctx, [qubit])
        programs.append(schedule)
    iq = np.asarray(ctx.run(programs, shots=shots)[qubit], dtype=np.complex128)
    raw, raw_sigma, label = population_or_signal(iq, ctx, qubit, reference=0)
    scale = raw[1] - raw[0]
    y, sigma = (raw[2:] - raw[0]) / scale, raw_sigma / abs(scale)  # normalised: 0 at |0>, 1 at |1>
    n = np.arange(repetitions + 1, dtype=np.float64)
    result = fit_zigzag(n, y, sigma)
    # A well-calibrated pulse has no zig-zag to speak of, so the feature's own SNR says nothing; what must be
    # resolved is the |0>-|1> contrast of the calibration points (and then eps's standard error, below).
    gates = check(result, "eps", bounds=(-0.1, 0.1), min_snr=0.0, max_rel_error=math.inf, min_r2=0.0)
    contrast = abs(scale) / raw_sigma if raw_sigma > 0 else math.inf
    gates.append(Gate("calibration-point contrast", contrast >= 10,
                      f"|1> - |0> = {contrast:.0f} x the noise of one point (need >= 10)"))
    if result.converged:
        gates.append(Gate("starts near the equator", abs(result["phase"]) <= 0.5,
                          f"sx alone is {result['phase']:+.2f} rad from pi/2 (need within 0.5 rad)"))
        gates.append(Gate("eps standard error", result.error("eps") <= 0.005,
                          f"eps = {result['eps']:.4f} +- {result.error('eps'):.4f} (need error <= 0.005)"))
    eps, error = result["eps"], result.error("eps")
    new = x_amp / (1 + eps)
    new_error = x_amp * error / (1 + eps) ** 2
    updates = {qkey(qubit, "x_amp"): (new, new_error), qkey(qubit, "sx_amp"): (new / 2, new_error / 2)}
    return conclude(ctx, NAME, [qubit], x=n, y=y, fit=result, gates=gates, updates=updates,
                    xlabel="number of x pulses after sx", ylabel=f"{label}, normalised to |0>, |1>",
                    raw={"iq": iq[2:].mean(axis=-1)}, message=f"over-rotation eps = {eps:+.4f} +- {error:.4f}")
