"""The contract between the executor and instruments: three small role protocols and the run's result.

The executor only ever speaks to roles -- an ``Awg`` plays an ``AwgProgram``, a ``Digitizer`` records a
``DigitizerProgram``, a ``LocalOscillator`` takes ``LoSettings`` -- so any instrument whose adapter fits one of
these runs qubitlab programs (compare Qibolab's ``abstract.py``: connect, setup, play, disconnect). Adapters
wrap QCoDeS drivers (``drivers/tektronix.py``, ``drivers/rohde_schwarz.py``, ``drivers/virtual_digitizer.py``);
every adapter can ``reconnect`` after a fault and turn its outputs off.

Every step that ends a run or makes an instrument safe is *confirmed by a query* (a read-back of the state it
set), and raises ``DriverError`` naming the instrument and the step when it cannot be: a write into a silent
or dropped connection is not a stopped AWG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from qubitlab.drivers.payloads import AwgProgram, DigitizerProgram, LoSettings, MeasLevel, MeasReturn
from qubitlab.drivers.visa import Exchange


@runtime_checkable
class Instrument(Protocol):
    """What every role adapter has: a name, the QCoDeS instrument, a way back after a fault."""

    name: str

    def reconnect(self) -> None:
        """Close and reopen the connection (fresh buffers), keeping the QCoDeS instrument."""

    def outputs_off(self) -> None:
        """Put the instrument in its safe state (AWG stopped and every output off, LO RF off, digitizer
        aborted), confirmed by reading the state back; ``DriverError`` when it cannot be confirmed."""


@runtime_checkable
class Awg(Instrument, Protocol):
    def upload(self, program: AwgProgram) -> int:
        """Make the instrument hold ``program``; returns how many waveforms had to be sent."""

    def arm(self, program: AwgProgram, shot_period: float) -> None:
        """Outputs of ``program`` on (the others off), a trigger every ``shot_period`` seconds."""

    def arming(self, program: AwgProgram, shot_period: float) -> Exchange:
        """:meth:`arm` in two phases, send then confirm (:func:`qubitlab.drivers.visa.overlapped`)."""

    def run(self) -> None: ...

    def stop(self) -> None:
        """Stop playing, confirmed by reading the run state back."""

    def stopping(self) -> Exchange:
        """:meth:`outputs_off` in two phases, send then confirm."""


@runtime_checkable
class Digitizer(Instrument, Protocol):
    def configure(self, program: DigitizerProgram, shots: int) -> None: ...

    def arm(self) -> None: ...

    def arming(self) -> Exchange:
        """:meth:`arm` in two phases, send then confirm."""

    def wait(self, timeout: float) -> None:
        """Return when the acquisition is complete; ``InstrumentTimeout`` after ``timeout`` seconds."""

    def fetch(self) -> list[NDArray[np.complex128]]:
        """One array per window of the configured program, in its order."""

    def finish(self) -> None:
        """Confirm, after the fetch, that the acquisition ended cleanly (the digitizer still answers)."""

    def finishing(self) -> Exchange:
        """:meth:`finish` in two phases, send then confirm."""


@runtime_checkable
class LocalOscillator(Instrument, Protocol):
    def configure(self, settings: LoSettings) -> None:
        """Frequency (Hz), power (dBm) and RF output state; only what differs is sent, but the RF state is
        always read (a liveness query: a dead or reset LO is noticed even when nothing changes)."""

    def confirm(self, settings: LoSettings) -> None:
        """After a run: the LO still answers and its RF state is still ``settings.output``."""

    def configuring(self, settings: LoSettings) -> Exchange:
        """:meth:`configure` in two phases: the liveness query sent, then read and the settings written."""

    def confirming(self, settings: LoSettings) -> Exchange:
        """:meth:`confirm` in two phases, send then check."""


@dataclass(frozen=True)
class RawAcquisitions:
    """What one run returned, per memory slot, in the program's sweep order.

    ``data[slot]`` has shape ``(points, shots)`` for kerneled single shots, ``(points,)`` averaged,
    ``(points, shots, samples)`` for raw traces and ``(points, samples)`` raw averaged; complex IQ values in
    the digitizer's units. ``snapshot`` is the QCoDeS station snapshot taken for this run.
    """

    data: Mapping[int, NDArray[np.complex128]]
    meas_level: MeasLevel
    meas_return: MeasReturn
    shots: int
    points: int
    snapshot: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)
    """Seconds spent per stage (configure, upload, acquire, fetch), for diagnostics and benchmarks."""
    snapshot_id: str | None = None
    """The calibration snapshot the program was built from (``Executor.run(..., snapshot_id=...)``)."""

    def __getitem__(self, slot: int) -> NDArray[np.complex128]:
        return self.data[slot]
