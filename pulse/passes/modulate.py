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
from qubitlab.pulse.passes.hardware import HardwareView
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


def modulate(framed: FramedPlays, hw: HardwareView,
             memo: dict[int, tuple[object, list[Contribution]]] | None = None) -> dict[str, list[Contribution]]:
    """Per line, the modulated contributions of every play on its channels (``memo``: plays lists seen before
    -- a sweep's unchanged channels -- give the contributions computed then)."""
    out: dict[str, list[Contribution]] = {}
    for channel, plays in framed.plays.items():
        if not plays:
            continue
        if memo is not None:
            found = memo.get(id(plays))
            if found is not None and found[0] is plays:
                out.setdefault(found[1][0].line, []).extend(found[1])
                continue
        first = plays[0]
        line = hw.line_of(channel.name, pass_name="modulate", time=first.start, instruction=first.instruction)
        awg = hw.awgs[line.awg]
        k = hw.samples_per_dt(line.awg)
        base_if = framed.base_frequency[channel] - line.lo_frequency
        for play in plays:
            offset_if = base_if + play.frequency_offset
            if abs(offset_if) > awg.max_if_bandwidth:
                raise CompilationError(
                    f"IF {offset_if / 1e6:.3f} MHz (frame {(framed.base_frequency[channel] + play.frequency_offset) / 1e9:.6f}"
                    f" GHz - LO {line.lo_frequency / 1e9:.6f} GHz) is outside {awg.instrument}'s bandwidth "
                    f"+-{awg.max_if_bandwidth / 1e6:.1f} MHz; move the LO of line {line.name} or the frame",
                    pass_name="modulate", channel=channel.name, time=play.start, instruction=repr(play.instruction),
                )
        contributions = _modulate_channel(channel, plays, line.name, k, base_if, hw.dt)
        out.setdefault(line.name, []).extend(contributions)
        if memo is not None and contributions:
            memo[id(plays)] = (plays, contributions)
    return out


_UNIT_KEYS: dict[int, tuple[ComplexArray, str]] = {}


def unit_key(unit: ComplexArray) -> str:
    """Content key of a (cached, read-only) unit envelope, computed once per array."""
    found = _UNIT_KEYS.get(id(unit))
    if found is not None and found[0] is unit:
        return found[1]
    if len(_UNIT_KEYS) > 16384:
        _UNIT_KEYS.clear()
    key = content_key(unit)
    _UNIT_KEYS[id(unit)] = (unit, key)
    return key


_CARRIER_ROWS: dict[tuple[str, int, float, float], ComplexArray] = {}


def _carrier_row(unit: ComplexArray, key: str, k: int, base_if: float, dt: float) -> ComplexArray:
    """The envelope held over each dt and multiplied by the carrier from the play's start: the same for every
    play of this envelope at this IF, so cached (a sweep modulates each envelope once, not once per point)."""
    cache_key = (key, k, base_if, dt)
    row = _CARRIER_ROWS.get(cache_key)
    if row is None:
        if len(_CARRIER_ROWS) > 4096:
            _CARRIER_ROWS.clear()
        held = np.repeat(unit, k) if k > 1 else unit
        row = held * np.exp(2j * math.pi * base_if * dt * (np.arange(held.shape[0]) / k))
        row.setflags(write=False)
        _CARRIER_ROWS[cache_key] = row
    return row


def _modulate_channel(channel: PulseChannel, plays: list[PlayRecord], line: str, k: int, base_if: float,
                      dt: float) -> list[Contribution]:
    """All of a channel's plays, batched per shared envelope: the carrier over a play is the same row for
    every play of that envelope, times a phasor for its start time, so a group costs one multiplication."""
    groups: dict[int, list[PlayRecord]] = {}
    for play in plays:
        groups.setdefault(id(play.unit), []).append(play)
    out = []
    for group in groups.values():
        unit = group[0].unit
        n = unit.shape[0] * k
        if n == 0:
            continue
        key = unit_key(unit)
        sub = np.arange(n) / k  # time within the play, in samples of dt
        carrier_row = _carrier_row(unit, key, k, base_if, dt)
        starts = np.array([p.start for p in group], dtype=np.float64)
        cycles = np.mod(base_if * dt * starts, 1.0)  # carrier phase at each start, in turns
        phasors = np.exp(2j * math.pi * cycles)
        for play, cycle, phasor in zip(group, cycles.tolist(), phasors.tolist()):
            chirp = None if not play.omega else np.exp(1j * (play.offset + play.omega * sub))
            recipe = (key, k, base_if, dt, play.coefficient, cycle, play.omega, play.offset)
            out.append(Contribution(line, play.start * k, carrier_row, play.coefficient * phasor, chirp,
                                    channel.name, play.start, play.instruction, recipe))
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
