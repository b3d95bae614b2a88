"""The SQLite store on real files in tmp_path: append-only history, atomic commits, snapshots by time and id,
rollback, export/import, and refusals that leave the database exactly as it was."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, RunStatus, Topology, Update
from qubitlab.config import LabConfig
from qubitlab.errors import CalibrationError, ConfigError


def rows(path: Path, table: str) -> list[sqlite3.Row]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


def files(store: CalibrationStore) -> dict[str, bytes]:
    """The bytes of the database and its WAL, to show that a refusal wrote nothing."""
    return {p.name: p.read_bytes() for p in store.path.parent.iterdir() if p.name.startswith(store.path.name)
            and not p.name.endswith("-shm")}


def test_the_store_lives_next_to_the_lab_file_in_wal_mode(lab: LabConfig, lab_file: Path,
                                                          store: CalibrationStore) -> None:
    assert store.path == lab_file.parent / ".qubitlab" / "calibration.sqlite"
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchall() == [(2,)]


def test_a_lab_without_a_file_has_no_store_location(lab: LabConfig) -> None:
    detached = LabConfig.model_validate(lab.model_dump())
    with pytest.raises(ConfigError, match="not loaded from a file"):
        CalibrationStore.for_lab(detached)


def test_history_is_append_only_newest_first_with_runs(store: CalibrationStore) -> None:
    store.set("q0.x_amp", 0.30, reason="first guess")
    first = store.commit([Update("q0.x_amp", 0.312, stderr=0.002, fit_quality={"r2": 0.998, "chi2_red": 1.1}),
                          Update("q0.sx_amp", 0.156)],
                         RunInfo("rabi", dataset_id="ds-17", plot_path="runs/rabi.png", message="fit ok"))
    store.set("q0.x_amp", 0.315, reason="operator tweak")
    history = store.history("q0.x_amp")
    assert [r.value for r in history] == [0.315, 0.312, 0.30]
    assert [r.run.kind for r in history] == [RunKind.OPERATOR, RunKind.EXPERIMENT, RunKind.OPERATOR]
    assert history[0].current and not history[1].current and not history[2].current
    assert history[2].superseded_by == history[1].entry_id and history[1].superseded_by == history[0].entry_id
    rabi = history[1]
    assert rabi.run.run_id == first and rabi.run.experiment == "rabi" and rabi.run.plot_path == "runs/rabi.png"
    assert rabi.stderr == 0.002 and rabi.fit_quality == {"r2": 0.998, "chi2_red": 1.1} and rabi.dataset_id == "ds-17"
    assert history[0].reason == "operator tweak" and history[0].run.message == "operator tweak"
    current = store.current("q0.x_amp")
    assert current is not None and current.value == 0.315
    assert store.current("q1.x_amp") is None
    entries = rows(store.path, "entries")
    assert len(entries) == 4 and [e["value"] for e in entries] == [0.30, 0.312, 0.156, 0.315]
    assert entries[1]["timestamp_iso"].startswith(str(datetime.now(UTC).year))
    assert entries[1]["qubits"] == "0" and entries[1]["name"] == "x_amp" and entries[1]["experiment"] == "rabi"


def test_one_run_writes_all_its_values_or_none(store: CalibrationStore) -> None:
    store.set("q0.frequency", 5.0e9, reason="start")
    before = files(store)
    with pytest.raises(CalibrationError, match="q0.x_amp: 1.5 is outside the physical bounds 0 .. 1"):
        store.commit([Update("q0.frequency", 5.01e9), Update("q1.frequency", 5.1e9), Update("q0.x_amp", 1.5)],
                     RunInfo("bad-fit"))
    with pytest.raises(CalibrationError, match="several values for q0.frequency"):
        store.commit([Update("q0.frequency", 5.01e9), Update("q0.frequency", 5.02e9)], RunInfo("dup"))
    with pytest.raises(CalibrationError, match="status failed: only a succeeded run"):
        store.commit([Update("q0.frequency", 5.01e9)], RunInfo("gate-failed", status=RunStatus.FAILED))
    with pytest.raises(CalibrationError, match="needs a reason"):
        store.set("q0.frequency", 5.01e9, reason=" ")
    assert files(store) == before
    assert len(rows(store.path, "entries")) == 1 and len(rows(store.path, "runs")) == 1


def test_a_failed_run_is_recorded_without_values(store: CalibrationStore) -> None:
    run_id = store.commit([], RunInfo("ramsey", status=RunStatus.FAILED, message="r2 = 0.41 < 0.9"))
    run = store.run(run_id)
    assert run.status is RunStatus.FAILED and run.message == "r2 = 0.41 < 0.9"
    assert rows(store.path, "entries") == []


@pytest.mark.parametrize(("key", "value", "unit", "message"), [
    ("q7.frequency", 5e9, None, "no qubit 7"),
    ("q0.x_ampl", 0.3, None, "unknown parameter 'x_ampl'"),
    ("q0-q0.cr_amp", 0.3, None, "not a coupled pair; pairs: q0-q1, q1-q0"),
    ("q0.frequency", 5.0, None, "outside the physical bounds"),
    ("q0.frequency", float("nan"), None, "not finite"),
    ("q0.frequency", 5.0, "V", "unit 'V' does not fit"),
])
def test_refused_input_leaves_the_database_byte_for_byte_unchanged(store: CalibrationStore, key: str, value: float,
                                                                  unit: str | None, message: str) -> None:
    store.set("q0.x_amp", 0.3, reason="something to keep")
    before, counts = files(store), {t: len(rows(store.path, t)) for t in ("entries", "runs", "snapshots")}
    with pytest.raises(CalibrationError, match=message):
        store.set(key, value, unit=unit, reason="typo")
    assert files(store) == before
    assert {t: len(rows(store.path, t)) for t in ("entries", "runs", "snapshots")} == counts


def test_snapshots_at_earlier_times(store: CalibrationStore) -> None:
    store.set("q0.frequency", 5.000e9, reason="a")
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    store.set("q0.frequency", 5.001e9, reason="b")
    store.set("q0.t1", 60e-6, reason="c")
    assert store.snapshot(between).value("q0.frequency") == 5.000e9 and "q0.t1" not in store.snapshot(between)
    assert store.snapshot().value("q0.frequency") == 5.001e9 and len(store.snapshot()) == 2
    assert len(store.snapshot(datetime(2000, 1, 1, tzinfo=UTC))) == 0
    with pytest.raises(CalibrationError, match="has no time zone"):
        store.snapshot(datetime(2025, 1, 1))


def test_every_state_the_store_was_in_can_be_found_by_id(store: CalibrationStore) -> None:
    ids = [store.snapshot().id]
    for value in (0.30, 0.31, 0.32):
        store.set("q0.x_amp", value, reason="step")
        ids.append(store.snapshot().id)
    assert ids[0] == "e3b0c44298fc1c14" and len(set(ids)) == 4
    assert [store.snapshot_by_id(i).value("q0.x_amp", None) for i in ids] == [None, 0.30, 0.31, 0.32]
    with pytest.raises(CalibrationError, match="no snapshot '0123456789abcdef'.*most recent: "):
        store.snapshot_by_id("0123456789abcdef")


def test_rollback_restores_values_removes_later_keys_and_deletes_nothing(store: CalibrationStore) -> None:
    store.commit([Update("q0.frequency", 5.0e9), Update("q0.x_amp", 0.30)], RunInfo("bring-up"))
    good = store.save_snapshot()
    store.commit([Update("q0.frequency", 5.002e9), Update("q0.t1", 60e-6)], RunInfo("drifted"))
    store.set("q0.x_amp", 0.30, reason="same value, new entry")
    entries_before = [tuple(r) for r in rows(store.path, "entries")]

    run_id = store.rollback(good.id, reason="bad afternoon")
    assert store.snapshot().id == good.id
    assert store.snapshot().value("q0.frequency") == 5.0e9 and "q0.t1" not in store.snapshot()
    assert store.current("q0.t1") is None
    entries_after = rows(store.path, "entries")
    # nothing deleted: every earlier row is still there with its value; only superseded_by was filled in
    for old, new in zip(entries_before, entries_after, strict=False):
        assert tuple(new)[:14] == old[:14]
    written = entries_after[len(entries_before):]
    assert [(r["key"], r["value"]) for r in written] == [("q0.frequency", 5.0e9), ("q0.t1", None)]  # x_amp equal
    assert all(r["run_id"] == run_id for r in written)
    assert store.run(run_id).kind is RunKind.ROLLBACK and "bad afternoon" in store.run(run_id).message
    t1 = store.history("q0.t1")
    assert [r.value for r in t1] == [None, 60e-6] and t1[0].removed and t1[0].current
    assert len(store.history("q0.frequency")) == 3
    store.set("q0.t1", 70e-6, reason="measured again")              # a removed key can come back
    assert store.current("q0.t1") is not None and len(store.history("q0.t1")) == 3


def test_export_then_import_into_a_fresh_store_gives_the_same_snapshot(store: CalibrationStore,
                                                                      tmp_path: Path) -> None:
    store.commit([Update("q0.frequency", 4.997e9, stderr=2e3, fit_quality={"r2": 0.99}),
                  Update("q0-q1.cr_amp", 0.21), Update("q1.drag_beta", -1.2e-9)], RunInfo("spec", dataset_id="ds-3"))
    store.set("q0.anharmonicity", -330, unit="MHz", reason="from design")
    exported = store.export_json(tmp_path / "cal.json")
    assert exported.id == store.snapshot().id
    document = json.loads((tmp_path / "cal.json").read_text())
    assert document["snapshot_id"] == exported.id
    freq = document["entries"]["q0.frequency"]
    assert (freq["value"], freq["unit"], freq["stderr"], freq["experiment"]) == (4.997e9, "Hz", 2e3, "spec")
    assert freq["fit_quality"] == {"r2": 0.99} and freq["dataset_id"] == "ds-3" and freq["time"].endswith("+00:00")
    assert document["entries"]["q0.anharmonicity"]["value"] == -3.3e8

    (tmp_path / "other").mkdir()
    with CalibrationStore(tmp_path / "other" / "cal.sqlite", topology=Topology((0, 1), ((0, 1),))) as fresh:
        run_id = fresh.import_json(tmp_path / "cal.json")
        assert fresh.snapshot().id == exported.id
        assert fresh.run(run_id).kind is RunKind.IMPORT
        record = fresh.history("q0.frequency")[0]
        assert record.reason.startswith("imported from cal.json: run ") and "(spec)" in record.reason
        assert record.dataset_id == "ds-3" and record.fit_quality == {"r2": 0.99}
        fresh.import_json(tmp_path / "cal.json")                    # again: nothing differs, nothing written
        assert len(rows(fresh.path, "entries")) == 4


def _exported(tmp_path: Path, entries: dict[str, object]) -> Path:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps({"format": "qubitlab-calibration-snapshot", "format_version": 1,
                                "snapshot_id": "0000000000000000", "entries": entries}))
    return path


@pytest.mark.parametrize(("entries", "message"), [
    ({"q0.x_amp": {"value": 0.3, "unit": ""}, "q3.x_amp": {"value": 0.3, "unit": ""}}, "no qubit 3"),
    ({"q0.x_amp": {"value": 0.3, "unit": ""}, "q0.x_ampl": {"value": 0.3, "unit": ""}}, "unknown parameter"),
    ({"q0.x_amp": {"value": 0.3, "unit": ""}, "q0.frequency": {"value": 5e12, "unit": "Hz"}}, "outside"),
    ({"q0.x_amp": {"value": 0.3, "unit": ""}, "q0.frequency": {"value": 5, "unit": "V"}}, "unit 'V'"),
    ({"q0.x_amp": {"value": 0.3, "unit": ""}, "q0.t1": {"value": "60us", "unit": "s"}}, "value must be a number"),
])
def test_import_checks_everything_before_writing(store: CalibrationStore, tmp_path: Path,
                                                 entries: dict[str, object], message: str) -> None:
    store.set("q0.x_amp", 0.25, reason="keep me")
    before = files(store)
    with pytest.raises(CalibrationError, match=message):
        store.import_json(_exported(tmp_path, entries))
    assert files(store) == before
    assert len(rows(store.path, "entries")) == 1 and len(rows(store.path, "runs")) == 1


def test_import_converts_a_hand_edited_unit(store: CalibrationStore, tmp_path: Path) -> None:
    store.import_json(_exported(tmp_path, {"q0.frequency": {"value": 4997.0, "unit": "MHz", "stderr": 2}}))
    entry = store.current("q0.frequency")
    assert entry is not None and (entry.value, entry.unit, entry.stderr) == (4.997e9, "Hz", 2e6)


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cal.sqlite"
    CalibrationStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 7")
    with pytest.raises(CalibrationError, match="schema version 7; this qubitlab reads up to version 2: upgrade"):
        CalibrationStore(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cal.sqlite"
    path.write_text("these are my notes\n" * 100)
    with pytest.raises(CalibrationError, match="cannot open calibration store .*not a database"):
        CalibrationStore(path)
    assert path.read_text() == "these are my notes\n" * 100


V1_RUNS = """CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, experiment TEXT NOT NULL,
    started REAL NOT NULL, started_iso TEXT NOT NULL, finished REAL NOT NULL, finished_iso TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, plot_path TEXT, dataset_id TEXT)"""


def test_a_version_1_store_gains_the_runs_snapshot_id_and_keeps_its_runs(tmp_path: Path, lab: LabConfig) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:         # a store as version 1 wrote it: runs without snapshot_id
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute(V1_RUNS)
        conn.execute("INSERT INTO runs VALUES ('r1', 'operator', 'set', 1.0, 'a', 2.0, 'b', 'succeeded', '', NULL, "
                     "NULL)")
    conn.close()
    with CalibrationStore(path, topology=lab) as store:
        assert store.run("r1").snapshot_id is None
        measured_with = store.snapshot().id
        run_id = store.commit([Update("q0.x_amp", 0.3)], RunInfo("rabi q0", snapshot_id=measured_with))
        assert store.run(run_id).snapshot_id == measured_with
        assert store.history("q0.x_amp")[0].run.snapshot_id == measured_with
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (2,)
    conn.close()


def test_the_current_snapshot_is_read_again_after_any_write_here_or_elsewhere(store: CalibrationStore,
                                                                               lab: LabConfig) -> None:
    """snapshot() reuses the values it read while nothing was written; a write by this store, by a second store
    on the same file (another process's connection) or or by a bare SQLite UPDATE is seen at once."""
    store.set("q0.x_amp", 0.30, reason="first")
    first = store.snapshot()
    again = store.snapshot()
    assert again.id == first.id and again["q0.x_amp"].value == 0.30 and again.taken_at >= first.taken_at
    store.set("q0.x_amp", 0.31, reason="again")                         # this connection's own write
    assert store.snapshot()["q0.x_amp"].value == 0.31
    other = CalibrationStore(store.path, topology=lab)                     # another connection to the file
    other.set("q0.x_amp", 0.32, reason="elsewhere")
    other.close()
    assert store.snapshot()["q0.x_amp"].value == 0.32
    with sqlite3.connect(store.path) as conn:                               # a write that is not ours at all
        conn.execute("UPDATE entries SET value = 0.33 WHERE superseded_by IS NULL AND key = 'q0.x_amp'")
    latest = store.snapshot()
    assert latest["q0.x_amp"].value == 0.33 and latest.id != first.id
