"""SI unit helpers: qubitlab speaks SI at its API (Hz, s, V, dBm), and these constants keep literals readable.

``5.1 * GHz`` reads better than ``5.1e9`` and cannot be off by a power of ten.
"""

from __future__ import annotations

import math

Hz = 1.0
kHz = 1e3
MHz = 1e6
GHz = 1e9

s = 1.0
ms = 1e-3
us = 1e-6
ns = 1e-9

V = 1.0
mV = 1e-3


def dbm_to_watts(power_dbm: float) -> float:
    """Power in W for a level in dBm."""
    return 1e-3 * 10 ** (power_dbm / 10)


def dbm_to_vpeak(power_dbm: float, impedance: float = 50.0) -> float:
    """Peak voltage of a sine of ``power_dbm`` into ``impedance`` ohms."""
    return math.sqrt(2 * impedance * dbm_to_watts(power_dbm))


def db_to_amplitude_ratio(gain_db: float) -> float:
    """Voltage (amplitude) ratio for a gain in dB; negative for attenuation."""
    return float(10 ** (gain_db / 20))
