"""One virtual lab per test module, and a fresh calibration Context on it (raw data in a real SQLite file)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from virtual_rig import Rig, started_rig

from qubitlab.calibration.context import Context
from qubitlab.calibration.datasets import Datasets


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with started_rig() as started:
        yield started


@pytest.fixture(scope="module")
def make_ctx(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Context]:
    out: Path = tmp_path_factory.mktemp("calibration")
    datasets = Datasets(out / "data.db", "virtual_2q", rig.executor.station)

    def make(values: dict[str, float] | None = None, shots: int = 500) -> Context:
        return Context(rig.lab, rig.executor, dict(values or {}), out_dir=out, datasets=datasets, shots=shots)

    return make
