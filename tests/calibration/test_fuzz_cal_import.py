"""Fuzzing the calibration import (what ``qubitlab cal import`` calls) on a real SQLite store with hypothesis.

Starting from a real export of a seeded store, each example replaces a value anywhere in the document with
a random JSON value, deletes a key, or garbles the file's bytes. Properties: the import either succeeds or
raises a :class:`QubitlabError` with a message, within the deadline; a refused import leaves the store exactly
as it was (its runs and its current entries, read with plain SQL); the store passes ``PRAGMA integrity_check``.
test_cal_input.py covers the documented limits one by one through the command; this explores the rest.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_budget import budget, json_values, mutated
from hypothesis import event, given
from hypothesis import strategies as st

from qubitlab import load_lab
from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update
from qubitlab.errors import QubitlabError
from qubitlab.lab_demo import FREQUENCIES

ROOT = Path(__file__).resolve().parents[2]
VALUES = json_values()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CalibrationStore, Path, Any]]:
    folder = tmp_path_factory.mktemp("cal_import")
    lab_file = folder / "virtual_2q.yaml"
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with CalibrationStore.for_lab(load_lab(lab_file)) as opened:
        opened.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("seed", kind=RunKind.OPERATOR))
        export = folder / "export.json"
        opened.export_json(export)
        yield opened, folder, json.loads(export.read_text())


def state(store: CalibrationStore) -> tuple[Any, ...]:
    with sqlite3.connect(store.path) as conn:
        runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        entries = conn.execute("SELECT key, value, stderr FROM entries WHERE superseded_by IS NULL "
                               "ORDER BY key").fetchall()
    conn.close()
    return runs, tuple(entries)


@budget(150)
@given(st.data())
def test_an_import_succeeds_or_is_refused_with_the_store_unchanged(store: tuple[CalibrationStore, Path, Any],
                                                                   data: st.DataObject) -> None:
    opened, folder, document = store
    file = folder / "fuzzed.json"
    file.write_bytes(mutated(document, data, VALUES))
    before = state(opened)
    try:
        opened.import_json(file)
        event("imported")
    except QubitlabError as exc:
        event(f"refused: {type(exc).__name__}")
        assert str(exc).strip()
        assert state(opened) == before, "a refused import wrote to the store"
    with sqlite3.connect(opened.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
