"""Fits and the quality gates a fit must pass before anything it says may be stored.

A calibration tool's worst failure is a fit that "succeeds" on data without the feature and writes a far-off
value. So every fit here returns a :class:`Fit` with its parameters, standard errors, R^2, reduced chi-square
(against the per-point noise estimated from the shots) and the SNR of the feature, and :func:`check` turns
explicit criteria into named :class:`Gate` results: converged, R^2, relative standard error, value inside
the scanned range and inside physical bounds, SNR. An experiment stores only when every gate passed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeWarning, curve_fit

FloatArray = NDArray[np.float64]
Model = Callable[..., FloatArray]


@dataclass(frozen=True)
class Gate:
    """One quality gate: its name, whether it passed, and why."""

    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'passed' if self.passed else 'FAILED'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class Fit:
    """A least-squares fit of ``model`` to ``(x, y)``."""

    model: Model
    names: tuple[str, ...]
    values: FloatArray
    errors: FloatArray
    x: FloatArray
    y: FloatArray
    converged: bool
    message: str = ""
    sigma: float | None = None
    """Noise of one point (same units as y), when known: used for chi-square and SNR."""
    extra: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def error(self, name: str) -> float:
        return float(self.errors[self.names.index(name)])

    def curve(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.model(x, *self.values), dtype=np.float64)

    @property
    def residuals(self) -> FloatArray:
        return np.asarray(self.y - self.curve(self.x), dtype=np.float64)

    @property
    def r2(self) -> float:
        total = float(np.sum((self.y - self.y.mean()) ** 2))
        return 1.0 - float(np.sum(self.residuals**2)) / total if total > 0 else 0.0

    @property
    def chi2_red(self) -> float | None:
        if self.sigma is None or self.sigma <= 0:
            return None
        dof = max(len(self.x) - len(self.values), 1)
        return float(np.sum((self.residuals / self.sigma) ** 2) / dof)

    @property
    def snr(self) -> float:
        """Peak-to-peak of the fitted curve over the noise of one point (or the residuals' spread)."""
        fine = np.linspace(self.x.min(), self.x.max(), 512)
        swing = float(np.ptp(self.curve(fine)))
        noise = self.sigma if self.sigma else float(np.std(self.residuals)) or 1e-300
        return swing / noise

    def quality(self) -> dict[str, float]:
        out = {"r2": self.r2, "snr": self.snr}
        if self.chi2_red is not None:
            out["chi2_red"] = self.chi2_red
        return out


def fit(model: Model, x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray, p0: Sequence[float],
        names: Sequence[str], *, sigma: float | None = None, bounds: tuple[Sequence[float], Sequence[float]] | None
        = None, point_errors: Sequence[float] | FloatArray | None = None) -> Fit:
    """``curve_fit`` that never raises on bad data: a failure is a Fit with ``converged=False``.

    ``point_errors``: the standard error of each point, when the data say it (e.g. the scatter of random
    sequences); the fit is then weighted by them and the parameter errors follow from them (absolute sigma)
    instead of from the residuals alone."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    # MINPACK's finite-difference step is relative to each parameter, so a start at (numerically) zero -- an
    # offset of 1e-18 after centring the data -- gets no derivative and a singular covariance. The trust-region
    # method's step has an absolute floor; it is the second try.
    attempts: list[dict[str, Any]] = [{"bounds": bounds, "method": "trf"}] if bounds is not None else \
        [{}, {"method": "trf"}]
    if point_errors is not None:
        for attempt in attempts:
            attempt.update(sigma=np.asarray(point_errors, dtype=np.float64), absolute_sigma=True)
    values, errors, converged, message = np.asarray(p0, dtype=float), np.full(len(p0), np.inf), False, ""
    for kwargs in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", OptimizeWarning)
                values, cov = curve_fit(model, xa, ya, p0=list(p0), maxfev=20000, **kwargs)
            errors = np.sqrt(np.clip(np.diag(cov), 0, None))
            converged = bool(np.all(np.isfinite(values)) and np.all(np.isfinite(errors)))
            message = "" if converged else "covariance not finite"
        except (RuntimeError, ValueError, OptimizeWarning) as exc:
            values, errors, converged, message = np.asarray(p0, dtype=float), np.full(len(p0), np.inf), False, str(exc)
        if converged:
            break
    return Fit(model, tuple(names), np.asarray(values, dtype=np.float64), np.asarray(errors, dtype=np.float64), xa,
               ya, converged, message, sigma)


def check(result: Fit, name: str, *, min_r2: float = 0.8, max_rel_error: float = 0.2, min_snr: float = 5.0,
          within: tuple[float, float] | None = None, bounds: tuple[float, float] | None = None,
          max_chi2: float | None = None) -> list[Gate]:
    """The quality gates for the fitted parameter ``name``."""
    gates = [Gate("fit converged", result.converged, result.message or "least squares converged")]
    if not result.converged:
        return gates
    value, error = result[name], result.error(name)
    gates.append(Gate("R^2", result.r2 >= min_r2, f"R^2 = {result.r2:.3f} (need >= {min_r2})"))
    snr = result.snr
    gates.append(Gate("SNR", snr >= min_snr, f"feature / noise = {snr:.1f} (need >= {min_snr})"))
    rel = abs(error / value) if value else math.inf
    gates.append(Gate("standard error", rel <= max_rel_error,
                      f"{name} = {value:.6g} +- {error:.2g} ({100 * rel:.2g} %, need <= {100 * max_rel_error:g} %)"))
    if max_chi2 is not None and result.chi2_red is not None:
        gates.append(Gate("reduced chi-square", result.chi2_red <= max_chi2,
                          f"chi2_red = {result.chi2_red:.2f} (need <= {max_chi2})"))
    if within is not None:
        lo, hi = min(within), max(within)
        gates.append(Gate("inside the scanned range", lo <= value <= hi,
                          f"{name} = {value:.6g} in [{lo:.6g}, {hi:.6g}]"))
    if bounds is not None:
        lo, hi = bounds
        gates.append(Gate("physical bounds", lo <= value <= hi, f"{name} = {value:.6g} in [{lo:.6g}, {hi:.6g}]"))
    return gates


# -- models ------------------------------------------------------------------------------------------------------
def lorentzian(x: FloatArray, x0: float, width: float, height: float, offset: float) -> FloatArray:
    """A Lorentzian line of full width ``width`` (peak for height > 0, dip for height < 0)."""
    return np.asarray(offset + height / (1 + (2 * (x - x0) / width) ** 2), dtype=np.float64)


def cosine(x: FloatArray, amplitude: float, period: float, phase: float, offset: float) -> FloatArray:
    return np.asarray(offset + amplitude * np.cos(2 * math.pi * x / period + phase), dtype=np.float64)


def damped_cosine(x: FloatArray, amplitude: float, frequency: float, phase: float, tau: float, offset: float
                  ) -> FloatArray:
    return np.asarray(offset + amplitude * np.exp(-x / tau) * np.cos(2 * math.pi * frequency * x + phase),
                      dtype=np.float64)


def exponential(x: FloatArray, amplitude: float, tau: float, offset: float) -> FloatArray:
    return np.asarray(offset + amplitude * np.exp(-x / tau), dtype=np.float64)


def rb_decay(m: FloatArray, a: float, p: float, b: float) -> FloatArray:
    return np.asarray(a * p**m + b, dtype=np.float64)


# -- initial guesses ---------------------------------------------------------------------------------------------
def dominant_frequency(x: FloatArray, y: FloatArray) -> float:
    """The strongest non-zero frequency of uniformly sampled ``y(x)`` (cycles per unit of x)."""
    spectrum = np.abs(np.fft.rfft(y - y.mean(), n=8 * len(y)))
    freqs = np.fft.rfftfreq(8 * len(y), d=float(x[1] - x[0]))
    return float(freqs[1 + int(np.argmax(spectrum[1:]))])


def fit_cosine(x: FloatArray, y: FloatArray, sigma: float | None = None) -> Fit:
    f = dominant_frequency(x, y)
    period = 1 / f if f > 0 else float(np.ptp(x))
    basis = np.stack([np.cos(2 * math.pi * x / period), np.sin(2 * math.pi * x / period), np.ones_like(x)], axis=1)
    (c, s, o), *_ = np.linalg.lstsq(basis, y, rcond=None)
    return fit(cosine, x, y, [math.hypot(c, s), period, math.atan2(-s, c), o],
               ("amplitude", "period", "phase", "offset"), sigma=sigma)


def fit_damped_cosine(x: FloatArray, y: FloatArray, sigma: float | None = None) -> Fit:
    f = dominant_frequency(x, y)
    basis = np.stack([np.cos(2 * math.pi * f * x), np.sin(2 * math.pi * f * x), np.ones_like(x)], axis=1)
    (c, s, o), *_ = np.linalg.lstsq(basis, y, rcond=None)
    return fit(damped_cosine, x, y, [math.hypot(c, s), f, math.atan2(-s, c), float(np.ptp(x)), o],
               ("amplitude", "frequency", "phase", "tau", "offset"), sigma=sigma)


def fit_exponential(x: FloatArray, y: FloatArray, sigma: float | None = None) -> Fit:
    tail = float(np.mean(y[-max(len(y) // 8, 1):]))
    head = float(y[0])
    crossing = np.flatnonzero(np.abs(y - tail) < abs(head - tail) / math.e)
    tau = float(x[crossing[0]]) if crossing.size and x[crossing[0]] > 0 else float(np.ptp(x)) / 3
    return fit(exponential, x, y, [head - tail, tau, tail], ("amplitude", "tau", "offset"), sigma=sigma)


def fit_lorentzian(x: FloatArray, y: FloatArray, sigma: float | None = None) -> Fit:
    baseline = float(np.median(y))
    k = int(np.argmax(np.abs(y - baseline)))
    height = float(y[k] - baseline)
    half = np.flatnonzero(np.abs(y - baseline) > abs(height) / 2)
    width = float(x[half[-1]] - x[half[0]]) if half.size > 1 else float(np.ptp(x)) / 20
    return fit(lorentzian, x, y, [float(x[k]), max(width, float(x[1] - x[0])), height, baseline],
               ("x0", "width", "height", "offset"), sigma=sigma)
