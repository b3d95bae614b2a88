"""Passes 7 and 8: waveform de-duplication by content hash, and payload emission per instrument.

Each distinct waveform is stored once per AWG under its content key, so a pulse repeated across a sequence
(or across the points of a sweep) is uploaded once. Then each instrument gets its payload: AWGs a sequence
table, LOs their settings, digitizers their acquisition windows in their own samples.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

import numpy as np

from qubitlab.drivers.payloads import (
    AcquisitionWindow,
    AwgProgram,
    DigitizerProgram,
    LoSettings,
    MeasLevel,
    MeasReturn,
    MemorySlotSource,
    Payload,
    SequenceStep,
)
from qubitlab.errors import CompilationError
from qubitlab.pulse.channels import MeasureChannel
from qubitlab.pulse.instructions import SetFrequency, ShiftFrequency
from qubitlab.pulse.parameters import resolve
from qubitlab.pulse.passes.flatten import FlatPoint
from qubitlab.pulse.passes.hardware import AwgView, HardwareView
from qubitlab.pulse.passes.segment import Busy, Idle


class WaveformTable:
    """Key -> samples (float32, fractions of full scale), each distinct waveform once, for one AWG.

    A busy step's waveforms are keyed by its recipe -- the content keys of the envelopes summed into it with
    their coefficients, carrier phases and offsets -- which determines its samples exactly; so de-duplication
    hashes no sample, a repeated step is computed and checked once, and equal keys across runs mean equal
    waveforms (what a driver needs to skip an upload). Zero waveforms are keyed by their length.
    """

    def __init__(self) -> None:
        self.waveforms: dict[str, np.ndarray] = {}
        self._pairs: dict[tuple[object, ...], tuple[str, str]] = {}

    def has_pair(self, recipe: tuple[object, ...]) -> bool:
        return recipe in self._pairs

    def add_pair(self, recipe: tuple[object, ...], values: np.ndarray) -> tuple[str, str]:
        """Store a checked pair's I (real) and Q (imaginary) samples; returns their keys."""
        digest = hashlib.blake2b(repr(recipe).encode(), digest_size=12).hexdigest()
        keys = (self._store(f"i{digest}", values.real), self._store(f"q{digest}", values.imag))
        self._pairs[recipe] = keys
        return keys

    def pair_keys(self, recipe: tuple[object, ...]) -> tuple[str, str]:
        return self._pairs[recipe]

    def _store(self, key: str, samples: np.ndarray) -> str:
        if not samples.any():
            return self.zeros(samples.shape[0])
        if key not in self.waveforms:
            values = np.asarray(samples, dtype=np.float32)
            values.setflags(write=False)
            self.waveforms[key] = values
        return key

    def zeros(self, length: int) -> str:
        key = f"zeros{length}"
        if key not in self.waveforms:
            values = np.zeros(length, dtype=np.float32)
            values.setflags(write=False)
            self.waveforms[key] = values
        return key


def emit_awg(name: str, awg: AwgView, steps_per_point: Sequence[list[Busy | Idle]], outputs: tuple[str, ...],
             table: WaveformTable) -> AwgProgram:
    """The AWG's program: its waveforms once each (checked and stored by the limits pass), and per point a
    trigger-waited run of steps."""
    sequence: list[SequenceStep] = []
    for point, steps in enumerate(steps_per_point):
        for index, step in enumerate(steps):
            if isinstance(step, Idle):
                key = table.zeros(step.length)
                waveforms = tuple((o, key) for o in outputs)
                repeat = step.repeat
            else:
                keys: dict[str, str] = {}
                for pair in step.parts:
                    keys[pair[0]], keys[pair[1]] = table.pair_keys(step.recipe(pair))
                waveforms = tuple((o, keys.get(o) or table.zeros(step.length)) for o in outputs)
                repeat = 1
            sequence.append(SequenceStep(waveforms, repeat, wait_trigger=index == 0, point=point))
    return AwgProgram(
        instrument=name, sample_rate=awg.sample_rate, outputs=outputs,
        full_scale_vpp={o: awg.outputs[o].full_scale_vpp for o in outputs},
        waveforms=dict(table.waveforms), sequence=tuple(sequence), points=len(steps_per_point),
    )


def emit_digitizers(points: Sequence[FlatPoint], hw: HardwareView, frames: Mapping[str, float],
                    meas_level: MeasLevel, meas_return: MeasReturn
                    ) -> tuple[dict[str, DigitizerProgram], dict[int, MemorySlotSource]]:
    """Acquisition windows per digitizer (in its samples), and which window feeds each memory slot."""
    windows: dict[str, list[AcquisitionWindow]] = {}
    slot_windows: dict[int, list[tuple[str, int]]] = {}
    for point in points:
        for t, acquire in point.acquisitions:
            channel = acquire.channel.name
            view = hw.acquisitions.get(channel)
            if view is None:
                raise CompilationError(
                    f"acquisition channel {channel} is not wired to a digitizer; wired: "
                    f"{', '.join(sorted(hw.acquisitions)) or 'none'}",
                    pass_name="emit", channel=channel, time=t, instruction=repr(acquire))
            if acquire.mem_slot is None:
                raise CompilationError("acquisitions into register slots only are not supported yet; add a mem_slot",
                                       pass_name="emit", channel=channel, time=t, instruction=repr(acquire))
            measure = f"m{acquire.channel.index}"
            line = hw.lines[view.line]
            if measure not in frames:
                raise CompilationError(f"no frame frequency for {measure}, needed to demodulate {channel}",
                                       pass_name="emit", channel=channel, time=t, instruction=repr(acquire))
            per_sample = view.sample_rate * hw.dt
            # the window may not open before the acquisition does (it would integrate the end of a drive pulse
            # on a digitizer slower than dt), so its start rounds up; its length rounds to nearest
            start = int(math.ceil(t * per_sample - 1e-9))
            length = int(round(int(acquire.duration) * per_sample))
            weights = _boxcar(length)
            bucket = windows.setdefault(view.digitizer, [])
            slot = int(acquire.mem_slot.index)
            demod = _frame_frequency(point, MeasureChannel(acquire.channel.index), t, frames[measure])
            bucket.append(AcquisitionWindow(view.input, slot, start, length, demod - line.lo_frequency,
                                            weights, point=point.index))
            slot_windows.setdefault(slot, []).append((view.digitizer, len(bucket) - 1))
    programs = {
        name: DigitizerProgram(name, _rate(hw, name), tuple(ws), meas_level, meas_return, points=len(points))
        for name, ws in windows.items()
    }
    slots = {}
    for slot, sources in slot_windows.items():
        digitizers = {d for d, _ in sources}
        if len(digitizers) > 1:
            raise CompilationError(f"memory slot {slot} is written by several digitizers {sorted(digitizers)}",
                                   pass_name="emit")
        slots[slot] = MemorySlotSource(sources[0][0], tuple(i for _, i in sources))
    return programs, slots


def _frame_frequency(point: FlatPoint, channel: MeasureChannel, t: int, base: float) -> float:
    """The frame frequency of ``channel`` in force at sample ``t``: the base frame with every ShiftFrequency
    and SetFrequency before ``t`` applied, so an acquisition demodulates where its readout tone plays (a
    resonator spectroscopy sweeping ``shift_frequency`` on the measure channel)."""
    frequency = base
    for when, inst in point.channels.get(channel, ()):
        if when > t:
            continue
        if isinstance(inst, ShiftFrequency):
            frequency += float(resolve(inst.frequency, point.table))
        elif isinstance(inst, SetFrequency):
            frequency = float(resolve(inst.frequency, point.table))
    return frequency


_BOXCARS: dict[int, np.ndarray] = {}


def _boxcar(length: int) -> np.ndarray:
    """Uniform integration weights summing to 1 (shared, read-only: the default kernel)."""
    weights = _BOXCARS.get(length)
    if weights is None:
        weights = np.full(length, 1.0 / max(length, 1), dtype=np.complex128)
        weights.setflags(write=False)
        _BOXCARS[length] = weights
    return weights


def _rate(hw: HardwareView, digitizer: str) -> float:
    return next(v.sample_rate for v in hw.acquisitions.values() if v.digitizer == digitizer)


def emit_los(settings: Mapping[str, tuple[float, float]]) -> dict[str, Payload]:
    return {name: LoSettings(name, f, p, True) for name, (f, p) in settings.items()}
