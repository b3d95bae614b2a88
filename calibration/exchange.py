"""The JSON file a calibration snapshot travels in between stores (another lab PC, a backup, a bug report).

It holds, per key, the value in SI with its unit and standard error, when it was written, and where it came
from (run id, experiment, run kind, dataset, fit quality, reason). Reading checks the file's structure and
names the first problem; the store then checks every key and value against the parameter schema before it
writes anything. A file from elsewhere is untrusted: before it is parsed, its size (``MAX_BYTES``), nesting
(``MAX_DEPTH``) and number of objects and arrays (``MAX_CONTAINERS``) are checked on the text, so a hostile
file costs neither gigabytes nor minutes; an object repeating a key (``json`` would keep the last value
silently) and ``NaN``/``Infinity`` (not JSON) are refused. Writing goes to a temporary file renamed into place,
so a failed export leaves no half file; the file gets the mode ``0o666 & ~umask``, like any new file.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qubitlab.calibration.records import Record
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.errors import CalibrationError

FORMAT = "qubitlab-calibration-snapshot"
FORMAT_VERSION = 1
MAX_BYTES = 4 * 2**20
"""Largest file read: an export takes ~400 bytes per value, so 4 MiB is ~10000 values (50 qubits hold ~1500)."""
MAX_DEPTH = 8
"""Deepest nesting of objects and arrays read; the format needs 4 (document, entries, an entry, its fit_quality)."""
MAX_CONTAINERS = 50_000
"""Most objects and arrays in one file; an export has two per value (the entry and its fit_quality) and two more."""
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
"""A JSON string (or an unterminated one, to the end); possessive, so a scan is linear in the file's length."""
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_CHUNK = 2**18


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
    _write_atomically(path, text)


def _write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file in the same folder, renamed into place. The temporary
    file is created with mode 0o666 so the kernel applies the umask (``mkstemp`` would force 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL          # O_EXCL: never through an existing file or link
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise CalibrationError(f"cannot export to {path}: no free temporary name in {path.parent}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read(path: Path) -> Document:
    """The items of an exported file; raises naming the file and the first malformed part."""
    data = _load(path)
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


def _load(path: Path) -> Any:
    """The parsed JSON of ``path`` within the limits; duplicate keys and non-JSON numbers refused."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise CalibrationError(f"calibration file {path} does not exist") from None
    except OSError as exc:
        raise CalibrationError(f"calibration file {path} cannot be read: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise CalibrationError(f"calibration file {path} is larger than {MAX_BYTES // 2**20} MiB; an export of a "
                               "whole lab is far smaller: is it the right file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalibrationError(f"calibration file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
                               ) from None
    _check_shape(path, text)
    repeated: list[tuple[dict[str, Any], str]] = []
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _object(pairs, repeated),
                          parse_constant=_refuse_constant)
    except RecursionError:                                  # only for broken JSON the shape check misjudged
        raise CalibrationError(f"calibration file {path} nests objects or arrays deeper than {MAX_DEPTH} levels"
                               ) from None
    except ValueError as exc:                               # JSONDecodeError, NaN, ints beyond the digit limit
        raise CalibrationError(f"calibration file {path} is not readable JSON: {exc}") from None
    if repeated:
        obj, key = repeated[0]
        where = _where(data, obj)
        place = f"in {where}" if where else "at the top level"
        raise CalibrationError(f"calibration file {path}: key {key!r} appears more than once {place}; each key may "
                               "appear once (remove the duplicate)")
    return data


def _check_shape(path: Path, text: str) -> None:
    """Refuse too deeply nested or too many objects and arrays, from the brackets outside strings (linear time)."""
    brackets = np.frombuffer(_NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii"), dtype=np.uint8)
    opens = (brackets == ord("[")) | (brackets == ord("{"))
    depth = 0
    for start in range(0, opens.size, _CHUNK):             # the running depth, a chunk at a time (bounded memory)
        running = np.cumsum(opens[start:start + _CHUNK].astype(np.int32) * 2 - 1) + depth
        if int(running.max()) > MAX_DEPTH:
            raise CalibrationError(f"calibration file {path} nests objects or arrays deeper than {MAX_DEPTH} "
                                   "levels; an export needs 4")
        depth = int(running[-1])
    opened = int(opens.sum())
    if opened > MAX_CONTAINERS:
        raise CalibrationError(f"calibration file {path} holds {opened} objects and arrays; at most "
                               f"{MAX_CONTAINERS} are read (an export has two per value)")


def _refuse_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity``, which Python's json reads but JSON does not have."""
    raise ValueError(f"{name} is not a JSON number (every value must be finite)")


def _object(pairs: list[tuple[str, Any]], repeated: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """A JSON object; one that repeats a key (``json`` would keep the last value silently) is noted in ``repeated``."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                repeated.append((obj, key))
                break
            seen.add(key)
    return obj


def _where(data: Any, target: dict[str, Any]) -> str:
    """The dotted path of the object ``target`` inside ``data`` ("" for ``data`` itself); at most MAX_CONTAINERS
    objects and arrays are visited, without recursion."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if value is target:
            return where
        if isinstance(value, dict):
            stack.extend((item, f"{where}.{key}" if where else key) for key, item in value.items()
                         if isinstance(item, (dict, list)))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{k}]") for k, item in enumerate(value) if isinstance(item, (dict, list)))
    return "?"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(where: str, value: Any, what: str) -> float:
    """A JSON number as a finite float; an integer too large for a float is refused, not an OverflowError."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise CalibrationError(f"{where} must be a finite {what}, got {str(value)[:40]}")
    return number


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
    if not isinstance(quality, dict) or not all(_number(v) for v in quality.values()):
        raise CalibrationError(f"{where}.fit_quality must be an object of numbers, got {quality!r}")
    dataset = raw.get("dataset_id")
    provenance = (f"imported from {path.name}: run {raw.get('run_id', '?')} ({raw.get('experiment', '?')}) "
                  f"at {raw.get('time', '?')}" + (f"; {raw['reason']}" if raw.get("reason") else ""))
    return Item(key, _float(f"{where}.value", raw["value"], "number"), unit,
                None if stderr is None else _float(f"{where}.stderr", stderr, "number or null"),
                {name: _float(f"{where}.fit_quality.{name}", v, "number") for name, v in quality.items()},
                None if dataset is None else str(dataset), provenance)
