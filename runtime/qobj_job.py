"""The ``pulse_qobj`` job kind: a Qiskit 1.x PulseQobj document run on the lab, answered as Qiskit 1.x did.

Labs keep years of ``assemble`` output; this kind lets a client send such a document unchanged
(``service.run_qobj(document)``) and get back the dict a Qiskit 1.x ``Result.to_dict()`` had: ``results[i].data``
with ``memory`` as ``[re, im]`` pairs for ``meas_level`` 1 (per shot, or averaged when ``meas_return`` is
``avg``) or ``counts`` keyed by hex outcomes (memory slot 0 the least significant bit) for ``meas_level`` 2;
each experiment's header echoed. Each experiment is compiled with the snapshot's calibrated frames overridden by
the document's LO frequencies (:meth:`QobjJob.frames`), as the same snapshot-first path
:func:`qubitlab.runtime.jobs.pulse_program` follows.

An experiment the compiler or the device refuses (the virtual device refuses a mid-circuit measurement) does not
sink the others: its ``results[i]`` has ``success: false`` and a ``status`` naming the experiment (index and
header name) and why, the job's ``success`` is false and its ``status`` ``PARTIAL COMPLETED``, as Qiskit 1.x
results marked them. When every experiment fails the job fails with a :class:`JobError` naming each. An
instrument timeout or a cancel still ends the job at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qubitlab.errors import (CompilationError, DriverError, InstrumentTimeout, JobError,
                             PulseError)

MAX_EXPERIMENTS = 1000


def pulse_qobj(ctx: Any, inputs: Mapping[str, Any]) -> Any:
    """Run ``inputs["qobj"]`` (a PulseQobj dict) experiment by experiment; a Qiskit-1.x-shaped result dict."""
    from qubitlab.calibration.frames import frames
    from qubitlab.drivers.payloads import MeasLevel
    from qubitlab.pulse.qobj import from_qobj
    from qubitlab.runtime.jobs import Outcome

    document = inputs.get("qobj")
    if not isinstance(document, Mapping):
        raise JobError("input 'qobj' must be a PulseQobj document (a dict with 'config' and 'experiments')")
    try:
        job = from_qobj(document, source="input 'qobj'")
    except PulseError as exc:
        raise JobError(str(exc)) from exc
    if job.meas_level is MeasLevel.RAW:
        raise JobError("input 'qobj': config.meas_level 0 (raw traces) is not run by pulse_qobj; "
                       "use meas_level 1 (IQ) or 2 (counts)")
    if not 0 < len(job.experiments) <= MAX_EXPERIMENTS:
        raise JobError(f"input 'qobj' must hold 1 to {MAX_EXPERIMENTS} experiments, got {len(job.experiments)}")
    start = time.perf_counter()
    timings: dict[str, float] = {"compile": 0.0, "decode": 0.0}
    snapshot = ctx.store.snapshot()
    calibrated = frames(ctx.opened.lab, snapshot)
    timings["prepare"] = time.perf_counter() - start
    results, failures = [], []
    for index in range(len(job.experiments)):
        ctx.check()
        try:
            results.append(_experiment(ctx, job, index, calibrated, snapshot, timings))
        except (CompilationError, DriverError) as exc:
            if isinstance(exc, InstrumentTimeout):
                raise
            failures.append(f"experiment {index} ({_name(job, index)!r}): {exc}")
            results.append(_failed(job, index, failures[-1]))
    if len(failures) == len(results):
        raise JobError(f"input 'qobj': every experiment failed: {'; '.join(failures)}")
    lab = ctx.opened.lab
    result = {"backend_name": str(getattr(lab, "name", "qubitlab")), "backend_version": "qubitlab",
              "qobj_id": job.qobj_id, "header": dict(job.header), "success": not failures,
              "status": "PARTIAL COMPLETED" if failures else "COMPLETED", "results": results}
    return Outcome(result, timings, snapshot.id)


def _experiment(ctx: Any, job: Any, index: int, calibrated: Mapping[str, float], snapshot: Any,
                timings: dict[str, float]) -> dict[str, Any]:
    """Compile, run and decode experiment ``index``; its ``results[i]`` entry."""
    from qubitlab.drivers.payloads import MeasLevel
    from qubitlab.pulse.compiler import compile

    experiment = job.experiments[index]
    slots = _slot_qubits(experiment.schedule, index)
    start = time.perf_counter()
    program = compile(experiment.schedule, ctx.opened.connected, job.frames(calibrated, index),
                      meas_return=job.meas_return)
    timings["compile"] += time.perf_counter() - start
    raw = ctx.opened.executor.run(program, shots=job.shots, rep_delay=_rep_delay(ctx, job, program),
                                  snapshot_id=snapshot.id)
    for stage, value in raw.timings.items():                    # seconds per stage (and the upload count)
        timings[f"execute_{stage}"] = timings.get(f"execute_{stage}", 0.0) + float(value)
    start = time.perf_counter()
    width = max([job.memory_slots, int(experiment.header.get("memory_slots", 0)), *(s + 1 for s in slots)])
    if job.meas_level is MeasLevel.CLASSIFIED:
        data: dict[str, Any] = {"counts": _hex_counts(raw.data, slots, snapshot)}
    else:
        data = {"memory": _memory(raw.data, width)}
    timings["decode"] += time.perf_counter() - start
    return {"shots": job.shots, "success": True, "status": "DONE", "meas_level": int(job.meas_level),
            "meas_return": job.meas_return.value, "data": data, "header": dict(experiment.header)}


def _name(job: Any, index: int) -> str:
    return str(job.experiments[index].header.get("name") or job.experiments[index].schedule.name)


def _failed(job: Any, index: int, why: str) -> dict[str, Any]:
    """``results[i]`` of an experiment that did not run: Qiskit 1.x's shape with ``success`` false."""
    return {"shots": job.shots, "success": False, "status": f"ERROR: {why}", "meas_level": int(job.meas_level),
            "meas_return": job.meas_return.value, "data": {}, "header": dict(job.experiments[index].header)}


def _slot_qubits(schedule: Any, index: int) -> dict[int, int]:
    """Memory slot -> the qubit acquired into it (the discriminator to use), from the schedule's acquires."""
    from qubitlab.pulse.instructions import Acquire

    out: dict[int, int] = {}
    for _, inst in schedule.instructions:
        if isinstance(inst, Acquire) and inst.mem_slot is not None:
            slot, qubit = int(inst.mem_slot.index), int(inst.channel.index)
            if out.setdefault(slot, qubit) != qubit:
                raise JobError(f"input 'qobj' experiment {index}: memory slot {slot} is written by qubits "
                               f"{out[slot]} and {qubit}; give each acquire its own memory slot")
    if not out:
        raise JobError(f"input 'qobj' experiment {index} has no acquire into a memory slot: nothing to return")
    return out


def _rep_delay(ctx: Any, job: Any, program: Any) -> float:
    """The document's ``rep_delay``; else ``rep_time`` less the experiment's length; else the lab's default."""
    if job.rep_delay is not None:
        return float(job.rep_delay)
    bringup = ctx.opened.lab.bringup
    default = float(bringup.rep_delay) if bringup else 250e-6
    if job.rep_time is None:
        return default
    length = float(program.duration)                                          # seconds
    if job.rep_time < length:
        raise JobError(f"input 'qobj': config.rep_time {job.rep_time / 1e-6:g} us is shorter than the experiment "
                       f"({length / 1e-6:g} us); give a longer rep_time or a rep_delay")
    return float(job.rep_time - length)


def _hex_counts(data: Mapping[int, Any], slots: Mapping[int, int], snapshot: Any) -> dict[str, int]:
    """``{"0x1": n, ...}`` as Qiskit 1.x results had them: bit k of the key is memory slot k's outcome."""
    from qubitlab.drivers.decode import JointDiscriminator

    order = sorted(slots)
    joint = JointDiscriminator.from_values(snapshot.to_values(), [slots[s] for s in order])
    bits = joint.bits([np.asarray(data[s]) for s in order])[0]                 # (shots, n), one point
    weights = np.array([1 << s for s in order], dtype=np.int64)
    values, tally = np.unique(bits.astype(np.int64) @ weights, return_counts=True)
    return {hex(int(v)): int(c) for v, c in zip(values, tally)}


def _memory(data: Mapping[int, Any], width: int) -> list[Any]:
    """IQ as ``[re, im]`` per memory slot: ``[shot][slot]`` per shot, ``[slot]`` averaged; slots never acquired
    read 0 (as Qiskit 1.x backends filled them)."""
    first = np.asarray(next(iter(data.values())))[0]
    out = np.zeros(first.shape + (width,), dtype=np.complex128)              # (shots, width) or (width,)
    for slot, iq in data.items():
        out[..., slot] = np.asarray(iq)[0]
    return _pairs(out)


def _pairs(values: np.ndarray) -> list[Any]:
    pairs: Sequence[Any] = np.stack([values.real, values.imag], axis=-1).tolist()
    return list(pairs)
