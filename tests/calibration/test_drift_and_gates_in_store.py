"""Drift and failed gates, through the store: ``check`` recalibrates only what moved; a failed gate writes
nothing but the run that failed and why."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qubitlab.calibration import bringup
from qubitlab.calibration.experiments import resonator_spectroscopy
from qubitlab.calibration.session import LabSession, open_calibration

ROOT = Path(__file__).resolve().parents[2]
F_Q0 = 4.997e9                      # lab_configs/virtual_2q.yaml device.qubits.0.frequency
UP_TO_CHECKS = ("resonator_spectroscopy", "qubit_spectroscopy", "rabi", "ramsey", "readout", "drag", "fine_amplitude")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    folder = tmp_path_factory.mktemp("drift")
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", folder / "virtual_2q.yaml")
    with open_calibration(folder / "virtual_2q.yaml", shots=500) as opened:
        steps = [s for s in bringup.plan(opened.ledger, [0], []) if s.node.name in UP_TO_CHECKS]
        outcomes = bringup.calibrate(opened.ctx, opened.ledger, steps, bringup.default_runner)
        assert all(o.passed for o in outcomes), [o.summary() for o in outcomes if not o.passed]
        yield opened


def test_a_failed_gate_writes_no_value_and_records_why(session: LabSession) -> None:
    before = session.store.snapshot()
    started = time.time()
    outcome = resonator_spectroscopy.run(session.ctx, 0, span=(6.90e9, 6.92e9))   # no resonator there
    session.ledger.record(outcome, started)
    assert not outcome.passed and not outcome.updates and outcome.plot is not None and outcome.plot.exists()
    assert session.store.snapshot().id == before.id                          # nothing written
    last = session.store.runs()[-1]
    assert last.status.value == "failed" and "SNR" in last.message


def test_check_finds_a_200_khz_drift_and_recalibrates_only_the_frequency(session: LabSession) -> None:
    assert abs(session.store.snapshot().value("q0.frequency") - F_Q0) < 50e3
    runs_before = len(session.store.runs())
    session.virtual.drift(0, frequency_shift=200e3)
    try:
        results = bringup.check(session.ctx, session.ledger, [0], bringup.default_runner)
    finally:
        session.virtual.drift(0, frequency_shift=-200e3)
    drifted = {key for r in results for key in r.drifted}
    assert drifted == {"q0.frequency"}
    assert abs(session.store.snapshot().value("q0.frequency") - (F_Q0 + 200e3)) < 50e3
    new_runs = session.store.runs()[runs_before:]
    assert [r.experiment for r in new_runs] == ["ramsey q0"]                   # fine amplitude, readout untouched
