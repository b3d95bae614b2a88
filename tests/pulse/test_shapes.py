"""qubitlab.pulse.shapes against Qiskit Pulse 1.4's formulas, written out here sample by sample with the math
module (midpoint sampling t = k + 1/2), independently of the implementation; properties via hypothesis; and
every check's message."""

from __future__ import annotations

import cmath
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qubitlab.pulse import shapes

ATOL = 1e-12


def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(actual, expected, rtol=0, atol=ATOL)


def samples(duration: int, f: Callable[[float], complex]) -> list[complex]:
    return [complex(f(k + 0.5)) for k in range(duration)]


def lifted(t: float, center: float, zero_at: float, sigma: float) -> float:
    """Qiskit's lifted Gaussian: exp(-(t-c)^2 / 2 sigma^2), shifted and rescaled to 0 at zero_at, 1 at c."""
    g = math.exp(-((t - center) ** 2) / (2 * sigma**2))
    g0 = math.exp(-((zero_at - center) ** 2) / (2 * sigma**2))
    return (g - g0) / (1 - g0)


def square_edges(duration: float, sigma: float, width: float, beta: float = 0.0) -> Callable[[float], complex]:
    """GaussianSquare(-Drag): Piecewise((rise, t <= t0), (fall, t >= t1), (1, True)), DRAG on the edges only."""
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


def sech(x: float) -> float:
    return 1 / math.cosh(x) if abs(x) < 700 else 0.0


# -- samples against closed forms -----------------------------------------------------------------------------
@pytest.mark.parametrize("duration", [1, 7, 160])
def test_constant(duration: int) -> None:
    close(shapes.constant(duration, 0.4, 1.1), [0.4 * cmath.exp(1.1j)] * duration)
    close(shapes.constant(duration, -1.0, 0.0), [-1.0] * duration)


@pytest.mark.parametrize(("duration", "sigma", "angle"), [(1, 0.5, 0.0), (2, 1.0, 0.3), (15, 3.0, -2.0),
                                                          (64, 16.0, 0.7), (161, 40.0, math.pi)])
def test_gaussian(duration: int, sigma: float, angle: float) -> None:
    z, d = 0.37 * cmath.exp(1j * angle), duration
    close(shapes.gaussian(d, 0.37, sigma, angle),
          samples(d, lambda t: z * (math.exp(-((t - d / 2) ** 2) / (2 * sigma**2))
                                    - math.exp(-((-1 - d / 2) ** 2) / (2 * sigma**2)))
                  / (1 - math.exp(-((-1 - d / 2) ** 2) / (2 * sigma**2)))))


def test_gaussian_odd_duration_peaks_at_amp() -> None:
    out = shapes.gaussian(161, 0.8, 40.0, 0.5)
    assert out[80] == pytest.approx(0.8 * cmath.exp(0.5j), abs=ATOL)  # t = 80.5 = duration / 2
    assert abs(out[0]) < abs(out[1]) < abs(out[80])


@pytest.mark.parametrize(("duration", "beta", "angle"), [(16, 1.7, -0.4), (160, 5.0, 0.0), (161, -3.0, 2.5)])
def test_drag(duration: int, beta: float, angle: float) -> None:
    amp, sigma, d = 0.2, 40.0 * duration / 160, duration
    z = amp * cmath.exp(1j * angle)

    def f(t: float) -> complex:
        g = lifted(t, d / 2, d + 1, sigma)
        return z * (g + 1j * beta * (-(t - d / 2) / sigma**2) * g)

    close(shapes.drag(d, amp, sigma, beta, angle), samples(d, f))


@pytest.mark.parametrize(("duration", "sigma"), [(50, 7.0), (51, 2.5)])
def test_gaussian_deriv(duration: int, sigma: float) -> None:
    amp, angle, d = 0.4, 0.9, duration
    z = amp * cmath.exp(1j * angle)
    close(shapes.gaussian_deriv(d, amp, sigma, angle),
          samples(d, lambda t: -z * (t - d / 2) / sigma**2 * math.exp(-0.5 * ((t - d / 2) / sigma) ** 2)))


@pytest.mark.parametrize(("duration", "width"), [(800, 544.0), (801, 300.5), (160, 101.0), (100, 0.0),
                                                 (64, 64.0), (5, 2.0)])
def test_gaussian_square(duration: int, width: float) -> None:
    amp, sigma, angle = 0.6, 16.0 if duration > 10 else 1.0, 0.3
    z, edges = amp * cmath.exp(1j * angle), square_edges(duration, sigma, width)
    close(shapes.gaussian_square(duration, amp, sigma, width, angle), samples(duration, lambda t: z * edges(t)))


def test_gaussian_square_regions() -> None:
    d, sigma, width = 160, 10.0, 100.0  # rise on t <= 30, flat on 30 < t < 130, fall on t >= 130
    out = shapes.gaussian_square(d, 0.5, sigma, width, 0.0)
    assert np.all(out[30:130] == 0.5)
    assert np.all(np.abs(out[:30]) < 0.5) and np.all(np.abs(out[130:]) < 0.5)
    close(out[0], 0.5 * lifted(0.5, 30.0, -1, sigma))
    close(out[-1], 0.5 * lifted(159.5, 130.0, 161, sigma))


def test_width_from_risefall_sigma_ratio() -> None:
    assert shapes.width_from_risefall_sigma_ratio(160, 10.0, 2.0) == 160 - 2 * 2.0 * 10.0
    assert shapes.width_from_risefall_sigma_ratio(400, 20.0, 2.5) == 300.0
    duration, sigma, ratio = 400, 20.0, 2.5
    width = shapes.width_from_risefall_sigma_ratio(duration, sigma, ratio)
    edges = square_edges(duration, sigma, duration - 2 * ratio * sigma)
    close(shapes.gaussian_square(duration, 0.2, sigma, width, 0.0), samples(duration, lambda t: 0.2 * edges(t)))


@pytest.mark.parametrize("duration", [300, 301])
def test_gaussian_square_drag_piecewise(duration: int) -> None:
    amp, sigma, width, beta, angle = 0.3, 12.0, 150.0, 4.0, 0.0
    d = duration
    t0, t1 = d / 2 - width / 2, d / 2 + width / 2

    def f(t: float) -> complex:
        if t <= t0:
            g = lifted(t, t0, -1, sigma)
            return amp * (g - 1j * beta * (t - t0) / sigma**2 * g)
        if t >= t1:
            g = lifted(t, t1, d + 1, sigma)
            return amp * (g - 1j * beta * (t - t1) / sigma**2 * g)
        return amp

    out = shapes.gaussian_square_drag(d, amp, sigma, width, beta, angle)
    close(out, samples(d, f))
    flat = (np.arange(d) + 0.5 > t0) & (np.arange(d) + 0.5 < t1)
    assert np.all(out[flat] == amp)  # no DRAG term on the flat top
    assert np.all(out.imag[:10] > 0) and np.all(out.imag[-10:] < 0)  # derivative sign on the rise and the fall


@pytest.mark.parametrize(("duration", "width", "active_amp"), [(400, 300.0, 0.0), (401, 250.5, 0.2), (64, 40.0, 0.1)])
def test_gaussian_square_echo(duration: int, width: float, active_amp: float) -> None:
    amp, sigma, angle, active_angle, d = 0.5, 4.0, 0.3, -1.2, duration
    width_echo = (d - 2 * (d - width)) / 2  # Qiskit's definition, flat width of each half

    def half(t: float, center: float, zero_left: float, zero_right: float) -> float:
        t0, t1 = center - width_echo / 2, center + width_echo / 2
        if t <= t0:
            return lifted(t, t0, zero_left, sigma)
        if t >= t1:
            return lifted(t, t1, zero_right, sigma)
        return 1.0

    def f(t: float) -> complex:
        z = amp * cmath.exp(1j * angle)
        echo = z * half(t, d / 4, -1, d / 2 + 1) if t <= d / 2 else -z * half(t, 3 * d / 4, d / 2 - 1, d + 1)
        return echo + active_amp * cmath.exp(1j * active_angle) * square_edges(d, sigma, width)(t)

    close(shapes.gaussian_square_echo(d, amp, sigma, width, angle, active_amp, active_angle), samples(d, f))


def test_default_freq() -> None:
    assert shapes.default_freq(160) == 1 / 160
    assert shapes.default_freq(3) == 1 / 3


@pytest.mark.parametrize(("duration", "phase", "freq"), [(100, 0.4, 0.031), (33, -2.0, None), (160, 0.0, None)])
def test_sin_cos(duration: int, phase: float, freq: float | None) -> None:
    amp, angle, d = 0.3, 0.25, duration
    f = 1 / d if freq is None else freq  # Qiskit's default: one period over the pulse
    resolved = shapes.default_freq(d) if freq is None else freq
    z = amp * cmath.exp(1j * angle)
    close(shapes.sin(d, amp, phase, resolved, angle), samples(d, lambda t: z * math.sin(2 * math.pi * f * t + phase)))
    close(shapes.cos(d, amp, phase, resolved, angle), samples(d, lambda t: z * math.cos(2 * math.pi * f * t + phase)))


def cycles(t: float, phase: float, freq: float) -> float:
    return freq * t + phase / (2 * math.pi)


@pytest.mark.parametrize(("duration", "phase", "freq"), [(100, 0.4, 0.031), (37, 1.0, None), (10, 0.3, 0.13)])
def test_square_sawtooth_triangle(duration: int, phase: float, freq: float | None) -> None:
    amp, angle, d = 0.7, -0.6, duration
    f = 1 / d if freq is None else freq
    z = amp * cmath.exp(1j * angle)

    def square(t: float) -> complex:
        return z if cycles(t, phase, f) % 1 < 0.5 else -z  # +amp on the first half of each period

    def sawtooth(t: float) -> complex:
        return z * 2 * ((cycles(t, phase, f) + 0.5) % 1 - 0.5)  # from -amp up to amp once per period

    def triangle(t: float) -> complex:  # Qiskit: the sawtooth a quarter period later, folded
        saw = 2 * ((cycles(t, phase, f) - 0.25 + 0.5) % 1 - 0.5)
        return z * (1 - 2 * abs(saw))

    close(shapes.square(d, amp, phase, f, angle), samples(d, square))
    close(shapes.sawtooth(d, amp, phase, f, angle), samples(d, sawtooth))
    close(shapes.triangle(d, amp, phase, f, angle), samples(d, triangle))


@pytest.mark.parametrize("zero_ends", [True, False])
@pytest.mark.parametrize(("duration", "sigma"), [(40, 6.0), (41, 3.5), (500, 0.5)])
def test_sech(duration: int, sigma: float, zero_ends: bool) -> None:
    amp, angle, d = 0.9, 0.4, duration
    z = amp * cmath.exp(1j * angle)
    end = sech((-1 - d / 2) / sigma)

    def f(t: float) -> complex:
        s = sech((t - d / 2) / sigma)
        return z * ((s - end) / (1 - end) if zero_ends else s)

    out = shapes.sech(d, amp, sigma, angle, zero_ends)  # sigma = 0.5 over 500 samples: no overflow warnings
    close(out, samples(d, f))
    assert np.all(np.isfinite(out))


def test_sech_zero_amp_gives_zeros() -> None:
    # Qiskit 1.4 divides by amp when lifting and samples NaN here; zeros are the limit amp -> 0.
    assert np.all(shapes.sech(16, 0.0, 3.0, 0.0, True) == 0)


def test_sech_deriv() -> None:
    amp, sigma, angle, d = 0.5, 4.0, 0.2, 33
    z = amp * cmath.exp(1j * angle)
    close(shapes.sech_deriv(d, amp, sigma, angle),
          samples(d, lambda t: z * -math.tanh((t - d / 2) / sigma) * sech((t - d / 2) / sigma) / sigma))


# -- the table and the output contract ------------------------------------------------------------------------
QISKIT_PARAMETERS = {
    "Gaussian": ("amp", "sigma", "angle"),
    "GaussianSquare": ("amp", "sigma", "width", "angle"),
    "GaussianSquareDrag": ("amp", "sigma", "beta", "width", "angle"),
    "gaussian_square_echo": ("amp", "sigma", "width", "angle", "active_amp", "active_angle"),
    "GaussianDeriv": ("amp", "sigma", "angle"),
    "Drag": ("amp", "sigma", "beta", "angle"),
    "Constant": ("amp", "angle"),
    "Sin": ("amp", "phase", "freq", "angle"),
    "Cos": ("amp", "phase", "freq", "angle"),
    "Square": ("amp", "phase", "freq", "angle"),
    "Sawtooth": ("amp", "phase", "freq", "angle"),
    "Triangle": ("amp", "phase", "freq", "angle"),
    "Sech": ("amp", "sigma", "angle", "zero_ends"),
    "SechDeriv": ("amp", "sigma", "angle"),
}
EXAMPLE = {"amp": 0.3, "sigma": 4.0, "width": 20.0, "beta": 1.0, "angle": 0.2, "active_amp": 0.1,
           "active_angle": 0.5, "phase": 0.1, "freq": 0.05, "zero_ends": True}


def params_for(pulse_type: str, **override: Any) -> dict[str, Any]:
    return {name: override.get(name, EXAMPLE[name]) for name in shapes.SHAPES[pulse_type].parameters}


def test_table_matches_qiskit_names_order_and_defaults() -> None:
    assert {k: v.parameters for k, v in shapes.SHAPES.items()} == QISKIT_PARAMETERS
    for pulse_type, spec in shapes.SHAPES.items():
        assert spec.pulse_type == pulse_type
        assert set(spec.defaults) <= set(spec.parameters)
        assert spec.defaults.get("angle", 0.0) == 0.0
    assert shapes.SHAPES["GaussianSquare"].defaults["width"] is None
    assert shapes.SHAPES["Sin"].defaults["freq"] is None
    assert shapes.SHAPES["Sech"].defaults["zero_ends"] is True
    assert dict(shapes.SHAPES["gaussian_square_echo"].defaults) == {
        "width": None, "angle": 0.0, "active_amp": 0.0, "active_angle": 0.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        shapes.SHAPES["Drag"].pulse_type = "x"  # type: ignore[misc]


@pytest.mark.parametrize("pulse_type", sorted(QISKIT_PARAMETERS))
@pytest.mark.parametrize("duration", [0, 1, 2, 41, 160])
def test_output_contract(pulse_type: str, duration: int) -> None:
    spec = shapes.SHAPES[pulse_type]
    out = spec.sample(duration, **params_for(pulse_type))
    assert isinstance(out, np.ndarray) and out.dtype == np.complex128 and out.shape == (duration,)
    assert np.all(np.isfinite(out))
    out[:] = 7  # a fresh array each call: scribbling on it changes nothing else
    again = spec.sample(duration, **params_for(pulse_type))
    assert duration == 0 or not np.any(again == 7)
    assert spec.check_constraints(160, **params_for(pulse_type)) is None
    assert spec.check_amplitude(160, **params_for(pulse_type)) is None


# -- properties -----------------------------------------------------------------------------------------------
durations = st.integers(min_value=1, max_value=400)
amps = st.floats(min_value=-1.0, max_value=1.0)
angles = st.floats(min_value=-math.pi, max_value=math.pi)
PROPS = settings(max_examples=60, deadline=None)


@st.composite
def gaussian_params(draw: st.DrawFn) -> tuple[int, float, float, float]:
    d = draw(durations)
    return d, draw(amps), draw(st.floats(min_value=0.2, max_value=2.0 * d)), draw(angles)


@PROPS
@given(gaussian_params())
def test_gaussian_peaks_at_centre_and_is_symmetric(p: tuple[int, float, float, float]) -> None:
    d, amp, sigma, angle = p
    out = shapes.gaussian(d, amp, sigma, angle)
    mags = np.abs(out)
    assert mags.max() == pytest.approx(mags[(d - 1) // 2], abs=ATOL)
    assert mags.max() <= abs(amp) + ATOL
    close(out, out[::-1])


@PROPS
@given(gaussian_params())
def test_drag_without_beta_is_gaussian_and_its_parts_are_even_and_odd(p: tuple[int, float, float, float]) -> None:
    d, amp, sigma, angle = p
    close(shapes.drag(d, amp, sigma, 0.0, angle), shapes.gaussian(d, amp, sigma, angle))
    out = shapes.drag(d, amp, sigma, 0.7 * sigma, 0.0)
    close(out.real, out.real[::-1])
    close(out.imag, -out.imag[::-1])


@PROPS
@given(gaussian_params(), st.floats(min_value=-3.0, max_value=3.0))
def test_zero_width_square_pulses_are_their_plain_versions(p: tuple[int, float, float, float], beta: float) -> None:
    d, amp, sigma, angle = p
    close(shapes.gaussian_square(d, amp, sigma, 0.0, angle), shapes.gaussian(d, amp, sigma, angle))
    close(shapes.gaussian_square_drag(d, amp, sigma, 0.0, beta, angle), shapes.drag(d, amp, sigma, beta, angle))


@PROPS
@given(gaussian_params(), st.floats(min_value=0.0, max_value=1.0))
def test_square_pulses_symmetric_and_drag_free_at_beta_zero(p: tuple[int, float, float, float], frac: float) -> None:
    d, amp, sigma, angle = p
    width = frac * d
    out = shapes.gaussian_square(d, amp, sigma, width, angle)
    close(out, out[::-1])
    assert np.abs(out).max() <= abs(amp) + ATOL
    close(shapes.gaussian_square_drag(d, amp, sigma, width, 0.0, angle), out)


@PROPS
@given(st.integers(min_value=1, max_value=200), amps, st.floats(min_value=0.5, max_value=100.0),
       st.floats(min_value=0.5, max_value=1.0), angles)
def test_echo_second_half_is_the_first_negated(half: int, amp: float, sigma: float, frac: float,
                                               angle: float) -> None:
    d = 2 * half
    width = d / 2 + frac * d / 2  # the halves' own flat width width - d/2 is >= 0
    out = shapes.gaussian_square_echo(d, amp, sigma, width, angle, 0.0, 0.0)
    close(out[half:], -out[:half])


@PROPS
@given(gaussian_params(), st.booleans())
def test_sech_symmetric_and_lifted_to_zero_beyond_the_ends(p: tuple[int, float, float, float], zero_ends: bool) -> None:
    d, amp, sigma, angle = p
    out = shapes.sech(d, amp, sigma, angle, zero_ends)
    close(out, out[::-1])
    assert np.abs(out).max() <= abs(amp) + ATOL
    gd = shapes.gaussian_deriv(d, amp, sigma, angle)
    close(gd, -gd[::-1])


SCALABLE = [k for k in QISKIT_PARAMETERS if k != "gaussian_square_echo"]


@PROPS
@given(st.sampled_from(SCALABLE), st.integers(min_value=1, max_value=300), amps, angles)
def test_amp_and_angle_only_scale(pulse_type: str, d: int, amp: float, angle: float) -> None:
    # what the pulse classes rely on to sample a unit envelope once and scale it per instance
    spec = shapes.SHAPES[pulse_type]
    unit = spec.sample(d, **params_for(pulse_type, amp=1.0, angle=0.0, freq=0.013))
    close(spec.sample(d, **params_for(pulse_type, amp=amp, angle=angle, freq=0.013)),
          unit * (amp * cmath.exp(1j * angle)))


@PROPS
@given(st.integers(min_value=3, max_value=300), amps, st.floats(min_value=-7.0, max_value=7.0),
       st.floats(min_value=1e-3, max_value=0.49), angles)
def test_periodic_relations(d: int, amp: float, phase: float, freq: float, angle: float) -> None:
    z = amp * cmath.exp(1j * angle)
    close(shapes.cos(d, amp, phase, freq, angle), shapes.sin(d, amp, phase + math.pi / 2, freq, angle))
    sq = shapes.square(d, amp, phase, freq, angle)
    assert np.all((np.abs(sq - z) < ATOL) | (np.abs(sq + z) < ATOL))
    for wave in (shapes.sawtooth, shapes.triangle):
        assert np.abs(wave(d, amp, phase, freq, angle)).max() <= abs(amp) + ATOL


# -- Qiskit's Waveform clipping -------------------------------------------------------------------------------
def test_clip_to_unit() -> None:
    inside = np.array([0.5, 1.0, -1j, 0.3 + 0.4j])
    assert shapes.clip_to_unit(inside) is inside
    s = np.array([0.5, (1 + 5e-8) * cmath.exp(0.3j), 1 + 2e-7])
    out = shapes.clip_to_unit(s)
    assert out[0] == 0.5 and out[2] == s[2]  # below 1 untouched; over 1 + 1e-7 left for the caller to refuse
    assert abs(out[1]) == pytest.approx(1.0, abs=1e-15) and abs(out[1]) <= 1.0
    assert cmath.phase(out[1]) == pytest.approx(0.3, abs=1e-15)


def test_clip_to_unit_rescales_first_clipped_sample_when_another_needs_epsilon() -> None:
    angles_ = np.linspace(0.0, 6.0, 20001)
    overshoot = angles_[np.abs(np.exp(1j * angles_)) > 1.0]  # exp(1j a) rounds above norm 1 for these
    assert overshoot.size
    clean = angles_[np.abs(np.exp(1j * angles_)) <= 1.0][0]
    s = (1 + 5e-8) * np.exp(1j * np.array([clean, overshoot[0]]))
    out = shapes.clip_to_unit(s)
    # Qiskit 1.4's indexing also brings the first clipped sample to 1 - 1e-7 when any other needs it
    close(np.abs(out), [1 - 1e-7, 1 - 1e-7])


# -- checks: Qiskit's constraints -----------------------------------------------------------------------------
SIGMA_SHAPES = ["Gaussian", "GaussianDeriv", "Drag", "Sech", "SechDeriv", "GaussianSquare", "GaussianSquareDrag",
                "gaussian_square_echo"]


@pytest.mark.parametrize("pulse_type", SIGMA_SHAPES)
@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan])
def test_sigma_must_be_positive(pulse_type: str, sigma: float) -> None:
    message = shapes.SHAPES[pulse_type].check_constraints(160, **params_for(pulse_type, sigma=sigma))
    assert message == f"sigma={sigma} is invalid: sigma must be > 0"


@pytest.mark.parametrize("pulse_type", ["GaussianSquare", "GaussianSquareDrag", "gaussian_square_echo"])
def test_width_range(pulse_type: str) -> None:
    check = shapes.SHAPES[pulse_type].check_constraints
    assert check(160, **params_for(pulse_type, width=-0.5)) == "width=-0.5 is invalid: width must be >= 0"
    assert check(160, **params_for(pulse_type, width=160.5)) == (
        "width=160.5 is invalid: width must be <= duration (160)")
    assert check(160, **params_for(pulse_type, width=160.0)) is None  # Qiskit allows width == duration
    assert check(160, **params_for(pulse_type, width=0.0)) is None
    # a risefall_sigma_ratio too large for the duration resolves to a negative width
    width = shapes.width_from_risefall_sigma_ratio(160, 40.0, 3.0)
    assert check(160, **params_for(pulse_type, sigma=40.0, width=width)) == (
        "width=-80.0 is invalid: width must be >= 0")


@pytest.mark.parametrize("pulse_type", ["Sin", "Cos", "Square", "Sawtooth", "Triangle"])
def test_freq_range(pulse_type: str) -> None:
    check = shapes.SHAPES[pulse_type].check_constraints
    for bad in (0.0, -0.1, 0.5, 0.7):
        assert check(160, **params_for(pulse_type, freq=bad)) == (
            f"freq={bad} is invalid: freq must be in (0, 0.5) cycles per sample (default 1/duration)")
    assert check(160, **params_for(pulse_type, freq=0.4999)) is None
    assert check(2, **params_for(pulse_type, freq=shapes.default_freq(2))) is not None  # default 1/2 is refused
    assert check(3, **params_for(pulse_type, freq=shapes.default_freq(3))) is None


def test_constant_has_no_constraints() -> None:
    assert shapes.SHAPES["Constant"].check_constraints(0, amp=5.0, angle=0.0) is None


# -- checks: Qiskit's amplitude limit -------------------------------------------------------------------------
AMP_SHAPES = ["Gaussian", "GaussianSquare", "Constant", "Sin", "Cos", "Square", "Sawtooth", "Triangle", "Sech",
              "Drag", "GaussianSquareDrag"]


@pytest.mark.parametrize("pulse_type", AMP_SHAPES)
def test_amp_over_one_is_refused(pulse_type: str) -> None:
    message = shapes.SHAPES[pulse_type].check_amplitude(160, **params_for(pulse_type, amp=1.5, angle=0.0))
    assert message is not None
    assert message.startswith("amp=1.5: |amp| must be <= 1, or else every |sample| must stay below 1 (+1e-07)")
    assert "limit_amplitude=False" in message


@pytest.mark.parametrize("pulse_type", AMP_SHAPES)
def test_amp_at_or_just_over_one_is_accepted_as_qiskit_does(pulse_type: str) -> None:
    check = shapes.SHAPES[pulse_type].check_amplitude
    assert check(161, **params_for(pulse_type, amp=-1.0, beta=0.0)) is None
    # |amp| > 1 but every sample within Qiskit's 1e-7 tolerance: its full-waveform check accepts it
    assert check(161, **params_for(pulse_type, amp=1 + 5e-8, beta=0.0)) is None


def test_amp_over_one_accepted_when_samples_stay_below_one() -> None:
    # the envelope never reaches its continuous peak on the sample grid: Qiskit samples and accepts
    assert shapes.SHAPES["Gaussian"].check_amplitude(2, amp=1.2, sigma=0.5, angle=0.0) is None
    assert shapes.SHAPES["Sin"].check_amplitude(4, amp=1.2, phase=0.0, freq=0.25, angle=0.0) is None  # sin = +-2**-0.5


def test_drag_amplitude() -> None:
    check = shapes.SHAPES["Drag"].check_amplitude
    assert check(160, amp=0.9, sigma=40.0, beta=39.0, angle=0.0) is None
    # |beta| >= sigma is only a fast-path miss: the envelope is sampled and its maximum decides
    assert check(160, amp=0.5, sigma=4.0, beta=5.0, angle=0.0) is None
    message = check(17, amp=0.9, sigma=3.0, beta=5.0, angle=0.0)
    assert message is not None and message.startswith("beta=5.0: |beta| must be < sigma (3.0), or else every |sample|")
    peak = max(abs(0.9 * lifted(t, 8.5, 18, 3.0) * (1 - 1j * 5.0 * (t - 8.5) / 3.0**2)) for t in np.arange(17) + 0.5)
    assert peak > 1 and f"the largest sample magnitude is {peak:.9g} (sample " in message
    gsd = shapes.SHAPES["GaussianSquareDrag"].check_amplitude
    assert gsd(60, amp=0.9, sigma=3.0, beta=6.0, width=20.0, angle=0.0) is not None
    assert gsd(60, amp=0.5, sigma=3.0, beta=4.0, width=20.0, angle=0.0) is None


def test_gaussian_deriv_amplitude() -> None:
    check = shapes.SHAPES["GaussianDeriv"].check_amplitude
    assert check(160, amp=1.6, sigma=1.0, angle=0.0) is None  # |amp / sigma| <= e**0.5
    # over e**0.5 the samples decide: at t - duration/2 = +-1 the peak 1.7 e**-0.5 > 1 is sampled
    assert check(4, amp=1.7, sigma=1.0, angle=0.0) is None
    message = check(5, amp=1.7, sigma=1.0, angle=0.0)
    assert message is not None and message.startswith("amp=1.7, sigma=1.0: |amp / sigma| must be <= e**0.5")


def test_sech_deriv_amplitude() -> None:
    check = shapes.SHAPES["SechDeriv"].check_amplitude
    assert check(160, amp=2.0, sigma=1.0, angle=0.0) is None
    message = check(160, amp=5.0, sigma=1.0, angle=0.0)
    assert message is not None and message.startswith("amp=5.0, sigma=1.0: |amp| / sigma must be <= 2")


def test_echo_amplitude_sums_amps() -> None:
    check = shapes.SHAPES["gaussian_square_echo"].check_amplitude
    base = {"sigma": 4.0, "width": 120.0, "angle": 0.0, "active_angle": 0.0}
    assert check(160, amp=0.6, active_amp=0.4, **base) is None
    message = check(160, amp=0.7, active_amp=0.5, **base)
    assert message is not None and message.startswith("amp=0.7, active_amp=0.5: |amp| + |active_amp| must be <= 1")
    # in quadrature the two tones never add up to 1: the sampled check accepts
    assert check(160, amp=0.6, active_amp=0.5, **{**base, "active_angle": math.pi / 2}) is None


def test_nan_amp_is_refused() -> None:
    message = shapes.SHAPES["Gaussian"].check_amplitude(16, amp=math.nan, sigma=2.0, angle=0.0)
    assert message is not None and message.startswith("amp=nan")
