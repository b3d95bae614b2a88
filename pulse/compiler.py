"""compile(): a schedule (or a sweep of them) to instrument payloads, as an ordered list of pure passes.

This is the one place where logical channels and frames become instrument outputs, sample rates, sequence
tables, LO settings and acquisition windows, and the one place that keeps the hardware safe: it refuses what
the wiring cannot take (an IF outside the AWG's band, a sample over an output's limit, an LO outside its
range), it never clips. Read :mod:`qubitlab.pulse.passes` for the passes themselves.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from qubitlab.drivers.payloads import (
    AwgProgram,
    CompiledProgram,
    DigitizerProgram,
    MeasLevel,
    MeasReturn,
    Payload,
    ShotsLayout,
    content_key,
)
from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.channels import Channel, PulseChannel
from qubitlab.pulse.parameters import Parameter
from qubitlab.pulse.block import ScheduleBlock, _has_structural
from qubitlab.pulse.cache import CompileCache, cache_or_default
from qubitlab.pulse.instructions import Instruction
from qubitlab.pulse.passes import (
    Contribution,
    FramedPlays,
    HardwareView,
    check_limits,
    check_lo_limits,
    check_program_limits,
    emit_awg,
    emit_digitizers,
    emit_los,
    flatten_points,
    lo_settings,
    map_to_outputs,
    modulate,
    segment,
    track_frames,
)
from qubitlab.pulse.passes.emit import WaveformTable
from qubitlab.pulse.passes.flatten import Point
from qubitlab.pulse.passes.hardware import hardware_view
from qubitlab.pulse.passes.segment import Busy, Idle
from qubitlab.pulse.program import Program


def compile(  # noqa: A001 - the name users expect, as in Qiskit's compiler
    schedule: Program | Sequence[Program],
    lab: Any,
    frames: Mapping[str, float] | Mapping[Channel, float] | Mapping[str | Channel, float],
    *,
    values: Sequence[Mapping[Parameter, Any]] | None = None,
    meas_level: MeasLevel = MeasLevel.KERNELED,
    meas_return: MeasReturn = MeasReturn.SINGLE,
    shots_layout: ShotsLayout | None = None,
    cache: CompileCache | None = None,
) -> CompiledProgram:
    """Compile ``schedule`` for ``lab`` with each channel's frame frequency in ``frames`` (Hz).

    A sweep compiles as one program: pass a list of schedules, or one parameterised schedule and ``values``
    (one mapping per point). ``lab`` is a ``LabConfig`` or a ``HardwareView``. ``cache`` keeps sampled
    envelopes, carrier rows and checked waveforms for later compilations (``DEFAULT_CACHE`` when None); the
    result does not depend on what it holds.
    """
    cache = cache_or_default(cache)
    hw = lab if isinstance(lab, HardwareView) else hardware_view(lab)
    frame_map = _frame_map(frames)
    points = flatten_points(_points(schedule, values))                         # 1
    settings = lo_settings(hw)
    check_lo_limits(settings, hw)                                              # 6 (LOs)
    per_awg_points: dict[str, list[list[Busy | Idle]]] = {name: [] for name in hw.awgs}
    tables = {name: WaveformTable(cache) for name in hw.awgs}
    framed: FramedPlays | None = None
    reuse: dict[PulseChannel, list[Contribution]] = {}
    for point in points:
        if framed is None or framed.point.channels is not point.channels:
            reuse = {}  # a new timing: static channels' contributions are worked out again
        framed = track_frames(point, frame_map, hw.dt, cache=cache, previous=framed)   # 2
        per_line = modulate(framed, hw, cache=cache, reuse=reuse)             # 3
        per_awg = map_to_outputs(per_line, hw)                                 # 4
        for name, awg in hw.awgs.items():
            k = hw.samples_per_dt(name)
            steps = segment(per_awg.get(name, []), awg, point.duration * k)    # 5
            check_limits(steps, awg, k, tables[name])                          # 6, 7
            per_awg_points[name].append(steps)
    payloads: dict[str, Payload] = {}
    for name, awg in hw.awgs.items():                                          # 7-8
        outputs = tuple(sorted({o for line in hw.lines.values() if line.awg == name for o in line.outputs}))
        if outputs:
            program = emit_awg(name, awg, per_awg_points[name], outputs, tables[name])
            check_program_limits(program, awg)                                 # 6 (sequencer, memory)
            payloads[name] = program
    payloads.update(emit_los(settings))
    digitizers, slots = emit_digitizers(points, hw, frame_map, meas_level, meas_return, cache)
    payloads.update(digitizers)
    return CompiledProgram(
        payloads=payloads,
        memory_slots=slots,
        points=len(points),
        duration=max((p.duration for p in points), default=0) * hw.dt,
        input_hash=_input_hash(payloads, slots, frame_map, hw),
        shots_layout=shots_layout or ShotsLayout.POINTS_INNER,
    )


def _frame_map(frames: Mapping[str, float] | Mapping[Channel, float] | Mapping[str | Channel, float]
               ) -> dict[str, float]:
    """Channel name -> frame frequency (Hz), each a finite number."""
    out: dict[str, float] = {}
    for key, value in frames.items():
        name = key.name if isinstance(key, Channel) else str(key)
        try:
            frequency = float(value)
        except (TypeError, ValueError):
            raise CompilationError(f"frames[{name!r}] = {value!r} is not a frequency in Hz", pass_name="frames",
                                   channel=name) from None
        if not math.isfinite(frequency):
            raise CompilationError(f"frames[{name!r}] = {frequency} Hz is not a finite frame frequency; give the "
                                   f"calibrated frequency of {name} in Hz (a NaN usually comes from a failed fit)",
                                   pass_name="frames", channel=name)
        out[name] = frequency
    return out


def _points(schedule: Program | Sequence[Program], values: Sequence[Mapping[Parameter, Any]] | None) -> list[Point]:
    if isinstance(schedule, Program):
        if values is None:
            return [schedule]
        if isinstance(schedule, ScheduleBlock) and _has_structural(schedule):
            points: list[Point] = []
            for index, v in enumerate(values):  # times depend on values
                try:
                    points.append(schedule.assign_parameters(v, inplace=False))
                except PulseError as exc:
                    raise _binding_error(schedule, index, v, exc) from exc
            return points
        return [(schedule, v) for v in values]  # one timing, a table per point
    if values is not None:
        raise CompilationError("give either a list of schedules or one schedule with values, not both",
                               pass_name="flatten")
    programs: list[Point] = list(schedule)
    if not programs:
        raise CompilationError("nothing to compile: the list of schedules is empty", pass_name="flatten")
    return programs


def _binding_error(program: Program, index: int, values: Mapping[Parameter, Any], exc: PulseError
                   ) -> CompilationError:
    """A refused binding, naming the instructions (and their channels) that use a value that is not finite."""
    bad = {p for p, v in values.items() if isinstance(v, (int, float)) and not math.isfinite(v)}
    users = [inst for inst in _instructions(program) if bad & set(inst.parameters)] if bad else []
    where = users[0] if users else None
    return CompilationError(
        f"point {index}: {exc}" + (f" (value {', '.join(f'{p.name}={values[p]}' for p in bad)} is not finite)"
                                    if bad else ""),
        pass_name="flatten", channel=None if where is None else where.channels[0].name,
        instruction=None if where is None else repr(where))


def _instructions(program: Any) -> list[Instruction]:
    """Every instruction of a block or schedule, depth first (only used to name one in an error)."""
    children = program._tree.blocks if isinstance(program, ScheduleBlock) else [c for _, c in program._children]
    out: list[Instruction] = []
    for child in children:
        out.extend([child] if isinstance(child, Instruction) else _instructions(child) if isinstance(child, Program)
                   else [])
    return out


def _input_hash(payloads: Mapping[str, Payload], slots: Mapping[int, Any], frames: Mapping[str, float],
                hw: HardwareView) -> str:
    """A hash that identifies what was compiled: the frames, the hardware view and the content of every
    payload (waveform keys, sequences, settings, windows), which are a pure function of the programs.
    Equal inputs give equal hashes; two programs that compile to identical payloads share one."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(sorted(frames.items())).encode())
    digest.update(repr(hw).encode())
    for name in sorted(payloads):
        payload = payloads[name]
        if isinstance(payload, AwgProgram):
            digest.update(f"{name} {payload.sample_rate!r} {payload.outputs}".encode())
            digest.update("|".join(f"{s.point} {s.repeat} {s.wait_trigger} {s.waveforms}" for s in payload.sequence)
                          .encode())
        elif isinstance(payload, DigitizerProgram):
            digest.update(repr(payload).encode())  # windows without their weights (repr=False) ...
            keys: dict[int, str] = {}
            for window in payload.windows:  # ... which are hashed by content, once per distinct array
                key = keys.get(id(window.weights))
                if key is None:
                    key = keys[id(window.weights)] = content_key(window.weights)
                digest.update(key.encode())
        else:
            digest.update(repr(payload).encode())
    digest.update(repr(sorted(slots.items())).encode())
    return digest.hexdigest()
