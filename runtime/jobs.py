"""What a job of each kind does, inside the worker that owns the instruments.

A job kind is a function ``(WorkContext, inputs) -> Outcome`` registered in :data:`JOB_KINDS` by name; a client
sends the kind's name and plain data, never code. Every kind runs the same snapshot-first path: it reads the
calibration store's current snapshot once, compiles with that snapshot's frames, executes recording the
snapshot id, and reports the id with the result.

Kinds defined here:

- ``pulse_program``: a ``ScheduleBlock``/``Schedule`` serialized with :func:`qubitlab.pulse.dumps` (optionally
  a list of them, a sweep), shots and repetition delay, ``meas_level`` ``"kerneled"`` (IQ per shot or averaged)
  or ``"classified"`` (counts per sweep point, decoded with the stored discriminators).
- ``sampler`` / ``estimator``: the primitives' PUBs (:mod:`qubitlab.runtime.estimation`).
- ``sleep``: waits (interruptibly) and echoes its input; the scheduler's tests and benchmarks use it to hold
  the device without instruments in the way.
- ``calibrate``: ``qubitlab calibrate all|check`` on the worker's instruments (:mod:`.calibrate_job`).
- ``pulse_qobj``: a Qiskit 1.x PulseQobj document, answered as a Qiskit 1.x result dict (:mod:`.qobj_job`).
- ``vqe`` / ``qaoa`` / ``sweep``: server-side programs (:mod:`qubitlab.runtime.programs`), which stream their
  iterations with :meth:`WorkContext.report`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qubitlab.errors import JobError
from qubitlab.runtime import calibrate_job, qobj_job


class Aborted(JobError):
    """The job was cancelled or ran out of time at a safe point."""


@dataclass
class WorkContext:
    """What a job runs with: the opened lab, its calibration store, and the abort flag the daemon can raise."""

    opened: Any
    """A :class:`qubitlab.drivers.open.OpenLab`."""
    store: Any
    """A :class:`qubitlab.calibration.CalibrationStore`."""
    abort: threading.Event = field(default_factory=threading.Event)
    abort_reason: str = ""
    publish: Callable[[Mapping[str, Any]], None] | None = None
    """Sends an interim result (plain data) to the daemon, which stores it for ``job.stream()``; None: dropped."""

    def report(self, record: Mapping[str, Any]) -> None:
        """Publish one interim result of the running job (a program's iteration)."""
        if self.publish is not None:
            self.publish(record)

    def check(self) -> None:
        """Raise :class:`Aborted` at a safe point if the daemon asked to stop."""
        if self.abort.is_set():
            raise Aborted(self.abort_reason or "cancelled")


@dataclass
class Outcome:
    """A finished job's result (plain data and arrays) and what produced it."""

    result: Any
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_id: str | None = None
    station_snapshot: str | None = None


JobKind = Callable[[WorkContext, Mapping[str, Any]], Outcome]


def _number(inputs: Mapping[str, Any], key: str, default: float | None, low: float, high: float) -> float:
    value = inputs.get(key, default)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise JobError(f"input {key!r} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def pulse_program(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    from qubitlab import pulse
    from qubitlab.calibration.frames import frames
    from qubitlab.drivers.payloads import MeasReturn
    from qubitlab.pulse.compiler import compile

    timings: dict[str, float] = {}
    start = time.perf_counter()
    texts = inputs.get("schedules", inputs.get("schedule"))
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise JobError("input 'schedule' must be a pulse.dumps() document (or 'schedules' a list of them)")
    programs = [pulse.loads(t) for t in texts]
    shots = int(_number(inputs, "shots", 1024, 1, 10_000_000))
    opened = ctx.opened
    bringup = opened.lab.bringup
    rep_delay = _number(inputs, "rep_delay", bringup.rep_delay if bringup else 250e-6, 0.0, 1.0)
    level = inputs.get("meas_level", "kerneled")
    if level not in ("kerneled", "classified"):
        raise JobError(f"input 'meas_level' must be 'kerneled' or 'classified', got {level!r}")
    meas_return = inputs.get("meas_return", "single")
    if meas_return not in ("single", "avg") or (level == "classified" and meas_return != "single"):
        raise JobError(f"input 'meas_return' must be 'single' or 'avg' ('single' for classified), got {meas_return!r}")
    snapshot = ctx.store.snapshot()
    used = sorted({c.name for p in programs for c in p.channels})
    given = inputs.get("frames") or {}
    channel_frames = {**frames(opened.lab, snapshot, channels=[c for c in used if c not in given]), **given}
    timings["prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    program = compile(programs, opened.connected, channel_frames,
                      meas_return=MeasReturn.AVERAGE if meas_return == "avg" else MeasReturn.SINGLE)
    timings["compile"] = time.perf_counter() - start
    ctx.check()
    raw = opened.executor.run(program, shots=shots, rep_delay=rep_delay, snapshot_id=snapshot.id)
    timings.update({f"execute_{k}": float(v) for k, v in raw.timings.items()})
    start = time.perf_counter()
    if level == "classified":
        result: dict[str, Any] = {"counts": _counts(raw.data, snapshot), "shots": shots}
    else:
        result = {"memory": {str(slot): np.asarray(iq) for slot, iq in raw.data.items()}, "shots": shots}
    timings["decode"] = time.perf_counter() - start
    return Outcome(result, timings, snapshot.id)


def _counts(data: Mapping[int, Any], snapshot: Any) -> list[dict[str, int]]:
    """Counts per sweep point over the memory slots, with the snapshot's discriminators."""
    from qubitlab.drivers.decode import Discriminator, JointDiscriminator, counts

    slots = sorted(data)
    values = snapshot.to_values()
    joint = JointDiscriminator(tuple(Discriminator.from_values(values, slot) for slot in slots))
    bits = joint.bits([np.asarray(data[slot]) for slot in slots])        # (points, shots, n)
    return [counts(bits[p]) for p in range(bits.shape[0])]


def sleep(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    seconds = _number(inputs, "seconds", 0.0, 0.0, 3600.0)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if ctx.abort.wait(min(left, 0.05)):
            ctx.check()
    return Outcome({"slept": seconds, "echo": inputs.get("echo")}, {"sleep": seconds})


def sampler(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    """SamplerV2's PUBs (:mod:`qubitlab.runtime.estimation`)."""
    from qubitlab.runtime.estimation import sampler as run

    return run(ctx, inputs)


def estimator(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    """EstimatorV2's PUBs (:mod:`qubitlab.runtime.estimation`)."""
    from qubitlab.runtime.estimation import estimator as run

    return run(ctx, inputs)


def _program(name: str) -> JobKind:
    """The server-side program ``name`` (imported when it first runs: the programs import this module)."""
    def run(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
        from qubitlab.runtime.programs import PROGRAMS

        return PROGRAMS[name](ctx, inputs)

    return run


PROGRAM_KINDS = ("vqe", "qaoa", "sweep")
"""The job kinds that are server-side programs: they stream progress and are not re-run after a daemon crash."""
JOB_KINDS: dict[str, JobKind] = {"pulse_program": pulse_program, "sleep": sleep, "sampler": sampler,
                                 "estimator": estimator, "calibrate": calibrate_job.calibrate,
                                 "pulse_qobj": qobj_job.pulse_qobj,
                                 **{name: _program(name) for name in PROGRAM_KINDS}}
"""Job kinds by name: what a client may ask the daemon to run."""
