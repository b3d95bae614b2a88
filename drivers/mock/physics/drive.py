"""The drive path: from what the instruments produce to the drive each transmon sees in the simulation frame.

An AWG line plays complex baseband samples ``s = I + iQ`` (volts at the device, after the line's gain), each
held for one sample; an IQ mixer pumped by an LO at ``f_LO`` makes ``Re[s exp(i 2 pi f_LO t)]`` (a positive IF
lands above the LO, as the compiler assumes). A transmon with Rabi rate ``r`` per volt, seen in a frame rotating
at ``f_F``, then feels (rotating-wave approximation) ``(W a^dag + W^* a) / 2`` with

    W(t) = 2 pi r conj(s(t)) exp(-i 2 pi (f_LO - f_F) t)      [rad/ns]

-- the conjugate because the raising operator goes with the negative-frequency half of the real field. So a
wrong LO is a detuned drive, an LO that is off is no drive, and a line's crosstalk onto another transmon is
the same drive scaled by a complex factor (``DeviceConfig.crosstalk``). LO power is not modelled: the mixer is
taken to be driven in saturation, its conversion loss folded into the line's ``gain_db``.

When the LO differs from the simulation frame, ``W`` turns within an AWG sample; the sample is then divided
into substeps, each held at its midpoint value, until the turn per substep is at most ``MAX_TURN`` rad.
``line_drives`` gives the drive line by line (what each line plays, and how each transmon feels it), so that
the evolution can recognise samples that repeat up to a phase.
The engine picks the frame of each pulse segment so that this is needed only when lines with different LOs
play at the same time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ComplexArray = NDArray[np.complex128]
MAX_TURN = 0.05


@dataclass(frozen=True)
class LoState:
    """What an LO instrument is set to."""

    frequency: float
    power: float = 0.0
    output: bool = True


@dataclass(frozen=True)
class LineSignal:
    """One line's signal on the simulation grid: complex baseband volts at the device, and its LO."""

    name: str
    samples: ComplexArray
    lo: LoState

    @property
    def live(self) -> bool:
        return self.lo.output and bool(np.any(self.samples))


@dataclass(frozen=True)
class Reach:
    """A line reaching a transmon: ``factor`` 1 for its own drive line, the crosstalk factor otherwise."""

    line: LineSignal
    factor: complex
    rabi_per_volt: float


def substeps(frequencies: Sequence[float], frame: float, rate: float) -> int:
    """Substeps per grid sample keeping each LO's turn against ``frame`` at most ``MAX_TURN`` rad."""
    worst = max((abs(f - frame) for f in frequencies), default=0.0)
    return max(1, math.ceil(2 * math.pi * worst / rate / MAX_TURN))


def line_drives(reaches: Sequence[Sequence[Reach]], frame: float, start: int, stop: int, sub: int, rate: float
                ) -> tuple[ComplexArray, ComplexArray]:
    """The drive of ``k`` transmons (``reaches`` per transmon) on grid samples ``start:stop`` in the frame at
    ``frame``, divided into ``sub`` substeps per sample, line by line: ``(mixing, amplitudes)`` with
    ``amplitudes`` ``(lines, samples)`` and ``mixing`` ``(k, lines, sub)`` such that the transmon ``q`` feels
    ``W = sum_l mixing[q, l, j] amplitudes[l, sample]`` (rad/ns) in substep ``j``.

    A line's held sample turns against the frame at its LO's offset; the turn at the start of each sample goes
    with the sample (``amplitudes``), the turn within it with the substep (``mixing``): so the samples of a
    pulse played again later differ only by a phase common to all lines, which the evolution exploits."""
    index: dict[str, int] = {}  # line name -> row
    rows: list[ComplexArray] = []
    for reach_list in reaches:
        for reach in reach_list:
            line = reach.line
            if line.name in index or not line.lo.output or not np.any(line.samples[start:stop]):
                continue
            offset = line.lo.frequency - frame
            held = np.conj(line.samples[start:stop])
            if offset != 0.0:
                held = held * np.exp(-2j * math.pi * offset * np.arange(start, stop) / rate)
            index[line.name] = len(rows)
            rows.append(np.asarray(held, dtype=np.complex128))
    mixing = np.zeros((len(reaches), len(rows), sub), dtype=np.complex128)
    within = (np.arange(sub) + 0.5) / sub / rate  # substep midpoints after the sample's start, s
    for q, reach_list in enumerate(reaches):
        for reach in reach_list:
            if reach.line.name not in index:
                continue
            offset = reach.line.lo.frequency - frame
            scale = 2 * math.pi * reach.rabi_per_volt * 1e-9 * reach.factor
            turn = np.exp(-2j * math.pi * offset * within) if offset != 0.0 else np.ones(sub)
            mixing[q, index[reach.line.name]] += scale * turn
    amplitudes = np.stack(rows) if rows else np.zeros((0, stop - start), dtype=np.complex128)
    return mixing, amplitudes


def resonant_angle(reach: Reach, frequency: float, stop: int, rate: float) -> float:
    """The largest rotation (rad) ``reach`` builds up on a transition at ``frequency`` Hz over grid samples
    ``:stop``, to first order: ``max_t |integral_0^t W e^(i 2 pi frequency tau) d tau|``. A resonant tone grows it
    linearly; a detuned pulse only wiggles it (by about its Rabi rate over the detuning); the maximum over time
    keeps an echo (a tone and its negative) from hiding the tone.

    The engine scales it by ``J / |Delta|`` to tell whether a drive on a transmon is resonant with an undriven
    coupled neighbour (a cross-resonance tone), so that the neighbour must be evolved with it."""
    line = reach.line
    playing = np.flatnonzero(line.samples[:stop])  # the integral only moves where the line plays
    if not line.lo.output or playing.size == 0:
        return 0.0
    times = playing / rate
    phasor = np.conj(line.samples[playing]) * np.exp(-2j * math.pi * (line.lo.frequency - frequency) * times)
    return float(2 * math.pi * reach.rabi_per_volt * abs(reach.factor) * np.max(np.abs(np.cumsum(phasor))) / rate)
