"""ZNE through a real daemon on the calibrated virtual two-qubit lab, against exact ideal values.

The reference is the circuit's own unitary (numpy, here), never the Estimator: a Bell pair sent through five CX
(four of them cancel) has <ZZ> = <XX> = 1 and <YY> = -1 exactly. The device's noise makes level 1 (readout
mitigated) visibly biased; ZNE by gate folding must remove most of that bias. Pulse stretching needs its own
calibrations (refused here, where the store has none; tests/runtime/test_mitigation_stretch.py has them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from daemon_lab import Lab, calibrated_daemon_in

from qubitlab.circuits import Circuit
from qubitlab.runtime import EstimatorV2

LABELS = ["ZZ", "XX", "YY"]
QUADRATIC = {"noise_factors": (1.0, 3.0, 5.0), "extrapolator": ("polynomial_degree_2", "linear")}
PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0])}


@pytest.fixture(scope="module")
def calibrated_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Lab]:
    with calibrated_daemon_in(tmp_path_factory.mktemp("mitigation"), calibrated_2q[0]) as running:
        yield running


def deep_bell(cx: int = 5) -> Circuit:
    circuit = Circuit(2).h(0)
    for _ in range(cx):
        circuit.cx(0, 1)
    return circuit


def ideal(circuit: Circuit, label: str) -> float:
    """<P> on U|00>, U the circuit's unitary (qubit 0 least significant, label's first letter the highest)."""
    state = circuit.to_matrix()[:, 0]
    operator = np.array([[1.0]])
    for letter in label:
        operator = np.kron(operator, PAULI[letter])
    return float(np.real(state.conj() @ operator @ state))


def run(lab: Lab, circuit: Circuit, options: dict[str, Any], precision: float = 0.01) -> Any:
    with lab.service() as service:
        return EstimatorV2(mode=service, options=options).run([(circuit, LABELS)],
                                                              precision=precision).result(timeout=600)[0]


def test_gate_folding_zne_removes_most_of_the_bias_readout_mitigation_leaves(calibrated_daemon: Lab) -> None:
    circuit = deep_bell()
    truth = np.array([ideal(circuit, label) for label in LABELS])
    assert truth == pytest.approx([1.0, 1.0, -1.0], abs=1e-12)
    level_1 = run(calibrated_daemon, circuit, {"resilience_level": 1})
    zne = run(calibrated_daemon, circuit, {"resilience_level": 2,   # readout by assignment matrices, explicitly
                                           "twirling": {"enable_gates": False, "enable_measure": False},
                                           "resilience": {"zne": QUADRATIC}})
    error_1 = np.abs(level_1.data.evs - truth)
    error_2 = np.abs(zne.data.evs - truth)
    assert error_1.mean() > 0.03, error_1                               # the device's noise is visible
    assert error_2.mean() <= 0.5 * error_1.mean(), (error_1, error_2, zne.data.stds)
    assert np.all(error_2 <= 4 * zne.data.stds + 0.01), (error_2, zne.data.stds)
    # Qiskit Runtime's extra fields and shapes; the applied factors are the requested odd ones
    assert zne.data.evs_noise_factors.shape == (3, 3)
    assert zne.data.evs_extrapolated.shape == zne.data.stds_extrapolated.shape == (3, 2, 4)
    assert zne.metadata["zne"]["noise_factors_applied"] == [1.0, 3.0, 5.0]
    assert zne.metadata["shot_overhead"] == 3
    assert zne.metadata["techniques"] == ["measure_mitigation (assignment matrices)", "zne (gate_folding)"]
    assert zne.metadata["trex"] is None
    # physics: three times and five times the ECRs decay each correlator further toward 0
    magnitudes = np.abs(zne.data.evs_noise_factors)
    assert np.all(np.diff(magnitudes, axis=1) < 0), magnitudes
    # the polynomial evaluated back at factor 1 agrees with what was measured there
    at_one = zne.data.evs_extrapolated[:, 0, 1]
    assert np.all(np.abs(at_one - zne.data.evs_noise_factors[:, 0]) <= 3 * zne.data.stds_noise_factors[:, 0])


def test_level_2_with_twirled_ecrs_also_removes_most_of_the_bias(calibrated_daemon: Lab) -> None:
    """Level 2 as Qiskit Runtime runs it (gate twirling on by default), with 4 randomizations to stay quick."""
    circuit = deep_bell()
    truth = np.array([ideal(circuit, label) for label in LABELS])
    level_1 = run(calibrated_daemon, circuit, {"resilience_level": 1})
    twirled = run(calibrated_daemon, circuit, {"resilience_level": 2, "twirling": {"num_randomizations": 4},
                                               "resilience": {"zne": QUADRATIC}})
    error_1, error_2 = np.abs(level_1.data.evs - truth), np.abs(twirled.data.evs - truth)
    assert twirled.metadata["techniques"] == ["measure_mitigation (assignment matrices)", "twirling.enable_gates",
                                              "zne (gate_folding)"]
    assert twirled.metadata["trex"]["num_randomizations"] == 4 and twirled.metadata["trex"]["enable_gates"]
    assert error_2.mean() <= 0.5 * error_1.mean(), (error_1, error_2, twirled.data.stds)
    assert np.all(error_2 <= 4 * twirled.data.stds + 0.01), (error_2, twirled.data.stds)


def test_pulse_stretch_without_stretched_calibrations_names_the_command(calibrated_daemon: Lab) -> None:
    """The bring-up does not calibrate stretched gates; pulse-stretch ZNE then refuses, naming what to run
    (tests/runtime/test_mitigation_stretch.py runs it on a store that has them)."""
    from qubitlab.errors import JobError

    with pytest.raises(JobError, match=r"pulse_stretch.*q0\.x_amp_s2.*qubitlab calibrate stretch --lab LAB\.yaml "
                                       r"--factors 2,3"):
        run(calibrated_daemon, deep_bell(1), {"resilience_level": 2, "resilience": {"zne": {
            "amplifier": "pulse_stretch", "noise_factors": (1.0, 2.0, 3.0), "extrapolator": "linear"}},
            "twirling": {"enable_gates": False}}, 0.02)


def test_trex_removes_the_readout_bias_of_level_0(calibrated_daemon: Lab) -> None:
    circuit = Circuit(2).x(0).h(1).s(1).h(1)                            # |1> on qubit 0, |-i> on qubit 1
    labels = ["IZ", "ZI", "ZZ", "YI"]
    truth = np.array([ideal(circuit, label) for label in labels])
    assert truth == pytest.approx([-1.0, 0.0, 0.0, -1.0], abs=1e-12)
    with calibrated_daemon.service() as service:
        raw = EstimatorV2(mode=service, options={"resilience_level": 0}).run(
            [(circuit, labels)], precision=0.01).result(timeout=600)[0]
        trex = EstimatorV2(mode=service, options={"resilience_level": 1, "twirling": {"enable_measure": True}}).run(
            [(circuit, labels)], precision=0.01).result(timeout=600)[0]
    error_0, error_1 = np.abs(raw.data.evs - truth), np.abs(trex.data.evs - truth)
    assert error_0[0] > 0.01 and error_0[3] > 0.01, error_0             # readout visibly biases level 0
    assert error_1[0] + error_1[3] <= 0.5 * (error_0[0] + error_0[3]), (error_0, error_1)
    assert np.all(error_1 <= 4 * trex.data.stds + 0.01), (error_1, trex.data.stds)
    assert trex.metadata["measure_mitigation"].startswith("TREX")
    assert trex.metadata["trex"]["num_randomizations"] == 32
    assert trex.metadata["assignment_matrices"] is None
    assert trex.metadata["techniques"] == ["measure_mitigation (TREX)", "twirling.enable_measure"]
    # the learned factors are 1 - P(1|0) - P(0|1) per qubit: below 1 by about twice the readout error
    learned = trex.metadata["trex"]["learned_factors"]
    assert 0.8 < learned["1"] < 1.0 and 0.8 < learned["10"] < 1.0, learned


def test_xpxm_decoupling_refocuses_a_qubit_idling_next_to_an_excited_neighbour(calibrated_daemon: Lab) -> None:
    """Qubit 0 idles 5 us in |+> while qubit 1 sits in |1>: the static ZZ shift (and any residual detuning)
    turns its phase, so <X> on qubit 0 falls from its ideal 1; XpXm in the idle window echoes the phase away."""
    circuit = Circuit(2).x(1).h(0).delay(5, 0, "us")
    labels = ["IX", "ZI"]
    truth = np.array([ideal(circuit, label) for label in labels])
    assert truth == pytest.approx([1.0, -1.0], abs=1e-12)
    with calibrated_daemon.service() as service:
        plain, decoupled = (EstimatorV2(mode=service, options={"resilience_level": 1, "dynamical_decoupling": {
            "enable": enable, "sequence_type": "XpXm"}}).run([(circuit, labels)], precision=0.01).result(
                timeout=600)[0] for enable in (False, True))
    error_plain, error_dd = np.abs(plain.data.evs - truth), np.abs(decoupled.data.evs - truth)
    assert error_plain[0] > 0.05, error_plain                            # the idle visibly dephases qubit 0
    assert error_dd[0] <= 0.5 * error_plain[0], (error_plain, error_dd)
    assert "dynamical_decoupling (XpXm)" in decoupled.metadata["techniques"]


def coherent_01_10(theta: float, wait: int) -> Circuit:
    """cos(theta/2) |q0=1, q1=0> + sin(theta/2) |q0=0, q1=1> (H2's kind of state), then ``wait`` dt idle."""
    circuit = Circuit(2).ry(theta, 0).cx(0, 1).x(0)
    if wait:
        circuit.delay(wait, 0).delay(wait, 1)
    return circuit


def test_readout_of_a_state_coherent_in_01_10_ignores_when_it_starts_and_trex_agrees(calibrated_daemon: Lab) -> None:
    """A state coherent between |01> and |10> (exchange-coupled, so its *bare* populations beat at the qubits'
    detuning, ~10 ns): a readout resolves the dressed states, so waiting 0, 4 or 8 ns before measuring changes
    <Z0> and <Z1> by T1 alone (< 2e-4), and TREX and the assignment matrices -- both unbiased when the readout is
    a classical channel -- agree. Ideal values -cos(theta) and cos(theta). Before the virtual readout resolved the
    dressed states the waits moved <Z0> by ~0.1 and TREX's flips (which move the acquisition and the coherence)
    read H2's <IZ> 0.012 off the assignment path."""
    theta = math.pi / 3
    labels = ["IZ", "ZI"]
    truth = np.array([-math.cos(theta), math.cos(theta)])
    assert truth == pytest.approx([ideal(coherent_01_10(theta, 0), label) for label in labels], abs=1e-12)
    with calibrated_daemon.service() as service:
        waits = EstimatorV2(mode=service, options={"resilience_level": 1}).run(
            [(coherent_01_10(theta, wait), labels) for wait in (0, 4, 8)], precision=0.01).result(timeout=600)
        trex = EstimatorV2(mode=service, options={"resilience_level": 1, "twirling": {"enable_measure": True}}).run(
            [(coherent_01_10(theta, 0), labels)], precision=0.01).result(timeout=600)[0]
    evs = np.array([pub.data.evs for pub in waits])                       # (wait, observable)
    stds = np.array([pub.data.stds for pub in waits])
    assert np.all(np.ptp(evs, axis=0) <= 4 * np.sqrt(2) * stds.max(axis=0) + 0.003), (evs, stds)
    assert np.all(np.abs(trex.data.evs - evs[0]) <= 4 * np.hypot(trex.data.stds, stds[0]) + 0.004), (trex.data.evs,
                                                                                                     evs[0])
    assert np.all(np.abs(evs - truth) < 0.05), evs                        # one CX's gate error, no more
