"""The job store on real SQLite: blobs in ``payloads`` (schema 2; small inputs in their row), a version 1 store
still read, and the live sessions seen after any connection writes them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from qubitlab.errors import JobError
from qubitlab.runtime.jobstore import INLINE_INPUTS, JobStatus, JobStore, SessionMode, SessionState

V1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, priority INTEGER NOT NULL, session_id TEXT, inputs BLOB NOT NULL, result BLOB,
    error_type TEXT, error TEXT, created REAL NOT NULL, started REAL, finished REAL, attempts INTEGER NOT NULL,
    max_execution_time REAL, timings TEXT NOT NULL, snapshot_id TEXT, station_snapshot TEXT, version TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '');
INSERT INTO jobs (job_id, owner, kind, status, priority, inputs, result, created, attempts, timings, version)
    VALUES ('j-old', 'alice', 'sleep', 'DONE', 0, x'0102', x'0304', 1.0, 1, '{}', '0.1');
"""


def test_blobs_live_in_payloads_and_a_finished_job_reads_back(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    job = store.add(owner="alice", kind="sleep", inputs=b"in" * 1000, priority=3)
    assert store.job(job.job_id) == job                       # the row built before the ack is the stored row
    store.start(job.job_id)
    store.finish(job.job_id, b"\x00" * 2**20, timings={"x": 1.0}, snapshot_id="s1", station_snapshot=None)
    assert store.inputs(job.job_id) == b"in" * 1000 and store.result(job.job_id) == b"\x00" * 2**20
    assert store.job(job.job_id).status is JobStatus.DONE
    store.close()
    with sqlite3.connect(tmp_path / "jobs.sqlite") as conn:
        assert conn.execute("SELECT length(inputs), result FROM jobs").fetchone() == (0, None)
        parts = conn.execute("SELECT part, length(data) FROM payloads ORDER BY part").fetchall()
    conn.close()
    assert parts == [("inputs", 2000), ("result", 2**20)]


def test_a_version_1_store_is_upgraded_and_its_rows_still_read(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    conn.close()
    store = JobStore(path)
    assert store.inputs("j-old") == b"\x01\x02" and store.result("j-old") == b"\x03\x04"
    assert store.job("j-old").owner == "alice"
    with pytest.raises(JobError, match="no job 'j-missing'"):
        store.result("j-missing")
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (2,)
    conn.close()


def test_small_inputs_stay_in_the_job_row_and_read_back(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    small = store.add(owner="alice", kind="sleep", inputs=b"s" * INLINE_INPUTS)
    large = store.add(owner="alice", kind="sleep", inputs=b"L" * (INLINE_INPUTS + 1))
    assert store.inputs(small.job_id) == b"s" * INLINE_INPUTS
    assert store.inputs(large.job_id) == b"L" * (INLINE_INPUTS + 1)
    assert store.job(small.job_id) == small and store.result(small.job_id) is None
    with pytest.raises(JobError, match="no job 'j-missing'"):
        store.inputs("j-missing")
    store.close()
    conn = sqlite3.connect(tmp_path / "jobs.sqlite")
    rows = conn.execute("SELECT job_id, length(inputs) FROM jobs ORDER BY seq").fetchall()
    parts = conn.execute("SELECT job_id, part, length(data) FROM payloads").fetchall()
    conn.close()
    assert rows == [(small.job_id, INLINE_INPUTS), (large.job_id, 0)]
    assert parts == [(large.job_id, "inputs", INLINE_INPUTS + 1)]


def test_live_sessions_follow_writes_of_this_store_and_of_another_connection(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    assert store.sessions(live=True) == []
    one = store.add_session(owner="alice", mode=SessionMode.SESSION, max_time=60.0, interactive_ttl=5.0)
    assert [s.session_id for s in store.sessions(live=True)] == [one.session_id]
    store.update_session(one.session_id, state=SessionState.CLOSED)
    assert store.sessions(live=True) == []
    other = JobStore(tmp_path / "jobs.sqlite")                 # a second connection writes a session
    two = other.add_session(owner="bob", mode=SessionMode.BATCH, max_time=60.0, interactive_ttl=5.0)
    assert [s.session_id for s in store.sessions(live=True)] == [two.session_id]
    other.update_session(two.session_id, state=SessionState.CLOSING)
    assert [s.state for s in store.sessions(live=True)] == [SessionState.CLOSING]
    other.close()
    store.close()


def test_wal_checkpoints_run_beside_the_commits_not_inside_them(tmp_path: Path) -> None:
    import os
    import time

    store = JobStore(tmp_path / "jobs.sqlite")
    store.start_checkpointer(every=0.05)
    try:
        with store._lock:                               # no commit of the daemon's copies the WAL any more
            assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        blob = os.urandom(16 * 2**10)
        ids = [store.add(owner="alice", kind="sleep", inputs=blob).job_id for _ in range(400)]   # 6.4 MB, 1600 pages
        deadline = time.monotonic() + 10
        while os.path.getsize(tmp_path / "jobs.sqlite") < 400 * len(blob) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.path.getsize(tmp_path / "jobs.sqlite") >= 400 * len(blob)   # the thread copied it in
        assert store.inputs(ids[-1]) == blob
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "jobs.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone() == (400,)
    conn.close()


def test_results_kept_in_memory_are_bounded_and_equal_what_is_on_disk(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from qubitlab.runtime import jobstore

    monkeypatch.setattr(jobstore, "RESULT_CACHE_BYTES", 4000)
    store = JobStore(tmp_path / "jobs.sqlite")
    results = {}
    for _ in range(6):
        job_id = store.add(owner="alice", kind="sleep", inputs=b"").job_id
        store.start(job_id)
        results[job_id] = os.urandom(900)
        store.finish(job_id, results[job_id], timings={}, snapshot_id=None, station_snapshot=None)
    big = store.add(owner="alice", kind="sleep", inputs=b"").job_id
    store.start(big)
    store.finish(big, os.urandom(1500), timings={}, snapshot_id=None, station_snapshot=None)   # > a quarter: not kept
    assert store._results_bytes <= 4000 and big not in store._results
    assert list(store._results) == list(results)[-4:]               # the newest kept, the oldest let go
    fresh = JobStore(tmp_path / "jobs.sqlite")                       # another connection: disk only
    for job_id, blob in results.items():
        assert store.result(job_id) == blob == fresh.result(job_id)
    store.close()
    fresh.close()
