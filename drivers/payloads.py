"""Instrument payloads: the plain data the pulse compiler emits and the drivers (real or virtual) accept.

They live here, in the drivers layer, so that drivers never import ``qubitlab.pulse``: a payload speaks of
instrument outputs, samples at the instrument's own rate, sequence steps, LO settings and acquisition windows,
never of channels or schedules. Every payload is a frozen dataclass over numbers, strings and read-only numpy
arrays, so it can be compared, logged and sent to another process as it is.

Conventions: AWG samples are float32 fractions of the output's full scale (-1 .. 1, what the DAC is asked
for; float32 as in the instruments' own waveform files);
times are integer samples of the instrument's clock; frequencies are in Hz, powers in dBm, voltages in V.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
ComplexArray = NDArray[np.complex128]


class MeasLevel(enum.IntEnum):
    """What the digitizer returns per acquisition (Qiskit's numbering)."""

    RAW = 0
    """The demodulated time trace."""
    KERNELED = 1
    """One complex IQ point per acquisition (trace integrated with the weights)."""
    CLASSIFIED = 2
    """One bit per acquisition (IQ point discriminated)."""


class MeasReturn(enum.Enum):
    """Per shot, or averaged over shots."""

    SINGLE = "single"
    AVERAGE = "avg"


def content_key(samples: np.ndarray) -> str:
    """A short content hash of an array (dtype, shape and bytes), used to upload each waveform once."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(str(samples.dtype).encode())
    digest.update(str(samples.shape).encode())
    digest.update(np.ascontiguousarray(samples).tobytes())
    return digest.hexdigest()


def frozen_array(values: np.ndarray) -> np.ndarray:
    """A read-only copy (or the array itself when it is already read-only)."""
    if values.flags.writeable:
        values = values.copy()
        values.setflags(write=False)
    return values


@dataclass(frozen=True)
class SequenceStep:
    """One step of an AWG sequence: every listed output plays its waveform ``repeat`` times, together.

    ``waveforms`` maps an output name to a waveform key of :attr:`AwgProgram.waveforms`; all of a step's
    waveforms have the same length. A step with ``wait_trigger`` waits for the trigger before it starts
    (the start of a shot). ``point`` is the sweep point the step belongs to.
    """

    waveforms: tuple[tuple[str, str], ...]
    repeat: int = 1
    wait_trigger: bool = False
    point: int = 0

    @property
    def outputs(self) -> dict[str, str]:
        return dict(self.waveforms)


@dataclass(frozen=True)
class AwgProgram:
    """Everything one AWG plays in one run: de-duplicated waveforms and the sequence that steps through them."""

    instrument: str
    sample_rate: float
    outputs: tuple[str, ...]
    """Outputs this program drives (others stay off)."""
    full_scale_vpp: Mapping[str, float]
    """Peak-to-peak full scale set on each output, V."""
    waveforms: Mapping[str, FloatArray]
    """Content key -> samples (fractions of full scale), each uploaded once."""
    sequence: tuple[SequenceStep, ...]
    points: int = 1

    def samples_of(self, step: SequenceStep, output: str) -> FloatArray:
        return self.waveforms[step.outputs[output]]

    def played(self, output: str, point: int | None = None) -> FloatArray:
        """The samples ``output`` plays (through ``point``'s steps only when given), repeats expanded."""
        parts = []
        for step in self.sequence:
            if point is not None and step.point != point:
                continue
            key = step.outputs.get(output)
            if key is None:
                length = len(self.waveforms[step.waveforms[0][1]]) if step.waveforms else 0
                parts.append(np.zeros(length * step.repeat, dtype=np.float32))
            else:
                parts.append(np.tile(self.waveforms[key], step.repeat))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class LoSettings:
    """A local oscillator's settings for one run."""

    instrument: str
    frequency: float
    power: float
    output: bool = True


@dataclass(frozen=True)
class AcquisitionWindow:
    """One acquisition: where in the shot (digitizer samples), how to demodulate and integrate, where to store."""

    input: str
    """Digitizer input the readout line arrives on."""
    memory_slot: int
    start: int
    length: int
    demod_frequency: float
    """Hz; the readout tone's IF at the digitizer."""
    weights: ComplexArray = field(compare=False, repr=False)
    """Integration weights, ``length`` complex values (conjugate applied by the digitizer)."""
    point: int = 0


@dataclass(frozen=True)
class DigitizerProgram:
    """Everything a digitizer records in one run."""

    instrument: str
    sample_rate: float
    windows: tuple[AcquisitionWindow, ...]
    meas_level: MeasLevel = MeasLevel.KERNELED
    meas_return: MeasReturn = MeasReturn.SINGLE
    points: int = 1


Payload = Union[AwgProgram, LoSettings, DigitizerProgram]


class ShotsLayout(enum.Enum):
    """How shots and sweep points interleave when a compiled sweep runs."""

    POINTS_INNER = "points_inner"
    """Each shot steps through every point (a slow drift hits all points alike)."""
    SHOTS_INNER = "shots_inner"
    """All shots of a point, then the next point."""


@dataclass(frozen=True)
class MemorySlotSource:
    """Where a memory slot's data comes from: a digitizer window (one per point)."""

    digitizer: str
    windows: tuple[int, ...]
    """Index into the digitizer's ``windows``, one per point."""


@dataclass(frozen=True)
class CompiledProgram:
    """A compiled program or sweep: one payload per instrument, plus what reading the results needs."""

    payloads: Mapping[str, Payload]
    memory_slots: Mapping[int, MemorySlotSource]
    points: int
    duration: float
    """Length of the longest point, in seconds."""
    input_hash: str
    """Hash of what was compiled (programs, frames, lab): equal inputs give equal hashes."""
    shots_layout: ShotsLayout = ShotsLayout.POINTS_INNER

    def awg_programs(self) -> dict[str, AwgProgram]:
        return {k: v for k, v in self.payloads.items() if isinstance(v, AwgProgram)}

    def lo_settings(self) -> dict[str, LoSettings]:
        return {k: v for k, v in self.payloads.items() if isinstance(v, LoSettings)}

    def digitizer_programs(self) -> dict[str, DigitizerProgram]:
        return {k: v for k, v in self.payloads.items() if isinstance(v, DigitizerProgram)}


def to_jsonable(program: CompiledProgram) -> dict[str, object]:
    """The compiled program as JSON data (lists of floats for samples), e.g. for golden files and logs."""

    def payload(p: Payload) -> dict[str, object]:
        if isinstance(p, AwgProgram):
            return {
                "type": "awg", "sample_rate": p.sample_rate, "outputs": list(p.outputs),
                "full_scale_vpp": dict(p.full_scale_vpp), "points": p.points,
                "waveforms": {k: [float(x) for x in v] for k, v in sorted(p.waveforms.items())},
                "sequence": [{"waveforms": dict(s.waveforms), "repeat": s.repeat, "wait_trigger": s.wait_trigger,
                              "point": s.point} for s in p.sequence],
            }
        if isinstance(p, LoSettings):
            return {"type": "lo", "frequency": p.frequency, "power": p.power, "output": p.output}
        return {
            "type": "digitizer", "sample_rate": p.sample_rate, "meas_level": int(p.meas_level),
            "meas_return": p.meas_return.value, "points": p.points,
            "windows": [{"input": w.input, "memory_slot": w.memory_slot, "start": w.start, "length": w.length,
                         "demod_frequency": w.demod_frequency, "point": w.point,
                         "weights": [[float(c.real), float(c.imag)] for c in w.weights]} for w in p.windows],
        }

    return {
        "points": program.points, "duration": program.duration, "shots_layout": program.shots_layout.value,
        "memory_slots": {str(k): {"digitizer": v.digitizer, "windows": list(v.windows)}
                         for k, v in sorted(program.memory_slots.items())},
        "payloads": {name: payload(p) for name, p in sorted(program.payloads.items())},
    }
