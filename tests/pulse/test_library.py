"""The pulse classes' Qiskit-compatible interface and validation (sample values are in test_shapes.py)."""

from __future__ import annotations

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError
from qubitlab.pulse.library import clear_sample_cache


def test_parameters_dict_and_attribute_access() -> None:
    drag = pulse.Drag(160, 0.2, 40, 1.5, angle=0.3, name="x90")
    assert drag.parameters == {"duration": 160, "amp": 0.2, "sigma": 40, "beta": 1.5, "angle": 0.3}
    assert (drag.amp, drag.sigma, drag.beta, drag.angle, drag.duration) == (0.2, 40, 1.5, 0.3, 160)
    assert drag.pulse_type == "Drag" and drag.name == "x90"
    assert isinstance(drag, pulse.SymbolicPulse) and isinstance(drag, pulse.ScalableSymbolicPulse)
    with pytest.raises(AttributeError, match="no attribute or parameter 'width'"):
        drag.width


def test_angle_none_means_zero_and_equality_is_by_value() -> None:
    assert pulse.Gaussian(64, 0.2, 8, angle=None) == pulse.Gaussian(64, 0.2, 8)
    assert pulse.Gaussian(64, 0.2, 8) != pulse.Gaussian(64, 0.2, 9)
    assert hash(pulse.Gaussian(64, 0.2, 8)) == hash(pulse.Gaussian(64, 0.2, 8))


def test_samples_scale_with_amp_and_angle() -> None:
    base = pulse.Gaussian(64, 0.5, 8).get_waveform().samples
    rotated = pulse.Gaussian(64, 0.25, 8, angle=np.pi / 3).get_waveform().samples
    np.testing.assert_allclose(rotated, 0.5 * np.exp(1j * np.pi / 3) * base, rtol=0, atol=1e-15)


def test_repeated_pulses_share_one_sampled_envelope() -> None:
    clear_sample_cache()
    a = pulse.Drag(160, 0.2, 40, 1.0).envelope({})[0]
    b = pulse.Drag(160, 0.7, 40, 1.0, angle=1.0).envelope({})[0]
    assert a is b
    assert not a.flags.writeable


def test_gaussian_square_width_or_ratio() -> None:
    by_ratio = pulse.GaussianSquare(800, 0.1, 64, risefall_sigma_ratio=2.0)
    assert by_ratio.width == pytest.approx(800 - 2 * 2.0 * 64)
    with pytest.raises(PulseError, match="either width or risefall_sigma_ratio"):
        pulse.GaussianSquare(800, 0.1, 64)
    with pytest.raises(PulseError, match="not both"):
        pulse.GaussianSquare(800, 0.1, 64, width=100, risefall_sigma_ratio=2.0)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: pulse.Gaussian(64, 1.2, 8), "amp"),
        (lambda: pulse.Constant(10, -1.01), "amp"),
        (lambda: pulse.Gaussian(64, 0.2, 0), "sigma"),
        (lambda: pulse.Gaussian(64, 0.2, -3), "sigma"),
        (lambda: pulse.Gaussian(-64, 0.2, 8), "duration"),
        (lambda: pulse.Gaussian(64.5, 0.2, 8), "duration"),
        (lambda: pulse.Constant(10, 0.5j), "complex amp"),
        (lambda: pulse.Drag(160, "big", 40, 1), "amp must be a number"),
    ],
)
def test_invalid_pulses_are_refused_naming_pulse_and_value(make: object, fragment: str) -> None:
    with pytest.raises(PulseError, match=fragment) as info:
        make()  # type: ignore[operator]
    assert any(name in str(info.value) for name in ("Gaussian", "Constant", "Drag"))


def test_limit_amplitude_false_allows_large_amplitudes() -> None:
    big = pulse.Constant(4, 1.5, limit_amplitude=False)
    np.testing.assert_allclose(big.get_waveform().samples, 1.5)


def test_waveform_refuses_samples_over_one_but_allows_rounding() -> None:
    with pytest.raises(PulseError, match="sample 1 has norm 1.2"):
        pulse.Waveform([0.5, 1.2])
    nearly = pulse.Waveform([1 + 1e-9, 0.5])
    assert abs(nearly.samples[0]) <= 1.0
    assert pulse.Waveform([2.0], limit_amplitude=False).samples[0] == 2.0


def test_unbound_pulse_cannot_be_sampled() -> None:
    amp = pulse.Parameter("amp")
    with pytest.raises(PulseError, match=r"unbound parameters \['amp'\]"):
        pulse.Drag(160, amp, 40, 1.0).get_waveform()


def test_periodic_pulses_default_to_one_period() -> None:
    sin = pulse.Sin(100, 0.5, phase=0.0)
    assert sin.freq == pytest.approx(1 / 100)


def test_channels() -> None:
    assert pulse.DriveChannel(3).name == "d3" and pulse.ControlChannel(1).name == "u1"
    assert pulse.MeasureChannel(0).name == "m0" and pulse.AcquireChannel(2).name == "a2"
    assert pulse.DriveChannel(0) is pulse.DriveChannel(0)
    assert pulse.DriveChannel(0) != pulse.ControlChannel(0)
    assert pulse.MemorySlot(0) != pulse.MeasureChannel(0)
    for bad in (-1, 1.5, "0", None):
        with pytest.raises(PulseError, match="DriveChannel index must be a non-negative integer"):
            pulse.DriveChannel(bad)  # type: ignore[arg-type]
    q = pulse.Parameter("q")
    assert pulse.DriveChannel(q).is_parameterized()
    assert pulse.DriveChannel(q).assign_parameters({q: 2}) == pulse.DriveChannel(2)
