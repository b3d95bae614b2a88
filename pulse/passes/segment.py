"""Pass 5: granularity, minimum length and idle time -- cut each AWG's point into sequence steps.

Busy stretches (where any output plays) become waveform steps whose start and length are multiples of the
AWG's granularity and at least its minimum length; idle stretches become a zero waveform of minimum length
repeated, i.e. sequence waits instead of rendered zeros. Overlapping contributions on one output (two channels
on one line, as a drive and a cross-resonance tone) are summed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qubitlab.pulse.passes.hardware import AwgView
from qubitlab.pulse.passes.modulate import Contribution
from qubitlab.pulse.passes.outputs import OutputContribution


@dataclass
class Busy:
    """A waveform step: per (I, Q) output pair the contributions summed into it (with their offsets), and
    everything that contributed, for error messages. Samples are computed only when needed: a step whose
    recipe was seen before (the readout of every point of a sweep) is never computed again."""

    start: int
    length: int
    parts: dict[tuple[str, str], list[tuple[int, Contribution]]] = field(default_factory=dict)
    sources: list[OutputContribution] = field(default_factory=list)

    def recipe(self, pair: tuple[str, str]) -> tuple[object, ...]:
        """Determines the pair's samples exactly (see ``Contribution.recipe``)."""
        return (self.length, *((offset, c.recipe) for offset, c in self.parts[pair]))

    def samples(self, pair: tuple[str, str]) -> np.ndarray:
        """The pair's complex samples: I is the real part, Q the imaginary part (fractions of full scale)."""
        buffer = np.zeros(self.length, dtype=np.complex128)
        for offset, c in self.parts[pair]:
            c.add_into(buffer[offset: offset + c.length])
        return buffer


@dataclass(frozen=True)
class Idle:
    """A wait: a zero waveform of ``length`` samples played ``repeat`` times."""

    length: int
    repeat: int


def _ceil(x: int, g: int) -> int:
    return -(-x // g) * g


def segment(contributions: list[OutputContribution], awg: AwgView, total: int) -> list[Busy | Idle]:
    """The steps of one point of ``total`` AWG samples (contributions must lie inside it)."""
    g = max(awg.granularity, 1)
    zero_len = _ceil(max(awg.min_length, g), g)
    total = max(_ceil(total, g), zero_len)
    spans = _busy_spans(contributions, g, zero_len)
    steps: list[Busy | Idle] = []
    cursor = 0
    for start, stop in spans:
        steps.extend(_idle(start - cursor, zero_len))
        steps.append(Busy(start, stop - start))
        cursor = stop
    if total - cursor >= zero_len:
        steps.extend(_idle(total - cursor, zero_len))
    _fill(steps, contributions)
    return steps


def _idle(gap: int, zero_len: int) -> list[Idle]:
    """Zero steps for a gap (a multiple of the granularity, 0 or >= ``zero_len``): ``zero_len`` repeated,
    the last one longer by the remainder so every step stays at least the minimum length."""
    if gap <= 0:
        return []
    count, rest = divmod(gap, zero_len)
    if rest == 0:
        return [Idle(zero_len, count)]
    steps = [Idle(zero_len, count - 1)] if count > 1 else []
    return [*steps, Idle(zero_len + rest, 1)]


def _busy_spans(contributions: list[OutputContribution], g: int, zero_len: int) -> list[tuple[int, int]]:
    """Merged busy intervals, aligned to ``g``, each >= ``zero_len``, every gap 0 or >= ``zero_len``."""
    raw = sorted((c.source.start // g * g, _ceil(c.source.start + c.source.length, g)) for c in contributions)
    spans: list[list[int]] = []
    for start, stop in raw:
        if spans and start - spans[-1][1] < zero_len:
            spans[-1][1] = max(spans[-1][1], stop)
        else:
            spans.append([start, stop])
    # Each span at least zero_len long: a short span grows to the right, merging with the next if it must.
    out: list[list[int]] = []
    for start, stop in spans:
        if start < zero_len:  # too close to the start of the point for a zero step before it
            start = 0
        stop = max(stop, start + zero_len)
        if out and start - out[-1][1] < zero_len:
            out[-1][1] = max(out[-1][1], stop)
        else:
            out.append([start, stop])
    return [(a, b) for a, b in out]  # the last span may end past ``total``: the point then ends with it


def _fill(steps: list[Busy | Idle], contributions: list[OutputContribution]) -> None:
    """File every contribution under the busy step that holds it."""
    busy = [s for s in steps if isinstance(s, Busy)]
    if not busy:
        return
    starts = np.array([b.start for b in busy])
    indices = np.searchsorted(starts, [c.source.start for c in contributions], side="right") - 1
    for c, index in zip(contributions, indices.tolist()):
        step = busy[index]
        step.parts.setdefault((c.i_output, c.q_output), []).append((c.source.start - step.start, c.source))
        step.sources.append(c)
