"""The JSON file a calibration snapshot travels in between stores (another lab PC, a backup, a bug report).

It holds, per key, the value in SI with its unit and standard error, when it was written, and where it came
from (run id, experiment, run kind, dataset, fit quality, reason). Reading checks the file's structure and
names the first problem; the store then checks every key and value against the parameter schema before it
writes anything. Writing goes to a temporary file renamed into place, so a failed export leaves no half file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qubitlab.calibration.records import Record
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.errors import CalibrationError

FORMAT = "qubitlab-calibration-snapshot"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Item:
    """One value read from a file, not yet checked against the parameter schema."""

    key: str
    value: float
    unit: str
    stderr: float | None
    fit_quality: dict[str, float]
    dataset_id: str | None
    provenance: str


@dataclass(frozen=True)
class Document:
    snapshot_id: str
    items: list[Item]


def write(path: Path, snapshot: Snapshot, records: list[Record], source: str) -> None:
    """``snapshot`` (whose entries are ``records``) as JSON in ``path``, atomically."""
    entries = {}
    for record in sorted(records, key=lambda r: r.key):
        entries[record.key] = {
            "value": record.value, "unit": record.unit, "stderr": record.stderr,
            "timestamp": record.timestamp, "time": record.time.isoformat(),
            "run_id": record.run.run_id, "run_kind": record.run.kind.value, "experiment": record.run.experiment,
            "dataset_id": record.dataset_id, "fit_quality": record.fit_quality, "reason": record.reason,
        }
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, "snapshot_id": snapshot.id,
                "taken_at": snapshot.taken_at.isoformat(), "source": source, "entries": entries}
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    if not path.parent.is_dir():
        raise CalibrationError(f"cannot export to {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)                                # mkstemp's 0600 would hide the file from colleagues
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> Document:
    """The items of an exported file; raises naming the file and the first malformed part."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CalibrationError(f"calibration file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"calibration file {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CalibrationError(f"{path} is not a qubitlab calibration export (no \"format\": \"{FORMAT}\")")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CalibrationError(f"{path}: format_version {version!r} is not supported; this qubitlab reads up to "
                               f"{FORMAT_VERSION}: upgrade qubitlab")
    entries = data.get("entries")
    if not isinstance(entries, dict):
        raise CalibrationError(f"{path}: \"entries\" must map keys to values")
    return Document(str(data.get("snapshot_id", "?")), [_item(path, key, raw) for key, raw in entries.items()])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _item(path: Path, key: str, raw: Any) -> Item:
    where = f"{path}: entries.{key}"
    if not isinstance(raw, dict):
        raise CalibrationError(f"{where} must be an object with value, unit, stderr")
    if not _number(raw.get("value")):
        raise CalibrationError(f"{where}.value must be a number, got {raw.get('value')!r}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        raise CalibrationError(f"{where}.unit must be a string such as \"Hz\", got {unit!r}")
    stderr = raw.get("stderr")
    if stderr is not None and not _number(stderr):
        raise CalibrationError(f"{where}.stderr must be a number or null, got {stderr!r}")
    quality = raw.get("fit_quality") or {}
    if not isinstance(quality, dict):
        raise CalibrationError(f"{where}.fit_quality must be an object of numbers, got {quality!r}")
    dataset = raw.get("dataset_id")
    provenance = (f"imported from {path.name}: run {raw.get('run_id', '?')} ({raw.get('experiment', '?')}) "
                  f"at {raw.get('time', '?')}" + (f"; {raw['reason']}" if raw.get("reason") else ""))
    return Item(key, float(raw["value"]), unit, None if stderr is None else float(stderr), quality,
                None if dataset is None else str(dataset), provenance)
