"""Schedules and fits shared by the end-to-end instrument tests (independent of the code under test)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from qubitlab import load_lab, pulse
from qubitlab.lab_demo import LAB_FILE, demo_frames

FRAMES = demo_frames(load_lab(LAB_FILE))
"""Frame of each channel of lab_configs/virtual_2q.yaml from its device's qubit and resonator frequencies, by the
calibration layer's rule (d<q>, m<q>: the qubit's own; u<k>: its target's)."""


def measure_q0() -> None:
    """Inside a builder: a 2 us readout tone on m0 and the acquisition into memory slot 0."""
    with pulse.align_left():
        pulse.play(pulse.GaussianSquare(2000, 0.1, 64, width=1744), pulse.MeasureChannel(0))
        pulse.acquire(2000, pulse.AcquireChannel(0), pulse.MemorySlot(0))


def rabi(amp: Any, duration: int = 320, sigma: int = 80) -> Any:
    with pulse.build(name="rabi") as program:
        with pulse.align_sequential():
            pulse.play(pulse.Gaussian(duration, amp, sigma), pulse.DriveChannel(0))
            measure_q0()
    return program


def spectroscopy(detuning: Any, amp: float, duration: int) -> Any:
    with pulse.build(name="spectroscopy") as program:
        with pulse.align_sequential():
            pulse.shift_frequency(detuning, pulse.DriveChannel(0))
            pulse.play(pulse.Constant(duration, amp), pulse.DriveChannel(0))
            measure_q0()
    return program


def projected(iq: np.ndarray) -> np.ndarray:
    """Per-point mean IQ projected on its principal axis (the line between the |0> and |1> blobs)."""
    means = iq.mean(axis=1)
    centred = means - means.mean()
    _, _, vh = np.linalg.svd(np.stack([centred.real, centred.imag], axis=1), full_matrices=False)
    return np.asarray(centred.real * vh[0, 0] + centred.imag * vh[0, 1])


def fit_cosine_period(x: np.ndarray, y: np.ndarray) -> float:
    """Period of ``y(x)``: FFT guess, linear least squares for the quadratures, then a full nonlinear fit."""
    spectrum = np.abs(np.fft.rfft(y - y.mean()))
    guess = (x[-1] - x[0]) / max(int(np.argmax(spectrum[1:]) + 1), 1)
    basis = np.stack([np.cos(2 * math.pi * x / guess), np.sin(2 * math.pi * x / guess), np.ones_like(x)], axis=1)
    (a0, b0, c0), *_ = np.linalg.lstsq(basis, y, rcond=None)

    def model(x: np.ndarray, a: float, b: float, period: float, c: float) -> np.ndarray:
        return a * np.cos(2 * math.pi * x / period) + b * np.sin(2 * math.pi * x / period) + c

    popt, _ = curve_fit(model, x, y, p0=[a0, b0, guess, c0])
    return float(abs(popt[2]))


def rabi_line(detuning: np.ndarray, f0: float, rabi_hz: float, duration: float, scale: float, c: float) -> np.ndarray:
    """Excited population after a square pulse of ``duration`` s at Rabi frequency ``rabi_hz`` detuned by
    ``detuning - f0`` (the two-level closed form), scaled and offset to the signal's units."""
    delta = detuning - f0
    generalized = np.sqrt(rabi_hz**2 + delta**2)
    return scale * (rabi_hz / generalized) ** 2 * np.sin(math.pi * generalized * duration) ** 2 + c


def fit_line_centre(detuning: np.ndarray, y: np.ndarray, rabi_hz: float, duration: float) -> float:
    sign = 1.0 if y[np.argmax(np.abs(y - np.median(y)))] > np.median(y) else -1.0
    peak = float(detuning[np.argmax(sign * y)])

    def model(x: np.ndarray, f0: float, scale: float, c: float) -> np.ndarray:
        return rabi_line(x, f0, rabi_hz, duration, scale, c)

    popt, _ = curve_fit(model, detuning, y, p0=[peak, sign * np.ptp(y), np.median(y)])
    return float(popt[0])
