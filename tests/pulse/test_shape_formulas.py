"""Library pulse samples against Qiskit Pulse 1.4's documented formulas, written out here sample by sample with
the math module (midpoint sampling t = k + 1/2), independently of qubitlab.pulse.shapes."""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qubitlab import pulse
from qubitlab.errors import PulseError


def lifted(t: float, center: float, zero_at: float, sigma: float) -> float:
    g = math.exp(-0.5 * ((t - center) / sigma) ** 2)
    g0 = math.exp(-0.5 * ((zero_at - center) / sigma) ** 2)
    return (g - g0) / (1 - g0)


def sample(duration: int, f: Callable[[float], complex]) -> list[complex]:
    return [f(k + 0.5) for k in range(duration)]


def check(p: pulse.SymbolicPulse, expected: list[complex]) -> None:
    np.testing.assert_allclose(p.get_waveform().samples, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("duration", [1, 15, 64, 161])
def test_gaussian(duration: int) -> None:
    amp, sigma, angle = 0.37, duration / 5 + 1, 0.7
    z = amp * cmath.exp(1j * angle)
    check(pulse.Gaussian(duration, amp, sigma, angle=angle),
          sample(duration, lambda t: z * lifted(t, duration / 2, duration + 1, sigma)))


@pytest.mark.parametrize("duration", [16, 160, 161])
def test_drag(duration: int) -> None:
    amp, sigma, beta, angle = 0.2, 40.0 * duration / 160, 1.7, -0.4
    z, c = amp * cmath.exp(1j * angle), duration / 2

    def f(t: float) -> complex:
        g = lifted(t, c, duration + 1, sigma)
        return z * (g + 1j * beta * (-(t - c) / sigma**2) * g)

    check(pulse.Drag(duration, amp, sigma, beta, angle=angle), sample(duration, f))


def square_edges(duration: int, sigma: float, width: float, beta: float = 0.0) -> Callable[[float], complex]:
    t0, t1 = duration / 2 - width / 2, duration / 2 + width / 2

    def f(t: float) -> complex:
        if t <= t0:
            g = lifted(t, t0, -1, sigma)
            return g + 1j * beta * (-(t - t0) / sigma**2) * g
        if t >= t1:
            g = lifted(t, t1, duration + 1, sigma)
            return g + 1j * beta * (-(t - t1) / sigma**2) * g
        return 1.0

    return f


@pytest.mark.parametrize(("duration", "width"), [(800, 544.0), (801, 300.5), (100, 0.0), (64, 64.0)])
def test_gaussian_square(duration: int, width: float) -> None:
    amp, sigma, angle = 0.1, 16.0, 0.3
    z, edges = amp * cmath.exp(1j * angle), square_edges(duration, sigma, width)
    check(pulse.GaussianSquare(duration, amp, sigma, width=width, angle=angle),
          sample(duration, lambda t: z * edges(t)))


def test_gaussian_square_from_risefall_ratio() -> None:
    duration, sigma, ratio = 400, 20.0, 2.5
    edges = square_edges(duration, sigma, duration - 2 * ratio * sigma)
    check(pulse.GaussianSquare(duration, 0.2, sigma, risefall_sigma_ratio=ratio), sample(duration, lambda t: 0.2 * edges(t)))


def test_gaussian_square_drag() -> None:
    duration, amp, sigma, width, beta = 300, 0.3, 12.0, 150.0, 4.0
    edges = square_edges(duration, sigma, width, beta)
    check(pulse.GaussianSquareDrag(duration, amp, sigma, beta, width=width), sample(duration, lambda t: amp * edges(t)))


def test_gaussian_deriv_and_constant() -> None:
    duration, amp, sigma = 50, 0.4, 7.0
    check(pulse.GaussianDeriv(duration, amp, sigma),
          sample(duration, lambda t: -amp * (t - duration / 2) / sigma**2 * math.exp(-0.5 * ((t - duration / 2) / sigma) ** 2)))
    check(pulse.Constant(7, 0.5, angle=1.0), [0.5 * cmath.exp(1j)] * 7)


def test_periodic_pulses() -> None:
    d, amp, phase, freq = 100, 0.3, 0.4, 0.031
    x = lambda t: freq * t + phase / (2 * math.pi)  # noqa: E731
    check(pulse.Sin(d, amp, phase, freq), sample(d, lambda t: amp * math.sin(2 * math.pi * freq * t + phase)))
    check(pulse.Cos(d, amp, phase, freq), sample(d, lambda t: amp * math.cos(2 * math.pi * freq * t + phase)))
    check(pulse.Sawtooth(d, amp, phase, freq), sample(d, lambda t: 2 * amp * (x(t) - math.floor(x(t) + 0.5))))
    check(pulse.Triangle(d, amp, phase, freq),
          sample(d, lambda t: amp * (1 - 2 * abs(2 * ((x(t) - 0.25) - math.floor(x(t) - 0.25 + 0.5))))))
    check(pulse.Square(d, amp, phase, freq),
          sample(d, lambda t: amp * (2 * (2 * math.floor(x(t)) - math.floor(2 * x(t))) + 1)))
    # default frequency: one period over the pulse
    check(pulse.Sin(d, amp, 0.0), sample(d, lambda t: amp * math.sin(2 * math.pi * t / d)))


@pytest.mark.parametrize("zero_ends", [True, False])
def test_sech(zero_ends: bool) -> None:
    d, amp, sigma = 80, 0.6, 9.0
    s = lambda t: 1 / math.cosh((t - d / 2) / sigma)  # noqa: E731
    edge = 1 / math.cosh((-1 - d / 2) / sigma)
    f = (lambda t: amp * (s(t) - edge) / (1 - edge)) if zero_ends else (lambda t: amp * s(t))
    check(pulse.Sech(d, amp, sigma, zero_ends=zero_ends), sample(d, f))


def test_gaussian_square_echo_is_two_opposite_halves_plus_the_active_tone() -> None:
    d, amp, sigma, width, active = 400, 0.3, 10.0, 300.0, 0.1
    half_width = (d - 2 * (d - width)) / 2

    def half(t: float, center: float, left_zero: float, right_zero: float) -> float:
        t0, t1 = center - half_width / 2, center + half_width / 2
        if t <= t0:
            return lifted(t, t0, left_zero, sigma)
        if t >= t1:
            return lifted(t, t1, right_zero, sigma)
        return 1.0

    def f(t: float) -> complex:
        echoed = amp * half(t, d / 4, -1, d / 2 + 1) if t <= d / 2 else -amp * half(t, 3 * d / 4, d / 2 - 1, d + 1)
        return echoed + active * square_edges(d, sigma, width)(t)

    check(pulse.gaussian_square_echo(d, amp, sigma, width=width, active_amp=active), sample(d, f))


@settings(max_examples=60, deadline=None)
@given(duration=st.integers(2, 400), sigma=st.floats(0.5, 80), amp=st.floats(-1, 1))
def test_drag_with_zero_beta_is_the_gaussian(duration: int, sigma: float, amp: float) -> None:
    a = pulse.Drag(duration, amp, sigma, 0.0).get_waveform().samples
    b = pulse.Gaussian(duration, amp, sigma).get_waveform().samples
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, b[::-1], rtol=0, atol=1e-12)  # symmetric about the centre


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: pulse.Drag(160, 0.9, 40, 100.0), "largest sample magnitude"),  # |beta| >= sigma and samples > 1
        (lambda: pulse.GaussianDeriv(64, 5.0, 2.0), "largest sample magnitude"),
        (lambda: pulse.GaussianSquare(100, 0.1, 8, width=120), "width must be <= duration"),
        (lambda: pulse.GaussianSquare(100, 0.1, 8, width=-1), "width must be >= 0"),
        (lambda: pulse.Sin(100, 0.1, 0.0, freq=0.6), r"freq must be in \(0, 0.5\)"),
        (lambda: pulse.Sech(100, 0.1, -2), "sigma must be > 0"),
        (lambda: pulse.gaussian_square_echo(100, 0.7, 8, width=60, active_amp=0.6), "largest sample magnitude"),
    ],
)
def test_invalid_parameters_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(PulseError, match=message):
        make()


def test_drag_with_large_beta_is_allowed_when_samples_stay_below_one() -> None:
    # |beta| >= sigma fails Qiskit's quick condition, but the sampled magnitude stays < 1: accepted, as in Qiskit
    p = pulse.Drag(160, 0.05, 4, 10.0)
    assert np.max(np.abs(p.get_waveform().samples)) < 1
