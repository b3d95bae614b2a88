"""Pass 2: frame tracking -- phases and frequencies per channel, with Qiskit Pulse's semantics.

Each pulse channel has its own frame: ``ShiftPhase``/``SetPhase`` change its phase from then on,
``ShiftFrequency``/``SetFrequency`` its frequency, with the phase continuous across a frequency change. The
result per play is what ``render`` draws (envelope times frame phasor) plus the frame frequency in force, so
the next pass can modulate at the right IF. The frame's base frequency for each channel comes from ``frames``.
A frame value that is not a finite number (NaN, inf: a fit that failed upstream) is refused here, by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.cache import CompileCache
from qubitlab.pulse.channels import PulseChannel
from qubitlab.pulse.instructions import Instruction, SetFrequency, SetPhase, ShiftFrequency, ShiftPhase
from qubitlab.pulse.parameters import Parameter, ParameterExpression, resolve
from qubitlab.pulse.passes.flatten import FlatPoint
from qubitlab.pulse.rendering import ComplexArray, PlayRecord, channel_plays

_FRAME_KINDS = (ShiftPhase, SetPhase, ShiftFrequency, SetFrequency)


@dataclass(frozen=True)
class FramedPlays:
    """A point's plays per channel with frames applied, the base frame frequency of each channel, and the
    channels whose instructions hold no parameter (they play alike in every point with the same timing)."""

    point: FlatPoint
    plays: Mapping[PulseChannel, list[PlayRecord]]
    base_frequency: Mapping[PulseChannel, float]
    static: frozenset[PulseChannel] = frozenset()


def track_frames(point: FlatPoint, frames: Mapping[str, float], dt: float, *, cache: CompileCache | None = None,
                 previous: FramedPlays | None = None) -> FramedPlays:
    """Apply each channel's frame to its plays; every channel that plays needs a frame frequency in ``frames``.

    ``previous`` is an earlier point of the same sweep: when it has the same timing (the same plan object),
    its static channels' plays are taken as they are instead of being worked out again."""
    reuse = previous if previous is not None and previous.point.channels is point.channels else None
    envelopes: dict[object, tuple[ComplexArray, complex]] = {}
    plays: dict[PulseChannel, list[PlayRecord]] = {}
    bases: dict[PulseChannel, float] = {}
    static: set[PulseChannel] = set()
    for channel, events in point.channels.items():
        base = bases[channel] = _base_frequency(channel, events, frames)
        if reuse is not None and channel in reuse.static:
            plays[channel] = reuse.plays[channel]
            static.add(channel)
            continue
        _check_frame_values(point, channel, events)
        try:
            plays[channel] = channel_plays(channel, events, point.table, dt, {channel: base}, envelopes, cache)
        except PulseError as exc:
            t, inst = _culprit(channel, events, point.table, dt, base, cache)
            raise CompilationError(f"point {point.index}: {exc}", pass_name="frames", channel=channel.name,
                                   time=t, instruction=None if inst is None else repr(inst)) from exc
        if not any(inst.is_parameterized() for _, inst in events):
            static.add(channel)
    return FramedPlays(point, plays, bases, frozenset(static))


def _base_frequency(channel: PulseChannel, events: list[tuple[int, Instruction]], frames: Mapping[str, float]
                    ) -> float:
    if channel.name not in frames:
        first = events[0]
        raise CompilationError(
            f"no frame frequency for {channel.name}; give frames={{'{channel.name}': Hz, ...}} "
            f"(given: {', '.join(sorted(frames)) or 'none'})",
            pass_name="frames", channel=channel.name, time=first[0], instruction=repr(first[1]),
        )
    return float(frames[channel.name])


def _check_frame_values(point: FlatPoint, channel: PulseChannel, events: list[tuple[int, Instruction]]) -> None:
    """Every phase and frequency on the channel a finite number (literal or bound from the point's table)."""
    for t, inst in events:
        if not isinstance(inst, _FRAME_KINDS):
            continue
        value: Any = inst._value
        if isinstance(value, ParameterExpression):
            value = resolve(value, point.table)
            if isinstance(value, ParameterExpression):
                continue  # unbound: channel_plays refuses it with the parameters' names
        if not math.isfinite(float(value)):
            what = "phase (rad)" if isinstance(inst, (ShiftPhase, SetPhase)) else "frequency (Hz)"
            raise CompilationError(
                f"point {point.index}: {type(inst).__name__} on {channel.name} has {what} {float(value)}, which is "
                "not a finite number; bind or give a finite value (a NaN usually comes from a failed fit)",
                pass_name="frames", channel=channel.name, time=t, instruction=repr(inst))


def _culprit(channel: PulseChannel, events: list[tuple[int, Instruction]], table: Mapping[Parameter, Any],
             dt: float, base: float, cache: CompileCache | None) -> tuple[int | None, Instruction | None]:
    """The first instruction the frame walk refuses on its own (only run to name it in an error)."""
    for t, inst in events:
        try:
            channel_plays(channel, [(t, inst)], table, dt, {channel: base}, None, cache)
        except PulseError:
            return t, inst
    return None, None
