"""QCoDeS driver for qubitlab's virtual SCPI digitizer, and its ``Digitizer`` role.

The command set is documented like a vendor's programming manual in ``docs/instruments/virtual_digitizer.md``;
the driver is written the way QCoDeS drivers are: declarative parameters with units, validators and value
mappings, plus a few methods for the binary transfers (window table, integration weights, data fetch).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from qcodes import validators as vals
from qcodes.instrument import VisaInstrument
from qcodes.parameters import Parameter, create_on_off_val_mapping

from qubitlab.drivers.payloads import DigitizerProgram, MeasLevel, MeasReturn, content_key
from qubitlab.drivers.visa import (
    Exchange, differs, ieee_block, instrument_errors, overlapped, parsed, query_block, reopen,
)
from qubitlab.errors import DriverError, InstrumentTimeout

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from qcodes.instrument import VisaInstrumentKWArgs

WINDOW_DTYPE = np.dtype([("input", "<u4"), ("point", "<u4"), ("start", "<u4"), ("length", "<u4"),
                         ("demod_frequency", "<f8"), ("weights", "<i4")])
"""A row of ``WINDow:TABLe`` (28 bytes, little-endian)."""


POLL_CAP = 0.005
"""Longest sleep between two ``ACQuire:STATe?`` polls (s): the wait starts at 0.1 ms and doubles up to this, so
a finished acquisition is noticed within 5 ms (with a 20 ms cap, a 200 ms acquisition lost ~10 ms on average)
for about one query per 5 ms of a long one."""


class QubitlabVirtualDigitizer(VisaInstrument):
    """The virtual digitizer: 4 inputs, acquisition windows with demodulation and integration weights."""

    default_terminator = "\n"
    default_timeout = 5.0

    def __init__(self, name: str, address: str, **kwargs: Unpack[VisaInstrumentKWArgs]) -> None:
        super().__init__(name, address, **kwargs)
        self.sample_rate: Parameter = self.add_parameter(
            "sample_rate", label="Sample rate", unit="Sa/s", get_cmd="SAMPle:RATE?", get_parser=float)
        self.shots: Parameter = self.add_parameter(
            "shots", label="Records per window", get_cmd="ACQuire:SHOTs?", set_cmd="ACQuire:SHOTs {}",
            get_parser=int, vals=vals.Ints(1, 1_000_000))
        self.points: Parameter = self.add_parameter(
            "points", label="Sweep points per shot", get_cmd="ACQuire:POINts?", set_cmd="ACQuire:POINts {}",
            get_parser=int, vals=vals.Ints(1, 1 << 20))
        self.meas_level: Parameter = self.add_parameter(
            "meas_level", label="Measurement level", get_cmd="ACQuire:LEVel?", set_cmd="ACQuire:LEVel {}",
            val_mapping={MeasLevel.RAW: "RAW", MeasLevel.KERNELED: "KERN"})
        self.averaging: Parameter = self.add_parameter(
            "averaging", label="Average over shots", get_cmd="ACQuire:AVERage?", set_cmd="ACQuire:AVERage {}",
            val_mapping=create_on_off_val_mapping(on_val="1", off_val="0"))
        self.trigger_source: Parameter = self.add_parameter(
            "trigger_source", label="Trigger source", get_cmd="TRIGger:SOURce?", set_cmd="TRIGger:SOURce {}",
            val_mapping={"external": "EXT", "immediate": "IMM"})
        self.state: Parameter = self.add_parameter(
            "state", label="Acquisition state", get_cmd="ACQuire:STATe?", snapshot_value=False,
            vals=vals.Enum("IDLE", "ARMED", "BUSY", "DONE", "ERR"))
        self.window_count: Parameter = self.add_parameter(
            "window_count", label="Windows defined", get_cmd="WINDow:COUNt?", get_parser=int)
        self.connect_message()

    def load_weights(self, index: int, weights: NDArray[np.complex128]) -> None:
        """Store integration weights under ``index`` (``WEIGhts<index>``, complex64 block)."""
        block = ieee_block(np.ascontiguousarray(weights, dtype="<c8").tobytes())
        self.visa_handle.write_raw(f"WEIGhts{index} ".encode() + block + b"\n")

    def load_windows(self, table: np.ndarray) -> None:
        """Replace the window table (rows of :data:`WINDOW_DTYPE`)."""
        block = ieee_block(np.ascontiguousarray(table, dtype=WINDOW_DTYPE).tobytes())
        self.visa_handle.write_raw(b"WINDow:TABLe " + block + b"\n")

    def arm(self) -> None:
        self.write("INITiate")

    def abort(self) -> None:
        self.write("ABORt")

    def fetch_data(self) -> NDArray[np.complex64]:
        """Every window's values, one block (``FETCh:DATA?``); a block that is not whole complex64 values is a
        ``DriverError``."""
        try:
            payload = query_block(self.visa_handle, "FETCh:DATA?")
        except ValueError as exc:
            raise DriverError(f"digitizer {self.name!r}: {exc}; a corrupt data block") from None
        if len(payload) % 8:
            raise DriverError(f"digitizer {self.name!r}: FETCh:DATA? returned {len(payload)} bytes, not whole "
                              "complex64 (I, Q float32) values: a corrupt data block")
        return np.frombuffer(payload, dtype="<c8")

    def next_error(self) -> str:
        return str(self.ask("SYSTem:ERRor?"))


class VirtualDigitizer:
    """``Digitizer`` role for :class:`QubitlabVirtualDigitizer`."""

    def __init__(self, name: str, instrument: QubitlabVirtualDigitizer, visalib: str | None = None) -> None:
        self.name = name
        self.instrument = instrument
        self.visalib = visalib
        self._table_key: str | None = None
        self._weights: dict[str, int] = {}
        self._shapes: list[tuple[int, ...]] = []
        self._windows: tuple[object, ...] | None = None
        """The windows (the same tuple object) whose table this connection loaded last: a template's rebinds
        share one, so a variational step neither rebuilds nor hashes the table and its weights."""

    def reconnect(self) -> None:
        with instrument_errors(self.name, "reconnecting"):
            reopen(self.instrument, self.visalib)
        self._table_key = None  # a fault may have lost any write: send the table, weights and settings again
        self._weights = {}
        for parameter in self.instrument.parameters.values():
            parameter.cache.invalidate()

    def configure(self, program: DigitizerProgram, shots: int) -> None:
        dig = self.instrument
        raw = program.meas_level is MeasLevel.RAW
        average = program.meas_return is MeasReturn.AVERAGE
        with instrument_errors(self.name, "configuring the acquisition"):
            rate = dig.sample_rate.cache.get()
            if abs(rate - program.sample_rate) > 1e-6 * rate:
                raise DriverError(f"digitizer {self.name!r} samples at {rate:g} S/s, the program was compiled for "
                                  f"{program.sample_rate:g} S/s: fix timing.digitizers.{self.name} in the lab file")
            for parameter, value in ((dig.shots, shots), (dig.points, program.points), (dig.trigger_source, "external"),
                                     (dig.meas_level, MeasLevel.RAW if raw else MeasLevel.KERNELED),
                                     (dig.averaging, average)):
                if differs(parameter, value):
                    parameter(value)
            self._load_table(program)
        self._shapes = [((w.length,) if average else (shots, w.length)) if raw else (() if average else (shots,))
                        for w in program.windows]

    def _load_table(self, program: DigitizerProgram) -> None:
        if program.windows is self._windows and self._table_key is not None:   # reconnect clears the key
            return
        self._windows = None
        table = np.zeros(len(program.windows), dtype=WINDOW_DTYPE)
        keys = []
        for i, w in enumerate(program.windows):
            key = content_key(w.weights)
            keys.append(key)
            if key not in self._weights:
                index = len(self._weights)
                self.instrument.load_weights(index, w.weights)
                self._weights[key] = index
            try:
                table[i] = (int(w.input), w.point, w.start, w.length, w.demod_frequency, self._weights[key])
            except ValueError:
                raise DriverError(f"digitizer {self.name!r}: input {w.input!r} is not one of '1' .. '4'") from None
        table_key = content_key(table.view(np.uint8))
        if table_key != self._table_key:
            self.instrument.load_windows(table)
            self._table_key = table_key
        self._windows = program.windows

    def arm(self) -> None:
        """Arm and confirm: the query makes sure the digitizer is armed before any AWG is told to start (each
        instrument has its own connection, so the order of two writes is not the order they are executed)."""
        overlapped([self.arming()])

    def arming(self) -> Exchange:
        """:meth:`arm` as an exchange: ``INITiate;:ACQuire:STATe?`` sent as one message, its state checked when
        read (before any AWG is started: the executor starts them after every arm exchange is read)."""
        handle = self.instrument.visa_handle
        with instrument_errors(self.name, "arming (INITiate)"):
            handle.write("INITiate;:ACQuire:STATe?")
        yield
        with instrument_errors(self.name, "arming (INITiate)"):
            state = parsed(self.instrument.state, handle.read())
        if state not in ("ARMED", "BUSY", "DONE"):
            raise DriverError(f"digitizer {self.name!r} did not arm (state {state}): {self._next_error()}")

    def wait(self, timeout: float) -> None:
        """Poll ``ACQuire:STATe?`` until DONE. A digitizer that stops answering is reported as silent, with the
        time actually waited (not the acquisition's limit)."""
        start = time.perf_counter()
        delay = 1e-4
        while True:
            try:
                with instrument_errors(self.name, "waiting for the acquisition (ACQuire:STATe?)"):
                    state = self.instrument.state()
            except InstrumentTimeout as exc:
                raise InstrumentTimeout(
                    f"digitizer {self.name!r} went silent while waiting for the acquisition: no answer to "
                    f"ACQuire:STATe? within its {self.instrument.timeout.get():g} s VISA timeout, after "
                    f"{time.perf_counter() - start:.2f} s of waiting in all (the acquisition was given "
                    f"{timeout:g} s); check that it is on and reachable, then run again") from exc
            waited = time.perf_counter() - start
            if state == "DONE":
                return
            if state in ("ERR", "IDLE"):
                raise DriverError(f"digitizer {self.name!r}: acquisition {'failed' if state == 'ERR' else 'aborted'}"
                                  f" after {waited:.2f} s: {self._next_error()}")
            if state not in ("ARMED", "BUSY"):
                raise DriverError(f"digitizer {self.name!r} answered {state!r} to ACQuire:STATe? after {waited:.2f} s "
                                  "of waiting; expected ARMED, BUSY or DONE")
            if waited > timeout:
                raise InstrumentTimeout(f"digitizer {self.name!r}: acquisition not complete after {waited:.2f} s "
                                        f"(limit {timeout:g} s, state {state}); is the trigger reaching it and the "
                                        "AWG running?")
            time.sleep(delay)
            delay = min(delay * 2, POLL_CAP)

    def fetch(self) -> list[NDArray[np.complex128]]:
        """One ``FETCh:DATA?`` block; a malformed block or a wrong count is a ``DriverError``."""
        with instrument_errors(self.name, "fetching data (FETCh:DATA?)"):
            flat = self.instrument.fetch_data()
        expected = sum(int(np.prod(shape)) for shape in self._shapes)
        if flat.shape[0] != expected:
            raise DriverError(f"digitizer {self.name!r} returned {flat.shape[0]} values for FETCh:DATA?, expected "
                              f"{expected}; its error queue says: {self._next_error()}")
        out, at = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            out.append(flat[at: at + size].astype(np.complex128).reshape(shape))
            at += size
        return out

    def finish(self) -> None:
        """After the fetch the acquisition must still read DONE (it answers; nothing re-armed or failed)."""
        overlapped([self.finishing()])

    def finishing(self) -> Exchange:
        """:meth:`finish` as an exchange (the query sent, the state checked when read)."""
        handle = self.instrument.visa_handle
        action = "confirming the acquisition ended (ACQuire:STATe?)"
        with instrument_errors(self.name, action):
            handle.write("ACQuire:STATe?")
        yield
        with instrument_errors(self.name, action):
            state = parsed(self.instrument.state, handle.read())
        if state != "DONE":
            raise DriverError(f"digitizer {self.name!r} reads state {state} after the fetch, expected DONE: "
                              f"{self._next_error()}")

    def outputs_off(self) -> None:
        """Abort any acquisition, confirmed by the state reading IDLE, DONE or ERR (not armed, not busy)."""
        with instrument_errors(self.name, "aborting the acquisition (ABORt, confirmed by ACQuire:STATe?)"):
            self.instrument.abort()
            state = self.instrument.state()
        if state not in ("IDLE", "DONE", "ERR"):
            raise DriverError(f"digitizer {self.name!r} reads state {state!r} after ABORt, expected IDLE, DONE or ERR")

    def _next_error(self) -> str:
        """The head of the error queue, for a message; what went wrong reading it, if it could not be read."""
        with instrument_errors(self.name, "reading its error queue (SYSTem:ERRor?)"):
            return self.instrument.next_error()
