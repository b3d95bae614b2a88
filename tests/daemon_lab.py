"""Shared by the runtime tests: a daemon as a real child process on an ephemeral loopback port, with CURVE keys for two clients and an admin,
over a copy of the virtual two-qubit lab whose store holds the device's frequencies; stopped by its pid."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from calibrated_lab import copy_calibrated

from qubitlab import load_lab
from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update
from qubitlab.lab_demo import FREQUENCIES
from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.launch import DaemonProcess, client_key, start_daemon

ROOT = Path(__file__).resolve().parents[1]


def lab_copy(folder: Path) -> Path:
    """virtual_2q.yaml in ``folder``, its store holding the qubit and resonator frequencies."""
    lab_file = folder / "virtual_2q.yaml"
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with CalibrationStore.for_lab(load_lab(lab_file)) as store:
        store.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("frequencies", kind=RunKind.OPERATOR))
    return lab_file


@dataclass
class Lab:
    lab_file: Path
    daemon: DaemonProcess
    keys: dict[str, Path]

    def service(self, who: str = "alice", timeout: float = 30.0, *, local: bool = True) -> QubitlabService:
        assert self.daemon.server_key is not None
        return QubitlabService(self.daemon.address, key=self.keys[who], server_key=self.daemon.server_key,
                               timeout=timeout, local=local)


def started(folder: Path, lab_file: Path | None = None) -> Lab:
    lab_file = lab_file or lab_copy(folder)
    keys_dir = folder / "keys"
    from qubitlab.runtime.keys import server_keys

    server_keys(keys_dir)
    keys = {name: client_key(keys_dir, name, admin=name == "admin", folder=folder / "client_keys")
            for name in ("alice", "bob", "admin")}
    return Lab(lab_file, start_daemon(lab_file, keys_dir=keys_dir), keys)


@contextmanager
def calibrated_daemon_in(folder: Path, calibrated_lab_file: Path) -> Iterator[Lab]:
    """A daemon over a copy (in ``folder``) of an already calibrated lab, stopped by its pid afterwards."""
    running = started(folder, copy_calibrated(calibrated_lab_file, folder))
    try:
        yield running
    finally:
        running.daemon.stop()
