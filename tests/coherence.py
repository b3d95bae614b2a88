"""The coherence limit of single-qubit randomized benchmarking, from the device's T1 and T2 (the truth a test
reads from the lab file), shared by the RB and bring-up tests."""

from __future__ import annotations

import math

PULSES_PER_CLIFFORD = 20 / 24
"""Four of the 24 single-qubit Cliffords are virtual Z rotations; each of the other twenty takes one x or sx."""


def coherence_limit(t1: float, t2: float, pulse_duration: float) -> float:
    """Error per Clifford that T1 and T2 alone impose: the average gate infidelity of amplitude damping and
    dephasing over the average Clifford, ``r = (3 - exp(-t/T1) - 2 exp(-t/T2)) / 6``, ``t = 20/24`` pulses."""
    t = PULSES_PER_CLIFFORD * pulse_duration
    return (3 - math.exp(-t / t1) - 2 * math.exp(-t / t2)) / 6
