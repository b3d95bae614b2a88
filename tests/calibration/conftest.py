"""Fixtures: a copy of the virtual two-qubit lab in tmp_path (so its .qubitlab/ store lands there) and its store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qubitlab.calibration import CalibrationStore
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
