"""A virtual lab brought up by the real bring-up (shared by the bring-up accuracy tests and the runtime's
primitive tests), and copies of it for tests that must not touch the original."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def bring_up(folder: Path, lab_name: str = "virtual_2q.yaml") -> tuple[Path, list[Any]]:
    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import open_calibration

    lab_file = folder / lab_name
    shutil.copy(ROOT / "lab_configs" / lab_name, lab_file)
    with open_calibration(lab_file) as session:
        steps = bringup.plan(session.ledger, session.lab.qubits, session.lab.couplings)
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
    return lab_file, outcomes


def copy_calibrated(lab_file: Path, folder: Path) -> Path:
    """The lab file and its calibration store (an SQLite backup, consistent even mid-WAL) in ``folder``."""
    target = folder / lab_file.name
    shutil.copy(lab_file, target)
    (folder / ".qubitlab").mkdir(exist_ok=True)
    source = sqlite3.connect(lab_file.parent / ".qubitlab" / "calibration.sqlite")
    copy = sqlite3.connect(folder / ".qubitlab" / "calibration.sqlite")
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return target
