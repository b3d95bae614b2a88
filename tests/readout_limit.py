"""The assignment-fidelity limit of a dispersive readout, computed from a lab file's device parameters alone
(closed form, not the physics engine), shared by the readout and bring-up tests.

The steady-state notch response of the resonator with its ring-up integrated over the window, the digitizer's
white noise averaged over the window's samples (boxcar weights), the overlap of two isotropic Gaussians for a
nearest-centre discriminator, and the |1> shots that decay before the middle of the window (they integrate
nearer |0>); with a ``photon_voltage``, the measurement-induced jumps before the middle too (from the
steady-state photon number of each level; ring-up neglected, so slightly overestimated). Neglected: the readout tone's 32-sample rise and fall, decay during the x pulse, x-pulse error.
"""

from __future__ import annotations

import math

from qubitlab.config import LabConfig


def window_mean(a: complex, tau: float) -> complex:
    """Mean over [0, tau] of 1 - exp(-a t): the resonator filling from empty under a constant tone."""
    return 1 - (1 - complex(math.e) ** (-a * tau)) / (a * tau)


def readout_limit(lab: LabConfig, qubit: int, probe: float, amp: float, duration: float, *,
                  matched: bool = False) -> tuple[float, float]:
    """(assignment fidelity limit, |z1 - z0| / (2 sigma)) at the given probe frequency, amplitude and duration;
    ``matched``: with the matched filter of the two ring-up traces instead of boxcar weights (white noise: the
    separation over sigma grows by sqrt(mean |D|^2) / |mean D| for the traces' difference D(t))."""
    assert lab.device is not None
    p = lab.device.qubits[qubit]
    line = lab.wiring.lines[lab.wiring.channels[f"m{qubit}"].line or ""]
    full_scale = lab.limits.awgs[line.awg].full_scale_vpp
    volts = amp * full_scale / 2 * 10 ** (line.gain_db / 20)
    half_kappa = math.pi * p.resonator_linewidth
    fields = []
    for n in (0, 1):
        a = complex(half_kappa, -2 * math.pi * (p.resonator_frequency + n * p.dispersive_shift - probe))
        fields.append(half_kappa * volts / a * window_mean(a, duration))  # dr/dt = -a r + (kappa/2) x
    separation = p.readout_gain * abs(fields[1] - fields[0])
    digitizer = lab.wiring.channels[f"a{qubit}"].digitizer or ""
    samples = round(duration * lab.timing.digitizers[digitizer].sample_rate)
    sigma = p.readout_noise / math.sqrt(samples)  # boxcar weights summing to 1
    if matched:
        sigma /= matched_gain([complex(half_kappa, -2 * math.pi * (p.resonator_frequency + n * p.dispersive_shift
                                                                    - probe)) for n in (0, 1)], duration, samples)
    overlap = 0.5 * math.erfc(separation / (2 * math.sqrt(2) * sigma))
    up0, up1, down1 = induced_rates(lab, qubit, probe, volts)
    excited = 1 - math.exp(-up0 * duration / 2)  # |0> shots excited by the measurement before the middle
    rate1 = 1 / p.t1 + down1 + up1  # a |1> shot jumps once: down (read as 0) or up to |2> (read as 1)
    decayed = (1 / p.t1 + down1) / rate1 * (1 - math.exp(-rate1 * duration / 2))
    p10 = excited + (1 - excited) * overlap
    p01 = decayed + (1 - decayed) * overlap
    return 1 - (p10 + p01) / 2, separation / (2 * sigma)


def matched_gain(rates: list[complex], duration: float, samples: int) -> float:
    """SNR of the matched filter over the boxcar's for the difference of two fields filling as 1 - exp(-a t) / a
    (each level's rate ``a``), sampled ``samples`` times over ``duration``: sqrt(mean |D|^2) / |mean D|."""
    times = [(i + 0.5) * duration / samples for i in range(samples)]
    diff = [(1 - complex(math.e) ** (-rates[1] * t)) / rates[1] - (1 - complex(math.e) ** (-rates[0] * t)) / rates[0]
            for t in times]
    mean = sum(diff) / samples
    return math.sqrt(sum(abs(d) ** 2 for d in diff) / samples) / abs(mean)


def induced_rates(lab: LabConfig, qubit: int, probe: float, volts: float) -> tuple[float, float, float]:
    """Measurement-induced rates (1/s): |0> up, |1> up, |1> down (beyond T1), from the steady-state photon number
    of each level's field: gamma_phi n / (2 n_crit) (Boissonneault, Gambetta and Blais, PRA 79, 013819 (2009)),
    n_crit = (Delta / 2g)^2 with g^2 = 2chi Delta (Delta + alpha) / (2 alpha) (Koch et al. 2007). Zero when the
    device gives no photon_voltage."""
    assert lab.device is not None
    p = lab.device.qubits[qubit]
    if p.photon_voltage is None:
        return 0.0, 0.0, 0.0
    delta, alpha = p.frequency - p.resonator_frequency, p.anharmonicity
    g2 = p.dispersive_shift * delta * (delta + alpha) / (2 * alpha)
    n_crit = delta ** 2 / (4 * g2)
    gamma_phi = 1 / p.t2 - 1 / (2 * p.t1)
    half_kappa = math.pi * p.resonator_linewidth
    photons = []
    for n in (0, 1):
        detuning = 2 * math.pi * (probe - p.resonator_frequency - n * p.dispersive_shift)
        photons.append((volts / p.photon_voltage) ** 2 * half_kappa ** 2 / (half_kappa ** 2 + detuning ** 2))
    rate = gamma_phi / (2 * n_crit)
    return rate * photons[0], rate * photons[1], rate * photons[1]
