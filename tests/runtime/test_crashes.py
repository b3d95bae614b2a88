"""Nothing accepted is lost: kill -9 of the daemon with jobs queued and one running, and a killed worker."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

from daemon_lab import Lab, started

from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.launch import start_daemon


def test_kill_9_with_20_queued_and_one_running_loses_and_repeats_nothing(tmp_path: Path) -> None:
    lab = started(tmp_path)
    with lab.service() as service:
        running = service.submit("sleep", {"seconds": 1.5, "echo": "running"})
        while running.status() is not JobStatus.RUNNING:
            time.sleep(0.01)
        queued = [service.submit("sleep", {"seconds": 0.0, "echo": i}) for i in range(20)]
    lab.daemon.kill()                                    # kill -9 while one runs and 20 wait
    restarted = start_daemon(lab.lab_file, keys_dir=lab.daemon.keys_dir)
    try:
        assert lab.daemon.server_key is not None
        with QubitlabService(restarted.address, key=lab.keys["alice"], server_key=lab.daemon.server_key) as service:
            results = [service.job(j.job_id()).result(timeout=60) for j in [running, *queued]]
            assert [r["echo"] for r in results] == ["running", *range(20)]
            details = {j.job_id(): service.job(j.job_id()).details() for j in [running, *queued]}
        assert details[running.job_id()]["attempts"] == 2 and "requeued" in details[running.job_id()]["note"]
        assert all(details[j.job_id()]["attempts"] == 1 for j in queued)
    finally:
        restarted.stop()
    with sqlite3.connect(lab.lab_file.parent / ".qubitlab" / "jobs.sqlite") as conn:
        rows = conn.execute("SELECT job_id, status FROM jobs").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert len(rows) == 21 and {status for _, status in rows} == {"DONE"}


def test_a_killed_worker_fails_its_job_and_the_daemon_carries_on(lab: Lab) -> None:
    with lab.service() as service:
        pid = service.backend()["worker"]["pid"]
        job = service.submit("sleep", {"seconds": 30.0})
        while job.status() is not JobStatus.RUNNING:
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)                     # the worker this test's daemon started
        content = job.wait(30)
        assert content["job"]["status"] == "ERROR"
        assert "killed by signal 9" in content["job"]["error"]
        assert service.submit("sleep", {"seconds": 0.0, "echo": "next"}).result(timeout=60)["echo"] == "next"
        assert service.backend()["worker"]["pid"] != pid


def test_a_worker_whose_daemon_is_already_gone_stops_by_itself(tmp_path: Path) -> None:
    """The daemon passes its pid; a worker whose parent is not that pid (the daemon was killed while the worker
    was still starting, so it was reparented) closes the lab and exits instead of living on as an orphan."""
    import subprocess
    import sys

    from daemon_lab import lab_copy

    lab_file = lab_copy(tmp_path)
    worker = subprocess.Popen([sys.executable, "-m", "qubitlab.runtime.worker", "--lab", str(lab_file),
                               "--endpoint", "tcp://127.0.0.1:9", "--parent", str(os.getpid() + 10**6)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = worker.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        raise AssertionError("the orphaned worker kept running") from None
    assert worker.returncode == 0 and "is gone; stopping" in stderr, stderr[-2000:]
