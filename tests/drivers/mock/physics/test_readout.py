"""Readout through the engine against closed forms written here: the notch and its dip at the state-dependent
frequency, blob centres from the ring-up, assignment fidelity from blob separation and noise, decays that land
between the blobs, raw traces, multiplexing, joint sampling, repeatability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from physics_lab import device, lab_with, lifted_gaussian, lo_states, outputs, params, pi_volts, tone

from qubitlab.config.device import DeviceConfig, QubitParams
from qubitlab.drivers.mock.physics.engine import Acquisition
from qubitlab.drivers.mock.physics.readout import sample_levels, steady_response

F0 = 4.997e9
IF0 = F0 - 4.9e9
RO_LO = 7.0e9
RO_GAIN = 10 ** (-40 / 20)
WINDOW = 500  # digitizer samples at 500 MS/s: 1 us


def notch(probe: float, resonance: float, kappa_hz: float) -> complex:
    delta = 2 * math.pi * (probe - resonance)
    kappa = 2 * math.pi * kappa_hz
    return 1 - (kappa / 2) / (kappa / 2 + 1j * delta)


def run(lab, excite: bool, probe_if: float, shots: int, weights: bool = True, probes=None, seed=None,  # type: ignore[no-untyped-def]
        lead: int = 0):
    """q0 in |0> or (pi pulse) |1>, then a 1 us readout tone at ``probe_if`` (from ``lead`` ns before the
    window) and a window on input 1."""
    g = lifted_gaussian(40, 10.0)
    start = 48 + lead
    tones = probes or [(probe_if, 0.3)]
    readout = sum(tone(np.full(2 * WINDOW + lead, amp), f, start - lead) for f, amp in tones)
    played = outputs(start + 2 * WINDOW, readout=[(start - lead, readout)],
                     q0_drive=[(0, tone(pi_volts(lab, 0, g) * g, IF0, 0))] if excite else [])
    windows = [Acquisition("digitizer", "1", start * 1e-9, WINDOW, f,
                           np.full(WINDOW, 1 / WINDOW, dtype=complex) if weights else None) for f, _ in tones]
    return device(lab, seed).run(played, lo_states(lab), windows, shots)


def quiet_readout(**qubit0: float):  # type: ignore[no-untyped-def]
    """No decoherence; the line's noise (the mean over the resonators on it) set by qubit 0's entry."""
    noise = {"readout_noise": qubit0["readout_noise"]} if "readout_noise" in qubit0 else {}
    return lab_with({0: {"t1": 1.0, "t2": 1.0, **qubit0}, 1: {"t1": 1.0, "t2": 1.0, **noise}}, crosstalk=[])


def test_notch_dips_at_the_state_dependent_frequency() -> None:
    q = QubitParams(frequency=5.0e9, anharmonicity=-330e6, t1=60e-6, t2=50e-6, rabi_per_volt=50e6,
                    resonator_frequency=7.05e9, dispersive_shift=-1.0e6, resonator_linewidth=2.0e6,
                    readout_gain=0.01, readout_noise=0.01)
    probes = np.linspace(7.044e9, 7.054e9, 2001)
    for level in (0, 1):
        response = np.abs([complex(steady_response(q, float(f), level)) for f in probes])
        assert probes[int(np.argmin(response))] == pytest.approx(7.05e9 - level * 1.0e6, abs=5e3)
    assert complex(steady_response(q, 7.0493e9, 1)) == pytest.approx(0.01 * notch(7.0493e9, 7.049e9, 2.0e6),
                                                                      rel=1e-12)


def test_resonator_dip_through_the_instruments() -> None:
    lab = quiet_readout(readout_noise=0.0)
    fr, chi = params(lab).qubits[0].resonator_frequency, params(lab).qubits[0].dispersive_shift
    ifs = fr - RO_LO + np.linspace(-3e6, 2e6, 51)
    for excite, resonance in ((False, fr), (True, fr + chi)):
        level = [abs(run(lab, excite, f, 1, lead=3000)[0][0]) for f in ifs]  # steady state: the notch itself
        assert RO_LO + ifs[int(np.argmin(level))] == pytest.approx(resonance, abs=0.15e6)


def test_blob_centres_and_assignment_fidelity_follow_separation_and_noise() -> None:
    noise = 12.0
    lab = quiet_readout(readout_noise=noise)
    q = params(lab).qubits[0]
    probe_if = q.resonator_frequency + q.dispersive_shift / 2 - RO_LO
    shots = 20000
    iq0, iq1 = run(lab, False, probe_if, shots, seed=1)[0], run(lab, True, probe_if, shots, seed=2)[0]
    # centres: the window average of the ring-down from the bare probe to the notch,
    # S + (1 - S) (1 - exp(-gamma T)) / (gamma T), gamma = kappa/2 + i Delta, times probe volts and gain
    volts = 0.3 * RO_GAIN * q.readout_gain
    duration = WINDOW / 500e6
    for iq, resonance in ((iq0, q.resonator_frequency), (iq1, q.resonator_frequency + q.dispersive_shift)):
        probe = RO_LO + probe_if
        steady = notch(probe, resonance, q.resonator_linewidth)
        gamma = math.pi * q.resonator_linewidth + 1j * 2 * math.pi * (probe - resonance)
        centre = volts * (steady + (1 - steady) * (1 - np.exp(-gamma * duration)) / (gamma * duration))
        # 3 %: the digitizer sees the mean of two neighbouring holds (cos(pi IF dt) = 0.987 of a 50 MHz tone), and
        # 0.3 % of the pi pulses miss
        assert abs(iq.mean() - centre) < 0.03 * volts
    sigma = noise / math.sqrt(WINDOW)  # boxcar of N samples: sigma ||w|| = sigma / sqrt(N) per quadrature
    assert np.std(iq0.real) == pytest.approx(sigma, rel=0.03)
    mu0, mu1 = iq0.mean(), iq1.mean()
    fidelity = 0.5 * (np.mean(abs(iq0 - mu0) < abs(iq0 - mu1)) + np.mean(abs(iq1 - mu1) < abs(iq1 - mu0)))
    expected = 0.5 * (1 + math.erf(abs(mu1 - mu0) / (2 * sigma) / math.sqrt(2)))  # error per state Q(d / 2 sigma)
    assert 0.6 < expected < 0.995
    assert fidelity == pytest.approx(expected, abs=0.01)


def test_a_shot_that_decays_mid_window_lands_between_the_blobs() -> None:
    t1 = 2e-6
    lab = quiet_readout(t1=t1, t2=2e-6, readout_noise=0.0, resonator_linewidth=50e6)
    q = params(lab).qubits[0]
    probe_if = q.resonator_frequency + q.dispersive_shift / 2 - RO_LO
    iq0 = run(lab, False, probe_if, 1)[0][0]
    iq1 = run(lab, True, probe_if, 40000, seed=3)[0]
    top = np.median(iq1)  # most shots stay in |1> for the whole 1 us window
    x = np.real((iq1 - iq0) / (top - iq0))  # 0 at the |0> blob, 1 at the |1> blob
    # with a fast resonator x is the fraction of the window spent in |1>: decays at tau in (0.1 T, 0.9 T)
    inside = np.mean((x > 0.1) & (x < 0.9))
    duration = 1e-6
    p_excited = 1 - np.mean(x < 0.0)  # shots that started in |1> (the pi pulse and the wait before are not perfect)
    expected = p_excited * (math.exp(-0.1 * duration / t1) - math.exp(-0.9 * duration / t1))
    assert inside == pytest.approx(expected, abs=0.015)


def test_raw_traces_ring_up_towards_the_notch() -> None:
    lab = quiet_readout(readout_noise=0.0)
    q = params(lab).qubits[0]
    probe_if = q.resonator_frequency - RO_LO  # on resonance with |0>: the trace rings down to the dip
    trace = run(lab, False, probe_if, 2, weights=False)[0]
    assert trace.shape == (2, WINDOW)
    t = np.arange(WINDOW) / 500e6
    volts = 0.3 * RO_GAIN * q.readout_gain
    gamma = math.pi * q.resonator_linewidth
    # demodulated at the probe: starts at the bare probe, decays at kappa/2 to the (zero) notch (the first
    # sample sees half a hold: the probe starts with the window)
    expected = volts * np.exp(-gamma * t)
    # 4 %: q1's resonator on the same line rings at its 67 MHz detuning from the tone while it settles
    np.testing.assert_allclose(trace[0][1:], expected[1:], atol=0.04 * volts)


def test_multiplexed_readout_tells_two_resonators_apart() -> None:
    lab = lab_with({0: {"t1": 1.0, "t2": 1.0}, 1: {"t1": 1.0, "t2": 1.0}}, crosstalk=[])
    qs = params(lab).qubits
    tones = [(qs[q].resonator_frequency + qs[q].dispersive_shift / 2 - RO_LO, 0.2) for q in (0, 1)]
    ground, excited = run(lab, False, 0, 2000, probes=tones, seed=1), run(lab, True, 0, 2000, probes=tones, seed=2)
    shots = run(lab, True, 0, 2000, probes=tones, seed=3)[0]  # q0 in |1>, read with q1's tone on the line
    states = (abs(shots - excited[0].mean()) < abs(shots - ground[0].mean())).astype(int)
    assert np.mean(states) > 0.97
    # q1's window does not move when q0 is excited: its tone is 67 MHz away from q0's resonator
    assert abs(excited[1].mean() - ground[1].mean()) < 0.05 * abs(excited[0].mean() - ground[0].mean())


def test_shots_follow_the_joint_populations() -> None:
    rng = np.random.default_rng(11)
    # (|00> + |11>)/sqrt(2) prepared with exact unitaries on two 3-level transmons: H on the first, then CNOT
    # (both acting on the qubit levels, identity on level 2)
    h = np.eye(3, dtype=complex)
    h[:2, :2] = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    x = np.eye(3, dtype=complex)
    x[:2, :2] = np.array([[0, 1], [1, 0]])
    p1 = np.diag([0, 1, 0]).astype(complex)
    cnot = np.kron(np.eye(3) - p1, np.eye(3)) + np.kron(p1, x)
    state = cnot @ np.kron(h, np.eye(3)) @ np.eye(9, dtype=complex)[0]
    levels = sample_levels(np.abs(state) ** 2, 20000, 3, 2, rng)
    assert np.all(levels[:, 0] == levels[:, 1])  # perfectly correlated
    assert np.mean(levels[:, 0]) == pytest.approx(0.5, abs=0.015)


def test_same_seed_same_shots_other_seed_other_shots() -> None:
    lab = lab_with()
    q = params(lab).qubits[0]
    probe_if = q.resonator_frequency - RO_LO
    a, b, c = (run(lab, True, probe_if, 200, seed=s)[0] for s in (5, 5, 6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_device_schema_refuses_impossible_values() -> None:
    q = params(lab_with()).qubits[0]
    with pytest.raises(ValueError, match="t2 = .* exceeds 2 t1"):
        QubitParams.model_validate(q.model_dump() | {"t2": 1.0})
    with pytest.raises(ValueError, match="must join two different qubits"):
        DeviceConfig.model_validate({"qubits": {0: q.model_dump()}, "couplings": [{"qubits": [0, 1], "j": 3e6}]})
    with pytest.raises(ValueError, match=r"crosstalk\[0\]: from line 0 to 5"):
        DeviceConfig.model_validate({"qubits": {0: q.model_dump()}, "crosstalk": [{"line": 0, "reaches": 5,
                                                                                   "amplitude": 0.1}]})


def test_measurement_induced_excitation_follows_the_dressed_dephasing_rate() -> None:
    """|0> under a resonant probe holding n photons: each shot jumps up at gamma_phi n / (2 n_crit)
    (Boissonneault et al. 2009), n_crit = (Delta / 2g)^2 with g from 2 chi = 2 g^2 alpha / (Delta (Delta + alpha))
    (Koch et al. 2007); a shot that jumps inside the window leaves the |0> point (no noise, a 50 MHz resonator
    at steady state at once). Here n = n_crit and gamma_phi = 1 / T2 - 1 / (2 T1) = 1 / (1 us), so
    P(jump within the 1 us window) = 1 - exp(-1/2). Without photon_voltage no shot leaves the |0> point."""
    base = quiet_readout(t2=1e-6, readout_noise=0.0, resonator_linewidth=50e6)
    q = params(base).qubits[0]
    delta, alpha = q.frequency - q.resonator_frequency, q.anharmonicity
    g = math.sqrt(q.dispersive_shift * delta * (delta + alpha) / (2 * alpha))
    n_crit = (delta / (2 * g)) ** 2
    assert 100 < n_crit < 1000  # a realistic transmon
    volts = 0.3 * RO_GAIN  # the probe at the device (run() plays 0.3 V into the -40 dB line)
    lab = quiet_readout(t2=1e-6, readout_noise=0.0, resonator_linewidth=50e6, photon_voltage=volts / math.sqrt(n_crit))
    probe_if = q.resonator_frequency - RO_LO
    for lab_, expected in ((base, 0.0), (lab, 1 - math.exp(-0.5))):
        iq0 = run(lab_, False, probe_if, 20000, seed=5)[0]
        still = iq0[0] if expected == 0 else np.median(iq0)  # most shots never jump
        moved = np.mean(np.abs(iq0 - still) > 1e-9 * abs(still))
        assert moved == pytest.approx(expected, abs=0.012), (moved, expected)
