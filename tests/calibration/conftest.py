"""Fixtures: a copy of the virtual two-qubit lab in tmp_path (so its .qubitlab/ store lands there) and its store;
and, for experiments, one virtual lab per test module with a fresh calibration Context on it (raw data in a
real SQLite file)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from virtual_rig import Rig, started_rig

from qubitlab.calibration import CalibrationStore
from qubitlab.calibration.context import Context
from qubitlab.calibration.datasets import Datasets
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.config import LabConfig, load_lab

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "lab_configs" / "virtual_2q.yaml"


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    copy = tmp_path / "virtual_2q.yaml"
    shutil.copy(LAB, copy)
    return copy


@pytest.fixture
def lab(lab_file: Path) -> LabConfig:
    return load_lab(lab_file)


@pytest.fixture
def store(lab: LabConfig) -> Iterator[CalibrationStore]:
    with CalibrationStore.for_lab(lab) as opened:
        yield opened


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with started_rig() as started:
        yield started


@pytest.fixture(scope="module")
def make_ctx(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Context]:
    out: Path = tmp_path_factory.mktemp("calibration")
    datasets = Datasets(out / "data.db", "virtual_2q", rig.executor.station)

    def make(values: dict[str, float] | None = None, shots: int = 500) -> Context:
        return Context(rig.lab, rig.executor, Snapshot.of(values or {}), out_dir=out, datasets=datasets, shots=shots)

    return make
