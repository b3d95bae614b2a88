"""``qubitlab calibrate`` while a daemon owns the lab: the command submits a ``calibrate`` job instead of opening
the instruments, and refuses without a key the daemon lets in. A real daemon process (its own worker, which opens
the virtual two-qubit lab) over a fresh store; the truth (q0 at 4.997 GHz, T1 = 60 us) is read from the lab
file, the stored values from the store's SQLite file after the command has exited."""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from cli_run import LAB, QUBITLAB, ROOT

from qubitlab.calibration import bringup
from qubitlab.calibration.store import CalibrationStore
from qubitlab.config import load_lab
from qubitlab.errors import JobError
from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.keys import new_keypair
from qubitlab.runtime.launch import DaemonProcess, client_key, start_daemon

QUBIT_NODES = [node.name for node in bringup.GRAPH if node.scope == "qubit"]


def qubitlab(*args: str, timeout: float = 60, login: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", **({"LOGNAME": login} if login else {})}
    return subprocess.run([*QUBITLAB, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@dataclass
class Owned:
    lab_file: Path
    store: Path
    daemon: DaemonProcess
    key: Path

    def service(self) -> QubitlabService:
        assert self.daemon.server_key is not None
        return QubitlabService(self.daemon.address, key=self.key, server_key=self.daemon.server_key)

    def runs(self, since: float = 0.0) -> list[tuple[str, float]]:
        with CalibrationStore.for_lab(load_lab(self.lab_file)) as store:
            return [(r.experiment, r.finished.timestamp())
                    for r in store.runs(datetime.fromtimestamp(since, UTC))]

    def job_ids(self) -> set[str]:
        with self.service() as client:
            return {j["job_id"] for j in client.jobs()}


@pytest.fixture(scope="module")
def owned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owned]:
    folder = tmp_path_factory.mktemp("calibrate_daemon")
    lab_file = folder / "virtual_2q.yaml"
    shutil.copy(LAB, lab_file)                                  # a fresh store: every value comes from this run
    store = folder / ".qubitlab"
    key = client_key(store / "keys", getpass.getuser())         # the default <keys>/clients/<user>.key_secret
    daemon = start_daemon(lab_file)
    try:
        running = Owned(lab_file, store, daemon, key)
        with running.service() as client:
            deadline = time.monotonic() + 60
            while not client.backend()["worker"]["ready"]:
                assert time.monotonic() < deadline, "the worker did not open the lab"
                time.sleep(0.1)
        yield running
    finally:
        daemon.stop()


@pytest.mark.parametrize("mode", ["all", "check"])
def test_without_a_usable_key_calibrate_refuses_and_touches_nothing(owned: Owned, mode: str, tmp_path: Path) -> None:
    jobs, reports = owned.job_ids(), set((owned.store / "reports").glob("*"))
    done = qubitlab("calibrate", mode, "--lab", str(owned.lab_file), "--qubits", "0", login="nokey-operator")
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join(done.stderr.split())
    assert f"a daemon (pid {owned.daemon.pid}, {owned.daemon.address}) owns lab 'virtual_2q'" in text
    assert "nokey-operator.key_secret" in text and "qubitlab keys new nokey-operator" in text
    assert "qubitlab keys allow" in text

    _, stranger = new_keypair(tmp_path, "stranger")                 # a key the daemon does not know
    done = qubitlab("calibrate", mode, "--lab", str(owned.lab_file), "--key", str(stranger))
    assert done.returncode == 2 and "not on the allow-list" in done.stderr, done.stdout + done.stderr
    assert owned.runs() == [] and owned.job_ids() == jobs and set((owned.store / "reports").glob("*")) == reports


def test_calibrate_all_runs_as_a_daemon_job_and_its_values_land_in_the_store(owned: Owned) -> None:
    truth = yaml.safe_load(LAB.read_text())["device"]["qubits"][0]
    done = qubitlab("calibrate", "all", "--lab", str(owned.lab_file), "--qubits", "0", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = re.search(r"calibrate job (j-\S+) submitted to the daemon", done.stdout)
    assert job_id, done.stdout
    assert f"{len(QUBIT_NODES)} experiment runs planned" in done.stdout
    report = re.search(r"report: (\S+report\.html)", done.stdout)
    assert report and Path(report.group(1)).is_file(), done.stdout

    listed = json.loads(qubitlab("jobs", "list", "--lab", str(owned.lab_file), "--json").stdout)
    job = {j["job_id"]: j for j in listed}[job_id.group(1)]
    assert (job["kind"], job["status"], job["priority"], job["owner"]) == ("calibrate", "DONE", 10,
                                                                          getpass.getuser())
    runs = owned.runs()
    assert [name for name, _ in runs] == [f"{node} q0" for node in QUBIT_NODES]
    assert all(job["started"] <= finished <= job["finished"] for _, finished in runs)   # inside the daemon's job
    with CalibrationStore.for_lab(load_lab(owned.lab_file)) as store:
        snapshot = store.snapshot()
        assert abs(snapshot.value("q0.frequency") - float(truth["frequency"])) < 50e3
        assert abs(snapshot.value("q0.t1") - float(truth["t1"])) < 0.15 * float(truth["t1"])
        assert snapshot.value("q1.frequency", None) is None                  # --qubits 0 only
        assert job["snapshot_id"] == snapshot.id


def test_cancel_stops_a_running_calibration_between_experiments(owned: Owned) -> None:
    with owned.service() as client:
        restarts = client.backend()["worker"]["restarts"]
        job = client.submit("calibrate", {"mode": "all", "qubits": [0], "force": True, "shots": 300})
        deadline = time.monotonic() + 120
        while len(owned.runs(job.details()["started"] or time.time())) < 2:
            assert time.monotonic() < deadline and not job.done(), job.details()
            time.sleep(0.2)
        before = len(owned.runs(job.details()["started"]))
        done = qubitlab("jobs", "cancel", job.job_id(), "--lab", str(owned.lab_file))
        assert done.returncode == 0 and f"job {job.job_id()}: CANCELLED" in done.stdout, done.stdout + done.stderr
        details = job.details()
        assert details["status"] == "CANCELLED" and "cancelled by its owner" in details["error"]
        after = len(owned.runs(details["started"]))
        # at most one run lands while the command starts up, and one more is in flight when the cancel arrives
        assert before <= after <= before + 2 and after < len(QUBIT_NODES)
        assert client.backend()["worker"]["restarts"] == restarts      # stopped at a safe point, not killed


def test_bad_calibrate_inputs_fail_the_job_naming_the_input(owned: Owned) -> None:
    with owned.service() as client:
        for inputs, named in (({"mode": "sideways"}, "'mode'"), ({"qubits": [7]}, "'qubits'"),
                              ({"shots": 0}, "'shots'"), ({"force": "yes"}, "'force'")):
            with pytest.raises(JobError, match=named):
                client.submit("calibrate", inputs).result(timeout=60)
    jobs = owned.job_ids()
    done = qubitlab("calibrate", "all", "--lab", str(owned.lab_file), "--qubits", "7")
    assert done.returncode == 2 and "no qubit 7" in done.stderr, done.stdout + done.stderr
    assert owned.job_ids() == jobs
