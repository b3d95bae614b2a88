"""The assignment-fidelity limit of a dispersive readout, computed from a lab file's device parameters alone
(closed form, not the physics engine), shared by the readout and bring-up tests.

The steady-state notch response of the resonator with its ring-up integrated over the window, the digitizer's
white noise averaged over the window's samples (boxcar weights), the overlap of two isotropic Gaussians for a
nearest-centre discriminator, and the |1> shots that decay before the middle of the window (they integrate
nearer |0>). Neglected: the readout tone's 32-sample rise and fall, decay during the x pulse, x-pulse error.
"""

from __future__ import annotations

import math

from qubitlab.config import LabConfig


def window_mean(a: complex, tau: float) -> complex:
    """Mean over [0, tau] of 1 - exp(-a t): the resonator filling from empty under a constant tone."""
    return 1 - (1 - complex(math.e) ** (-a * tau)) / (a * tau)


def readout_limit(lab: LabConfig, qubit: int, probe: float, amp: float, duration: float) -> tuple[float, float]:
    """(assignment fidelity limit, |z1 - z0| / (2 sigma)) at the given probe frequency, amplitude and duration."""
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
    overlap = 0.5 * math.erfc(separation / (2 * math.sqrt(2) * sigma))
    decayed = 1 - math.exp(-duration / 2 / p.t1)
    p10, p01 = overlap, decayed + (1 - decayed) * overlap
    return 1 - (p10 + p01) / 2, separation / (2 * sigma)
