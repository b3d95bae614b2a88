"""The ``pulse_qobj`` job kind through a real daemon on the calibrated virtual two-qubit lab.

The documents are PulseQobjs exported (pulse/qobj_export.py) from the calibrated gate map's own pulses: nothing,
a pi pulse on q0, a pi pulse on q1, then both qubits measured. The expected answers come from the stored
calibration, not from the job: counts of a pi pulse are mostly '0x1' (bit 0 = memory slot 0) at the stored
readout fidelity, averaged IQ points lie at the stored |0> and |1> discriminator centres.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from daemon_lab import Lab, calibrated_daemon_in

from qubitlab.circuits import Circuit
from qubitlab.errors import JobError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "qobj" / "assembled.json"


@pytest.fixture(scope="module")
def calibrated_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Lab]:
    with calibrated_daemon_in(tmp_path_factory.mktemp("qobj_job"), calibrated_2q[0]) as running:
        yield running


def stored(lab: Lab) -> tuple[Any, dict[str, float], Any, Any]:
    """The snapshot, its calibrated frames, the gate map and the circuit target of the lab."""
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore
    from qubitlab.calibration.frames import frames
    from qubitlab.calibration.gates import gate_map_from_snapshot
    from qubitlab.circuits import Target

    config = load_lab(lab.lab_file)
    with CalibrationStore.for_lab(config) as store:
        snapshot = store.snapshot()
    gate_map = gate_map_from_snapshot(config, snapshot)
    return snapshot, frames(config, snapshot), gate_map, Target.from_lab(config, gate_map)


def document(lab: Lab, **settings: Any) -> dict[str, Any]:
    """A PulseQobj of three experiments (idle, x q0, x q1; both measured) from the calibrated pulses, with the
    calibrated drive and readout frequencies as its LO frequencies, as Qiskit 1.x's assemble wrote them."""
    from qubitlab.circuits import lower
    from qubitlab.pulse.qobj_export import schedules_to_qobj

    _, frames, gate_map, target = stored(lab)
    circuits = [Circuit(2).measure_all(), Circuit(2).x(0).measure_all(), Circuit(2).x(1).measure_all()]
    blocks = [lower(c, gate_map, target) for c in circuits]
    doc = schedules_to_qobj(blocks, qubit_lo_freq=[frames["d0"], frames["d1"]],
                            meas_lo_freq=[frames["m0"], frames["m1"]], **settings)
    for k, experiment in enumerate(doc["experiments"]):
        experiment["header"]["name"] = ["idle", "x0", "x1"][k]
    doc["header"] = {"backend_name": "virtual_2q", "note": "echoed"}
    return json.loads(json.dumps(doc))                     # what a client would read from a file


def test_counts_of_pi_pulses_are_hex_keyed_and_match_the_stored_readout_fidelity(calibrated_daemon: Lab) -> None:
    from qubitlab.drivers.payloads import MeasLevel, MeasReturn

    shots = 4000
    doc = document(calibrated_daemon, shots=shots, meas_level=MeasLevel.CLASSIFIED, meas_return=MeasReturn.SINGLE)
    with calibrated_daemon.service() as service:
        result = service.run_qobj(doc).result(timeout=600)
    assert result["success"] is True and result["qobj_id"] == doc["qobj_id"]
    assert result["header"] == {"backend_name": "virtual_2q", "note": "echoed"}
    assert [r["header"]["name"] for r in result["results"]] == ["idle", "x0", "x1"]
    snapshot = stored(calibrated_daemon)[0]
    expected_key = {"idle": "0x0", "x0": "0x1", "x1": "0x2"}
    for r in result["results"]:
        counts = r["data"]["counts"]
        assert r["shots"] == shots and r["meas_level"] == 2 and sum(counts.values()) == shots
        assert set(counts) <= {"0x0", "0x1", "0x2", "0x3"}
        # both qubits read right: P >= F0 F1 less 5 sigma of binomial noise and 1e-3 for the pi pulse's error
        f0, f1 = snapshot["q0.readout_fidelity"].value, snapshot["q1.readout_fidelity"].value
        bound = f0 * f1 - 5 * math.sqrt(f0 * f1 * (1 - f0 * f1) / shots) - 1e-3
        assert counts.get(expected_key[r["header"]["name"]], 0) / shots >= bound, (r["header"], counts, bound)


def test_averaged_iq_lies_at_the_stored_discriminator_centres(calibrated_daemon: Lab) -> None:
    from qubitlab.drivers.payloads import MeasLevel, MeasReturn

    doc = document(calibrated_daemon, shots=2000, meas_level=MeasLevel.KERNELED, meas_return=MeasReturn.AVERAGE)
    with calibrated_daemon.service() as service:
        result = service.run_qobj(doc).result(timeout=600)
    values = stored(calibrated_daemon)[0].to_values()
    centre = {(q, s): complex(values[f"q{q}.iq{s}_re"], values[f"q{q}.iq{s}_im"]) for q in (0, 1) for s in (0, 1)}
    excited = {"idle": (), "x0": (0,), "x1": (1,)}
    for r in result["results"]:
        memory = np.asarray(r["data"]["memory"])
        assert memory.shape == (2, 2) and r["meas_return"] == "avg"          # [slot][re, im]
        for q in (0, 1):
            iq = complex(memory[q, 0], memory[q, 1])
            state = 1 if q in excited[r["header"]["name"]] else 0
            separation = abs(centre[q, 1] - centre[q, 0])
            # the average sits at (1 - e) c_s + e c_other, e the readout and pulse error: within 10% of the gap
            assert abs(iq - centre[q, state]) < 0.1 * separation, (r["header"], q, iq, centre[q, state])


def test_single_shot_iq_has_one_pair_per_shot_and_slot(calibrated_daemon: Lab) -> None:
    from qubitlab.drivers.payloads import MeasLevel, MeasReturn

    doc = document(calibrated_daemon, shots=300, meas_level=MeasLevel.KERNELED, meas_return=MeasReturn.SINGLE)
    doc["experiments"] = doc["experiments"][1:2]                                     # x on q0 only
    with calibrated_daemon.service() as service:
        result = service.run_qobj(doc).result(timeout=600)
    values = stored(calibrated_daemon)[0].to_values()
    memory = np.asarray(result["results"][0]["data"]["memory"])
    assert memory.shape == (300, 2, 2)                                              # [shot][slot][re, im]
    iq = memory[:, 0, 0] + 1j * memory[:, 0, 1]
    one, zero = (complex(values[f"q0.iq{s}_re"], values[f"q0.iq{s}_im"]) for s in (1, 0))
    assert np.mean(np.abs(iq - one) < np.abs(iq - zero)) > 0.8                     # mostly nearer |1>


def test_the_qiskit_fixture_runs_and_names_the_experiment_the_device_refused(calibrated_daemon: Lab) -> None:
    """tests/fixtures/qobj/assembled.json (Qiskit 1.4 assemble, meas_level 1 single, 512 shots, LOs 5.0/5.1 GHz)
    runs as is. Its second experiment acquires at t=0 while d0 plays, a mid-circuit measurement the virtual device
    refuses to simulate: that experiment's result says so by index and name, the first one's data are there, and
    the job is PARTIAL COMPLETED (Qiskit 1.x's word); alone, the refused experiment fails the job by name."""
    doc = json.loads(FIXTURE.read_text())
    assert [e["header"]["name"] for e in doc["experiments"]] == ["single_qubit", "frequency_shifts"]
    with calibrated_daemon.service() as service:
        result = service.run_qobj(doc).result(timeout=600)
        assert result["success"] is False and result["status"] == "PARTIAL COMPLETED"
        done, refused = result["results"]
        assert done["success"] is True and done["header"] == doc["experiments"][0]["header"]
        assert np.asarray(done["data"]["memory"]).shape == (512, doc["config"]["memory_slots"], 2)
        assert refused["success"] is False and refused["header"] == doc["experiments"][1]["header"]
        assert refused["status"].startswith("ERROR: experiment 1 ('frequency_shifts'): ")
        assert "mid-circuit measurement" in refused["status"] and refused["data"] == {}
        alone = {**doc, "experiments": doc["experiments"][1:]}
        with pytest.raises(JobError, match=r"every experiment failed: experiment 0 \('frequency_shifts'\): "
                                           r".*mid-circuit measurement"):
            service.run_qobj(alone).result(timeout=600)


def test_bad_documents_are_refused_naming_what_is_wrong(calibrated_daemon: Lab) -> None:
    doc = document(calibrated_daemon, shots=10)
    with calibrated_daemon.service() as service:
        with pytest.raises(JobError, match=r"meas_level 0 .*use meas_level 1 \(IQ\) or 2"):
            service.run_qobj({**doc, "config": {**doc["config"], "meas_level": 0}}).result(timeout=60)
        bad = json.loads(json.dumps(doc))
        bad["experiments"][0]["instructions"][0]["name"] = "snapshot"
        with pytest.raises(JobError, match=r"experiments\[0\]\.instructions\[0\] \(snapshot\): .*fc"):
            service.run_qobj(bad).result(timeout=60)
        with pytest.raises(JobError, match=r"config.rep_time 0.001 us is shorter than the experiment"):
            service.run_qobj({**doc, "config": {**doc["config"], "rep_time": 0.001}}).result(timeout=60)
        with pytest.raises(JobError, match=r"'qobj' must be a PulseQobj"):
            service.submit("pulse_qobj", {"qobj": "not a document"}).result(timeout=60)


def test_the_documents_lo_frequency_is_what_drives(calibrated_daemon: Lab) -> None:
    """The same pi pulse with qubit_lo_freq[0] detuned by 60 MHz from the calibrated frame barely excites q0.
    First-order perturbation theory: a Gaussian of area pi and width sigma detuned by D leaves
    P1 ~ (pi/2)^2 exp(-(2 pi D sigma)^2) in |1>; what is read as 1 beyond that is readout error."""
    from qubitlab.drivers.payloads import MeasLevel, MeasReturn

    shots = 2000
    doc = document(calibrated_daemon, shots=shots, meas_level=MeasLevel.CLASSIFIED, meas_return=MeasReturn.SINGLE)
    doc["experiments"] = doc["experiments"][1:2]                                     # x on q0
    detuning = 60e6
    doc["config"]["qubit_lo_freq"][0] += detuning / 1e9
    with calibrated_daemon.service() as service:
        counts = service.run_qobj(doc).result(timeout=600)["results"][0]["data"]["counts"]
    from qubitlab.pulse.instructions import Play

    snapshot, _, gate_map, _ = stored(calibrated_daemon)
    plays = [i for _, i in gate_map.get("x", (0,)).schedule.instructions if isinstance(i, Play)]
    sigma = float(plays[0].pulse.sigma) * float(gate_map.dt)                      # samples -> seconds
    leak = (math.pi / 2) ** 2 * math.exp(-(2 * math.pi * detuning * sigma) ** 2)
    error = 1 - snapshot["q0.readout_fidelity"].value
    excited = (counts.get("0x1", 0) + counts.get("0x3", 0)) / shots
    expected = leak + 2 * error                      # P(1|0) is at most twice the average assignment error
    assert excited <= expected + 5 * math.sqrt(max(expected, 1e-3) / shots) + 5e-3, (counts, leak, error)
