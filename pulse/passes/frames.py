"""Pass 2: frame tracking -- phases and frequencies per channel, with Qiskit Pulse's semantics.

Each pulse channel has its own frame: ``ShiftPhase``/``SetPhase`` change its phase from then on,
``ShiftFrequency``/``SetFrequency`` its frequency, with the phase continuous across a frequency change. The
result per play is what ``render`` draws (envelope times frame phasor) plus the frame frequency in force, so
the next pass can modulate at the right IF. The frame's base frequency for each channel comes from ``frames``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.channels import PulseChannel
from qubitlab.pulse.passes.flatten import FlatPoint
from qubitlab.pulse.rendering import ComplexArray, PlayRecord, channel_plays


@dataclass(frozen=True)
class FramedPlays:
    """A point's plays per channel with frames applied, and the base frame frequency of each channel."""

    point: FlatPoint
    plays: Mapping[PulseChannel, list[PlayRecord]]
    base_frequency: Mapping[PulseChannel, float]


def track_frames(point: FlatPoint, frames: Mapping[str, float], dt: float,
                 memo: dict[int, tuple[object, list[PlayRecord] | None]] | None = None) -> FramedPlays:
    """Apply each channel's frame to its plays; every channel that plays needs a frame frequency in ``frames``.

    ``memo`` carries results across the points of a sweep: a channel whose instructions hold no parameter
    plays the same in every point that shares its timing, so its plays are worked out once."""
    envelopes: dict[object, tuple[ComplexArray, complex]] = {}
    plays: dict[PulseChannel, list[PlayRecord]] = {}
    bases: dict[PulseChannel, float] = {}
    for channel, events in point.channels.items():
        if channel.name not in frames:
            first = events[0]
            raise CompilationError(
                f"no frame frequency for {channel.name}; give frames={{'{channel.name}': Hz, ...}} "
                f"(given: {', '.join(sorted(frames)) or 'none'})",
                pass_name="frames", channel=channel.name, time=first[0], instruction=repr(first[1]),
            )
        base = float(frames[channel.name])
        bases[channel] = base
        found = memo.get(id(events)) if memo is not None else None
        if found is not None and found[0] is events and found[1] is not None:
            plays[channel] = found[1]
            continue
        try:
            plays[channel] = channel_plays(channel, events, point.table, dt, {channel: base}, envelopes)
        except PulseError as exc:
            raise CompilationError(f"point {point.index}: {exc}", pass_name="frames", channel=channel.name) from exc
        if memo is not None and (found is None or found[0] is not events):
            static = not any(inst.is_parameterized() for _, inst in events)
            memo[id(events)] = (events, plays[channel] if static else None)
    return FramedPlays(point, plays, bases)
