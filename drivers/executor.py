"""Run a compiled program on a station: the instrument lifecycle, its timeouts and its clean-up.

``Executor(station, lab).run(program, shots, rep_delay)`` goes through the stages of Quantify's lifecycle --
configure the LOs (each one's RF state read: a liveness query), upload changed waveforms and the sequence, arm the
digitizers, run the AWGs and wait with a timeout, fetch, stop -- and returns :class:`RawAcquisitions` per memory
slot, with the station snapshot of the run (the station is walked again only when some parameter's value changed
since the last run: :mod:`qubitlab.drivers.snapshots`). A sweep compiled as one program runs as one upload and one
run. The stop stage is as strict as the others: every AWG stopped and its outputs off, every digitizer and LO
confirmed, each by a query. Where one instrument's step does not wait for another's, their queries overlap
(:func:`~qubitlab.drivers.visa.overlapped`: all sent, then all read): the LOs' liveness queries, the arm
confirmations, and the stop stage's. A step that fails or cannot be confirmed raises ``DriverError`` (or
``InstrumentTimeout``) naming the run stage, the instrument and the step, *after* the safe-off sequence has been
tried on every instrument of the station (every AWG stopped and outputs off, every LO's RF off, every digitizer
aborted; each confirmed, on a fresh connection); instruments that could not be made safe are named in the error,
tried again before anything else at the next run, and every session is reopened.
"""

from __future__ import annotations

import datetime
import enum
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qcodes.station import Station

from qubitlab.config.models import LabConfig
from qubitlab.drivers.base import Awg, Digitizer, LocalOscillator, RawAcquisitions
from qubitlab.drivers.payloads import (
    AwgProgram,
    CompiledProgram,
    DigitizerProgram,
    LoSettings,
    MeasLevel,
    MeasReturn,
    ShotsLayout,
)
from qubitlab.drivers.snapshots import StationSnapshots
from qubitlab.drivers.station import Roles, roles
from qubitlab.drivers.visa import overlapped
from qubitlab.errors import DriverError, InstrumentTimeout, QubitlabError

log = logging.getLogger(__name__)


class Stage(enum.Enum):
    """The stages of a run, in order (``Executor(on_stage=...)`` is told when each begins)."""

    CONFIGURE = "configure"
    UPLOAD = "upload"
    ARM = "arm"
    ACQUIRE = "acquire"
    FETCH = "fetch"
    STOP = "stop"


@dataclass(frozen=True)
class _Plan:
    """What one run talks to: each instrument's role and payload, looked up before anything is sent."""

    awgs: dict[str, tuple[Awg, AwgProgram]]
    digitizers: dict[str, tuple[Digitizer, DigitizerProgram]]
    los: dict[str, tuple[LocalOscillator, LoSettings]]
    shots: int
    period: float
    points: int


class Executor:
    """Runs :class:`CompiledProgram` s on the instruments of ``station`` wired as in ``lab``.

    ``timeout`` bounds the wait for an acquisition beyond its expected duration (seconds). With ``runs_dir``,
    every run also writes ``<runs_dir>/<UTC time>_<program hash>.json``: the program's hash, the calibration
    snapshot id, shots, repetition delay, stage timings and ``station_snapshot``, the path (relative to
    ``runs_dir``) of the station snapshot, stored once per distinct content as ``stations/<sha256>.json``
    (without QCoDeS' per-parameter ``ts`` set-times, which would make every run's state distinct; the run
    record's own time says when it ran). The snapshot object is shared by the runs that found the station
    unchanged: treat it as read-only. ``on_stage`` is called with
    each :class:`Stage` as it begins (progress reporting; tests use it to inject faults at a given stage).
    """

    def __init__(self, station: Station, lab: LabConfig, *, timeout: float = 30.0,
                 runs_dir: Path | None = None, on_stage: Callable[[Stage], None] | None = None) -> None:
        self.station = station
        self.lab = lab
        self.timeout = timeout
        self.runs_dir = runs_dir
        self.on_stage = on_stage
        self.roles: Roles = roles(station, lab)
        self.snapshots = StationSnapshots(station)
        """The station snapshot, walked again only after a parameter changed (see drivers/snapshots.py)."""
        self._suspect: set[str] = set()
        """Sessions to reopen before the next run (a fault may leave stale bytes on any of them)."""
        self._unsafe: set[str] = set()
        """Instruments whose safe state could not be confirmed: made safe first at the next run."""

    def run(self, program: CompiledProgram, shots: int = 1024, rep_delay: float = 250e-6, *,
            snapshot_id: str | None = None) -> RawAcquisitions:
        """Play ``program`` ``shots`` times (each shot steps through every sweep point), ``rep_delay`` seconds
        between the end of one point and the trigger of the next; ``snapshot_id`` names the calibration snapshot
        the program was built from (kept in the result and the run record)."""
        _check_request(program, shots, rep_delay)
        plan = _Plan(awgs={name: (self._awg(name), awg) for name, awg in program.awg_programs().items()},
                     digitizers={name: (self._digitizer(name), dig)
                                 for name, dig in program.digitizer_programs().items()},
                     los={name: (self._lo(name), lo) for name, lo in program.lo_settings().items()},
                     shots=shots, period=program.duration + rep_delay, points=program.points)
        self._recover()
        timings: dict[str, float] = {}
        windows: dict[str, list[NDArray[np.complex128]]] = {}
        stage = Stage.CONFIGURE
        try:
            for stage in Stage:
                with _timed(timings, stage.value):
                    if self.on_stage is not None:
                        self.on_stage(stage)
                    self._stage(stage, plan, timings, windows)
            with _timed(timings, "snapshot"):
                snapshot = self.snapshots.take()
        except BaseException as exc:
            error = self._fail(stage, exc)
            if error is exc:
                raise
            raise error from exc
        first = next((dig for _, dig in plan.digitizers.values()), None)
        if self.runs_dir is not None:
            self._record(program, shots, rep_delay, timings, snapshot_id)
        return RawAcquisitions(
            data=self._by_slot(program, windows),
            meas_level=first.meas_level if first else MeasLevel.KERNELED,
            meas_return=first.meas_return if first else MeasReturn.SINGLE,
            shots=shots, points=program.points, snapshot=snapshot, timings=timings, snapshot_id=snapshot_id)

    def _stage(self, stage: Stage, plan: _Plan, timings: dict[str, float],
               windows: dict[str, list[NDArray[np.complex128]]]) -> None:
        if stage is Stage.CONFIGURE:               # every LO's liveness query sent before any answer is read
            overlapped([lo.configuring(settings) for lo, settings in plan.los.values()])
        elif stage is Stage.UPLOAD:
            timings["waveforms_uploaded"] = float(sum(awg.upload(payload) for awg, payload in plan.awgs.values()))
        elif stage is Stage.ARM:
            for digitizer, program in plan.digitizers.values():
                digitizer.configure(program, plan.shots)
            # every digitizer's arm and every AWG's outputs, each confirmed by its query, before any AWG starts
            overlapped([*(digitizer.arming() for digitizer, _ in plan.digitizers.values()),
                        *(awg.arming(payload, plan.period) for awg, payload in plan.awgs.values())])
        elif stage is Stage.ACQUIRE:
            for awg, _ in plan.awgs.values():
                awg.run()
            for digitizer, _ in plan.digitizers.values():
                digitizer.wait(plan.shots * plan.points * plan.period + self.timeout)
        elif stage is Stage.FETCH:
            windows.update({name: digitizer.fetch() for name, (digitizer, _) in plan.digitizers.items()})
        else:  # STOP: the run's tail, every step confirmed by a query; the AWGs' stops sent first, all read in order
            overlapped([*(awg.stopping() for awg, _ in plan.awgs.values()),  # stopped, every output off, read back
                        *(digitizer.finishing() for digitizer, _ in plan.digitizers.values()),
                        *(lo.confirming(settings) for lo, settings in plan.los.values())])

    def _record(self, program: CompiledProgram, shots: int, rep_delay: float,
                timings: dict[str, float], snapshot_id: str | None) -> None:
        assert self.runs_dir is not None
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        path = self.runs_dir / f"{now:%Y%m%dT%H%M%S.%fZ}_{program.input_hash[:12]}.json"
        station, station_hash = self.snapshots.content()
        stations = self.runs_dir / "stations"
        station_file = stations / f"{station_hash}.json"
        if not station_file.exists():                 # content-addressed: written once per distinct state
            stations.mkdir(exist_ok=True)
            partial = station_file.with_suffix(".part")
            partial.write_text(station)
            partial.replace(station_file)
        record = {"time": now.isoformat(), "program_hash": program.input_hash, "snapshot_id": snapshot_id,
                  "points": program.points, "shots": shots, "rep_delay": rep_delay, "timings": timings,
                  "station_snapshot": f"stations/{station_hash}.json"}
        path.write_text(json.dumps(record, default=str))

    def _by_slot(self, program: CompiledProgram, windows: dict[str, list[NDArray[np.complex128]]]
                 ) -> dict[int, NDArray[np.complex128]]:
        return {slot: np.stack([windows[source.digitizer][i] for i in source.windows])
                for slot, source in sorted(program.memory_slots.items())}

    # -- safety --------------------------------------------------------------------------------------------------
    def _fail(self, stage: Stage, cause: BaseException) -> BaseException:
        """Make every instrument safe, then the error to raise: ``cause`` with the stage and whatever could not
        be made safe in its message (an error that is not ours keeps its type, with a note)."""
        problems = self.make_safe()
        unsafe = (f"; the safe-off could not be confirmed on {', '.join(sorted(self._unsafe))}, which may still "
                  f"be on: check them by hand ({'; '.join(problems)})") if problems else ""
        log.error("run stage %r failed: %s%s", stage.value, cause, unsafe)
        if isinstance(cause, DriverError):
            kind = InstrumentTimeout if isinstance(cause, InstrumentTimeout) else DriverError
            return kind(f"run stage {stage.value!r}: {cause}{unsafe}")
        if unsafe:
            cause.add_note(f"run stage {stage.value!r}{unsafe}")
        return cause

    def make_safe(self) -> list[str]:
        """Try the safe-off on every instrument of the station, AWGs first, each on a fresh connection and
        confirmed by a query; returns one problem per instrument that could not be made safe (also kept for
        the next run, which tries them again before anything else)."""
        everything = self.roles.all()
        self._suspect.update(everything)
        problems = []
        for name in [*self.roles.awgs, *self.roles.los, *self.roles.digitizers]:
            try:
                everything[name].reconnect()
                everything[name].outputs_off()
            except QubitlabError as exc:
                problems.append(str(exc))
                self._unsafe.add(name)
            else:
                self._unsafe.discard(name)
                self._suspect.discard(name)
        return problems

    def _recover(self) -> None:
        """Before a run: instruments left unsafe by the last fault are made safe, every suspect session is
        reopened; an instrument still unreachable stops the run here."""
        everything = self.roles.all()
        for name in sorted(self._unsafe):
            with _before_the_run("it was left unconfirmed by the previous run's safe-off"):
                everything[name].reconnect()
                everything[name].outputs_off()
            self._unsafe.discard(name)
            self._suspect.discard(name)
        for name in sorted(self._suspect):
            with _before_the_run("reopening its session after the previous run's fault"):
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


def _check_request(program: CompiledProgram, shots: int, rep_delay: float) -> None:
    if shots < 1:
        raise DriverError(f"shots must be at least 1, got {shots}")
    if not rep_delay >= 0:
        raise DriverError(f"rep_delay must be >= 0 s, got {rep_delay:g}")
    if program.shots_layout is not ShotsLayout.POINTS_INNER:
        raise DriverError(f"shots layout {program.shots_layout.value!r} is not supported by the executor yet; "
                          "compile with ShotsLayout.POINTS_INNER")


@contextmanager
def _before_the_run(why: str) -> Iterator[None]:
    try:
        yield
    except QubitlabError as exc:
        kind = InstrumentTimeout if isinstance(exc, InstrumentTimeout) else DriverError
        raise kind(f"run stage {Stage.CONFIGURE.value!r}: {exc} ({why}); nothing of this run was sent") from exc

