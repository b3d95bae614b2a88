"""SamplerV2 and EstimatorV2 through a real daemon on the calibrated virtual two-qubit lab.

The expected values do not come from the estimator: a Bell state's <ZZ>, <XX> and <YY> are compared with the
joint level populations the virtual device's physics (its density matrix) gives for the same pulses, measured in
the test's own basis-change circuits; Sampler counts are compared with the readout fidelity the bring-up's
readout experiment stored, and a GHZ state with the bounds the stored Bell fidelity implies; broadcasting with
closed forms (cos, sin of a rotation angle).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from daemon_lab import Lab, calibrated_daemon_in

from qubitlab.circuits import Circuit, Parameter
from qubitlab.errors import CircuitError
from qubitlab.runtime import Batch, EstimatorV2, SamplerV2, Session


@pytest.fixture(scope="module")
def calibrated_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Lab]:
    with calibrated_daemon_in(tmp_path_factory.mktemp("primitives"), calibrated_2q[0]) as running:
        yield running


def stored(lab: Lab) -> Any:
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore

    with CalibrationStore.for_lab(load_lab(lab.lab_file)) as store:
        return store.snapshot()


# -- the device's own answer -----------------------------------------------------------------------------------
def device_parities(lab_file: Path, circuits: list[Circuit]) -> list[float]:
    """<Z...Z> over both qubits of each (measured) circuit, from the populations the physics engine's density
    matrix has when the first acquisition starts; a level >= 1 counts as 1. No shots, no readout."""
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore
    from qubitlab.calibration.frames import frames
    from qubitlab.calibration.gates import gate_map_from_snapshot
    from qubitlab.circuits import Target, lower
    from qubitlab.drivers.open import open_lab
    from qubitlab.pulse.compiler import compile

    lab = load_lab(lab_file)
    with CalibrationStore.for_lab(lab) as store:
        snapshot = store.snapshot()
    gate_map = gate_map_from_snapshot(lab, snapshot)
    target = Target.from_lab(lab, gate_map)
    out = []
    with open_lab(lab) as opened:
        assert opened.virtual is not None
        device = opened.virtual.device
        recorded: list[dict[tuple[int, ...], np.ndarray]] = []
        run = device.run

        def observed(outputs: Any, los: Any, acquisitions: Any, shots: int) -> Any:
            recorded.append(device.populations(outputs, los, min(a.start for a in acquisitions)))
            return run(outputs, los, acquisitions, shots)

        device.run = observed  # type: ignore[method-assign]
        for circuit in circuits:
            program = compile(lower(circuit, gate_map, target), opened.connected, frames(lab, snapshot))
            recorded.clear()
            opened.executor.run(program, shots=1, rep_delay=lab.bringup.rep_delay, snapshot_id=snapshot.id)
            out.append(_parity(recorded[0], (0, 1)))
    return out


def _parity(populations: Mapping[tuple[int, ...], np.ndarray], qubits: tuple[int, ...], levels: int = 3) -> float:
    value = 1.0
    for group, p in populations.items():
        inside = [q for q in group if q in qubits]
        if not inside:
            continue
        grid = p.reshape([levels] * len(group))
        sign = np.ones_like(grid)
        for axis, q in enumerate(group):
            if q in qubits:
                shape = [1] * len(group)
                shape[axis] = levels
                sign = sign * np.where(np.arange(levels) >= 1, -1.0, 1.0).reshape(shape)
        value *= float((grid * sign).sum() / grid.sum())
    return value


def bell() -> Circuit:
    return Circuit(2).h(0).cx(0, 1)


def measured_in(circuit: Circuit, basis: str) -> Circuit:
    """``circuit`` rotated so that a Z measurement of each qubit measures ``basis`` (label, qubit 0 rightmost)."""
    out = circuit.copy()
    for q, letter in enumerate(reversed(basis)):
        if letter == "X":
            out.h(q)
        elif letter == "Y":
            out.sdg(q).h(q)
    return out.measure_all()


# -- Estimator -------------------------------------------------------------------------------------------------
def test_bell_correlators_match_the_device_physics(calibrated_daemon: Lab) -> None:
    precision = 0.005
    with calibrated_daemon.service() as service, Session(service) as session:
        estimator = EstimatorV2(mode=session)
        assert estimator.options.resilience_level == 1                      # Qiskit Runtime's default
        result = estimator.run([(bell(), ["ZZ", "XX", "YY"])], precision=precision).result(timeout=600)
    data, metadata = result[0].data, result[0].metadata
    assert data.evs.shape == data.stds.shape == (3,)
    assert metadata["shots"] == math.ceil(1 / precision**2)                 # Qiskit's precision rule
    assert metadata["num_bases"] == 3 and metadata["snapshot_id"] == stored(calibrated_daemon).id
    expected = device_parities(calibrated_daemon.lab_file, [measured_in(bell(), b) for b in ("ZZ", "XX", "YY")])
    # the reference is a Bell state (an honest reference cannot be far from ideal on a calibrated device)
    assert expected[0] > 0.9 and expected[1] > 0.9 and expected[2] < -0.9, expected
    for name, value, std, truth in zip(("ZZ", "XX", "YY"), data.evs, data.stds, expected):
        assert abs(value - truth) <= 3 * std, (name, value, truth, std)
    assert max(data.stds) < 2 * precision


def test_level_0_is_biased_by_readout_and_level_1_removes_it(calibrated_daemon: Lab) -> None:
    with calibrated_daemon.service() as service:
        raw = EstimatorV2(mode=service, options={"resilience_level": 0})
        job = raw.run([(Circuit(2).x(0), ["IZ", "ZI"])], precision=0.01)
        evs = job.result(timeout=600)[0].data.evs
    f0 = stored(calibrated_daemon)["q0.readout_fidelity"].value
    # |1> on qubit 0 reads -1 + 2 P(0|1); P(0|1) is at least of the order of the average error 1 - F
    assert -1 + 2 * (1 - f0) * 0.3 < evs[0] < -1 + 2 * (1 - f0) * 3, (evs, f0)
    assert 0.9 < evs[1] <= 1.0     # |0> reads 1 - 2 P(1|0): exactly 1 when no shot of 10^4 flips (P(1|0) ~ 1e-4)


def test_a_3x1_parameter_array_against_4_observables_broadcasts_to_3x4(calibrated_daemon: Lab) -> None:
    theta = Parameter("theta")
    circuit = Circuit(2).ry(theta, 0)
    # bindings of shape (3, 1): as in Qiskit, the values' last axis holds the circuit's parameters (one here)
    angles = np.array([[[0.3]], [[1.2]], [[2.5]]])
    observables = ["IZ", "IX", "ZI", "ZZ"]                                  # shape (4,)
    with calibrated_daemon.service() as service, Batch(service) as batch:
        result = EstimatorV2(mode=batch).run([(circuit, observables, angles)], precision=0.02).result(timeout=600)
    evs, stds = result[0].data.evs, result[0].data.stds
    assert evs.shape == stds.shape == (3, 4)
    t = angles[:, 0, 0]
    ideal = np.stack([np.cos(t), np.sin(t), np.ones(3), np.cos(t)], axis=1)  # ry(t)|0> on qubit 0, |0> on 1
    assert np.all(np.abs(evs - ideal) <= 4 * stds + 0.02), (evs, ideal)     # 0.02: gate and T1/T2 errors


def test_unbroadcastable_shapes_and_unimplemented_options_are_refused_before_submitting(
        calibrated_daemon: Lab) -> None:
    theta = Parameter("theta")
    with calibrated_daemon.service() as service:
        before = len(service.jobs())
        with pytest.raises(CircuitError, match=r"PUB 0: the observables shape \(4,\) and the parameter values "
                                               r"shape \(3,\) do not broadcast"):
            EstimatorV2(mode=service).run([(Circuit(1).ry(theta, 0), ["Z", "X", "Y", "Z"], [0.1, 0.2, 0.3])])
        estimator = EstimatorV2(mode=service)
        estimator.options.dynamical_decoupling.scheduling_method = "asap"
        with pytest.raises(NotImplementedError, match="dynamical_decoupling.scheduling_method"):
            estimator.run([(Circuit(1).h(0), "X")])
        assert len(service.jobs()) == before                               # nothing reached the daemon


# -- Sampler ---------------------------------------------------------------------------------------------------
def test_sampler_readout_errors_match_the_stored_readout_fidelities(calibrated_daemon: Lab) -> None:
    """x on one qubit, the other idle, both measured: each qubit's P(0|1) and P(1|0) from the counts give its
    assignment fidelity, which must agree with the one the bring-up's readout experiment stored."""
    shots = 20_000
    pubs = [Circuit(2).x(0).measure_all(), Circuit(2).x(1).measure_all()]
    with calibrated_daemon.service() as service:
        result = SamplerV2(mode=service).run(pubs, shots=shots).result(timeout=600)
    snapshot = stored(calibrated_daemon)
    first, second = (r.data.meas for r in result)
    assert first.num_shots == shots and first.num_bits == 2
    bits = [first.to_bool_array(order="little"), second.to_bool_array(order="little")]
    for q in (0, 1):
        excited, idle = bits[q], bits[1 - q]
        p0_given_1 = float(np.mean(~excited[:, q]))
        p1_given_0 = float(np.mean(idle[:, q]))
        fidelity = 1 - (p0_given_1 + p1_given_0) / 2
        entry = snapshot[f"q{q}.readout_fidelity"]
        sigma = math.hypot(math.sqrt((p0_given_1 * (1 - p0_given_1) + p1_given_0 * (1 - p1_given_0)) / shots) / 2,
                           entry.stderr or 0.0)
        # 5e-4: the pi pulse's own error (below 1e-3, tested by the bring-up accuracy tests), halved
        assert abs(fidelity - entry.value) <= 3 * sigma + 5e-4, (q, fidelity, entry.value, sigma)


def test_sampler_ghz_counts_match_the_stored_bell_and_readout_fidelities(calibrated_daemon: Lab) -> None:
    """P(00) + P(11) of a GHZ-2 state lies between F A + (1 - F) B and A (see the pure-path Bell test in
    tests/calibration/test_bringup_accuracy.py for the derivation), F the stored Bell fidelity."""
    shots = 8000
    with calibrated_daemon.service() as service, Session(service) as session:
        result = SamplerV2(mode=session).run([(bell().measure_all(),)], shots=shots).result(timeout=600)
    counts = result[0].data.meas.get_counts()
    assert sum(counts.values()) == shots and set(counts) <= {"00", "01", "10", "11"}
    even = (counts.get("00", 0) + counts.get("11", 0)) / shots
    snapshot = stored(calibrated_daemon)
    f, f_err = snapshot["q0-q1.bell_fidelity"].value, snapshot["q0-q1.bell_fidelity"].stderr or 0.0
    e0, e1 = 1 - snapshot["q0.readout_fidelity"].value, 1 - snapshot["q1.readout_fidelity"].value
    a = (1 - e0) * (1 - e1) + e0 * e1
    b = e0 * (1 - e1) + (1 - e0) * e1
    sigma = math.sqrt(even * (1 - even) / shots)
    assert f * a + (1 - f) * b - 3 * math.hypot(sigma, f_err * (a - b)) - 2e-3 <= even <= a + 3 * sigma + 2e-3
    assert abs(counts.get("00", 0) - counts.get("11", 0)) / shots < 0.1   # an equal superposition


def test_sampler_registers_parameters_and_kerneled_iq(calibrated_daemon: Lab) -> None:
    theta = Parameter("theta")
    circuit = Circuit(2, 1).rx(theta, 0).measure(0, 0)                       # register "c" of one bit
    angles = np.array([0.0, math.pi])
    with calibrated_daemon.service() as service:
        classified = SamplerV2(mode=service).run([(circuit, angles, 2000)]).result(timeout=600)[0]
        kerneled = SamplerV2(mode=service, options={"execution": {"meas_type": "kerneled"}}).run(
            [(circuit, angles, 500)]).result(timeout=600)[0]
    bits = classified.data.c
    assert bits.shape == (2,) and bits.num_bits == 1 and bits.num_shots == 2000
    f0 = stored(calibrated_daemon)["q0.readout_fidelity"].value
    assert bits.get_counts(0).get("1", 0) / 2000 < 3 * (1 - f0) + 0.01        # rx(0): |0>
    assert bits.get_counts(1).get("1", 0) / 2000 > 1 - 3 * (1 - f0) - 0.01    # rx(pi): |1>
    iq = kerneled.data.c
    assert iq.dtype == np.complex128 and iq.shape == (2, 500, 1)
    snapshot = stored(calibrated_daemon)
    centre0 = complex(snapshot["q0.iq0_re"].value, snapshot["q0.iq0_im"].value)
    centre1 = complex(snapshot["q0.iq1_re"].value, snapshot["q0.iq1_im"].value)
    means = iq[..., 0].mean(axis=1)
    assert abs(means[0] - centre0) < abs(means[0] - centre1)
    assert abs(means[1] - centre1) < abs(means[1] - centre0)


# -- a Qiskit Runtime user's script ----------------------------------------------------------------------------
QISKIT_RUNTIME_SCRIPT = '''\
import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import QiskitRuntimeService, Session, EstimatorV2 as Estimator, SamplerV2 as Sampler

service = QiskitRuntimeService()
backend = service.least_busy(operational=True, simulator=False)

theta = Parameter("θ")
qc = QuantumCircuit(2)
qc.h(0)
qc.cx(0, 1)
qc.rz(theta, 1)
observables = [[SparsePauliOp("ZZ")], [SparsePauliOp.from_list([("XX", 1.0), ("YY", -1.0)])]]

with Session(backend=backend) as session:
    estimator = Estimator(mode=session)
    estimator.options.default_shots = 4000
    estimator.options.resilience_level = 1
    job = estimator.run([(qc, observables, [0.0, np.pi])])
    evs = job.result()[0].data.evs
    measured = qc.copy()
    measured.measure_all()
    sampler = Sampler(mode=session)
    counts = sampler.run([(measured, [0.0])], shots=2000).result()[0].data.meas.get_counts()

print("EVS", evs.tolist())
print("COUNTS", counts)
'''

IMPORTS = {
    "from qiskit import QuantumCircuit": "from qubitlab.circuits import Circuit as QuantumCircuit",
    "from qiskit.circuit import Parameter": "from qubitlab.circuits import Parameter",
    "from qiskit.quantum_info import SparsePauliOp": "from qubitlab.circuits import SparsePauliOp",
    "from qiskit_ibm_runtime import QiskitRuntimeService, Session, EstimatorV2 as Estimator, SamplerV2 as Sampler":
        "from qubitlab.runtime import QubitlabService as QiskitRuntimeService, Session, EstimatorV2 as Estimator, "
        "SamplerV2 as Sampler",
}


def test_a_qiskit_runtime_script_runs_after_changing_only_its_imports(calibrated_daemon: Lab,
                                                                       tmp_path: Path) -> None:
    import ast
    import os
    import subprocess
    import sys

    ported = "\n".join(IMPORTS.get(line, line) for line in QISKIT_RUNTIME_SCRIPT.splitlines()) + "\n"
    changed = [(a, b) for a, b in zip(QISKIT_RUNTIME_SCRIPT.splitlines(), ported.splitlines()) if a != b]
    assert len(changed) == len(IMPORTS)
    assert all(isinstance(ast.parse(b).body[0], ast.ImportFrom) for _, b in changed)   # imports, nothing else
    script = tmp_path / "ported.py"
    script.write_text(ported)
    daemon = calibrated_daemon.daemon
    env = {**os.environ, "QUBITLAB_DAEMON": daemon.address, "QUBITLAB_KEY": str(calibrated_daemon.keys["alice"]),
           "QUBITLAB_SERVER_KEY": str(daemon.server_key)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("EVS", "COUNTS")))
    evs = np.array(ast.literal_eval(lines["EVS"]))
    # (|00> + e^{i theta}|11>)/sqrt 2: <ZZ> = 1, <XX> - <YY> = 2 cos(theta); 0.15 covers gate errors and shots
    assert evs.shape == (2, 2)
    assert np.allclose(evs, [[1.0, 1.0], [2.0, -2.0]], atol=0.15), evs
    counts = ast.literal_eval(lines["COUNTS"])
    assert sum(counts.values()) == 2000 and (counts.get("00", 0) + counts.get("11", 0)) / 2000 > 0.9
