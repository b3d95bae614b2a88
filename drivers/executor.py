"""Run a compiled program on a station: the instrument lifecycle, its timeouts and its clean-up.

``Executor(station, lab).run(program, shots, rep_delay)`` goes through the steps of Quantify's lifecycle --
configure the LOs, upload changed waveforms and the sequence, arm the digitizers, run the AWGs, wait with a
timeout, fetch, stop -- and returns :class:`RawAcquisitions` per memory slot, with the station snapshot of the
run. A sweep compiled as one program runs as one upload and one run. On any error the AWGs are stopped and
every output is switched off before the error (``InstrumentTimeout`` or ``DriverError``, naming the
instrument and the step) propagates, and the instruments involved are reconnected before the next run.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qcodes.station import Station

from qubitlab.config.models import LabConfig
from qubitlab.drivers.base import RawAcquisitions
from qubitlab.drivers.payloads import CompiledProgram, MeasLevel, MeasReturn, ShotsLayout
from qubitlab.drivers.station import Roles, roles
from qubitlab.errors import DriverError, QubitlabError

log = logging.getLogger(__name__)


class Executor:
    """Runs :class:`CompiledProgram` s on the instruments of ``station`` wired as in ``lab``.

    ``timeout`` bounds the wait for an acquisition beyond its expected duration (seconds). With ``runs_dir``,
    every run also writes ``<runs_dir>/<UTC time>_<program hash>.json``: the station snapshot, the program's
    hash, shots, repetition delay and stage timings (the calibration layer's datasets keep it too).
    """

    def __init__(self, station: Station, lab: LabConfig, *, timeout: float = 30.0,
                 runs_dir: Path | None = None) -> None:
        self.station = station
        self.lab = lab
        self.timeout = timeout
        self.runs_dir = runs_dir
        self.roles: Roles = roles(station, lab)
        self._suspect: set[str] = set()

    def run(self, program: CompiledProgram, shots: int = 1024, rep_delay: float = 250e-6) -> RawAcquisitions:
        """Play ``program`` ``shots`` times (each shot steps through every sweep point), ``rep_delay`` seconds
        between the end of one point and the trigger of the next."""
        if shots < 1:
            raise DriverError(f"shots must be at least 1, got {shots}")
        if rep_delay < 0:
            raise DriverError(f"rep_delay must be >= 0 s, got {rep_delay:g}")
        if program.shots_layout is not ShotsLayout.POINTS_INNER:
            raise DriverError(f"shots layout {program.shots_layout.value!r} is not supported by the executor yet; "
                              "compile with ShotsLayout.POINTS_INNER")
        self._reconnect_suspects()
        timings: dict[str, float] = {}
        awgs = {name: (self._awg(name), awg) for name, awg in program.awg_programs().items()}
        digitizers = {name: (self._digitizer(name), dig) for name, dig in program.digitizer_programs().items()}
        try:
            with _timed(timings, "configure"):
                for name, settings in program.lo_settings().items():
                    self._lo(name).configure(settings)
            with _timed(timings, "upload"):
                uploaded = sum(role.upload(awg) for role, awg in awgs.values())
            period = program.duration + rep_delay
            with _timed(timings, "arm"):
                for role, digitizer in digitizers.values():
                    role.configure(digitizer, shots)
                    role.arm()
                for role, awg in awgs.values():
                    role.arm(awg, period)
            with _timed(timings, "acquire"):
                for role, _ in awgs.values():
                    role.run()
                expected = shots * program.points * period
                for role, _ in digitizers.values():
                    role.wait(expected + self.timeout)
            with _timed(timings, "fetch"):
                windows = {name: role.fetch() for name, (role, _) in digitizers.items()}
            for role, _ in awgs.values():
                role.stop()
            with _timed(timings, "snapshot"):
                snapshot = self.station.snapshot(update=False)
        except BaseException as exc:
            self._make_safe(program, exc)
            raise
        timings["waveforms_uploaded"] = float(uploaded)
        first = next((dig for _, dig in digitizers.values()), None)
        if self.runs_dir is not None:
            self._record(program, shots, rep_delay, snapshot, timings)
        return RawAcquisitions(
            data=self._by_slot(program, windows),
            meas_level=first.meas_level if first else MeasLevel.KERNELED,
            meas_return=first.meas_return if first else MeasReturn.SINGLE,
            shots=shots, points=program.points, snapshot=snapshot, timings=timings)

    def _record(self, program: CompiledProgram, shots: int, rep_delay: float, snapshot: Any,
                timings: dict[str, float]) -> None:
        assert self.runs_dir is not None
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        path = self.runs_dir / f"{now:%Y%m%dT%H%M%S.%fZ}_{program.input_hash[:12]}.json"
        record = {"time": now.isoformat(), "program_hash": program.input_hash, "points": program.points,
                  "shots": shots, "rep_delay": rep_delay, "timings": timings, "snapshot": snapshot}
        path.write_text(json.dumps(record, indent=1, default=str))

    def _by_slot(self, program: CompiledProgram, windows: dict[str, list[NDArray[np.complex128]]]
                 ) -> dict[int, NDArray[np.complex128]]:
        return {slot: np.stack([windows[source.digitizer][i] for i in source.windows])
                for slot, source in sorted(program.memory_slots.items())}

    # -- safety --------------------------------------------------------------------------------------------------
    def _make_safe(self, program: CompiledProgram, cause: BaseException) -> None:
        """Stop every AWG and switch every output off; instruments that fail here are reconnected next run."""
        self._suspect.update(self.roles.all())  # a fault may leave stale bytes on any session
        problems = []
        for name, awg in self.roles.awgs.items():
            for step in (awg.stop, awg.outputs_off):
                try:
                    step()
                except QubitlabError as exc:
                    problems.append(str(exc))
                    break
        for name, instrument in {**self.roles.digitizers, **self.roles.los}.items():
            try:
                instrument.outputs_off()
            except QubitlabError as exc:
                problems.append(str(exc))
        if problems:
            log.error("after %s, the clean-up could not reach every instrument: %s", cause, "; ".join(problems))
            if isinstance(cause, QubitlabError):
                cause.add_note("clean-up: " + "; ".join(problems))

    def _reconnect_suspects(self) -> None:
        everything = self.roles.all()
        for name in sorted(self._suspect):
            everything[name].reconnect()
            self._suspect.discard(name)

    # -- lookups -------------------------------------------------------------------------------------------------
    def _awg(self, name: str) -> Any:
        return _role(self.roles.awgs, name, "AWG")

    def _digitizer(self, name: str) -> Any:
        return _role(self.roles.digitizers, name, "digitizer")

    def _lo(self, name: str) -> Any:
        return _role(self.roles.los, name, "LO")


def _role(table: dict[str, Any] | Any, name: str, kind: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise DriverError(f"the program needs {kind} {name!r}, which the station does not have; {kind}s: "
                          f"{', '.join(table) or 'none'}") from None


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start
