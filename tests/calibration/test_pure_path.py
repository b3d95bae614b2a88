"""The snapshot-first path without instruments: a real lab's file (no ``bringup:`` section), a calibration
imported from JSON, the gate map built from the snapshot alone, a Bell circuit lowered and compiled.

The payload checks are written from the lab file and the imported values, not from the compiler: the LO
settings are the lab's, the CR tone on q0's line plays at q1's frequency (IF = f1 - LO0) with ``cr_amp`` as its
flat top while q1's line plays the cancellation tone at ``cancel_amp`` and IF f1 - LO1, and each readout window
integrates ``readout_duration`` at the digitizer's rate.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from qubitlab import load_lab
from qubitlab.calibration import CalibrationStore
from qubitlab.calibration.frames import frames
from qubitlab.calibration.gates import gate_map_from_snapshot
from qubitlab.circuits import Circuit, Target, lower
from qubitlab.errors import CalibrationError
from qubitlab.pulse.compiler import compile

ROOT = Path(__file__).resolve().parents[2]
F0, F1, R0, R1 = 4.95e9, 5.12e9, 7.05e9, 7.11e9
VALUES = {  # key: (value, unit) as another lab PC's export holds them
    "q0.frequency": (F0, "Hz"), "q1.frequency": (F1, "Hz"),
    "q0.resonator_frequency": (R0, "Hz"), "q1.resonator_frequency": (R1, "Hz"),
    "q0.x_amp": (0.2, ""), "q0.sx_amp": (0.1, ""), "q1.x_amp": (0.22, ""), "q1.sx_amp": (0.11, ""),
    "q0.pulse_duration": (40e-9, "s"), "q1.pulse_duration": (40e-9, "s"),
    "q0.pulse_sigma": (10e-9, "s"), "q1.pulse_sigma": (10e-9, "s"),
    "q0.readout_duration": (1.6e-6, "s"), "q1.readout_duration": (1.6e-6, "s"),
    "q0.readout_amp": (0.12, ""), "q1.readout_amp": (0.12, ""),
    "q0-q1.cr_amp": (0.3, ""), "q0-q1.cr_duration": (256e-9, "s"), "q0-q1.cr_phase": (0.0, "rad"),
    "q0-q1.cancel_amp": (0.05, ""), "q0-q1.cancel_phase": (0.4, "rad"),
}
LO0, LO1, LO_RO = 4.85e9, 5.05e9, 7.15e9          # example_real_lab.yaml's lines
AWG_RATE, DIGITIZER_RATE = 2.5e9, 1.0e9


@pytest.fixture
def snapshot(tmp_path: Path):  # type: ignore[no-untyped-def]
    lab_file = tmp_path / "example_real_lab.yaml"
    shutil.copy(ROOT / "lab_configs" / "example_real_lab.yaml", lab_file)
    export = tmp_path / "from_the_other_pc.json"
    export.write_text(json.dumps({
        "format": "qubitlab-calibration-snapshot", "format_version": 1, "snapshot_id": "0123456789abcdef",
        "entries": {key: {"value": value, "unit": unit, "stderr": None} for key, (value, unit) in VALUES.items()}}))
    lab = load_lab(lab_file)
    assert lab.bringup is None and lab.kind == "real"
    with CalibrationStore.for_lab(lab) as store:
        store.import_json(export)
        yield lab, store.snapshot()


def test_a_real_lab_without_bringup_gets_a_gate_map_and_a_compiled_bell_circuit(snapshot) -> None:  # type: ignore[no-untyped-def]
    lab, snap = snapshot
    gate_map = gate_map_from_snapshot(lab, snap)
    assert {(name, qubits) for name, qubits in gate_map.calibrated()} >= {("x", (0,)), ("sx", (1,)), ("measure", (0,)),
                                                                   ("ecr", (0, 1))}
    bell = Circuit(2).h(0).cx(0, 1).measure_all()
    schedule = lower(bell, gate_map, Target.from_lab(lab, gate_map))
    program = compile(schedule, lab, frames(lab, snap))

    los = program.lo_settings()
    assert {name: s.frequency for name, s in los.items()} == {"lo_q0": LO0, "lo_q1": LO1, "lo_ro": LO_RO}

    awg = program.awg_programs()["awg"]
    q0_line = awg.played("1").astype(np.float64) + 1j * awg.played("2")
    q1_line = awg.played("3").astype(np.float64) + 1j * awg.played("4")
    # the CR flat top: samples of q0's line at cr_amp (no single-qubit gate reaches 0.3)
    flat = np.flatnonzero(np.isclose(np.abs(q0_line), 0.3, atol=1e-6))
    cr_samples = 256e-9 * AWG_RATE
    edges = 2 * 2 * 16e-9 * AWG_RATE                   # two 2-sigma edges of the default 16 ns sigma
    assert len(flat) == pytest.approx(2 * (cr_samples - edges), abs=4)   # both halves of the echo
    assert np.abs(q0_line).max() == pytest.approx(0.3, abs=1e-6)
    # while it plays, q1's line plays the cancellation tone at cancel_amp
    np.testing.assert_allclose(np.abs(q1_line[flat]), 0.05, atol=1e-6)
    # the carriers: the CR at q1's frequency on q0's line, the cancellation at q1's frequency on q1's line
    run = flat[: len(flat) // 2]
    for line, lo in ((q0_line, LO0), (q1_line, LO1)):
        step = np.angle(line[run[1:]] / line[run[:-1]])
        expected = 2 * math.pi * (F1 - lo) / AWG_RATE
        expected = math.remainder(expected, 2 * math.pi)
        np.testing.assert_allclose(np.abs(step), abs(expected), atol=1e-4)

    digitizer = program.digitizer_programs()["digitizer"]
    assert sorted(w.memory_slot for w in digitizer.windows) == [0, 1]
    assert {w.length for w in digitizer.windows} == {round(1.6e-6 * DIGITIZER_RATE)}
    assert sorted(abs(w.demod_frequency) for w in digitizer.windows) == pytest.approx(sorted(
        [abs(R0 - LO_RO), abs(R1 - LO_RO)]))
    # the readout comes after the ECR: two halves, the x on the control between them
    assert program.duration >= 2 * 256e-9 + 40e-9 + 1.6e-6


def test_a_missing_value_names_its_key_and_provider(snapshot) -> None:  # type: ignore[no-untyped-def]
    lab, snap = snapshot
    partial = type(snap)({k: e for k, e in snap.items() if k != "q1.pulse_sigma"}, snap.taken_at)
    with pytest.raises(CalibrationError, match=r"q1\.pulse_sigma.*bringup\.pulse_sigma.*cal set"):
        gate_map_from_snapshot(lab, partial)
    no_ecr = type(snap)({k: e for k, e in snap.items() if k != "q0-q1.cr_amp"}, snap.taken_at)
    with pytest.raises(CalibrationError, match=r"q0-q1\.cr_amp"):
        gate_map_from_snapshot(lab, no_ecr, pairs=[(0, 1)])
    assert ("ecr", (0, 1)) not in gate_map_from_snapshot(lab, type(snap)(
        {k: e for k, e in snap.items() if not k.startswith("q0-q1")}, snap.taken_at)).calibrated()
