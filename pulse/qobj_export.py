"""PulseQobj export: qubitlab schedules written as the document Qiskit 1.4's ``PulseQobj.from_dict`` accepts.

The inverse of :mod:`qubitlab.pulse.qobj`, written the way Qiskit's ``assemble`` writes: Gaussian,
GaussianSquare, Drag and Constant plays become ``parametric_pulse`` instructions (``amp`` as the complex
``amp e^{i angle}``, ``[re, im]`` in JSON), every other pulse is sampled once into ``pulse_library`` under the
SHA-256 of its complex128 samples (Qiskit's naming, so equal waveforms share one entry), frame changes become
``fc``/``setp``/``shiftf``/``setf`` (frequencies in GHz), acquisitions that start together with one duration are
one ``acquire`` over their qubits, their kernels and discriminators listed one per qubit (as assemble does;
a discriminator only at ``meas_level`` 2, where Qiskit writes one). ``TimeBlockade`` and barriers carry no
instruction (times are explicit in a PulseQobj). Parameterised programs and unresolved references are refused: bind them first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from qubitlab.errors import PulseError
from qubitlab.pulse.block import ScheduleBlock, block_to_schedule
from qubitlab.pulse.channels import Channel
from qubitlab.pulse.instructions import (
    Acquire,
    Delay,
    Instruction,
    Play,
    RelativeBarrier,
    SetFrequency,
    SetPhase,
    ShiftFrequency,
    ShiftPhase,
    TimeBlockade,
)
from qubitlab.pulse.library import SymbolicPulse, Waveform
from qubitlab.pulse.qobj import GHZ, PARAMETRIC, SHAPE_PARAMETERS, US, QobjExperiment, QobjJob
from qubitlab.pulse.schedule import Schedule

_SHAPE_OF = {cls.pulse_type: shape for shape, cls in PARAMETRIC.items()}
_FRAMES: dict[type[Instruction], tuple[str, str, float]] = {
    ShiftPhase: ("fc", "phase", 1.0), SetPhase: ("setp", "phase", 1.0),
    ShiftFrequency: ("shiftf", "frequency", 1 / GHZ), SetFrequency: ("setf", "frequency", 1 / GHZ),
}


def _pair(z: complex) -> list[float]:
    return [float(z.real), float(z.imag)]


class _Writer:
    """Collects the pulse library while experiments are written."""

    def __init__(self, meas_level: int = 2) -> None:
        self.library: dict[str, list[list[float]]] = {}
        self.meas_level = meas_level

    def play(self, t0: int, inst: Play, where: str) -> dict[str, Any]:
        shape = inst.pulse
        ch = inst.channel.name
        if isinstance(shape, SymbolicPulse) and shape.pulse_type in _SHAPE_OF and not shape.is_parameterized():
            name = _SHAPE_OF[shape.pulse_type]
            params = shape.parameters
            amp = complex(params["amp"] * np.exp(1j * params["angle"]))
            out: dict[str, Any] = {"duration": int(params["duration"]), "amp": _pair(amp)}
            out.update({k: float(params[k]) for k in SHAPE_PARAMETERS[name]})
            return {"name": "parametric_pulse", "t0": t0, "ch": ch, "pulse_shape": name, "parameters": out}
        if shape.is_parameterized():
            raise PulseError(f"PulseQobj export: {where}: {inst!r} is parameterised; assign its parameters first")
        samples = np.ascontiguousarray(
            shape.samples if isinstance(shape, Waveform) else shape.get_waveform().samples, dtype=np.complex128)
        key = hashlib.sha256(samples.tobytes()).hexdigest()
        self.library.setdefault(key, [_pair(z) for z in samples])
        return {"name": key, "t0": t0, "ch": ch}

    def experiment(self, schedule: Schedule | ScheduleBlock, index: int,
                   header: dict[str, Any] | None) -> dict[str, Any]:
        if isinstance(schedule, ScheduleBlock):
            schedule = block_to_schedule(schedule)
        name = schedule.name or f"experiment{index}"
        out: list[dict[str, Any]] = []
        acquires: dict[tuple[int, int], list[Acquire]] = {}
        slots: set[int] = set()
        for t0, inst in schedule.instructions:
            where = f"schedule {name!r} at t0={t0}"
            if type(inst) in _FRAMES:
                kind, key, scale = _FRAMES[type(inst)]
                value = inst._value  # type: ignore[attr-defined]
                if not isinstance(value, (int, float)):
                    raise PulseError(f"PulseQobj export: {where}: {inst!r} is parameterised; assign it first")
                out.append({"name": kind, "t0": t0, "ch": inst.channels[0].name, key: float(value) * scale})
            elif isinstance(inst, Play):
                out.append(self.play(t0, inst, where))
            elif isinstance(inst, Acquire):
                acquires.setdefault((t0, int(inst.duration)), []).append(inst)
                slots.update(s.index for s in (inst.mem_slot,) if s is not None)  # type: ignore[misc]
            elif isinstance(inst, (TimeBlockade, RelativeBarrier)):
                continue
            elif isinstance(inst, Delay):
                out.append({"name": "delay", "t0": t0, "ch": _channel(inst.channels[0]), "duration": int(inst.duration)})
            else:
                raise PulseError(f"PulseQobj export: {where}: {type(inst).__name__} has no PulseQobj instruction; "
                                 "valid: Play, ShiftPhase, SetPhase, ShiftFrequency, SetFrequency, Delay, Acquire")
        out.extend(_acquire(t0, duration, group, self.meas_level) for (t0, duration), group in acquires.items())
        head = {"name": name, "memory_slots": max(slots) + 1 if slots else 0, "metadata": dict(schedule.metadata)}
        head.update(header or {})
        return {"header": head, "instructions": out}


def _channel(ch: Channel) -> str:
    return ch.name


def _acquire(t0: int, duration: int, group: list[Acquire], meas_level: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "acquire", "t0": t0, "duration": duration,
                           "qubits": [int(a.acquire.index) for a in group]}
    for key, options in (("kernels", [a.kernel for a in group]), ("discriminators", [a.discriminator for a in group])):
        if all(o is None for o in options):
            continue
        if any(o is None for o in options):
            raise PulseError(f"PulseQobj export: acquire at t0={t0}: give every qubit of a simultaneous "
                             f"acquisition its {key[:-1]}, or none (qubits {out['qubits']})")
        if key == "discriminators" and meas_level != 2:
            raise PulseError(f"PulseQobj export: acquire at t0={t0}: a discriminator needs meas_level 2 (this "
                             f"document has {meas_level}); drop it or export with meas_level 2")
        out[key] = [{"name": o.name, "params": _json(o.params)} for o in options if o is not None]
    if all(a.mem_slot is not None for a in group):
        out["memory_slot"] = [int(a.mem_slot.index) for a in group]  # type: ignore[union-attr]
    if any(a.reg_slot is not None for a in group):
        if not all(a.reg_slot is not None for a in group):
            raise PulseError(f"PulseQobj export: acquire at t0={t0}: give every qubit of a simultaneous "
                             "acquisition a register slot, or none")
        out["register_slot"] = [int(a.reg_slot.index) for a in group]  # type: ignore[union-attr]
    return out


def _json(value: Any) -> Any:
    """A kernel's params JSON-ready (numpy arrays and scalars as lists and numbers)."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


def to_qobj(job: QobjJob) -> dict[str, Any]:
    """The PulseQobj document (JSON-ready: complex numbers as ``[re, im]``) of a :class:`QobjJob`."""
    writer = _Writer(int(job.meas_level))
    experiments = []
    for i, e in enumerate(job.experiments):
        doc = writer.experiment(e.schedule, i, e.header)
        config: dict[str, Any] = {}
        if e.qubit_lo_freq is not None:
            config["qubit_lo_freq"] = [f / GHZ for f in e.qubit_lo_freq]
        if e.meas_lo_freq is not None:
            config["meas_lo_freq"] = [f / GHZ for f in e.meas_lo_freq]
        if config:
            doc["config"] = config
        experiments.append(doc)
    memory_slots = max([job.memory_slots, *(d["header"]["memory_slots"] for d in experiments)])
    config = {**job.extra_config, "shots": job.shots, "meas_level": int(job.meas_level),
              "meas_return": job.meas_return.value, "memory_slots": memory_slots,
              "qubit_lo_freq": [f / GHZ for f in job.qubit_lo_freq], "meas_lo_freq": [f / GHZ for f in job.meas_lo_freq],
              "parametric_pulses": sorted(PARAMETRIC),
              "pulse_library": [{"name": k, "samples": v} for k, v in writer.library.items()]}
    if job.rep_time is not None:
        config["rep_time"] = round(job.rep_time / US)
    if job.rep_delay is not None:
        config["rep_delay"] = job.rep_delay / US
    return {"qobj_id": job.qobj_id, "type": "PULSE", "schema_version": "1.2.0", "header": dict(job.header),
            "config": config, "experiments": experiments}


def schedules_to_qobj(schedules: Schedule | ScheduleBlock | Sequence[Schedule | ScheduleBlock], *,
                      qubit_lo_freq: Sequence[float], meas_lo_freq: Sequence[float], **settings: Any) -> dict[str, Any]:
    """One or several schedules as a PulseQobj document; ``qubit_lo_freq``/``meas_lo_freq`` in Hz per qubit,
    ``settings`` any other :class:`QobjJob` field (``shots``, ``meas_level``, ``meas_return``, ``rep_time`` in s)."""
    items = [schedules] if isinstance(schedules, (Schedule, ScheduleBlock)) else list(schedules)
    converted = [block_to_schedule(s) if isinstance(s, ScheduleBlock) else s for s in items]
    job = QobjJob(experiments=tuple(QobjExperiment(s) for s in converted), qubit_lo_freq=tuple(qubit_lo_freq),
                  meas_lo_freq=tuple(meas_lo_freq), **settings)
    return to_qobj(job)
