"""Open a lab's instruments: the one composition root shared by the command line, calibration and the runtime.

``open_lab(lab_file)`` loads the lab file, starts the virtual lab (its SCPI servers on 127.0.0.1, in a thread
of this process) only when the file is ``kind: virtual`` and names no addresses, connects QCoDeS' drivers into
a station, and builds the :class:`~qubitlab.drivers.executor.Executor`; leaving the ``with`` block closes the
station and stops a virtual lab it started. A real rack's file (every instrument with an address) is opened
the same way, with nothing started. The calibration store lives a layer up
(:func:`qubitlab.calibration.session.open_calibration` adds it, and the experiments' context).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qcodes.station import Station

from qubitlab.config.loader import load_lab
from qubitlab.config.models import LabConfig
from qubitlab.drivers.executor import Executor
from qubitlab.drivers.station import build_station, close_station

if TYPE_CHECKING:
    from qubitlab.drivers.mock.lab import VirtualLab


@dataclass
class OpenLab:
    """A lab with its instruments connected."""

    lab: LabConfig
    """The lab as loaded from its file (its ``source`` decides where the stores live)."""
    connected: LabConfig
    """The lab with the addresses actually connected to (a started virtual lab's ports)."""
    station: Station
    executor: Executor
    virtual: VirtualLab | None
    """The virtual lab serving the instruments, when there is one (for drift and fault injection)."""


def needs_virtual_lab(lab: LabConfig) -> bool:
    """A virtual lab file without addresses: its instruments must be started before they can be reached."""
    return lab.kind == "virtual" and any(spec.address is None for spec in lab.instruments.values())


VIRTUAL_ACQUISITION_TIMEOUT = 600.0
"""Seconds an acquisition on the virtual lab may take beyond shots x period: the virtual digitizer answers when
the physics is done, which for hundreds of two-qubit schedules (level-2 mitigation's twirled, folded circuits) is
a minute or more on a 2-core machine, not the microseconds the shots would take on hardware. A job's
``max_execution_time`` and cancel still stop it sooner."""


@contextmanager
def open_lab(lab_file: str | Path | LabConfig, *, runs_dir: Path | None = None, virtual: VirtualLab | None = None,
             timeout: float = 30.0) -> Iterator[OpenLab]:
    """Connect every instrument of ``lab_file`` (a path or a loaded lab); ``virtual``: an already running
    virtual lab to connect to instead of starting one. ``runs_dir`` defaults to ``<store folder>/runs`` when
    the lab was loaded from a file; ``timeout`` bounds each acquisition wait beyond its expected duration (at least
    :data:`VIRTUAL_ACQUISITION_TIMEOUT` on a virtual lab)."""
    lab = lab_file if isinstance(lab_file, LabConfig) else load_lab(lab_file)
    started = None
    if virtual is None and needs_virtual_lab(lab):
        from qubitlab.drivers.mock.lab import VirtualLab

        virtual = started = VirtualLab(lab).start_in_thread()
    try:
        connected = virtual.lab_config() if virtual is not None else lab
        station = build_station(connected)
        try:
            if runs_dir is None and lab.source is not None:
                runs_dir = lab.store_path() / "runs"
            if virtual is not None:             # its acquisitions last as long as the physics takes
                timeout = max(timeout, VIRTUAL_ACQUISITION_TIMEOUT)
            executor = Executor(station, connected, timeout=timeout, runs_dir=runs_dir)
            yield OpenLab(lab, connected, station, executor, virtual)
        finally:
            close_station(station)
    finally:
        if started is not None:
            started.close()
