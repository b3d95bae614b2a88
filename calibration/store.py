"""The calibration store: an append-only SQLite history of calibrated values, safe for several processes.

The daemon (writing fit results) and operators (``qubitlab cal set``) use the same file at once, so the store
runs SQLite in WAL mode with a busy timeout and writes every change in one ``BEGIN IMMEDIATE`` transaction:
several values land together or not at all. Nothing is ever deleted or overwritten; a newer value marks the one
it replaces with ``superseded_by``, and removing a key (a rollback to a time before it existed) appends a
*removal marker*: an entry whose value is NULL. Every value records the run that produced it (``runs`` table).

After every write the store records the resulting current snapshot (its content id and entry ids) in the
``snapshots`` table, so any state the store has been in can be found by id later and restored by
:meth:`CalibrationStore.rollback`. All input is validated against :mod:`qubitlab.calibration.parameters` (and
the lab's qubits and couplings) before the transaction starts: refused input writes nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qubitlab.calibration import exchange
from qubitlab.calibration.parameters import ParamKey, Topology, check_stderr, check_value, parse_key
from qubitlab.calibration.records import Record, RunInfo, RunKind, RunRecord, RunStatus, Update, new_run_id
from qubitlab.calibration.snapshot import Entry, RunId, Snapshot, SnapshotId
from qubitlab.errors import CalibrationError, ConfigError

if TYPE_CHECKING:
    from qubitlab.config.models import LabConfig

SCHEMA_VERSION = 2
"""2: runs record the snapshot id they measured with (a version-1 store gains the column when opened)."""
BUSY_TIMEOUT_MS = 30_000
STORE_FILE = "calibration.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, experiment TEXT NOT NULL,
    started REAL NOT NULL, started_iso TEXT NOT NULL, finished REAL NOT NULL, finished_iso TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, plot_path TEXT, dataset_id TEXT, snapshot_id TEXT);
CREATE TABLE IF NOT EXISTS entries (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, qubits TEXT NOT NULL, name TEXT NOT NULL,
    value REAL, unit TEXT NOT NULL, stderr REAL, timestamp REAL NOT NULL, timestamp_iso TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(run_id), experiment TEXT NOT NULL, dataset_id TEXT,
    fit_quality TEXT NOT NULL, reason TEXT NOT NULL, superseded_by INTEGER REFERENCES entries(entry_id));
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, entry_id);
CREATE INDEX IF NOT EXISTS entries_current ON entries (superseded_by);
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id TEXT PRIMARY KEY, taken_at REAL NOT NULL, taken_at_iso TEXT NOT NULL, entry_ids TEXT NOT NULL);
"""


@dataclass(frozen=True)
class _Row:
    """A validated value about to be written (``value`` None: removal marker)."""

    key: ParamKey
    value: float | None
    stderr: float | None = None
    fit_quality: str = "{}"
    reason: str = ""
    dataset_id: str | None = None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


class CalibrationStore:
    """The calibration history in one SQLite file; ``topology`` (if given) restricts keys to a lab's qubits."""

    def __init__(self, path: str | Path, topology: LabConfig | Topology | None = None) -> None:
        self.path = Path(path)
        self.topology = Topology.of(topology) if topology is not None else None
        self._lock = threading.RLock()
        self._commits = 0
        """Write transactions committed on this connection (SQLite's data_version counts only the others')."""
        self._current: tuple[tuple[int, int], Snapshot] | None = None
        """The current values with the store's state they were read at: what ``snapshot()`` returns again
        while nothing was written (a runtime job reads it once per job; re-reading costs ~3-8 ms)."""
        if not self.path.parent.is_dir():
            raise CalibrationError(f"cannot open calibration store {self.path}: folder {self.path.parent} "
                                   "does not exist")
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._check_version()
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._create()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise CalibrationError(f"cannot open calibration store {self.path}: {exc}") from exc
        except CalibrationError:
            self._conn.close()
            raise

    @classmethod
    def for_lab(cls, lab: LabConfig) -> CalibrationStore:
        """The store of ``lab``: ``<lab.store_path()>/calibration.sqlite``, folder created if needed."""
        if lab.source is None and not (lab.store.path and Path(lab.store.path).is_absolute()):
            raise ConfigError(f"lab {lab.name!r} was not loaded from a file and has no absolute store.path: "
                              "cannot tell where its calibration store lives; load it with load_lab() or set "
                              "store.path")
        folder = lab.store_path()
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / STORE_FILE, topology=lab)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CalibrationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------------------------------
    def _version(self) -> int | None:
        exists = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'")
        if exists.fetchone() is None:
            return None
        row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return None if row[0] is None else int(row[0])

    def _check_version(self) -> None:
        version = self._version()
        if version is not None and version > SCHEMA_VERSION:
            raise CalibrationError(f"calibration store {self.path} has schema version {version}; this qubitlab "
                                   f"reads up to version {SCHEMA_VERSION}: upgrade qubitlab to open it")

    def _create(self) -> None:
        with self._transaction() as conn:
            for statement in _SCHEMA.split(";"):      # not executescript: it would commit on its own
                if statement.strip():
                    conn.execute(statement)
            version = self._version()
            if version is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                self._record_snapshot(conn, self._now(conn))    # the empty store is a state too
            elif version < 2:
                columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
                if "snapshot_id" not in columns:
                    conn.execute("ALTER TABLE runs ADD COLUMN snapshot_id TEXT")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database's write lock from its start (BEGIN IMMEDIATE)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._commits += 1

    # -- writing ----------------------------------------------------------------------------------------------------
    def commit(self, updates: Iterable[Update], run: RunInfo) -> RunId:
        """Write ``updates`` as one run, all or nothing; every update is validated first. Returns the run id."""
        rows = [self._validate(u, run.dataset_id) for u in updates]
        keys = [row.key.text for row in rows]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise CalibrationError(f"one run gives several values for {', '.join(duplicates)}; give one each")
        if rows and run.status is not RunStatus.SUCCEEDED:
            raise CalibrationError(f"run {run.experiment!r} has status {run.status.value}: only a succeeded run "
                                   "(a fit that passed its quality gates) may write values")
        with self._transaction() as conn:
            return self._write(conn, run, rows)

    def set(self, key: str, value: float, unit: str | None = None, stderr: float | None = None, *,
            reason: str) -> RunId:
        """An operator's edit of one value, recorded as a run of kind ``operator`` with its reason."""
        if not reason.strip():
            raise CalibrationError(f"setting {key} by hand needs a reason (kept in the history); give reason=...")
        run = RunInfo(experiment="operator", kind=RunKind.OPERATOR, message=reason)
        return self.commit([Update(key, value, unit, stderr, reason=reason)], run)

    def rollback(self, snapshot_id: str, reason: str = "") -> RunId:
        """Make snapshot ``snapshot_id`` current again by appending its values for every key that differs now;
        keys it did not hold get removal markers. Recorded as a run of kind ``rollback``."""
        target = self.snapshot_by_id(snapshot_id)
        run = RunInfo(experiment="rollback", kind=RunKind.ROLLBACK,
                      message=f"rollback to snapshot {target.id}" + (f": {reason}" if reason else ""))
        with self._transaction() as conn:
            current = self._snapshot(conn, None)
            rows = []
            for change in current.diff(target):
                key = parse_key(change.key)
                if change.new is None:
                    rows.append(_Row(key, None, reason=f"removed: not in snapshot {target.id}"))
                else:
                    rows.append(_Row(key, change.new.value, change.new.stderr,
                                     reason=f"rollback to snapshot {target.id} (entry {change.new.entry_id} of "
                                            f"run {change.new.run_id})"))
            return self._write(conn, run, rows)

    def save_snapshot(self, at: datetime | None = None) -> Snapshot:
        """The snapshot at ``at`` (default now), recorded so that :meth:`snapshot_by_id` finds it later."""
        with self._transaction() as conn:
            snapshot = self._snapshot(conn, at)
            self._insert_snapshot(conn, snapshot)
        return snapshot

    def export_json(self, path: str | Path) -> Snapshot:
        """Write the current snapshot with units, errors, timestamps and provenance to ``path`` (JSON)."""
        snapshot = self.save_snapshot()
        records = self._records("e.entry_id IN (SELECT value FROM json_each(?))",
                                (json.dumps([e.entry_id for e in snapshot.values()]),))
        exchange.write(Path(path), snapshot, records, source=str(self.path))
        return snapshot

    def import_json(self, path: str | Path) -> RunId:
        """Make the values of an exported file current, as one run of kind ``import``. Every key, unit and value
        is checked before anything is written; keys the file does not hold are left as they are."""
        document = exchange.read(Path(path))
        rows = [self._validate(Update(item.key, item.value, item.unit, item.stderr, item.fit_quality,
                                      reason=item.provenance), item.dataset_id)
                for item in document.items]
        run = RunInfo(experiment="import", kind=RunKind.IMPORT,
                      message=f"import of snapshot {document.snapshot_id} from {Path(path).name}")
        with self._transaction() as conn:
            current = self._snapshot(conn, None)
            changed = [row for row in rows if (entry := current.get(row.key.text)) is None
                       or entry.content() != (row.value, row.key.spec.unit, row.stderr)]
            return self._write(conn, run, changed)

    def _validate(self, update: Update, dataset_id: str | None) -> _Row:
        key = parse_key(update.key, self.topology)
        value = check_value(key, update.value, update.unit)
        stderr = check_stderr(key, update.stderr, update.unit)
        quality = dict(update.fit_quality or {})
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in quality.values()):
            raise CalibrationError(f"{key}: fit quality {quality!r} must map names to finite numbers")
        return _Row(key, value, stderr, json.dumps(quality, sort_keys=True), update.reason, dataset_id)

    def _now(self, conn: sqlite3.Connection) -> float:
        """Now, but never before the newest entry (a stepped-back clock must not reorder the history)."""
        newest = conn.execute("SELECT MAX(timestamp) FROM entries").fetchone()[0]
        return max(time.time(), newest or 0.0)

    def _write(self, conn: sqlite3.Connection, run: RunInfo, rows: list[_Row]) -> RunId:
        now = self._now(conn)
        run_id = run.run_id or new_run_id(run.kind)
        started = run.started.timestamp() if run.started else now
        finished = run.finished.timestamp() if run.finished else now
        try:
            conn.execute("INSERT INTO runs (run_id, kind, experiment, started, started_iso, finished, finished_iso, "
                         "status, message, plot_path, dataset_id, snapshot_id) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (run_id, run.kind.value, run.experiment, started, _iso(started), finished, _iso(finished),
                          run.status.value, run.message, run.plot_path, run.dataset_id, run.snapshot_id))
        except sqlite3.IntegrityError:
            raise CalibrationError(f"run id {run_id!r} is already in {self.path}; give a new one") from None
        for row in rows:
            previous = conn.execute("SELECT entry_id FROM entries WHERE key = ? AND superseded_by IS NULL",
                                    (row.key.text,)).fetchone()
            cursor = conn.execute(
                "INSERT INTO entries (key, qubits, name, value, unit, stderr, timestamp, timestamp_iso, run_id, "
                "experiment, dataset_id, fit_quality, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.key.text, row.key.qubits_text, row.key.name, row.value, row.key.spec.unit, row.stderr, now,
                 _iso(now), run_id, run.experiment, row.dataset_id, row.fit_quality, row.reason))
            if previous is not None:
                conn.execute("UPDATE entries SET superseded_by = ? WHERE entry_id = ?",
                             (cursor.lastrowid, previous[0]))
        if rows:
            self._record_snapshot(conn, now)
        return RunId(run_id)

    def _record_snapshot(self, conn: sqlite3.Connection, now: float) -> None:
        self._insert_snapshot(conn, self._snapshot(conn, None, taken_at=now))

    def _insert_snapshot(self, conn: sqlite3.Connection, snapshot: Snapshot) -> None:
        ids = json.dumps(sorted(entry.entry_id for entry in snapshot.values()))
        taken = snapshot.taken_at.timestamp()
        conn.execute("INSERT OR IGNORE INTO snapshots VALUES (?, ?, ?, ?)", (snapshot.id, taken, _iso(taken), ids))

    # -- reading ----------------------------------------------------------------------------------------------------
    def current(self, key: str) -> Entry | None:
        """The current value of ``key``, or None if it was never set or was removed."""
        parsed = parse_key(key, self.topology)
        records = self._records("e.key = ? AND e.superseded_by IS NULL", (parsed.text,))
        return records[0].entry() if records and not records[0].removed else None

    def history(self, key: str) -> list[Record]:
        """Every value ever written for ``key``, newest first, with the run that wrote it."""
        parsed = parse_key(key, self.topology)
        return self._records("e.key = ?", (parsed.text,), newest_first=True)

    def snapshot(self, at: datetime | None = None) -> Snapshot:
        """The values current at ``at`` (default: now); ``at`` must be timezone-aware.

        The current values are read again only after a write, by this connection (counted here) or by any
        other connection or process (SQLite's ``PRAGMA data_version``); otherwise the last ones are returned,
        taken now."""
        with self._lock:
            if at is not None:
                return self._snapshot(self._conn, at)
            state = (int(self._conn.execute("PRAGMA data_version").fetchone()[0]), self._commits)
            if self._current is not None and self._current[0] == state:
                return self._current[1].retaken(datetime.now(UTC))
            snapshot = self._snapshot(self._conn, None)
            self._current = (state, snapshot)
            return snapshot

    def snapshot_by_id(self, snapshot_id: str) -> Snapshot:
        """A snapshot recorded earlier (after any write, by :meth:`save_snapshot` or an export)."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM snapshots WHERE snapshot_id = ?", (snapshot_id,)).fetchone()
            if row is None:
                recent = [r[0] for r in self._conn.execute(
                    "SELECT snapshot_id FROM snapshots ORDER BY taken_at DESC LIMIT 5")]
                raise CalibrationError(f"no snapshot {snapshot_id!r} in {self.path}; most recent: "
                                       f"{', '.join(recent) or 'none'}")
            records = self._records("e.entry_id IN (SELECT value FROM json_each(?))", (row["entry_ids"],))
        snapshot = Snapshot({r.key: r.entry() for r in records}, datetime.fromtimestamp(row["taken_at"], UTC))
        if snapshot.id != snapshot_id:
            raise CalibrationError(f"snapshot {snapshot_id} in {self.path} does not match its entries "
                                   f"(they hash to {snapshot.id}): the store is damaged")
        return snapshot

    def last_run_time(self, experiment: str, status: RunStatus | None = RunStatus.SUCCEEDED) -> float | None:
        """When the latest run named ``experiment`` (with ``status``, if given) finished, UTC seconds."""
        query = "SELECT MAX(finished) FROM runs WHERE experiment = ?" + (" AND status = ?" if status else "")
        params: tuple[Any, ...] = (experiment, status.value) if status else (experiment,)
        with self._lock:
            row = self._conn.execute(query, params).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def runs(self, since: datetime | None = None, kind: RunKind | None = None) -> list[RunRecord]:
        """Runs that finished at or after ``since`` (all when None), oldest first."""
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("finished >= ?")
            params.append(since.timestamp())
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind.value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM runs{where} ORDER BY finished", tuple(params)).fetchall()
        return [_run_record(row, "") for row in rows]

    def run(self, run_id: str) -> RunRecord:
        with self._lock:
            row = self._conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise CalibrationError(f"no run {run_id!r} in {self.path}")
        return _run_record(row, "")

    def _snapshot(self, conn: sqlite3.Connection, at: datetime | None, taken_at: float | None = None) -> Snapshot:
        params: tuple[float, ...] = ()
        if at is None:
            where = "e.superseded_by IS NULL"
            taken = datetime.fromtimestamp(taken_at, UTC) if taken_at is not None else datetime.now(UTC)
        else:
            if at.tzinfo is None:
                raise CalibrationError(f"time {at.isoformat()} has no time zone; give one (e.g. +00:00 for UTC)")
            where = "e.entry_id IN (SELECT MAX(entry_id) FROM entries WHERE timestamp <= ? GROUP BY key)"
            params, taken = (at.timestamp(),), at
        records = self._records(where + " AND e.value IS NOT NULL", params, conn=conn)
        return Snapshot({r.key: r.entry() for r in records}, taken)

    def _records(self, where: str, params: tuple[Any, ...], *, newest_first: bool = False,
                 conn: sqlite3.Connection | None = None) -> list[Record]:
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = (conn or self._conn).execute(
                "SELECT e.*, r.kind, r.experiment AS run_experiment, r.started, r.finished, r.status, r.message, "
                f"r.plot_path, r.dataset_id AS run_dataset_id, r.snapshot_id FROM entries e JOIN runs r USING (run_id) "
                f"WHERE {where} ORDER BY e.entry_id {order}", params).fetchall()
        return [Record(row["entry_id"], row["key"], row["value"], row["unit"], row["stderr"], row["timestamp"],
                       _run_record(row, "run_"), row["dataset_id"], json.loads(row["fit_quality"]), row["reason"],
                       row["superseded_by"]) for row in rows]


def _run_record(row: Mapping[str, Any] | sqlite3.Row, prefix: str) -> RunRecord:
    return RunRecord(RunId(row["run_id"]), RunKind(row["kind"]), row[f"{prefix}experiment"],
                     datetime.fromtimestamp(row["started"], UTC), datetime.fromtimestamp(row["finished"], UTC),
                     RunStatus(row["status"]), row["message"], row["plot_path"], row[f"{prefix}dataset_id"],
                     row["snapshot_id"])



