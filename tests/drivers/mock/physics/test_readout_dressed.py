"""The readout sees the exchange-coupled (dressed) states, not the bare ones: closed forms written here.

Two transmons with exchange ``J`` and dressed 0-1 lines ``f0 < f1``: in the one-excitation block (bare ``|10>``
= q0 excited, ``|01>`` = q1 excited) the Hamiltonian is ``[[w0, J], [J, w1]]`` with bare detuning
``w1 - w0 = sqrt((f1 - f0)^2 - 4 J^2)`` and mixing angle ``tan 2 theta = 2 J / (w1 - w0)``; the dressed states are
``|-> = cos theta |10> - sin theta |01>`` and ``|+> = sin theta |10> + cos theta |01>``. A superposition
``a |-> + b |+>`` keeps its dressed populations ``a^2, b^2`` while it idles, but its bare population of ``|10>``
beats at ``f1 - f0``: ``a^2 c^2 + b^2 s^2 + 2 a b s c cos(2 pi (f1 - f0) t)``. A readout that sampled the bare
populations at the instant its window opens read such a state (H2's, Bell's in the YY basis) differently
with every 2 ns of timing -- which is what TREX's flips before measurement changed (benchmarks/README.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from physics_lab import params, quiet

from qubitlab.drivers.mock.physics.evolve import Group

Q0_EXCITED, Q1_EXCITED = 3, 1
"""Joint indices (q0 level * 3 + q1 level) of bare |10> and |01>."""


def test_dressed_populations_stay_constant_while_the_bare_ones_beat_at_the_detuning() -> None:
    device = params(quiet())
    f0, f1 = device.qubits[0].frequency, device.qubits[1].frequency
    j = device.couplings[0].j
    theta = 0.5 * math.atan2(2 * j, math.sqrt((f1 - f0) ** 2 - 4 * j**2))
    c, s = math.cos(theta), math.sin(theta)
    a, b = math.cos(math.pi / 5), math.sin(math.pi / 5)
    psi = np.zeros(9, dtype=np.complex128)
    psi[Q0_EXCITED], psi[Q1_EXCITED] = a * c + b * s, -a * s + b * c
    group = Group(device, (0, 1), 1.0)
    period = 1e9 / (f1 - f0)                                          # ns
    for t in np.linspace(0.0, period, 9):
        rho = group.idle(np.outer(psi, psi.conj()), f0, float(t))
        measured, bare = group.measured_populations(rho), group.populations(rho)
        assert measured[Q0_EXCITED] == pytest.approx(a * a, abs=1e-6)
        assert measured[Q1_EXCITED] == pytest.approx(b * b, abs=1e-6)
        beat = a * a * c * c + b * b * s * s + 2 * a * b * s * c * math.cos(2 * math.pi * (f1 - f0) * t * 1e-9)
        assert bare[Q0_EXCITED] == pytest.approx(beat, abs=1e-5)
    assert 2 * a * b * math.sin(2 * theta) > 0.05                     # the beat this readout no longer sees


def test_the_dressed_basis_is_the_bare_one_without_coupling_and_labels_each_state_once() -> None:
    lone = params(quiet(couplings=[]))
    rho = np.diag(np.arange(9, dtype=np.float64) / 36).astype(np.complex128)
    np.testing.assert_array_equal(Group(lone, (0, 1), 1.0).measured_populations(rho), np.diag(rho).real)
    coupled = Group(params(quiet()), (0, 1), 1.0)
    for k in range(9):                             # each dressed state reads as its own bare label, nearly
        state = np.zeros(9, dtype=np.complex128)
        state[k] = 1.0
        populations = coupled.measured_populations(np.outer(state, state))
        assert int(np.argmax(populations)) == k and populations.sum() == pytest.approx(1.0, abs=1e-12)
