"""The operator's path, command by command: a virtual lab in its own process (``qubitlab lab start``), a bring-up
of one qubit (``qubitlab calibrate all``), a second run that finds everything fresh, a 200 kHz drift injected
into the running lab (``qubitlab lab drift``), ``qubitlab calibrate check`` recalibrating only the frequency,
and ``qubitlab calibrate report``. The child lab is stopped by its own PID.

The truth (virtual_2q's q0 at 4.997 GHz) is read from the lab file; the stored values from the store's SQLite
file after the commands have exited.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cli_run import LAB, qubitlab, start_lab

from qubitlab.calibration import bringup
from qubitlab.calibration.store import CalibrationStore
from qubitlab.config import load_lab


def report_path(output: str) -> Path:
    found = re.search(r"report: (\S+report\.html)", output)
    assert found, output
    return Path(found.group(1))


@pytest.fixture
def running_lab(tmp_path: Path):  # type: ignore[no-untyped-def]
    written = tmp_path / "lab.yaml"
    server = start_lab(written, timeout=600)
    try:
        yield written
    finally:
        server.terminate()                      # our own child, by its PID
        server.communicate(timeout=10)


def test_bring_up_drift_and_check_from_the_command_line(running_lab: Path) -> None:
    truth = float(yaml.safe_load(LAB.read_text())["device"]["qubits"][0]["frequency"])
    qubit_nodes = sum(node.scope == "qubit" for node in bringup.GRAPH)

    done = qubitlab("calibrate", "all", "--lab", str(running_lab), "--qubits", "0", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{qubit_nodes} experiment runs planned" in done.stdout
    assert report_path(done.stdout).exists()

    again = qubitlab("calibrate", "all", "--lab", str(running_lab), "--qubits", "0", timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 experiment runs planned: everything is fresh" in again.stdout

    with CalibrationStore.for_lab(load_lab(running_lab)) as store:
        assert abs(store.snapshot().value("q0.frequency") - truth) < 50e3
        runs_before = len(store.runs())

    drifted = qubitlab("lab", "drift", str(running_lab), "--qubit", "0", "--frequency-shift", "2e5")
    assert drifted.returncode == 0, drifted.stderr
    checked = qubitlab("calibrate", "check", "--lab", str(running_lab), "--qubits", "0", timeout=240)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.findall(r"drift: (\S+)", checked.stdout) == ["q0.frequency"]
    assert report_path(checked.stdout).exists()

    with CalibrationStore.for_lab(load_lab(running_lab)) as store:
        assert abs(store.snapshot().value("q0.frequency") - (truth + 200e3)) < 50e3
        new_runs = [r.experiment for r in store.runs()[runs_before:]]
    assert new_runs == ["ramsey q0"]            # fine amplitude and readout found nothing to change

    report = qubitlab("calibrate", "report", "--lab", str(running_lab))
    assert report.returncode == 0, report.stderr
    found = re.search(r"report: (\S+report\.html)", report.stdout.replace("\n", ""))
    assert found and Path(found.group(1)).exists(), report.stdout


@pytest.mark.parametrize("factors, why", [("0.5", "give numbers in (1, 10]"), ("2,x", "could not convert"),
                                          ("1.23456", "at most 3")])
def test_calibrate_stretch_refuses_bad_factors_before_touching_the_lab(factors: str, why: str) -> None:
    done = qubitlab("calibrate", "stretch", "--lab", str(LAB), "--factors", factors)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "--factors" in done.stderr and why in done.stderr, done.stderr
