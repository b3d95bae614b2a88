"""Pass 1: flatten each sweep point's program to instructions at absolute integer sample times, per channel.

A point is a ``Schedule`` or ``ScheduleBlock`` (bound or with a value table); timing comes from the pulse
layer's own engine, so the compiler times a program exactly as ``block_to_schedule`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def flatten_points(programs: Sequence[Program]) -> list[FlatPoint]:
    """Time every program; refuse unassigned durations, unbound values are refused later by the pass using them."""
    from qubitlab.pulse.rendering import _plan

    points = []
    for index, program in enumerate(programs):
        if not isinstance(program, Program):
            raise CompilationError(f"point {index} is a {type(program).__name__}, not a Schedule or ScheduleBlock",
                                   pass_name="flatten")
        try:
            timed = program._timed()
        except PulseError as exc:
            raise CompilationError(f"point {index}: {exc}", pass_name="flatten") from exc
        acquisitions = []
        for t, inst in timed.items:
            if isinstance(inst, Acquire):
                if not isinstance(inst.duration, int):
                    raise CompilationError(f"point {index}: acquisition duration {inst.duration} is not assigned",
                                           pass_name="flatten", channel=inst.channel.name, time=t,
                                           instruction=repr(inst))
                acquisitions.append((t, inst))
        acquisitions.sort(key=lambda pair: (pair[0], _channel_order(pair[1].channel)))
        points.append(FlatPoint(index, _plan(timed), acquisitions, program._table, timed.duration))
    return points


def _channel_order(channel: Channel) -> int:
    return channel.index if isinstance(channel, AcquireChannel) and isinstance(channel.index, int) else 0
