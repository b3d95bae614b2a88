"""Zero-noise extrapolation maths: Qiskit Runtime's extrapolator names, fitted with their uncertainty.

Why our own module rather than mitiq's factories: the fits are five short models (a weighted least-squares
line or polynomial in closed form, one- and two-term exponentials by ``scipy.optimize.curve_fit``), and what
the Estimator needs beyond mitiq -- the standard error of the extrapolated value from the per-point standard
errors, every extrapolator evaluated at every ``extrapolated_noise_factors`` point, and Qiskit Runtime's
fall-back through a list -- would be written around mitiq anyway; mitiq would add a large dependency tree
(cirq, its own Qiskit pin) to the worker for ~100 lines.

Models (``x`` the noise factor): ``linear`` a + b x, ``polynomial_degree_k`` sum_j a_j x^j, ``exponential``
A exp(-x / tau) (a Pauli expectation under depolarising noise decays to 0), ``double_exponential``
A exp(-x / t1) + B exp(-x / t2). ``fallback`` is no extrapolation: the value measured at the lowest factor.
A list of extrapolators falls back in order: the first whose fit succeeds, is finite and whose zero-noise
value lies within the observable's bound (sum of |coefficients|, up to 3 of its standard errors) is the one
reported in ``evs``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import JobError

FloatArray = NDArray[np.float64]
NAMES = ("linear", "exponential", "double_exponential", "fallback",
         *(f"polynomial_degree_{k}" for k in range(1, 8)))


@dataclass(frozen=True)
class Fit:
    """An extrapolator's values and standard errors at the evaluation points; ``ok`` False when it failed."""

    values: FloatArray
    stds: FloatArray
    ok: bool


def _failed(points: int) -> Fit:
    return Fit(np.full(points, np.nan), np.full(points, np.nan), False)


def _polynomial(x: FloatArray, y: FloatArray, s: FloatArray, degree: int, at: FloatArray) -> Fit:
    """Weighted least squares; the covariance of the coefficients is (A^T W A)^-1 (exact for Gaussian errors)."""
    if len(x) < degree + 1:
        return _failed(len(at))
    design = np.vander(x, degree + 1, increasing=True)
    weights = 1.0 / np.maximum(s, 1e-12) ** 2
    normal = design.T @ (design * weights[:, None])
    if np.linalg.cond(normal) > 1e12:
        return _failed(len(at))
    cov = np.linalg.inv(normal)
    coeffs = cov @ (design.T @ (weights * y))
    evaluate = np.vander(at, degree + 1, increasing=True)
    values = evaluate @ coeffs
    stds = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", evaluate, cov, evaluate), 0.0))
    return Fit(values, stds, True)


def _exp1(x: FloatArray, a: float, tau: float) -> FloatArray:
    return a * np.exp(-x / tau)


def _exp2(x: FloatArray, a: float, t1: float, b: float, t2: float) -> FloatArray:
    return a * np.exp(-x / t1) + b * np.exp(-x / t2)


def _curve(model: Callable[..., FloatArray], x: FloatArray, y: FloatArray, s: FloatArray, guess: list[float],
           at: FloatArray) -> Fit:
    from scipy.optimize import OptimizeWarning, curve_fit

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            params, cov = curve_fit(model, x, y, p0=guess, sigma=np.maximum(s, 1e-12), absolute_sigma=True,
                                    maxfev=5000)
    except (RuntimeError, ValueError):
        return _failed(len(at))
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        return _failed(len(at))
    values = model(at, *params)
    step = 1e-6 * np.maximum(np.abs(params), 1e-6)
    jacobian = np.empty((len(at), len(params)))
    for k in range(len(params)):                           # d value / d param_k by central differences
        up, down = params.copy(), params.copy()
        up[k] += step[k]
        down[k] -= step[k]
        jacobian[:, k] = (model(at, *up) - model(at, *down)) / (2 * step[k])
    stds = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jacobian, cov, jacobian), 0.0))
    return Fit(values, stds, bool(np.all(np.isfinite(values)) and np.all(np.isfinite(stds))))


def _log_guess(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """A and tau of A exp(-x / tau) from a straight line through log|y| (tau > 0 when |y| decays)."""
    magnitude = np.maximum(np.abs(y), 1e-9)
    slope, intercept = np.polyfit(x, np.log(magnitude), 1)
    tau = -1.0 / slope if slope < -1e-9 else 1e3
    return float(np.sign(y[np.argmin(x)]) or 1.0) * math.exp(intercept), tau


def fit(name: str, x: Sequence[float], y: Sequence[float], s: Sequence[float], at: Sequence[float]) -> Fit:
    """``name``'s fit of ``y`` (standard errors ``s``) against noise factors ``x``, evaluated at ``at``."""
    xs, ys, ss, ats = (np.asarray(v, dtype=np.float64) for v in (x, y, s, at))
    if name == "fallback":
        lowest = int(np.argmin(xs))
        return Fit(np.full(len(ats), ys[lowest]), np.full(len(ats), ss[lowest]), True)
    if name == "linear":
        return _polynomial(xs, ys, ss, 1, ats)
    if name.startswith("polynomial_degree_"):
        return _polynomial(xs, ys, ss, int(name.rsplit("_", 1)[1]), ats)
    if name == "exponential":
        if len(xs) < 2:
            return _failed(len(ats))
        return _curve(_exp1, xs, ys, ss, list(_log_guess(xs, ys)), ats)
    if name == "double_exponential":
        if len(xs) < 4:
            return _failed(len(ats))
        a, tau = _log_guess(xs, ys)
        return _curve(_exp2, xs, ys, ss, [0.8 * a, tau, 0.2 * a, 0.3 * tau], ats)
    raise JobError(f"resilience.zne.extrapolator {name!r} is unknown; valid: {', '.join(NAMES)}")


@dataclass(frozen=True)
class Extrapolated:
    """Every extrapolator at every evaluation point, and the chosen one's zero-noise value."""

    values: FloatArray          # (num_extrapolators, num_points)
    stds: FloatArray
    value: float                # at noise factor 0, from the first extrapolator that fits
    std: float
    chosen: str


BOUND_SIGMAS = 3.0
"""How far (in its own standard errors) a zero-noise value may pass the observable's bound and still count as
inside it: an unbiased estimate of a value at the bound (a Bell state's <ZZ> = 1) is above it half the time."""


def extrapolate(names: Sequence[str], x: Sequence[float], y: Sequence[float], s: Sequence[float],
                at: Sequence[float], bound: float) -> Extrapolated:
    """Fit each of ``names``; the reported value is the first whose fit succeeds with a finite zero-noise value
    within ``[-bound, bound]`` up to :data:`BOUND_SIGMAS` of its error (a fit that leaves the physical range
    has not fitted), else ``fallback``'s."""
    fits = [fit(name, x, y, s, at) for name in names]
    zero = [fit(name, x, y, s, [0.0]) for name in names]
    for name, f in zip(names, zero):
        if f.ok and abs(float(f.values[0])) <= bound + BOUND_SIGMAS * float(f.stds[0]):
            return Extrapolated(np.array([g.values for g in fits]), np.array([g.stds for g in fits]),
                                float(f.values[0]), float(f.stds[0]), name)
    last = fit("fallback", x, y, s, [0.0])
    return Extrapolated(np.array([g.values for g in fits]), np.array([g.stds for g in fits]),
                        float(last.values[0]), float(last.stds[0]), "fallback")
