"""A virtual lab on ephemeral 127.0.0.1 ports, the QCoDeS station connected to it and an executor.

Everything goes through real sockets: QCoDeS' own drivers over pyvisa-py to the asyncio SCPI servers. The lab
runs in a background thread of the test process and is stopped by the fixture that started it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qubitlab import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.drivers.executor import Executor
from qubitlab.drivers.mock.lab import VirtualLab
from qubitlab.drivers.station import build_station, close_station

ROOT = Path(__file__).resolve().parents[1]
VIRTUAL_2Q = ROOT / "lab_configs" / "virtual_2q.yaml"
TIMEOUT = 1.0
"""VISA timeout of every instrument in these tests, seconds (faults must be reported within it)."""


def with_timeouts(lab: LabConfig, timeout: float) -> LabConfig:
    instruments = {name: spec.model_copy(update={"options": {**spec.options, "timeout": timeout}})
                   for name, spec in lab.instruments.items()}
    return lab.model_copy(update={"instruments": instruments})


@dataclass
class Rig:
    virtual: VirtualLab
    lab: LabConfig
    executor: Executor


@contextmanager
def started_rig(lab: LabConfig | None = None, seed: int = 7, timeout: float = TIMEOUT) -> Iterator[Rig]:
    """A started virtual lab, its station and an executor; everything stopped and closed on exit."""
    lab = with_timeouts(lab or load_lab(VIRTUAL_2Q), timeout)
    with VirtualLab(lab, seed=seed) as virtual:
        connected = virtual.lab_config()
        station = build_station(connected)
        try:
            yield Rig(virtual, connected, Executor(station, connected, timeout=60.0))
        finally:
            close_station(station)
