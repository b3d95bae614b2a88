"""Snapshots: the calibrated values a job runs with, frozen and named by a hash of their content.

A job records the id of the snapshot it ran with; the same id always means the same values, units and standard
errors, whenever and wherever they were written (timestamps and provenance are left out of the hash), so two
stores that hold the same calibration report the same id. ``frames(lab)`` is what the pulse compiler needs from
a snapshot: the frame frequency of every drive, control and measure channel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, NewType, overload

from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from qubitlab.config.models import LabConfig

SnapshotId = NewType("SnapshotId", str)
RunId = NewType("RunId", str)


@dataclass(frozen=True)
class Entry:
    """One stored value as a snapshot holds it (SI units; ``timestamp`` in seconds since the epoch, UTC)."""

    key: str
    value: float
    unit: str
    stderr: float | None
    timestamp: float
    run_id: RunId
    entry_id: int = 0
    experiment: str = ""

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)

    def content(self) -> tuple[float, str, float | None]:
        """What the snapshot id covers: value, unit and standard error."""
        return self.value, self.unit, self.stderr


class ChangeKind(Enum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    """One key that differs between two snapshots (``old`` is None when added, ``new`` None when removed)."""

    key: str
    kind: ChangeKind
    old: Entry | None
    new: Entry | None


class _Missing(Enum):
    MISSING = "missing"


def content_id(entries: Mapping[str, Entry]) -> SnapshotId:
    """sha256 over the sorted ``key, value, unit, stderr`` lines (floats by ``repr``), first 16 hex digits."""
    digest = hashlib.sha256()
    for key in sorted(entries):
        value, unit, stderr = entries[key].content()
        digest.update(f"{key}\t{value!r}\t{unit}\t{stderr!r}\n".encode())
    return SnapshotId(digest.hexdigest()[:16])


class Snapshot(Mapping[str, Entry]):
    """An immutable mapping key -> :class:`Entry`, taken at ``taken_at``; equal and hashed by its content ``id``."""

    __slots__ = ("_entries", "_id", "taken_at")

    def __init__(self, entries: Mapping[str, Entry], taken_at: datetime) -> None:
        self._entries = MappingProxyType(dict(sorted(entries.items())))
        self._id = content_id(self._entries)
        self.taken_at = taken_at

    @classmethod
    def of(cls, values: Mapping[str, float], taken_at: datetime | None = None) -> Snapshot:
        """A snapshot of plain ``key -> value`` (SI units, no errors), outside any store: for tests, scripts
        and labs whose values come from elsewhere. Keys are checked against the parameter registry."""
        return cls.empty(taken_at).with_values(values)

    @classmethod
    def empty(cls, taken_at: datetime | None = None) -> Snapshot:
        return cls({}, taken_at or datetime.now(UTC))

    def with_values(self, values: Mapping[str, float | tuple[float, float | None]]) -> Snapshot:
        """A new snapshot with ``values`` (key -> value, or key -> (value, stderr)) replacing or adding entries;
        this one is unchanged. What an experiment sees after a commit when no store is involved."""
        from qubitlab.calibration.parameters import check_value, parse_key

        now = datetime.now(UTC)
        entries = dict(self._entries)
        for key, given in values.items():
            value, stderr = given if isinstance(given, tuple) else (given, None)
            parsed = parse_key(key)
            number = check_value(parsed, value)
            entries[parsed.text] = Entry(parsed.text, number, parsed.spec.unit, stderr, now.timestamp(),
                                         RunId(""), experiment="local")
        return Snapshot(entries, now)

    def retaken(self, taken_at: datetime) -> Snapshot:
        """The same entries (and id), taken at ``taken_at``: what a store returns when nothing changed."""
        copy = Snapshot.__new__(Snapshot)
        copy._entries, copy._id, copy.taken_at = self._entries, self._id, taken_at
        return copy

    def to_values(self) -> dict[str, float]:
        """Key -> value (SI), without units, errors and provenance."""
        return {key: entry.value for key, entry in self._entries.items()}

    # -- mapping ------------------------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Entry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"Snapshot(id={self._id}, {len(self)} entries, taken_at={self.taken_at.isoformat()})"

    # -- content --------------------------------------------------------------------------------------------------
    @property
    def id(self) -> SnapshotId:
        return self._id

    @overload
    def value(self, key: str) -> float: ...
    @overload
    def value(self, key: str, default: float | None) -> float | None: ...

    def value(self, key: str, default: float | None | _Missing = _Missing.MISSING) -> float | None:
        """The value of ``key``; ``default`` when absent, or a CalibrationError when no default is given."""
        entry = self._entries.get(key)
        if entry is not None:
            return entry.value
        if isinstance(default, _Missing):
            raise CalibrationError(f"snapshot {self.id} has no value for {key!r}; it holds {len(self)} keys")
        return default

    def qubit(self, q: int) -> dict[str, float]:
        """Parameter name -> value of every qubit-scope value of qubit ``q``."""
        prefix = f"q{q}."
        return {key[len(prefix):]: e.value for key, e in self._entries.items() if key.startswith(prefix)}

    def pair(self, control: int, target: int) -> dict[str, float]:
        """Parameter name -> value of every pair-scope value of ``control``-``target``."""
        prefix = f"q{control}-q{target}."
        return {key[len(prefix):]: e.value for key, e in self._entries.items() if key.startswith(prefix)}

    def diff(self, other: Snapshot) -> list[Change]:
        """What changes going from this snapshot to ``other``, sorted by key."""
        changes = []
        for key in sorted(set(self) | set(other)):
            old, new = self._entries.get(key), other._entries.get(key)
            if old is None:
                changes.append(Change(key, ChangeKind.ADDED, None, new))
            elif new is None:
                changes.append(Change(key, ChangeKind.REMOVED, old, None))
            elif old.content() != new.content():
                changes.append(Change(key, ChangeKind.CHANGED, old, new))
        return changes

    def frames(self, lab: LabConfig) -> dict[str, float]:
        """Channel -> frame frequency in Hz for the pulse compiler, for every wired channel of ``lab``: the rule
        of :func:`qubitlab.calibration.frames.frames` (no guesses). Raises naming every missing key."""
        from qubitlab.calibration.frames import frames

        return frames(lab, self)
