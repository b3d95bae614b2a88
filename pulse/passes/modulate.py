"""Pass 3: IF modulation -- each play becomes complex samples at its AWG's rate, on the carrier (frame - LO).

The baseband an AWG must play for a channel is the rendered envelope (frame phase applied) times
``exp(i 2 pi IF t)`` with ``IF = frame frequency - LO frequency`` and ``t`` the absolute time in the shot, so
consecutive pulses stay phase-coherent with the qubit and a frequency shift keeps the phase continuous.
Envelopes are held over each ``dt`` (zero-order hold) when the AWG runs faster than ``1/dt``. An IF beyond the
AWG's bandwidth is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from qubitlab.drivers.payloads import content_key
from qubitlab.errors import CompilationError
from qubitlab.pulse.channels import PulseChannel
from qubitlab.pulse.instructions import Instruction
from qubitlab.pulse.passes.frames import FramedPlays
from qubitlab.pulse.cache import CompileCache, cache_or_default
from qubitlab.pulse.passes.hardware import AwgView, HardwareView, LineView
from qubitlab.pulse.rendering import ComplexArray, PlayRecord


@dataclass(frozen=True)
class Contribution:
    """A block of complex baseband samples on one line, from one play: ``coefficient * row`` (times ``chirp``
    when the frame frequency was shifted), kept factored so no output-sized temporary is ever built."""

    line: str
    start: int
    """First AWG sample (from the start of the point)."""
    row: ComplexArray
    """The envelope on the carrier from the play's start (shared, read-only)."""
    coefficient: complex
    chirp: ComplexArray | None
    channel: str
    time: int
    """Start of the play in samples of dt, for error messages."""
    instruction: Instruction
    recipe: tuple[object, ...]
    """Everything that determines the samples (envelope key, coefficient, carrier, chirp): equal recipes give
    equal samples, so waveforms can be keyed without hashing their samples."""
    phasor: complex = 1.0
    """The carrier's phasor at the play's start (``coefficient`` is the play's frame coefficient times it),
    kept so :mod:`qubitlab.pulse.bind` can rebind the play's coefficient without modulating again."""

    @property
    def length(self) -> int:
        return int(self.row.shape[0])

    @property
    def samples(self) -> ComplexArray:
        values = self.row * self.coefficient
        return values if self.chirp is None else values * self.chirp

    def add_into(self, target: ComplexArray) -> None:
        """``target += samples`` with one temporary of the play's length."""
        values = self.row * self.coefficient
        if self.chirp is not None:
            values *= self.chirp
        target += values


def modulate(framed: FramedPlays, hw: HardwareView, *, cache: CompileCache | None = None,
             reuse: dict[PulseChannel, list[Contribution]] | None = None) -> dict[str, list[Contribution]]:
    """Per line, the modulated contributions of every play on its channels.

    ``reuse`` holds the contributions of static channels from earlier points with the same timing (the
    caller starts a new one when the timing changes): read for them, filled by them. Carrier rows are kept
    in ``cache`` (the default cache when None), keyed by the envelope's content key, IF and rates."""
    out: dict[str, list[Contribution]] = {}
    keys: dict[int, str] = {}  # this call's unit envelopes, hashed once each (they live through the call)
    for channel, plays in framed.plays.items():
        if not plays:
            continue
        static = reuse is not None and channel in framed.static
        if static and reuse is not None and channel in reuse:
            found = reuse[channel]
            out.setdefault(found[0].line, []).extend(found)
            continue
        first = plays[0]
        line = hw.line_of(channel.name, pass_name="modulate", time=first.start, instruction=first.instruction)
        awg = hw.awgs[line.awg]
        k = hw.samples_per_dt(line.awg)
        base_if = framed.base_frequency[channel] - line.lo_frequency
        for play in plays:
            _check_if(channel, play, base_if, line, awg, framed.base_frequency[channel])
        contributions = _modulate_channel(channel, plays, line.name, k, base_if, hw.dt, cache_or_default(cache), keys)
        out.setdefault(line.name, []).extend(contributions)
        if static and reuse is not None and contributions:
            reuse[channel] = contributions
    return out


def _check_if(channel: PulseChannel, play: PlayRecord, base_if: float, line: LineView, awg: AwgView,
              base: float) -> None:
    offset_if = base_if + play.frequency_offset
    if abs(offset_if) > awg.max_if_bandwidth:
        raise CompilationError(
            f"IF {offset_if / 1e6:.3f} MHz (frame {(base + play.frequency_offset) / 1e9:.6f}"
            f" GHz - LO {line.lo_frequency / 1e9:.6f} GHz) is outside {awg.instrument}'s bandwidth "
            f"+-{awg.max_if_bandwidth / 1e6:.1f} MHz; move the LO of line {line.name} or the frame",
            pass_name="modulate", channel=channel.name, time=play.start, instruction=repr(play.instruction),
        )


def _carrier_row(cache: CompileCache, unit: ComplexArray, key: str, k: int, base_if: float, dt: float
                 ) -> ComplexArray:
    """The envelope held over each dt and multiplied by the carrier from the play's start: the same for every
    play of this envelope at this IF, so cached (a sweep modulates each envelope once, not once per point)."""

    def make() -> ComplexArray:
        held = np.repeat(unit, k) if k > 1 else unit
        row: ComplexArray = held * np.exp(2j * math.pi * base_if * dt * (np.arange(held.shape[0]) / k))
        row.setflags(write=False)
        return row

    return cache.get("carrier", (key, k, base_if, dt), make)


def _modulate_channel(channel: PulseChannel, plays: list[PlayRecord], line: str, k: int, base_if: float,
                      dt: float, cache: CompileCache, keys: dict[int, str]) -> list[Contribution]:
    """All of a channel's plays, batched per shared envelope: the carrier over a play is the same row for
    every play of that envelope, times a phasor for its start time, so a group costs one multiplication."""
    groups: dict[int, list[PlayRecord]] = {}
    for play in plays:
        groups.setdefault(id(play.unit), []).append(play)
    out = []
    for unit_id, group in groups.items():
        unit = group[0].unit
        n = unit.shape[0] * k
        if n == 0:
            continue
        key = keys.get(unit_id)
        if key is None:
            key = keys[unit_id] = content_key(unit)
        sub = np.arange(n) / k  # time within the play, in samples of dt
        carrier_row = _carrier_row(cache, unit, key, k, base_if, dt)
        starts = np.array([p.start for p in group], dtype=np.float64)
        cycles = np.mod(base_if * dt * starts, 1.0)  # carrier phase at each start, in turns
        phasors = np.exp(2j * math.pi * cycles)
        for play, cycle, phasor in zip(group, cycles.tolist(), phasors.tolist()):
            chirp = None if not play.omega else np.exp(1j * (play.offset + play.omega * sub))
            recipe = (key, k, base_if, dt, play.coefficient, cycle, play.omega, play.offset)
            out.append(Contribution(line, play.start * k, carrier_row, play.coefficient * phasor, chirp,
                                    channel.name, play.start, play.instruction, recipe, phasor))
    return out


def lo_settings(hw: HardwareView) -> Mapping[str, tuple[float, float]]:
    """Each LO instrument's (frequency, power), refusing two lines that ask one LO for different settings."""
    settings: dict[str, tuple[float, float, str]] = {}
    for line in hw.lines.values():
        if line.lo is None:
            continue
        wanted = (line.lo_frequency, line.lo_power, line.name)
        have = settings.setdefault(line.lo, wanted)
        if have[:2] != wanted[:2]:
            raise CompilationError(
                f"LO {line.lo} is shared by lines {have[2]} and {line.name} with different settings "
                f"({have[0]} Hz, {have[1]} dBm vs {wanted[0]} Hz, {wanted[1]} dBm)", pass_name="modulate",
            )
    return {name: (f, p) for name, (f, p, _) in settings.items()}
