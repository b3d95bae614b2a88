"""Instrument faults during jobs in a session, through the daemon: each fault kind of the virtual lab (mute, slow,
drop, corrupt; docs/instruments/fault_injection.md) injected before a pulse job. The job ends ERROR with an error
naming the instrument and the run stage, nothing is stored as its result, no AWG output or LO RF is left on,
and once the instrument is healed the session's next job runs DONE (the worker reconnected).

The virtual lab runs in this test process (1 s VISA timeouts) and the daemon's worker connects to it, so faults
can be injected while the daemon serves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_lab import Lab, started
from fault_checks import unsafe
from virtual_rig import VIRTUAL_2Q, with_timeouts

from qubitlab import load_lab, pulse
from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update
from qubitlab.cli.lab import write_lab_file
from qubitlab.drivers.mock.lab import VirtualLab
from qubitlab.drivers.mock.scpi import Fault
from qubitlab.lab_demo import FREQUENCIES, rabi_schedule
from qubitlab.runtime.client import Session


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, VirtualLab]]:
    folder = tmp_path_factory.mktemp("faults")
    with VirtualLab(with_timeouts(load_lab(VIRTUAL_2Q), 1.0), seed=5) as virtual:
        lab_file = folder / "lab.yaml"
        write_lab_file(virtual.lab_config(), lab_file)
        with CalibrationStore.for_lab(load_lab(lab_file)) as store:
            store.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("freq", kind=RunKind.OPERATOR))
        lab = started(folder, lab_file=lab_file)
        try:
            yield lab, virtual
        finally:
            lab.daemon.stop()


SCHEDULE = pulse.dumps(rabi_schedule(0.1))


@pytest.mark.parametrize(("fault", "instrument"), [
    (Fault.MUTE, "awg"), (Fault.SLOW, "lo_q0"), (Fault.DROP, "digitizer"), (Fault.CORRUPT, "digitizer"),
    (Fault.DROP, "awg"), (Fault.CORRUPT, "lo_ro")])
def test_a_fault_fails_its_job_naming_instrument_and_stage_and_the_session_goes_on(
        rig: tuple[Lab, VirtualLab], fault: Fault, instrument: str) -> None:
    lab, virtual = rig
    with lab.service(timeout=60) as service:
        session = Session(service, max_time=600)
        try:
            assert session.submit("pulse_program", {"schedule": SCHEDULE, "shots": 100}).result(timeout=120)
            virtual.inject(instrument, fault, delay=3.0 if fault is Fault.SLOW else 0.0)
            try:
                failed = session.submit("pulse_program", {"schedule": SCHEDULE, "shots": 100}).wait(timeout=120)
                left_on = unsafe(virtual)                  # after the safe-off, before healing
            finally:
                virtual.inject(instrument, Fault.NONE)
            job = failed["job"]
            assert job["status"] == "ERROR", job
            assert f"'{instrument}'" in job["error"] and "run stage '" in job["error"], job["error"]
            assert failed.get("result") is None
            beyond_reach = {instrument} if fault in (Fault.MUTE, Fault.DROP) else set()   # cannot be switched off
            assert set(left_on) <= beyond_reach, left_on
            after = session.submit("pulse_program", {"schedule": SCHEDULE, "shots": 100})
            assert after.result(timeout=120), "the session's next job did not run after the fault was healed"
            assert after.details()["session_id"] == session.session_id
        finally:
            session.cancel()
    assert {n: why for n, why in unsafe(virtual).items() if n == "awg"} == {}   # LOs stay on between runs
    with sqlite3.connect(lab.lab_file.parent / ".qubitlab" / "jobs.sqlite") as conn:
        stored = conn.execute("SELECT result FROM jobs WHERE job_id = ?", (job["job_id"],)).fetchone()
    conn.close()
    assert stored == (None,), "a failed job left a result in the store"
