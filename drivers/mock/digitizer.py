"""The virtual SCPI digitizer: the command set of ``docs/instruments/virtual_digitizer.md``, served for real.

A run is a table of acquisition windows (input, sweep point, start and length in samples from the point's
trigger, demodulation frequency, integration weights), a number of shots and a mode (raw traces or one
integrated IQ point per window; single shots or averaged). ``INITiate`` arms it; the trigger (an AWG of the
same virtual lab starting to play, or ``INITiate`` itself with ``TRIGger:SOURce IMMediate``) makes the
virtual lab compute every window's shots from the physics device; ``FETCh:DATA?`` returns them as one
binary block of little-endian complex64 values, window after window.
"""

from __future__ import annotations

import asyncio
import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from qubitlab.drivers.mock.scpi import (
    BLOCK_DATA_ERROR,
    EXECUTION_ERROR,
    ILLEGAL_PARAMETER,
    SETTINGS_CONFLICT,
    Call,
    ScpiError,
    ScpiInstrument,
)

INPUTS = 4
MAX_RATE = 1.0e9
MAX_SHOTS = 1_000_000
WINDOW_RECORD = struct.Struct("<IIIIdi")
"""One row of ``WINDow:TABLe``: input, point, start, length (samples), demod frequency (Hz), weights index."""


class State(enum.Enum):
    IDLE = "IDLE"
    ARMED = "ARMED"
    BUSY = "BUSY"
    DONE = "DONE"
    ERROR = "ERR"


@dataclass(frozen=True)
class WindowSpec:
    input: int
    point: int
    start: int
    length: int
    demod_frequency: float
    weights: int


Acquire = Callable[["DigitizerEmulation"], Callable[[], list[NDArray[np.complex128]]]]
"""The virtual lab's physics: given the armed digitizer, gathers what the instruments play now and returns the
computation (run in a worker thread) of one array per window: ``(shots,)`` IQ points or ``(shots, length)``
traces."""


@dataclass
class DigitizerEmulation(ScpiInstrument):
    idn: str = "qubitlab,VirtualDigitizer,VD-0001,0.1"
    sample_rate: float = 500.0e6
    shots: int = 1
    points: int = 1
    raw: bool = False
    average: bool = False
    trigger_source: str = "EXT"
    windows: list[WindowSpec] = field(default_factory=list)
    weights: dict[int, NDArray[np.complex128]] = field(default_factory=dict)
    state: State = State.IDLE
    data: bytes = b""
    compute_seconds: float = 0.0
    acquire: Acquire | None = None
    drift: Callable[[int, float, float], None] | None = None
    """The virtual lab's drift hook (``VIRTual:DRIFt``): qubit, frequency shift (Hz), drive amplitude scale."""
    _task: asyncio.Task[None] | None = None
    """The running acquisition: held so that the event loop's weak reference is not its only one."""

    def __post_init__(self) -> None:
        super().__post_init__()
        c = self.commands
        c.add("SAMPle:RATE", lambda call: repr(self.sample_rate), query=True)
        c.add("SAMPle:RATE", self._set_rate)
        c.add("ACQuire:SHOTs", lambda call: str(self.shots), query=True)
        c.add("ACQuire:SHOTs", lambda call: setattr(self, "shots", int(call.number(1, MAX_SHOTS))))
        c.add("ACQuire:POINts", lambda call: str(self.points), query=True)
        c.add("ACQuire:POINts", lambda call: setattr(self, "points", int(call.number(1, 1 << 20))))
        c.add("ACQuire:LEVel", lambda call: "RAW" if self.raw else "KERN", query=True)
        c.add("ACQuire:LEVel", self._set_level)
        c.add("ACQuire:AVERage", lambda call: "1" if self.average else "0", query=True)
        c.add("ACQuire:AVERage", lambda call: setattr(self, "average", call.boolean()))
        c.add("ACQuire:STATe", lambda call: self.state.value, query=True)
        c.add("ACQuire:TIME", lambda call: repr(self.compute_seconds), query=True)
        c.add("TRIGger:SOURce", lambda call: self.trigger_source, query=True)
        c.add("TRIGger:SOURce", self._set_trigger)
        c.add("WEIGhts:CLEar", lambda call: self.weights.clear())
        c.add("WEIGhts:COUNt", lambda call: str(len(self.weights)), query=True)
        c.add("WEIGhts#", self._set_weights)
        c.add("WINDow:CLEar", lambda call: self.windows.clear())
        c.add("WINDow:TABLe", self._set_table)
        c.add("WINDow:COUNt", lambda call: str(len(self.windows)), query=True)
        c.add("WINDow#:DEFine", self._window, query=True)
        c.add("INITiate", self._arm)
        c.add("INITiate:IMMediate", self._arm)
        c.add("ABORt", self._abort)
        c.add("FETCh:DATA", self._fetch, query=True)
        c.add("VIRTual:DRIFt", self._drift)

    def reset(self) -> None:
        self.shots, self.points, self.raw, self.average, self.trigger_source = 1, 1, False, False, "EXT"
        self.windows.clear()
        self.weights.clear()
        self.state, self.data = State.IDLE, b""

    # -- settings ------------------------------------------------------------------------------------------------
    def _set_rate(self, call: Call) -> None:
        rate = call.number(1.0, MAX_RATE)
        if rate != self.sample_rate:
            raise ScpiError(SETTINGS_CONFLICT, f'"This digitizer samples at {self.sample_rate:g} S/s only"')

    def _set_level(self, call: Call) -> None:
        value = call.one().upper()
        if value not in ("RAW", "KERN", "KERNEL", "KERNELED"):
            raise ScpiError(ILLEGAL_PARAMETER, f'"ACQuire:LEVel {value}: use RAW or KERNel"')
        self.raw = value == "RAW"

    def _set_trigger(self, call: Call) -> None:
        value = call.one().upper()
        if value not in ("EXT", "EXTERNAL", "IMM", "IMMEDIATE"):
            raise ScpiError(ILLEGAL_PARAMETER, f'"TRIGger:SOURce {value}: use EXTernal or IMMediate"')
        self.trigger_source = value[:3]

    def _set_weights(self, call: Call) -> None:
        if call.block is None or len(call.block) % 8:
            raise ScpiError(BLOCK_DATA_ERROR, '"WEIGhts<n> takes a block of complex64 values (8 bytes each)"')
        self.weights[call.suffixes[0]] = np.frombuffer(call.block, dtype="<c8").astype(np.complex128)

    def _set_table(self, call: Call) -> None:
        block = call.block
        if block is None or len(block) % WINDOW_RECORD.size:
            raise ScpiError(BLOCK_DATA_ERROR, f'"WINDow:TABLe takes a block of {WINDOW_RECORD.size}-byte records"')
        table = [WindowSpec(*row) for row in WINDOW_RECORD.iter_unpack(block)]
        for i, w in enumerate(table, start=1):
            if not 1 <= w.input <= INPUTS:
                raise ScpiError(ILLEGAL_PARAMETER, f'"Window {i}: no input {w.input}; inputs are 1..{INPUTS}"')
            if w.length < 1:
                raise ScpiError(ILLEGAL_PARAMETER, f'"Window {i}: length must be at least one sample"')
            if w.weights >= 0 and (w.weights not in self.weights or len(self.weights[w.weights]) != w.length):
                raise ScpiError(SETTINGS_CONFLICT, f'"Window {i}: weights {w.weights} missing or not {w.length} long"')
        self.windows = table

    def _window(self, call: Call) -> str:
        index = call.suffixes[0]
        if not 1 <= index <= len(self.windows):
            raise ScpiError(ILLEGAL_PARAMETER, f'"No window {index}; {len(self.windows)} defined"')
        w = self.windows[index - 1]
        return f"{w.input},{w.point},{w.start},{w.length},{w.demod_frequency!r},{w.weights}"

    # -- acquisition ---------------------------------------------------------------------------------------------
    def _arm(self, call: Call) -> None:
        if not self.windows:
            raise ScpiError(SETTINGS_CONFLICT, '"No windows defined (WINDow:TABLe)"')
        if max(w.point for w in self.windows) >= self.points:
            raise ScpiError(SETTINGS_CONFLICT, f'"A window is for a point beyond ACQuire:POINts {self.points}"')
        self.state, self.data = State.ARMED, b""
        if self.trigger_source == "IMM":
            self.trigger()

    def _abort(self, call: Call) -> None:
        if self.state in (State.ARMED, State.BUSY):
            self.state = State.IDLE

    def trigger(self) -> None:
        """Start the acquisition if armed (called by the virtual lab when an AWG starts playing)."""
        if self.state is not State.ARMED or self.acquire is None:
            return
        self.state = State.BUSY
        try:
            compute = self.acquire(self)  # gathers what the instruments play now; the physics runs in a thread
        except Exception as exc:
            self.state = State.ERROR
            self.push_error(EXECUTION_ERROR, f'"Acquisition failed; {exc}"'[:300])
            return
        self._task = asyncio.get_running_loop().create_task(self._complete(compute))

    async def _complete(self, compute: Callable[[], list[NDArray[np.complex128]]]) -> None:
        try:
            arrays = await asyncio.to_thread(compute)
        except Exception as exc:
            self.state = State.ERROR
            self.push_error(EXECUTION_ERROR, f'"Acquisition failed; {exc}"'[:300])
            return
        if self.state is not State.BUSY or self._task is not asyncio.current_task():
            return        # aborted meanwhile (and maybe armed again: a later acquisition's data must not be this)
        parts = [np.mean(a, axis=0) if self.average else a for a in arrays]
        self.data = b"".join(np.ascontiguousarray(p, dtype="<c8").tobytes() for p in parts)
        self.state = State.DONE

    def _drift(self, call: Call) -> None:
        args = call.args()
        try:
            qubit, shift, scale = int(args[0]), float(args[1]), float(args[2])
        except (IndexError, ValueError):
            raise ScpiError(ILLEGAL_PARAMETER, '"VIRTual:DRIFt takes <qubit>,<frequency shift Hz>,<amplitude scale>"'
                            ) from None
        if self.drift is None:
            raise ScpiError(SETTINGS_CONFLICT, '"This digitizer is not attached to a virtual device"')
        try:
            self.drift(qubit, shift, scale)
        except Exception as exc:
            raise ScpiError(ILLEGAL_PARAMETER, f'"{exc}"') from None

    def _fetch(self, call: Call) -> bytes:
        if self.state is not State.DONE:
            self.push_error(SETTINGS_CONFLICT, f'"No data to fetch: acquisition state is {self.state.value}"')
            return b""
        return self.data
