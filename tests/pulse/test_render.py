"""render(): per-channel baseband envelopes with frame phase and frequency applied, checked sample by sample
against expressions written here (a phasor per sample), never against the renderer itself."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError

D0, D1, U0, M0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0), pulse.MeasureChannel(0)
DT = 1e-9


def test_constant_pulses_with_phase_shifts() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(10, 0.2), D0)
        pulse.shift_phase(math.pi / 2, D0)
        pulse.play(pulse.Constant(10, 0.2), D0)
        pulse.set_phase(0.3, D0)
        pulse.play(pulse.Constant(5, 0.4, angle=0.1), D0)
    out = pulse.render(prog)[D0]
    expected = [0.2] * 10 + [0.2j] * 10 + [0.4 * cmath.exp(0.4j)] * 5
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


def test_idle_time_is_zero_and_every_channel_spans_the_program() -> None:
    with pulse.build() as prog:
        pulse.delay(7, D0)
        pulse.play(pulse.Constant(3, 0.5), D0)
        pulse.play(pulse.Constant(4, 0.1), D1)
    out = pulse.render(prog)
    assert set(out) == {D0, D1}
    assert out[D0].shape == out[D1].shape == (10,)
    np.testing.assert_array_equal(out[D0], [0] * 7 + [0.5] * 3)
    np.testing.assert_array_equal(out[D1], [0.1] * 4 + [0] * 6)


def test_shift_frequency_keeps_phase_continuous() -> None:
    df = 5e6  # 5 MHz: 0.005 turns per 1 ns sample
    with pulse.build() as prog:
        pulse.play(pulse.Constant(20, 0.1), D0)
        pulse.shift_frequency(df, D0)
        pulse.delay(30, D0)
        pulse.play(pulse.Constant(20, 0.1), D0)
        pulse.shift_frequency(-df, D0)
        pulse.play(pulse.Constant(10, 0.1), D0)
    out = pulse.render(prog, dt=DT)[D0]
    expected = np.zeros(80, dtype=complex)
    expected[:20] = 0.1
    # phase grows from the shift at t=20: 2 pi df dt (n - 20)
    for n in range(50, 70):
        expected[n] = 0.1 * cmath.exp(2j * math.pi * df * DT * (n - 20))
    # after shifting back, the phase stays where it got to at t=70
    expected[70:] = 0.1 * cmath.exp(2j * math.pi * df * DT * 50)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-13)


def test_set_frequency_is_relative_to_the_channel_base_frequency() -> None:
    with pulse.build() as prog:
        pulse.set_frequency(5.001e9, D0)
        pulse.play(pulse.Constant(10, 0.3), D0)
    out = pulse.render(prog, dt=DT, frequencies={D0: 5.0e9})[D0]
    expected = [0.3 * cmath.exp(2j * math.pi * 1e6 * DT * n) for n in range(10)]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-13)
    with pytest.raises(PulseError, match="base frequency of d0"):
        pulse.render(prog, dt=DT)


def test_frequency_shift_needs_dt() -> None:
    with pulse.build() as prog:
        pulse.shift_frequency(1e6, D0)
        pulse.play(pulse.Constant(10, 0.3), D0)
    with pytest.raises(PulseError, match=r"pass render\(..., dt=...\)"):
        pulse.render(prog)


def test_frames_are_per_channel() -> None:
    with pulse.build() as prog:
        pulse.shift_phase(math.pi, D0)
        pulse.play(pulse.Constant(4, 0.5), D0)
        pulse.play(pulse.Constant(4, 0.5), U0)
    out = pulse.render(prog)
    np.testing.assert_allclose(out[D0], [-0.5] * 4, atol=1e-15)
    np.testing.assert_array_equal(out[U0], [0.5] * 4)


def test_gaussian_samples_and_a_waveform() -> None:
    duration, amp, sigma = 16, 0.3, 3.0
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(duration, amp, sigma), M0)
        pulse.play(pulse.Waveform([0.1, -0.2j]), M0)
    out = pulse.render(prog)[M0]

    def g(t: float) -> float:
        return math.exp(-((t - duration / 2) ** 2) / (2 * sigma**2))

    # Qiskit's lifted Gaussian: midpoint samples, shifted so it would reach zero one sample beyond each end.
    offset = g(duration + 1)
    lifted = [amp * (g(k + 0.5) - offset) / (1 - offset) for k in range(duration)]
    np.testing.assert_allclose(out, lifted + [0.1, -0.2j], rtol=0, atol=1e-12)


def test_the_same_pulse_many_times_is_written_correctly_everywhere() -> None:
    with pulse.build() as prog:
        for k in range(50):
            pulse.shift_phase(0.01 * k, D0)
            pulse.play(pulse.Constant(3, 0.2), D0)
            pulse.delay(2, D0)
    out = pulse.render(prog)[D0]
    phase = 0.0
    for k in range(50):
        phase += 0.01 * k
        np.testing.assert_allclose(out[5 * k: 5 * k + 3], 0.2 * cmath.exp(1j * phase), atol=1e-14)
        np.testing.assert_array_equal(out[5 * k + 3: 5 * k + 5], 0)


def test_render_of_a_schedule_and_a_channel_subset() -> None:
    sched = pulse.Schedule((5, pulse.Play(pulse.Constant(5, 0.1), D0)), (0, pulse.Play(pulse.Constant(2, 0.3), D1)))
    out = pulse.render(sched, channels=[D1])
    assert list(out) == [D1]
    np.testing.assert_array_equal(out[D1], [0.3, 0.3] + [0] * 8)
