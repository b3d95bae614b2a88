"""The durable job store: SQLite (WAL) next to the calibration store, so that "accepted" means "on disk".

The daemon commits a job before it acknowledges it and commits a result before it reports DONE, so ``kill -9``
loses nothing it has said yes to. On start, :meth:`JobStore.recover` puts a job that was RUNNING when the daemon
died back in the queue once (``attempts`` counts, the reason is kept) and fails it after that. Rows hold what a
user asks about later: inputs, result, error, timings per stage, the calibration snapshot id, the station
snapshot reference and the qubitlab version.

Sessions and batches live here too: their state, time limits and activity times, so ``qubitlab sessions list``
and a restarted daemon see them.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NewType

from qubitlab.errors import JobError

JobId = NewType("JobId", str)
RESULT_CACHE_BYTES = 64 * 2**20
"""Results kept in memory after they were written or read (the newest first; one over a quarter of this is not)."""
log = logging.getLogger("qubitlab.runtime.jobstore")
SessionId = NewType("SessionId", str)
SCHEMA_VERSION = 2
"""2: inputs and results moved to ``payloads`` (version 1 rows, blobs in ``jobs``, are still read)."""
JOBS_FILE = "jobs.sqlite"


class JobStatus(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)


class SessionMode(enum.Enum):
    SESSION = "session"
    BATCH = "batch"


class SessionState(enum.Enum):
    OPEN = "open"            # accepting jobs; not started (no job ran yet)
    ACTIVE = "active"        # a job ran: the session owns the device (sessions only)
    CLOSING = "closing"      # close(): queued jobs finish, no new ones
    CLOSED = "closed"        # nothing left; or expired (TTL / max_time) or cancelled: see reason

    @property
    def accepts(self) -> bool:
        return self in (SessionState.OPEN, SessionState.ACTIVE)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, priority INTEGER NOT NULL, session_id TEXT, inputs BLOB NOT NULL, result BLOB,
    error_type TEXT, error TEXT, created REAL NOT NULL, started REAL, finished REAL, attempts INTEGER NOT NULL,
    max_execution_time REAL, timings TEXT NOT NULL, snapshot_id TEXT, station_snapshot TEXT, version TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority, seq);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, owner TEXT NOT NULL, mode TEXT NOT NULL, state TEXT NOT NULL,
    max_time REAL NOT NULL, interactive_ttl REAL NOT NULL, created REAL NOT NULL, started REAL,
    last_activity REAL, closed REAL, reason TEXT NOT NULL DEFAULT '', usage REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS sessions_live ON sessions (state);
CREATE TABLE IF NOT EXISTS payloads (
    job_id TEXT NOT NULL, part TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job_id, part));
CREATE TABLE IF NOT EXISTS progress (
    job_id TEXT NOT NULL, seq INTEGER NOT NULL, record BLOB NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (job_id, seq));
"""
# Why a table of its own for the blobs: SQLite keeps a row's columns in order, so a column after a 1 MiB blob
# is reached by walking the blob's overflow pages -- a status read of a job with a large result cost 1.2 ms.
# Inputs of up to INLINE_INPUTS bytes stay in the row (they cannot push it past a page): a submit then writes
# one row, not two rows in two tables and their indexes, before its acknowledgement.
INLINE_INPUTS = 512
_JOB_COLUMNS = ("seq, job_id, owner, kind, status, priority, session_id, created, started, finished, attempts, "
                "max_execution_time, timings, snapshot_id, station_snapshot, version, error_type, error, note")
"""Every column but the two blobs (inputs, result): a status read never copies a megabyte result."""


@dataclass(frozen=True)
class JobRow:
    seq: int
    job_id: JobId
    owner: str
    kind: str
    status: JobStatus
    priority: int
    session_id: SessionId | None
    created: float
    started: float | None
    finished: float | None
    attempts: int
    max_execution_time: float | None
    timings: dict[str, float]
    snapshot_id: str | None
    station_snapshot: str | None
    version: str
    error_type: str | None
    error: str | None
    note: str

    def summary(self) -> dict[str, Any]:
        """Plain data for the wire and for ``qubitlab jobs``."""
        return {"job_id": self.job_id, "owner": self.owner, "kind": self.kind, "status": self.status.value,
                "priority": self.priority, "session_id": self.session_id, "created": self.created,
                "started": self.started, "finished": self.finished, "attempts": self.attempts,
                "timings": self.timings, "snapshot_id": self.snapshot_id, "station_snapshot": self.station_snapshot,
                "version": self.version, "error_type": self.error_type, "error": self.error, "note": self.note}


@dataclass(frozen=True)
class SessionRow:
    session_id: SessionId
    owner: str
    mode: SessionMode
    state: SessionState
    max_time: float
    interactive_ttl: float
    created: float
    started: float | None
    last_activity: float | None
    closed: float | None
    reason: str
    usage: float

    def summary(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "owner": self.owner, "mode": self.mode.value,
                "state": self.state.value, "max_time": self.max_time, "interactive_ttl": self.interactive_ttl,
                "created": self.created, "started": self.started, "last_activity": self.last_activity,
                "closed": self.closed, "reason": self.reason, "usage": self.usage}


def new_job_id() -> JobId:
    return JobId(f"j-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.urandom(5).hex()}")  # 40 random bits


class JobStore:
    """Jobs and sessions in ``path`` (SQLite in WAL mode with ``synchronous=NORMAL``: a committed job survives
    the daemon's death, ``kill -9`` included; only a power cut or an OS crash can undo the last commits, the
    trade SQLite documents for WAL, taken here for a 10x faster acknowledgement)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")   # WAL: a commit survives the process (kill -9)
        with self._transaction() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            if row[0] is None or int(row[0]) < SCHEMA_VERSION:      # new, or version 1: payloads added above
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif int(row[0]) > SCHEMA_VERSION:
                raise JobError(f"job store {self.path} has schema version {row[0]}; this qubitlab reads up to "
                               f"{SCHEMA_VERSION}: upgrade qubitlab")
        self.path.chmod(0o600)
        self._live: list[SessionRow] | None = None
        """The sessions not CLOSED, as last read; the scheduler asks after every change (each submit)."""
        self._live_version = -1
        self._checkpointer: threading.Thread | None = None
        self._results: OrderedDict[str, bytes] = OrderedDict()
        self._results_bytes = 0
        self._checkpoint_stop = threading.Event()

    def start_checkpointer(self, every: float = 0.5) -> None:
        """Copy the WAL into the database from a thread of its own, every ``every`` seconds, instead of inside
        whichever commit passes SQLite's 1000-page mark: that copy and its fsync took 7-15 ms, and landed in a
        client's submit about every 80 jobs. A PASSIVE checkpoint waits for no lock, so commits go on meanwhile."""
        if self._checkpointer is not None:
            return
        with self._lock:
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoint_stop.clear()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(every,), daemon=True,
                                              name="jobstore-checkpoint")
        self._checkpointer.start()

    def _checkpoint_loop(self, every: float) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0.0)
        try:
            while not self._checkpoint_stop.wait(every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:        # busy now: the next turn copies what this one could not
                    log.debug("WAL checkpoint of %s: %s", self.path, exc)
        finally:
            conn.close()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpoint_stop.set()
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- jobs ---------------------------------------------------------------------------------------------------------
    def add(self, *, owner: str, kind: str, inputs: bytes, priority: int = 0, session_id: str | None = None,
            max_execution_time: float | None = None, version: str = "") -> JobRow:
        """The job, committed: one transaction, one row for small inputs (two for larger ones)."""
        job_id, created = new_job_id(), time.time()
        inline = 0 < len(inputs) <= INLINE_INPUTS
        with self._transaction() as conn:
            cursor = conn.execute("INSERT INTO jobs (job_id, owner, kind, status, priority, session_id, inputs, "
                                  "created, attempts, max_execution_time, timings, version) VALUES (?, ?, ?, ?, ?, ?, "
                                  "?, ?, 0, ?, '{}', ?)", (job_id, owner, kind, JobStatus.QUEUED.value, priority,
                                                           session_id, inputs if inline else b"", created,
                                                           max_execution_time, version))
            seq = cursor.lastrowid
            if not inline:
                conn.execute("INSERT INTO payloads (job_id, part, data) VALUES (?, 'inputs', ?)", (job_id, inputs))
        assert seq is not None
        # the row as committed, built here rather than read back (one statement less before the ack)
        return JobRow(seq, job_id, owner, kind, JobStatus.QUEUED, priority, SessionId(session_id) if session_id
                      else None, created, None, None, 0, max_execution_time, {}, None, None, version, None, None, "")

    def job(self, job_id: str) -> JobRow:
        with self._lock:
            row = self._conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobError(f"no job {job_id!r} in {self.path}")
        return _job(row)

    def inputs(self, job_id: str) -> bytes:
        """A job's inputs: in its row when small (and in version 1 stores), else in ``payloads``."""
        with self._lock:
            row = self._conn.execute("SELECT inputs FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobError(f"no job {job_id!r}")
            if row[0]:
                return bytes(row[0])
            row = self._conn.execute("SELECT data FROM payloads WHERE job_id = ? AND part = 'inputs'", (job_id,)
                                     ).fetchone()
        if row is None:
            raise JobError(f"no inputs of job {job_id!r} in {self.path}")
        return bytes(row[0])

    def result(self, job_id: str) -> bytes | None:
        """A job's result: from ``payloads``, else (a version 1 row) from its column in ``jobs``. A result never
        changes once written, so the latest ones are kept in memory (:data:`RESULT_CACHE_BYTES`): reading a
        megabyte back from SQLite into a new object cost 0.4-0.9 ms, more than sending it to a local client."""
        with self._lock:
            cached = self._results.get(job_id)
            if cached is not None:
                self._results.move_to_end(job_id)
                return cached
            row = self._conn.execute("SELECT data FROM payloads WHERE job_id = ? AND part = 'result'", (job_id,)
                                     ).fetchone()
            if row is None:
                row = self._conn.execute("SELECT result FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
                if row is None:
                    raise JobError(f"no job {job_id!r}")
            if row[0] is None:
                return None
            blob = bytes(row[0])
            self._remember(job_id, blob)
        return blob

    def _remember(self, job_id: str, blob: bytes) -> None:
        if len(blob) > RESULT_CACHE_BYTES // 4:
            return
        self._results[job_id] = blob
        self._results_bytes += len(blob)
        while self._results_bytes > RESULT_CACHE_BYTES:
            self._results_bytes -= len(self._results.popitem(last=False)[1])

    def jobs(self, *, owner: str | None = None, status: JobStatus | None = None, session_id: str | None = None,
             limit: int = 1000) -> list[JobRow]:
        clauses, params = [], []
        for column, value in (("owner", owner), ("status", status.value if status else None),
                              ("session_id", session_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs{where} ORDER BY seq DESC LIMIT ?",
                                      (*params, limit)).fetchall()
        return [_job(r) for r in rows]

    def queued(self) -> list[JobRow]:
        """QUEUED jobs, in the order the scheduler considers them (priority high first, then FIFO)."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY priority DESC, seq ASC",
                                      (JobStatus.QUEUED.value,)).fetchall()
        return [_job(r) for r in rows]

    def start(self, job_id: str) -> JobRow:
        with self._transaction() as conn:
            cursor = conn.execute("UPDATE jobs SET status = ?, started = ?, attempts = attempts + 1 WHERE job_id = ? "
                                  "AND status = ?", (JobStatus.RUNNING.value, time.time(), job_id,
                                                     JobStatus.QUEUED.value))
            if cursor.rowcount != 1:
                raise JobError(f"job {job_id} is not queued; it cannot start")
        return self.job(job_id)

    def finish(self, job_id: str, result: bytes, *, timings: Mapping[str, float], snapshot_id: str | None,
               station_snapshot: str | None) -> None:
        """DONE with ``result``: the result is on disk before anyone is told."""
        with self._transaction() as conn:
            cursor = conn.execute("UPDATE jobs SET status = ?, finished = ?, timings = ?, snapshot_id = ?, "
                                  "station_snapshot = ? WHERE job_id = ? AND status = ?",
                                  (JobStatus.DONE.value, time.time(), json.dumps(dict(timings)), snapshot_id,
                                   station_snapshot, job_id, JobStatus.RUNNING.value))
            written = cursor.rowcount == 1
            if written:
                conn.execute("INSERT OR REPLACE INTO payloads (job_id, part, data) VALUES (?, 'result', ?)",
                             (job_id, result))
        if written:                                       # committed: now it may be served from memory
            with self._lock:
                self._remember(job_id, result)

    def fail(self, job_id: str, error_type: str, message: str, *, status: JobStatus = JobStatus.ERROR,
             timings: Mapping[str, float] | None = None) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET status = ?, error_type = ?, error = ?, finished = ?, "
                         "timings = COALESCE(?, timings) WHERE job_id = ? AND status IN (?, ?)",
                         (status.value, error_type, message, time.time(),
                          json.dumps(dict(timings)) if timings is not None else None, job_id,
                          JobStatus.QUEUED.value, JobStatus.RUNNING.value))

    def requeue(self, job_id: str, note: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET status = ?, started = NULL, note = ? WHERE job_id = ? AND status = ?",
                         (JobStatus.QUEUED.value, note, job_id, JobStatus.RUNNING.value))

    def add_progress(self, job_id: str, record: bytes) -> int:
        """Append one interim result (a :func:`~qubitlab.runtime.protocol.pack` document) of ``job_id``; its
        sequence number, counting from 1."""
        with self._transaction() as conn:
            row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM progress WHERE job_id = ?", (job_id,)).fetchone()
            seq = int(row[0]) + 1
            conn.execute("INSERT INTO progress (job_id, seq, record, created) VALUES (?, ?, ?, ?)",
                         (job_id, seq, record, time.time()))
        return seq

    def progress(self, job_id: str, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        """``job_id``'s interim results with a sequence number above ``after``, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, record FROM progress WHERE job_id = ? AND seq > ? ORDER BY seq "
                                      "LIMIT ?", (job_id, after, limit)).fetchall()
        return [(int(seq), bytes(record)) for seq, record in rows]

    def recover(self, retries: int = 1, not_retried: frozenset[str] = frozenset()) -> list[str]:
        """After a crash: each RUNNING job back to QUEUED if it has had at most ``retries`` retries, else ERROR
        (a job of a kind in ``not_retried`` at once: a program, whose streamed history stays readable); returns
        what was done, for the log."""
        done = []
        for job in self.jobs(status=JobStatus.RUNNING):
            if job.kind in not_retried:
                self.fail(job.job_id, "JobError", "the daemon stopped during this program; its history up to then "
                          "is kept (job.stream()); run it again, e.g. from the last parameters")
                done.append(f"{job.job_id}: ERROR (a {job.kind} program is not re-run)")
            elif job.attempts <= retries:
                self.requeue(job.job_id, f"requeued after the daemon stopped during attempt {job.attempts}")
                done.append(f"{job.job_id}: requeued (attempt {job.attempts} interrupted)")
            else:
                self.fail(job.job_id, "JobError", f"the daemon stopped during each of {job.attempts} attempts; "
                          "not retried again")
                done.append(f"{job.job_id}: ERROR after {job.attempts} interrupted attempts")
        return done

    # -- sessions ------------------------------------------------------------------------------------------------------
    def add_session(self, *, owner: str, mode: SessionMode, max_time: float, interactive_ttl: float) -> SessionRow:
        session_id = SessionId(f"s-{uuid.uuid4().hex[:12]}")
        self._live = None
        with self._transaction() as conn:
            conn.execute("INSERT INTO sessions (session_id, owner, mode, state, max_time, interactive_ttl, created) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (session_id, owner, mode.value, SessionState.OPEN.value,
                                                          max_time, interactive_ttl, time.time()))
        return self.session(session_id)

    def session(self, session_id: str) -> SessionRow:
        with self._lock:
            row = self._conn.execute("SELECT * FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            raise JobError(f"no session {session_id!r}")
        return _session(row)

    def sessions(self, *, owner: str | None = None, live: bool = False) -> list[SessionRow]:
        if live and owner is None:
            return self._live_sessions()
        where, params = [], []
        if owner is not None:
            where.append("owner = ?")
            params.append(owner)
        if live:
            where.append("state != ?")
            params.append(SessionState.CLOSED.value)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM sessions{clause} ORDER BY created", params).fetchall()
        return [_session(r) for r in rows]

    def _live_sessions(self) -> list[SessionRow]:
        """``sessions(live=True)``, read again only after a session was written: by this store (which forgets
        its copy) or by another connection (SQLite's ``data_version`` moves)."""
        with self._lock:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if self._live is None or version != self._live_version:
                rows = self._conn.execute("SELECT * FROM sessions WHERE state != ? ORDER BY created",
                                          (SessionState.CLOSED.value,)).fetchall()
                self._live, self._live_version = [_session(r) for r in rows], version
            return list(self._live)

    def update_session(self, session_id: str, **fields: Any) -> SessionRow:
        allowed = {"state", "started", "last_activity", "closed", "reason", "usage"}
        if not fields or set(fields) - allowed:
            raise JobError(f"cannot update session fields {sorted(set(fields) - allowed)}")
        values = [v.value if isinstance(v, enum.Enum) else v for v in fields.values()]
        self._live = None
        with self._transaction() as conn:
            conn.execute(f"UPDATE sessions SET {', '.join(f'{k} = ?' for k in fields)} WHERE session_id = ?",
                         (*values, session_id))
        return self.session(session_id)

    def integrity(self) -> str:
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


def _job(row: sqlite3.Row) -> JobRow:
    return JobRow(row["seq"], JobId(row["job_id"]), row["owner"], row["kind"], JobStatus(row["status"]),
                  row["priority"], row["session_id"], row["created"], row["started"], row["finished"],
                  row["attempts"], row["max_execution_time"], json.loads(row["timings"]), row["snapshot_id"],
                  row["station_snapshot"], row["version"], row["error_type"], row["error"], row["note"])


def _session(row: sqlite3.Row) -> SessionRow:
    return SessionRow(SessionId(row["session_id"]), row["owner"], SessionMode(row["mode"]),
                      SessionState(row["state"]), row["max_time"], row["interactive_ttl"], row["created"],
                      row["started"], row["last_activity"], row["closed"], row["reason"], row["usage"])
