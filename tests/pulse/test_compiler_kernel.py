"""An acquisition's kernel samples become its window's integration weights (matched filters, issue 22); without
samples the window keeps the boxcar, and samples of the wrong length are refused naming the window's length."""

from __future__ import annotations

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.drivers.payloads import DigitizerProgram
from qubitlab.errors import CompilationError
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView

FRAMES = {"m0": 7.05e9}


def hardware() -> HardwareView:
    """One readout line, a digitizer at 500 MS/s (half of dt's rate: 800 dt acquire -> 400 samples)."""
    awg = AwgView("awg", 1e9, 16, 64, 400e6, {o: OutputView(o, 1.0, 0.8) for o in ("1", "2")})
    lines = {"ro": LineView("ro", "readout", "awg", ("1", "2"), "lo_ro", 7.0e9, 12.0)}
    los = {"lo_ro": LoView("lo_ro", (1e6, 12.75e9), (-120.0, 25.0))}
    return HardwareView(1e-9, lines, {"m0": "ro"}, {"awg": awg}, los, {"a0": AcquisitionView("dig", "1", 500e6, "ro")})


def windows(kernel: pulse.Kernel | None, points: int = 1) -> list[np.ndarray]:
    schedules = []
    for _ in range(points):
        with pulse.build() as prog:
            with pulse.align_left():
                pulse.play(pulse.Constant(800, 0.1), pulse.MeasureChannel(0))
                pulse.acquire(800, pulse.AcquireChannel(0), pulse.MemorySlot(0), kernel=kernel)
        schedules.append(prog)
    dig = compile(schedules, hardware(), FRAMES).payloads["dig"]
    assert isinstance(dig, DigitizerProgram)
    return [w.weights for w in dig.windows]


def test_kernel_samples_are_the_windows_weights() -> None:
    t = np.arange(400)
    expected = (1 - np.exp(-t / 40.0)) * np.exp(-t / 900.0) * np.exp(0.3j)  # a ring-up, then a decay
    kernel = pulse.Kernel("matched_filter", real=expected.real.tolist(), imag=expected.imag.tolist())
    first, second = windows(kernel, points=2)
    np.testing.assert_array_equal(first, expected)
    assert second is first  # one array for the points of a sweep sharing the kernel


def test_no_kernel_or_a_named_kernel_without_samples_keeps_the_boxcar() -> None:
    for kernel in (None, pulse.Kernel("boxcar")):
        (weights,) = windows(kernel)
        np.testing.assert_allclose(weights, np.full(400, 1 / 400))


@pytest.mark.parametrize("real, imag, what", [([1.0] * 399, [0.0] * 399, "399 weights"),
                                               ([1.0] * 399 + [float("nan")], [0.0] * 400, "finite: False"),
                                               (["a"] * 400, [0.0] * 400, "lists of numbers")])
def test_bad_kernel_samples_are_refused_naming_the_window(real: list[object], imag: list[float], what: str) -> None:
    with pytest.raises(CompilationError, match="matched_filter") as caught:
        windows(pulse.Kernel("matched_filter", real=real, imag=imag))
    assert what in str(caught.value) and "emit" in str(caught.value)
    if what != "lists of numbers":
        assert "give 400 finite" in str(caught.value)
