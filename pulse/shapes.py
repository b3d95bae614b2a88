"""Exact numerics of the pulse library: Qiskit Pulse 1.4's envelopes and parameter checks, in plain numpy.

Qiskit defined its pulses as sympy/symengine expressions, lambdified and sampled at midpoints
``t = k + 1/2``. This module writes the same formulas directly (no symbolic algebra at run time) so samples agree
with Qiskit 1.4 to 1e-12 while sampling a 160-sample pulse in microseconds. Kept apart from the pulse classes
so the numbers can be tested alone, against formulas written out in the tests.

Every sampler takes ``(duration, **params)`` with plain floats and returns ``complex128[duration]``. Checks
return ``None`` when the parameters are valid, else a message naming the parameter, its value and what is valid:
``check_constraints`` mirrors Qiskit's ``constraints``; ``check_amplitude`` its ``valid_amp_conditions`` (when
those fail Qiskit samples the pulse and refuses only if a sample's magnitude reaches 1 + 1e-7; so do we).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

ComplexArray = NDArray[np.complex128]
FloatArray = NDArray[np.float64]
_EPSILON = 1e-7  # Qiskit's tolerance for |sample| over 1


def _times(duration: int) -> FloatArray:
    """Midpoint sample times, as Qiskit's ``get_waveform``."""
    return np.arange(duration, dtype=np.float64) + 0.5


def _lifted_gaussian(t: FloatArray | float, center: float, t_zero: float, sigma: float) -> Any:
    """A Gaussian shifted and rescaled to reach 0 at ``t_zero`` and keep 1 at ``center`` (Qiskit's helper)."""
    gauss = np.exp(-(((t - center) / sigma) ** 2) / 2)
    offset = math.exp(-(((t_zero - center) / sigma) ** 2) / 2)
    return (gauss - offset) / (1 - offset)


def _scale(amp: float, angle: float) -> complex:
    return amp * complex(math.cos(angle), math.sin(angle)) if angle else complex(amp)


def default_freq(duration: int) -> float:
    """Qiskit's default frequency of the periodic pulses: one cycle over the pulse."""
    return 1 / duration


def width_from_risefall_sigma_ratio(duration: float, sigma: float, ratio: float) -> float:
    """Flat-top width of a GaussianSquare given ``risefall_sigma_ratio`` (Qiskit: ``duration - 2 ratio sigma``)."""
    return duration - 2.0 * ratio * sigma


# -- samplers -------------------------------------------------------------------------------------------------
def constant(duration: int, amp: float, angle: float) -> ComplexArray:
    return np.full(duration, _scale(amp, angle), dtype=np.complex128)


def gaussian(duration: int, amp: float, sigma: float, angle: float) -> ComplexArray:
    t = _times(duration)
    return np.asarray(_scale(amp, angle) * _lifted_gaussian(t, duration / 2, duration + 1, sigma),
                      dtype=np.complex128)


def _square_edges(t: FloatArray, duration: float, sigma: float, width: float, beta: float | None) -> ComplexArray:
    """Lifted-Gaussian rise up to ``t0``, flat 1 in between, fall from ``t1``; DRAG terms on the edges."""
    center = duration / 2
    t0, t1 = center - width / 2, center + width / 2
    left = _lifted_gaussian(t, t0, -1, sigma)
    right = _lifted_gaussian(t, t1, duration + 1, sigma)
    if beta is not None:
        left = left + 1j * beta * (-(t - t0) / sigma**2 * left)
        right = right + 1j * beta * (-(t - t1) / sigma**2 * right)
    return np.where(t <= t0, left, np.where(t >= t1, right, 1.0)).astype(np.complex128)


def gaussian_square(duration: int, amp: float, sigma: float, width: float, angle: float) -> ComplexArray:
    return _scale(amp, angle) * _square_edges(_times(duration), duration, sigma, width, None)


def gaussian_square_drag(duration: int, amp: float, sigma: float, width: float, beta: float,
                         angle: float) -> ComplexArray:
    return _scale(amp, angle) * _square_edges(_times(duration), duration, sigma, width, beta)


def gaussian_square_echo(duration: int, amp: float, sigma: float, width: float, angle: float,
                         active_amp: float, active_angle: float) -> ComplexArray:
    """Two half-length GaussianSquares of opposite sign (an echo), plus an active-cancellation GaussianSquare."""
    t = _times(duration)
    width_echo = (duration - 2 * (duration - width)) / 2

    def half(center: float, left_zero: float, right_zero: float) -> Any:
        t0, t1 = center - width_echo / 2, center + width_echo / 2
        return np.where(t <= t0, _lifted_gaussian(t, t0, left_zero, sigma),
                        np.where(t >= t1, _lifted_gaussian(t, t1, right_zero, sigma), 1.0))

    scale = _scale(amp, angle)
    first = scale * half(duration / 4, -1, duration / 2 + 1)
    echo = -1 * scale * half(duration / 2 + duration / 4, duration / 2 - 1, duration + 1)
    echoed = np.where(t <= duration / 2, first, np.where(t >= duration / 2, echo, 0))
    active = _scale(active_amp, active_angle) * _square_edges(t, duration, sigma, width, None)
    return (echoed + active).astype(np.complex128)


def gaussian_deriv(duration: int, amp: float, sigma: float, angle: float) -> ComplexArray:
    t = _times(duration)
    x = (t - duration / 2) / sigma
    return np.asarray(-_scale(amp, angle) * ((t - duration / 2) / sigma**2) * np.exp(-(1 / 2) * x**2),
                      dtype=np.complex128)


def drag(duration: int, amp: float, sigma: float, beta: float, angle: float) -> ComplexArray:
    t = _times(duration)
    center = duration / 2
    gauss = _lifted_gaussian(t, center, duration + 1, sigma)
    deriv = -(t - center) / sigma**2 * gauss
    return np.asarray(_scale(amp, angle) * (gauss + 1j * beta * deriv), dtype=np.complex128)


def sin(duration: int, amp: float, phase: float, freq: float, angle: float) -> ComplexArray:
    return _scale(amp, angle) * np.sin(2 * np.pi * freq * _times(duration) + phase).astype(np.complex128)


def cos(duration: int, amp: float, phase: float, freq: float, angle: float) -> ComplexArray:
    return _scale(amp, angle) * np.cos(2 * np.pi * freq * _times(duration) + phase).astype(np.complex128)


def _linear(duration: int, phase: float, freq: float) -> FloatArray:
    return _times(duration) * freq + phase / (2 * np.pi)


def sawtooth(duration: int, amp: float, phase: float, freq: float, angle: float) -> ComplexArray:
    x = _linear(duration, phase, freq)
    return 2 * _scale(amp, angle) * (x - np.floor(x + 1 / 2)).astype(np.complex128)


def triangle(duration: int, amp: float, phase: float, freq: float, angle: float) -> ComplexArray:
    x = _linear(duration, phase, freq) - 0.25  # a quarter period behind the sawtooth, as in Qiskit
    saw = 2 * (x - np.floor(x + 1 / 2))
    return _scale(amp, angle) * (-2 * np.abs(saw) + 1).astype(np.complex128)


def square(duration: int, amp: float, phase: float, freq: float, angle: float) -> ComplexArray:
    x = _linear(duration, phase, freq)
    return _scale(amp, angle) * (2 * (2 * np.floor(x) - np.floor(2 * x)) + 1).astype(np.complex128)


def sech(duration: int, amp: float, sigma: float, angle: float, zero_ends: bool) -> ComplexArray:
    t = _times(duration)
    values = 1 / np.cosh((t - duration / 2) / sigma)
    if zero_ends:
        edge = 1 / math.cosh((-1 - duration / 2) / sigma)
        values = (values - edge) / (1 - edge)
    return _scale(amp, angle) * values.astype(np.complex128)


# -- checks ---------------------------------------------------------------------------------------------------
Check = Callable[..., "str | None"]


def _sigma_positive(duration: int, sigma: float, **_: Any) -> str | None:
    return None if sigma > 0 else f"sigma must be > 0, got {sigma}"


def _square_constraints(duration: int, sigma: float, width: float, **_: Any) -> str | None:
    if not sigma > 0:
        return f"sigma must be > 0, got {sigma}"
    if not width >= 0:
        return f"width must be >= 0, got {width}"
    if not duration >= width:
        return f"width must be <= duration ({duration}), got {width}"
    return None


def _echo_constraints(duration: int, sigma: float, width: float, **_: Any) -> str | None:
    message = _square_constraints(duration, sigma, width)
    width_echo = (duration - 2 * (duration - width)) / 2
    if message is None and not duration / 2 >= width_echo:
        return f"the echo's half width {width_echo} must be <= duration / 2 ({duration / 2})"
    return message


def _freq_range(duration: int, freq: float, **_: Any) -> str | None:
    return None if 0 < freq < 0.5 else f"freq must be in (0, 0.5) cycles per sample, got {freq}"


def _no_constraints(duration: int, **_: Any) -> str | None:
    return None


def _amp_at_most_one(duration: int, amp: float, **_: Any) -> bool:
    return abs(amp) <= 1.0


def _amp_and_beta(duration: int, amp: float, beta: float, sigma: float, **_: Any) -> bool:
    return abs(amp) <= 1.0 and abs(beta) < sigma


@dataclass(frozen=True)
class ShapeSpec:
    """One pulse type: its parameters (Qiskit's order, without duration), sampler and checks."""

    pulse_type: str
    parameters: tuple[str, ...]
    defaults: Mapping[str, Any]
    sample: Callable[..., ComplexArray]
    check_constraints: Check
    amplitude_condition: Callable[..., bool] = field(repr=False)

    def check_amplitude(self, duration: int, **params: Any) -> str | None:
        """Qiskit's rule: the quick condition, else the sampled magnitude must stay below 1 + 1e-7."""
        if self.amplitude_condition(duration, **params):
            return None
        peak = float(np.max(np.abs(self.sample(duration, **params)))) if duration else 0.0
        if peak < 1.0 + _EPSILON:
            return None
        return (f"the largest sample magnitude is {peak:.6g} > 1 (amp={params.get('amp')}); scale the pulse "
                "down or pass limit_amplitude=False")


_PERIODIC = ("amp", "phase", "freq", "angle")
SHAPES: dict[str, ShapeSpec] = {
    spec.pulse_type: spec
    for spec in (
        ShapeSpec("Constant", ("amp", "angle"), {"angle": 0.0}, constant, _no_constraints, _amp_at_most_one),
        ShapeSpec("Gaussian", ("amp", "sigma", "angle"), {"angle": 0.0}, gaussian, _sigma_positive,
                  _amp_at_most_one),
        ShapeSpec("GaussianSquare", ("amp", "sigma", "width", "angle"), {"width": None, "angle": 0.0},
                  gaussian_square, _square_constraints, _amp_at_most_one),
        ShapeSpec("GaussianSquareDrag", ("amp", "sigma", "width", "beta", "angle"), {"width": None, "angle": 0.0},
                  gaussian_square_drag, _square_constraints, _amp_and_beta),
        ShapeSpec("gaussian_square_echo", ("amp", "sigma", "width", "angle", "active_amp", "active_angle"),
                  {"width": None, "angle": 0.0, "active_amp": 0.0, "active_angle": 0.0}, gaussian_square_echo,
                  _echo_constraints, lambda d, amp, active_amp, **_: abs(amp) + abs(active_amp) <= 1.0),
        ShapeSpec("GaussianDeriv", ("amp", "sigma", "angle"), {"angle": 0.0}, gaussian_deriv, _sigma_positive,
                  lambda d, amp, sigma, **_: abs(amp / sigma) <= math.exp(1 / 2)),
        ShapeSpec("Drag", ("amp", "sigma", "beta", "angle"), {"angle": 0.0}, drag, _sigma_positive, _amp_and_beta),
        ShapeSpec("Sin", _PERIODIC, {"freq": None, "angle": 0.0}, sin, _freq_range, _amp_at_most_one),
        ShapeSpec("Cos", _PERIODIC, {"freq": None, "angle": 0.0}, cos, _freq_range, _amp_at_most_one),
        ShapeSpec("Sawtooth", _PERIODIC, {"freq": None, "angle": 0.0}, sawtooth, _freq_range, _amp_at_most_one),
        ShapeSpec("Triangle", _PERIODIC, {"freq": None, "angle": 0.0}, triangle, _freq_range, _amp_at_most_one),
        ShapeSpec("Square", _PERIODIC, {"freq": None, "angle": 0.0}, square, _freq_range, _amp_at_most_one),
        ShapeSpec("Sech", ("amp", "sigma", "angle", "zero_ends"), {"angle": 0.0, "zero_ends": True}, sech,
                  _sigma_positive, _amp_at_most_one),
    )
}
"""Pulse types by Qiskit's ``pulse_type`` name."""
