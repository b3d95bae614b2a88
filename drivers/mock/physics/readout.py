"""Dispersive readout: the integrated IQ point of each shot from the resonator's state-dependent response.

A probe at frequency ``f_p`` passes a readout resonator side-coupled to the feedline (a notch, critically
coupled), whose frequency depends on the transmon's level (``f_r(n) = f_r + n chi``). The transmitted signal
per volt of probe (times the line's readout gain) settles to ``S_n = 1 - (kappa/2) / (kappa/2 - i Delta_n)``:
a dip to zero at ``f_r(n)``. It starts at the bare probe (the resonator is empty) and relaxes to ``S_n`` at the
rate ``gamma_n = kappa/2 - i Delta_n``. A shot in level n that decays at a random time ``tau ~ Exp(T1)``
relaxes towards level n-1's response from then on, so it lands between the blobs. Integration (boxcar weights) is done in closed form; white noise of ``sigma`` per
digitizer sample becomes ``sigma / sqrt(N)`` on the average of N samples. Shots follow the joint populations
of the device's state, so correlations (a Bell state) come out right.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from qubitlab.drivers.mock.physics.device import QubitParams

ComplexArray = NDArray[np.complex128]
TWO_PI = 2 * math.pi


def steady_response(qubit: QubitParams, probe_frequency: float, level: int | NDArray[np.int64]) -> ComplexArray:
    """Steady-state transmitted signal per volt of probe (in the probe's frame) with the transmon in ``level``."""
    kappa = TWO_PI * qubit.resonator_linewidth
    detuning = TWO_PI * (probe_frequency - (qubit.resonator_frequency + np.asarray(level) * qubit.dispersive_shift))
    return np.asarray(qubit.readout_gain * (1 - (kappa / 2) / (kappa / 2 - 1j * detuning)), dtype=np.complex128)


def _rate(qubit: QubitParams, probe_frequency: float, level: int | NDArray[np.int64]) -> ComplexArray:
    kappa = TWO_PI * qubit.resonator_linewidth
    detuning = TWO_PI * (probe_frequency - (qubit.resonator_frequency + np.asarray(level) * qubit.dispersive_shift))
    return np.asarray(kappa / 2 - 1j * detuning, dtype=np.complex128)


def _ring_mean(steady: ComplexArray, rate: ComplexArray, start_field: ComplexArray, span: NDArray[np.float64] | float
               ) -> ComplexArray:
    """Integral over ``span`` of ``steady + (start_field - steady) exp(-rate t)`` (not divided by span)."""
    span = np.asarray(span, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        decay_integral = np.where(np.abs(rate * span) < 1e-12, span, (1 - np.exp(-rate * span)) / rate)
    return np.asarray(steady * span + (start_field - steady) * decay_integral, dtype=np.complex128)


def integrated_iq(qubit: QubitParams, probe_frequency: float, amplitude: float, duration: float,
                  levels: NDArray[np.int64], rng: np.random.Generator, samples: int) -> ComplexArray:
    """Mean of the demodulated signal over a window of ``duration`` seconds from the start of the probe, one
    complex value per shot (shots start in ``levels``), with T1 decay and white noise over ``samples`` samples."""
    levels = np.asarray(levels, dtype=np.int64)
    shots = levels.shape[0]
    decay_time = rng.exponential(qubit.t1, size=shots)
    decays = (levels > 0) & (decay_time < duration)
    start_level = levels
    end_level = np.where(decays, levels - 1, levels)
    steady_start = amplitude * steady_response(qubit, probe_frequency, start_level)
    steady_end = amplitude * steady_response(qubit, probe_frequency, end_level)
    rate_start, rate_end = _rate(qubit, probe_frequency, start_level), _rate(qubit, probe_frequency, end_level)
    tau = np.where(decays, decay_time, duration)
    bare = np.full(shots, amplitude * qubit.readout_gain, dtype=np.complex128)  # the empty resonator passes all
    before = _ring_mean(steady_start, rate_start, bare, tau)
    field_at_tau = steady_start + (bare - steady_start) * np.exp(-rate_start * tau)
    after = _ring_mean(steady_end, rate_end, field_at_tau, duration - tau)
    mean = (before + np.where(decays, after, 0)) / duration
    sigma = qubit.readout_noise / math.sqrt(max(samples, 1))
    noise = rng.normal(0.0, sigma, size=(shots, 2)) if sigma > 0 else np.zeros((shots, 2))
    return np.asarray(mean + noise[:, 0] + 1j * noise[:, 1], dtype=np.complex128)


def sample_levels(populations: NDArray[np.float64], shots: int, levels: int, count: int,
                  rng: np.random.Generator) -> NDArray[np.int64]:
    """Per-shot levels of ``count`` transmons drawn from the joint populations (length ``levels**count``, qubit 0
    the most significant digit); returns shape ``(shots, count)``."""
    p = np.clip(np.asarray(populations, dtype=np.float64), 0, None)
    p = p / p.sum()
    outcomes = rng.choice(p.shape[0], size=shots, p=p)
    digits = np.empty((shots, count), dtype=np.int64)
    for q in range(count - 1, -1, -1):
        digits[:, q] = outcomes % levels
        outcomes //= levels
    return digits
