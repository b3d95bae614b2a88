"""Plain frozen records the calibration store takes and gives: runs, updates and history rows.

Kept apart from ``store.py`` so that experiments (which build :class:`RunInfo` and :class:`Update`) and readers
(which get :class:`Record`) can import them without the SQLite code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from qubitlab.calibration.snapshot import Entry, RunId


class RunKind(Enum):
    """What produced a run's values."""

    EXPERIMENT = "experiment"
    OPERATOR = "operator"
    ROLLBACK = "rollback"
    IMPORT = "import"


class RunStatus(Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def new_run_id(kind: RunKind) -> RunId:
    """A readable, unique run id: ``20250102T030405Z-operator-1a2b3c4d``."""
    return RunId(f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{kind.value}-{uuid.uuid4().hex[:8]}")


@dataclass(frozen=True)
class RunInfo:
    """How a set of values was produced. Only a succeeded run may write values (a fit that passed its gates,
    an operator command, a rollback or an import); a failed run is recorded without values."""

    experiment: str
    kind: RunKind = RunKind.EXPERIMENT
    run_id: RunId | None = None
    started: datetime | None = None
    finished: datetime | None = None
    status: RunStatus = RunStatus.SUCCEEDED
    message: str = ""
    plot_path: str | None = None
    dataset_id: str | None = None
    snapshot_id: str | None = None
    """The calibration snapshot the run measured with (None for operator commands, imports, rollbacks)."""


@dataclass(frozen=True)
class Update:
    """One new value for :meth:`CalibrationStore.commit`; ``unit`` (default: the parameter's SI unit) applies to
    ``value`` and ``stderr``; ``fit_quality`` is stored as JSON (e.g. ``{"r2": 0.998, "chi2_red": 1.1}``)."""

    key: str
    value: float
    unit: str | None = None
    stderr: float | None = None
    fit_quality: Mapping[str, float] | None = None
    reason: str = ""


@dataclass(frozen=True)
class RunRecord:
    """A row of the ``runs`` table."""

    run_id: RunId
    kind: RunKind
    experiment: str
    started: datetime
    finished: datetime
    status: RunStatus
    message: str
    plot_path: str | None
    dataset_id: str | None
    snapshot_id: str | None = None


@dataclass(frozen=True)
class Record:
    """A row of the history: one written value (``value`` None marks the key removed) with its run."""

    entry_id: int
    key: str
    value: float | None
    unit: str
    stderr: float | None
    timestamp: float
    run: RunRecord
    dataset_id: str | None
    fit_quality: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    superseded_by: int | None = None

    @property
    def removed(self) -> bool:
        return self.value is None

    @property
    def current(self) -> bool:
        return self.superseded_by is None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)

    def entry(self) -> Entry:
        """This record as a snapshot entry (not for removal markers)."""
        assert self.value is not None, f"entry {self.entry_id} marks {self.key} removed"
        return Entry(self.key, self.value, self.unit, self.stderr, self.timestamp, self.run.run_id,
                     self.entry_id, self.run.experiment)
