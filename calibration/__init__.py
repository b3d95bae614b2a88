"""Calibration: the versioned SQLite store of calibrated values and its snapshots.

Later parts of the calibration layer (gate map, experiments, fits, bring-up graph, reports) build on these.
"""

from __future__ import annotations

from qubitlab.calibration.parameters import PARAMETERS, ParameterSpec, ParamKey, Scope, Topology, parse_key
from qubitlab.calibration.records import Record, RunInfo, RunKind, RunRecord, RunStatus, Update
from qubitlab.calibration.snapshot import Change, ChangeKind, Entry, RunId, Snapshot, SnapshotId
from qubitlab.calibration.store import SCHEMA_VERSION, CalibrationStore

__all__ = [
    "PARAMETERS", "SCHEMA_VERSION", "CalibrationStore", "Change", "ChangeKind", "Entry", "ParamKey", "ParameterSpec",
    "Record", "RunId", "RunInfo", "RunKind", "RunRecord", "RunStatus", "Scope", "Snapshot", "SnapshotId",
    "Topology", "Update", "parse_key",
]
