"""Readout physics against closed forms written here: the notch response, assignment fidelity from blob
separation and noise, decays that land between the blobs, joint sampling, repeatability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qubitlab.drivers.mock.physics.device import DeviceConfig, QubitParams
from qubitlab.drivers.mock.physics.readout import integrated_iq, sample_levels, steady_response

QUBIT = QubitParams(frequency=5.0e9, anharmonicity=-330e6, t1=60e-6, t2=50e-6, rabi_per_volt=50e6,
                    resonator_frequency=7.05e9, dispersive_shift=-1.0e6, resonator_linewidth=2.0e6,
                    readout_gain=0.01, readout_noise=0.01)


def notch(probe: float, resonance: float, kappa_hz: float) -> complex:
    delta = 2 * math.pi * (probe - resonance)
    kappa = 2 * math.pi * kappa_hz
    return 1 - (kappa / 2) / (kappa / 2 - 1j * delta)


def test_resonator_dips_at_the_state_dependent_frequency() -> None:
    probes = np.linspace(7.044e9, 7.054e9, 2001)
    for level in (0, 1):
        response = np.abs([complex(steady_response(QUBIT, float(f), level)) for f in probes])
        assert probes[int(np.argmin(response))] == pytest.approx(7.05e9 - level * 1.0e6, abs=5e3)
    f = 7.0493e9
    assert complex(steady_response(QUBIT, f, 1)) == pytest.approx(0.01 * notch(f, 7.049e9, 2.0e6), rel=1e-12)


def test_assignment_fidelity_follows_blob_separation_and_noise() -> None:
    qubit = QUBIT.model_copy(update={"t1": 1.0, "readout_noise": 0.05})  # no decay: only the Gaussian blobs
    probe, amplitude, duration, samples = 7.0495e9, 1.0, 1e-6, 500
    rng = np.random.default_rng(7)
    shots = 20000
    iq0 = integrated_iq(qubit, probe, amplitude, duration, np.zeros(shots, dtype=np.int64), rng, samples)
    iq1 = integrated_iq(qubit, probe, amplitude, duration, np.ones(shots, dtype=np.int64), rng, samples)
    mu0, mu1 = iq0.mean(), iq1.mean()
    sigma = qubit.readout_noise / math.sqrt(samples)
    fidelity = 0.5 * (np.mean(np.abs(iq0 - mu0) < np.abs(iq0 - mu1)) + np.mean(np.abs(iq1 - mu1) < np.abs(iq1 - mu0)))
    # isotropic Gaussian blobs: error per state = Q(d / 2 sigma)
    expected = 0.5 * (1 + math.erf(abs(mu1 - mu0) / (2 * sigma) / math.sqrt(2)))
    assert 0.6 < expected < 0.999  # the test is informative: neither trivial nor hopeless
    assert fidelity == pytest.approx(expected, abs=0.01)
    # the blob centres are the averages over the window of the ring-down from the bare probe to the notch response:
    # S + (1 - S) (1 - exp(-gamma T)) / (gamma T), gamma = kappa/2 - i Delta
    for mu, resonance in ((mu0, 7.05e9), (mu1, 7.049e9)):
        steady = notch(probe, resonance, 2.0e6)
        gamma = 2 * math.pi * 2.0e6 / 2 - 1j * 2 * math.pi * (probe - resonance)
        expected_mean = 0.01 * (steady + (1 - steady) * (1 - np.exp(-gamma * duration)) / (gamma * duration))
        assert abs(mu - expected_mean) < 1e-4


def test_a_shot_that_decays_mid_window_lands_between_the_blobs() -> None:
    qubit = QUBIT.model_copy(update={"t1": 2e-6, "readout_noise": 0.0, "resonator_linewidth": 50e6})
    probe, duration = 7.0495e9, 2e-6
    rng = np.random.default_rng(3)
    iq0 = integrated_iq(qubit, probe, 1.0, duration, np.zeros(1, dtype=np.int64), rng, 1000)[0]
    iq1_steady = complex(steady_response(qubit, probe, 1))
    iq1 = integrated_iq(qubit, probe, 1.0, duration, np.ones(40000, dtype=np.int64), rng, 1000)
    x = np.real((iq1 - iq0) / (iq1_steady - iq0))  # 0 at the |0> blob, ~1 at the |1> blob
    # with a fast resonator, x is the fraction of the window spent in |1>: tau / T for decay at tau < T
    inside = np.mean((x > 0.1) & (x < 0.9))
    expected = math.exp(-0.1 * duration / qubit.t1) - math.exp(-0.9 * duration / qubit.t1)
    assert inside == pytest.approx(expected, abs=0.015)


def test_shots_follow_the_joint_populations() -> None:
    rng = np.random.default_rng(11)
    bell = np.zeros(9)
    bell[0] = bell[4] = 0.5  # (|00> + |11>)/sqrt(2) in two 3-level transmons
    levels = sample_levels(bell, 20000, 3, 2, rng)
    assert np.all(levels[:, 0] == levels[:, 1])  # perfectly correlated
    assert np.mean(levels[:, 0]) == pytest.approx(0.5, abs=0.015)


def test_same_seed_same_shots_other_seed_other_shots() -> None:
    def shots(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return integrated_iq(QUBIT, 7.0495e9, 1.0, 1e-6, np.ones(100, dtype=np.int64), rng, 500)

    np.testing.assert_array_equal(shots(5), shots(5))
    assert not np.array_equal(shots(5), shots(6))


def test_device_schema_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="t2 = .* exceeds 2 t1"):
        QubitParams.model_validate(QUBIT.model_dump() | {"t2": 200e-6})
    with pytest.raises(ValueError, match="must join two different qubits"):
        DeviceConfig.model_validate({"qubits": {0: QUBIT.model_dump()}, "couplings": [{"qubits": [0, 1], "j": 3e6}]})
