"""Cancel of a running job stops a long acquisition promptly, over real sockets and a real worker process.

Without the worker's sliced digitizer wait, the job would sit in the acquisition until the daemon's abort grace
(5 s) ran out and the worker was killed; here the cancel must land within a second (0.5 s aimed for, the rest
is margin for a loaded machine), the same worker must carry on, and the next job must run on the instruments
it left safe."""

from __future__ import annotations

import time

import pytest
from daemon_lab import Lab

from qubitlab import pulse
from qubitlab.errors import JobError
from qubitlab.lab_demo import rabi_schedule
from qubitlab.runtime.client import RuntimeJob
from qubitlab.runtime.jobstore import JobStatus

LONG = {"schedules": [pulse.dumps(rabi_schedule(0.1))] * 20, "shots": 1_000_000, "meas_return": "avg"}
"""20 sweep points x 10^6 shots: about 7 s of simulated acquisition on an idle machine (15 s for 40 points)."""


def wait_acquiring(job: RuntimeJob, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while job.status() is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, f"{job.job_id()} never started"
        time.sleep(0.01)
    time.sleep(0.5)              # past compile and upload (a few ms): inside the digitizer wait


def test_cancel_interrupts_a_long_acquisition_and_leaves_the_lab_usable(lab: Lab) -> None:
    with lab.service() as service:
        service.submit("sleep", {"seconds": 0.0}).result(timeout=120)         # the worker is up
        before = service.backend()["worker"]
        job = service.submit("pulse_program", LONG, max_execution_time=120)
        wait_acquiring(job)
        asked = time.monotonic()
        job.cancel()
        content = job.wait(10)
        took = time.monotonic() - asked
        assert content["job"]["status"] == "CANCELLED", content["job"]
        assert took < 1.0, f"the cancel took {took:.2f} s to land"
        assert "execute_acquire" not in content["job"]["timings"]         # it never finished its acquisition
        with pytest.raises(JobError, match="cancelled"):
            job.result()
        after = service.backend()["worker"]
        assert (after["pid"], after["restarts"]) == (before["pid"], before["restarts"])   # not killed
        small = service.submit("pulse_program", {"schedule": pulse.dumps(rabi_schedule(0.2)), "shots": 200})
        assert small.result(timeout=60)["memory"]["0"].shape == (1, 200)


def test_a_time_limit_interrupts_a_long_acquisition(lab: Lab) -> None:
    with lab.service() as service:
        before = service.backend()["worker"]
        started = time.monotonic()
        job = service.submit("pulse_program", LONG, max_execution_time=1.0)
        content = job.wait(30)
        assert content["job"]["status"] == "ERROR"
        assert "max_execution_time of 1 s" in content["job"]["error"]
        assert time.monotonic() - started < 3.0                           # 1 s limit + the slice + margin
        assert service.backend()["worker"]["restarts"] == before["restarts"]
