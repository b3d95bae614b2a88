"""The daemon over real sockets, real SQLite and real processes: round trips, priorities, sessions, batches,
cancel and time limits. Times asserted are the ones the daemon stored for each job."""

from __future__ import annotations

import time

import numpy as np
import pytest
from daemon_lab import Lab

from qubitlab import pulse
from qubitlab.errors import JobError
from qubitlab.lab_demo import rabi_schedule
from qubitlab.runtime.client import Batch, RuntimeJob, Session
from qubitlab.runtime.jobstore import JobStatus


def wait_running(job: RuntimeJob, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while job.status() is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, f"{job.job_id()} never started"
        time.sleep(0.01)


def test_submit_and_result_round_trip(lab: Lab) -> None:
    with lab.service() as service:
        job = service.submit("sleep", {"seconds": 0.0, "echo": {"x": [1, 2.5, "three"]}})
        assert job.result(timeout=60) == {"slept": 0.0, "echo": {"x": [1, 2.5, "three"]}}
        assert job.status() is JobStatus.DONE
        metrics = job.metrics()
        assert metrics["queue_time"] >= 0 and metrics["execution_time"] >= 0


def test_a_pulse_program_returns_iq_per_memory_slot_and_names_its_snapshot(lab: Lab) -> None:
    with lab.service() as service:
        backend = service.backend()
        amplitudes = np.linspace(0.0, 0.5, 6)
        job = service.submit("pulse_program", {"schedules": [pulse.dumps(rabi_schedule(a)) for a in amplitudes],
                                               "shots": 300})
        result = job.result(timeout=120)
        iq = result["memory"]["0"]
        assert iq.shape == (6, 300) and iq.dtype == np.complex128
        # driving q0 moves its mean IQ point far beyond the shot noise of the undriven point
        separation = np.abs(iq.mean(axis=1) - iq[0].mean()).max()
        assert separation > 10 * np.std(iq[0]) / np.sqrt(300)
        assert job.metrics()["snapshot_id"] == backend["snapshot_id"]
        assert {"compile", "execute_upload", "decode"} <= set(job.metrics()["timings"])


def test_priorities_then_first_in_first_out(lab: Lab) -> None:
    with lab.service() as service:
        blocker = service.submit("sleep", {"seconds": 1.0})
        wait_running(blocker)
        order = [("a", 0), ("b", 5), ("c", 0), ("d", 5), ("e", -1), ("f", 5)]
        jobs = {name: service.submit("sleep", {"seconds": 0.0}, priority=p) for name, p in order}
        for job in jobs.values():
            job.result(timeout=60)
        started = sorted(jobs, key=lambda n: jobs[n].details()["started"])
        assert started == ["b", "d", "f", "a", "c", "e"]


def test_a_session_owns_the_device_while_another_client_competes(lab: Lab) -> None:
    alice, bob = lab.service("alice"), lab.service("bob")
    try:
        with Session(alice, max_time=120, interactive_ttl=30) as session:
            first = session.submit("sleep", {"seconds": 0.05})
            wait_running(first)
            competing = [bob.submit("sleep", {"seconds": 0.01}) for _ in range(20)]
            mine = [first]
            first.result(timeout=60)
            for _ in range(9):                     # an interactive loop: think, submit, read the result
                time.sleep(0.02)
                job = session.submit("sleep", {"seconds": 0.01})
                job.result(timeout=60)
                mine.append(job)
        for job in competing:
            job.result(timeout=60)
        spans = [(j.details()["started"], j.details()["finished"]) for j in mine]
        window = (min(s for s, _ in spans), max(f for _, f in spans))
        for job in competing:
            d = job.details()
            assert d["finished"] <= window[0] or d["started"] >= window[1], "a competing job ran inside the session"
        assert all(job.details()["started"] >= window[1] for job in competing)
        assert session.details()["state"] == "closed"
    finally:
        alice.close()
        bob.close()


def test_an_idle_session_ends_after_its_interactive_ttl(lab: Lab) -> None:
    with lab.service() as service:
        session = Session(service, interactive_ttl=0.5)
        session.submit("sleep", {"seconds": 0.0}).result(timeout=60)
        time.sleep(1.2)
        details = session.details()
        assert details["state"] == "closed" and "interactive TTL" in details["reason"]
        with pytest.raises(JobError, match="accepts no more jobs"):
            session.submit("sleep", {"seconds": 0.0})


def test_close_lets_queued_jobs_finish_and_cancel_aborts_them(lab: Lab) -> None:
    with lab.service() as service:
        closing = Session(service)
        jobs = [closing.submit("sleep", {"seconds": 0.1}) for _ in range(3)]
        closing.close()
        with pytest.raises(JobError, match="accepts no more jobs"):
            closing.submit("sleep", {"seconds": 0.0})
        assert [j.wait(60)["job"]["status"] for j in jobs] == ["DONE"] * 3

        cancelled = Session(service)
        jobs = [cancelled.submit("sleep", {"seconds": 2.0}) for _ in range(3)]
        wait_running(jobs[0])
        start = time.monotonic()
        cancelled.cancel()
        assert [j.wait(30)["job"]["status"] for j in jobs] == ["CANCELLED"] * 3
        assert time.monotonic() - start < 1.5             # the running one stopped at its next safe point
        assert cancelled.details()["state"] == "closed"


def test_a_batch_does_not_keep_others_out(lab: Lab) -> None:
    alice, bob = lab.service("alice"), lab.service("bob")
    try:
        blocker = alice.submit("sleep", {"seconds": 0.5})
        wait_running(blocker)
        with Batch(alice) as batch:
            b1 = batch.submit("sleep", {"seconds": 0.0})
            other = bob.submit("sleep", {"seconds": 0.0})
            b2 = batch.submit("sleep", {"seconds": 0.0})
        times = [j.wait(60)["job"]["started"] for j in (b1, other, b2)]
        assert times == sorted(times)                      # first come, first served: bob's job in between
    finally:
        alice.close()
        bob.close()


def test_cancel_of_a_running_job_and_a_time_limit(lab: Lab) -> None:
    with lab.service() as service:
        job = service.submit("sleep", {"seconds": 10.0})
        wait_running(job)
        job.cancel()
        assert job.wait(10)["job"]["status"] == "CANCELLED"
        limited = service.submit("sleep", {"seconds": 10.0}, max_execution_time=0.5)
        content = limited.wait(15)
        assert content["job"]["status"] == "ERROR"
        assert "max_execution_time of 0.5 s" in content["job"]["error"]
        with pytest.raises(JobError, match="max_execution_time"):
            limited.result()
        assert service.submit("sleep", {"seconds": 0.0}).result(timeout=30)["slept"] == 0.0
