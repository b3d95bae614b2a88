"""Open a lab for calibration: its instruments (through the shared composition root,
:func:`qubitlab.drivers.open.open_lab`), the calibration store, the datasets database, and a :class:`Context` on
the store's current snapshot.

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
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.calibration.store import CalibrationStore
from qubitlab.config.models import LabConfig
from qubitlab.drivers.open import OpenLab, open_lab


def run_name(experiment: str, target: Target) -> str:
    return f"{experiment} " + "-".join(f"q{q}" for q in target)


class StoreLedger:
    """The bring-up's view of a :class:`CalibrationStore`."""

    def __init__(self, store: CalibrationStore) -> None:
        self.store = store

    def last_success(self, node: str, target: Target) -> float | None:
        return self.store.last_run_time(run_name(node, target), RunStatus.SUCCEEDED)

    def record(self, outcome: Outcome, started: float) -> Snapshot:
        name = run_name(outcome.experiment, outcome.qubits)
        failed = "; ".join(str(g) for g in outcome.failed_gates) + (f"; next: {outcome.hint}" if outcome.hint else "")
        run = RunInfo(experiment=name, kind=RunKind.EXPERIMENT,
                      started=datetime.datetime.fromtimestamp(started, datetime.timezone.utc),
                      finished=datetime.datetime.now(datetime.timezone.utc),
                      status=RunStatus.SUCCEEDED if outcome.passed else RunStatus.FAILED,
                      message=outcome.message if outcome.passed else failed,
                      plot_path=str(outcome.plot) if outcome.plot else None,
                      dataset_id=str(outcome.dataset) if outcome.dataset is not None else None,
                      snapshot_id=outcome.snapshot_id)
        updates = [Update(key, value, stderr=error, fit_quality=dict(outcome.quality) or None, reason=name)
                   for key, (value, error) in outcome.updates.items()] if outcome.passed else []
        self.store.commit(updates, run)
        return self.store.snapshot()


@dataclass
class LabSession:
    """An opened lab for calibration: instruments (:class:`~qubitlab.drivers.open.OpenLab`), the store and the
    experiments' context, whose snapshot is the store's current one."""

    opened: OpenLab
    store: CalibrationStore
    ctx: Context

    @property
    def lab(self) -> LabConfig:
        return self.opened.lab

    @property
    def connected(self) -> LabConfig:
        return self.opened.connected

    @property
    def virtual(self) -> Any:
        return self.opened.virtual

    @property
    def station(self) -> Any:
        return self.opened.station

    @property
    def ledger(self) -> StoreLedger:
        return StoreLedger(self.store)


def lab_session(opened: OpenLab, store: CalibrationStore, *, out_dir: Path | None = None,
                shots: int = 1000) -> LabSession:
    """A :class:`LabSession` over instruments and a store that are already open (the runtime worker holds
    both for its lifetime): the datasets database and a :class:`Context` on the store's current snapshot, with
    output in ``out_dir`` (default ``<store folder>/reports/<UTC stamp>``). Closing ``opened`` and ``store``
    stays with their owner."""
    lab = opened.lab
    folder = lab.store_path()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    ctx = Context(opened.connected, opened.executor, store.snapshot(), out_dir or folder / "reports" / stamp,
                  Datasets(folder / "datasets.db", lab.name, opened.station), shots)
    return LabSession(opened, store, ctx)


@contextmanager
def open_calibration(lab_file: str | Path | LabConfig, *, out_dir: Path | None = None, shots: int = 1000,
                     virtual: Any = None) -> Iterator[LabSession]:
    """Everything calibration needs for ``lab_file`` (:func:`qubitlab.drivers.open.open_lab`, then the store,
    the datasets database and a :class:`Context` on the store's current snapshot); closes all of it."""
    with open_lab(lab_file, virtual=virtual) as opened:
        with CalibrationStore.for_lab(opened.lab) as store:
            yield lab_session(opened, store, out_dir=out_dir, shots=shots)
