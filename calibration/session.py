"""Open a lab for calibration: instruments (starting the virtual lab when the file has no addresses), the
calibration store, the datasets database, and a :class:`Context` loaded with the current snapshot.

Also the store's side of the bring-up (:class:`StoreLedger`): each node run is a store run named
``"<experiment> <target>"`` (``rabi q0``, ``cross_resonance q0-q1``), so freshness is read back from the
store's own run table, by the daemon and the CLI alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qubitlab.calibration.bringup import Target
from qubitlab.calibration.context import Context
from qubitlab.calibration.datasets import Datasets
from qubitlab.calibration.experiment import Outcome
from qubitlab.calibration.records import RunInfo, RunKind, RunStatus, Update
from qubitlab.calibration.store import CalibrationStore
from qubitlab.config.loader import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.drivers.executor import Executor
from qubitlab.drivers.station import build_station, close_station


def run_name(experiment: str, target: Target) -> str:
    return f"{experiment} " + "-".join(f"q{q}" for q in target)


class StoreLedger:
    """The bring-up's view of a :class:`CalibrationStore`."""

    def __init__(self, store: CalibrationStore) -> None:
        self.store = store

    def last_success(self, node: str, target: Target) -> float | None:
        return self.store.last_run_time(run_name(node, target), RunStatus.SUCCEEDED)

    def record(self, outcome: Outcome, started: float) -> None:
        name = run_name(outcome.experiment, outcome.qubits)
        failed = "; ".join(str(g) for g in outcome.failed_gates)
        run = RunInfo(experiment=name, kind=RunKind.EXPERIMENT,
                      started=datetime.datetime.fromtimestamp(started, datetime.timezone.utc),
                      finished=datetime.datetime.now(datetime.timezone.utc),
                      status=RunStatus.SUCCEEDED if outcome.passed else RunStatus.FAILED,
                      message=outcome.message if outcome.passed else failed,
                      plot_path=str(outcome.plot) if outcome.plot else None,
                      dataset_id=str(outcome.dataset) if outcome.dataset is not None else None)
        updates = [Update(key, value, stderr=error, fit_quality=dict(outcome.quality) or None, reason=name)
                   for key, (value, error) in outcome.updates.items()] if outcome.passed else []
        self.store.commit(updates, run)


@dataclass
class LabSession:
    lab: LabConfig
    connected: LabConfig
    store: CalibrationStore
    ctx: Context
    virtual: Any
    station: Any

    @property
    def ledger(self) -> StoreLedger:
        return StoreLedger(self.store)


@contextmanager
def open_lab(lab_file: str | Path | LabConfig, *, out_dir: Path | None = None, shots: int = 1000,
             virtual: Any = None) -> Iterator[LabSession]:
    """Everything calibration needs for ``lab_file``; closes instruments (and a virtual lab it started)."""
    from qubitlab.drivers.mock.lab import VirtualLab

    lab = lab_file if isinstance(lab_file, LabConfig) else load_lab(lab_file)
    started = None
    if virtual is None and lab.kind == "virtual" and any(s.address is None for s in lab.instruments.values()):
        virtual = started = VirtualLab(lab).start_in_thread()
    connected = virtual.lab_config() if virtual is not None else lab
    store = CalibrationStore.for_lab(lab)
    station = build_station(connected)
    try:
        folder = lab.store_path()
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        executor = Executor(station, connected, runs_dir=folder / "runs")
        values = {key: entry.value for key, entry in store.snapshot().items()}
        ctx = Context(connected, executor, values, out_dir or folder / "reports" / stamp,
                      Datasets(folder / "datasets.db", lab.name, station), shots)
        yield LabSession(lab, connected, store, ctx, virtual, station)
    finally:
        close_station(station)
        store.close()
        if started is not None:
            started.close()
