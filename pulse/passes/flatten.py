"""Pass 1: flatten each sweep point's program to instructions at absolute integer sample times, per channel.

A point is a ``Schedule`` or ``ScheduleBlock`` (bound or with a value table); timing comes from the pulse
layer's own engine, so the compiler times a program exactly as ``block_to_schedule`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.channels import AcquireChannel, Channel, PulseChannel
from qubitlab.pulse.instructions import Acquire, Instruction
from qubitlab.pulse.parameters import Parameter
from qubitlab.pulse.program import Program


@dataclass(frozen=True)
class FlatPoint:
    """One sweep point: per pulse channel its instructions in execution order, its acquisitions, its table."""

    index: int
    channels: Mapping[PulseChannel, list[tuple[int, Instruction]]]
    acquisitions: list[tuple[int, Acquire]]
    table: Mapping[Parameter, Any]
    duration: int


Point = Union[Program, tuple[Program, Mapping[Parameter, Any]]]


def flatten_points(programs: Sequence[Point]) -> list[FlatPoint]:
    """Time every point; refuse unassigned durations (unbound values are refused by the pass that uses them).

    A point is a program, or ``(program, values)``: the program's timing with ``values`` added to its table,
    which is how a sweep over non-structural parameters is compiled without building a copy per point.
    """
    from qubitlab.pulse.program import unroll_values
    from qubitlab.pulse.rendering import _plan

    points = []
    acquisitions_of: dict[int, tuple[Any, list[tuple[int, Acquire]]]] = {}
    for index, point in enumerate(programs):
        program, values = point if isinstance(point, tuple) else (point, None)
        if not isinstance(program, Program):
            raise CompilationError(f"point {index} is a {type(program).__name__}, not a Schedule or ScheduleBlock",
                                   pass_name="flatten")
        try:
            timed = program._timed()
            table = program._table if values is None else {**program._table, **unroll_values(values)}
        except PulseError as exc:
            raise CompilationError(f"point {index}: {exc}", pass_name="flatten") from exc
        cached = acquisitions_of.get(id(timed))
        if cached is None or cached[0] is not timed:
            cached = acquisitions_of[id(timed)] = (timed, _acquisitions(index, timed.items))
        points.append(FlatPoint(index, _plan(timed), cached[1], table, timed.duration))
    return points


def _acquisitions(index: int, items: list[tuple[int, Instruction]]) -> list[tuple[int, Acquire]]:
    acquisitions = []
    for t, inst in items:
        if isinstance(inst, Acquire):
            if not isinstance(inst.duration, int):
                raise CompilationError(f"point {index}: acquisition duration {inst.duration} is not assigned",
                                       pass_name="flatten", channel=inst.channel.name, time=t,
                                       instruction=repr(inst))
            acquisitions.append((t, inst))
    acquisitions.sort(key=lambda pair: (pair[0], _channel_order(pair[1].channel)))
    return acquisitions


def _channel_order(channel: Channel) -> int:
    return channel.index if isinstance(channel, AcquireChannel) and isinstance(channel.index, int) else 0
