"""Passes 7 and 8: waveform de-duplication by content hash, and payload emission per instrument.

Each distinct waveform is stored once per AWG under its content key, so a pulse repeated across a sequence
(or across the points of a sweep) is uploaded once. Then each instrument gets its payload: AWGs a sequence
table, LOs their settings, digitizers their acquisition windows in their own samples.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence

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
from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.cache import CompileCache, cache_or_default
from qubitlab.pulse.channels import MeasureChannel
from qubitlab.pulse.instructions import Acquire
from qubitlab.pulse.rendering import frequency_at
from qubitlab.pulse.passes.flatten import FlatPoint
from qubitlab.pulse.passes.hardware import AwgView, HardwareView
from qubitlab.pulse.passes.segment import Busy, Idle


class WaveformTable:
    """Key -> samples (float32, fractions of full scale), each distinct waveform once, for one AWG.

    A busy step's waveforms are keyed by its recipe -- the content keys of the envelopes summed into it with
    their coefficients, carrier phases and offsets -- which determines its samples exactly; so de-duplication
    hashes no sample, a repeated step is computed and checked once, and equal keys across runs mean equal
    waveforms (what a driver needs to skip an upload). Zero waveforms are keyed by their length. Checked
    pairs are kept in ``cache`` (the default when None) under the recipe and the outputs' limits, so a warm
    cache neither recomputes nor re-checks a waveform another compilation already made.
    """

    def __init__(self, cache: CompileCache | None = None) -> None:
        self.waveforms: dict[str, np.ndarray] = {}
        self._pairs: dict[tuple[object, ...], tuple[str, str]] = {}
        self._cache = cache_or_default(cache)

    def has_pair(self, recipe: tuple[object, ...]) -> bool:
        return recipe in self._pairs

    def add_pair(self, recipe: tuple[object, ...], limits: tuple[float, float],
                 checked: Callable[[], np.ndarray]) -> tuple[str, str]:
        """Store a pair's I (real) and Q (imaginary) samples, made (and checked against ``limits``, the two
        outputs' allowed fractions) by ``checked()`` unless the cache has them; returns their keys."""
        found = self._pairs.get(recipe)
        if found is not None:
            return found
        entry = self._cache.get("waveform", (recipe, limits), lambda: _pair_entry(recipe, checked()))
        i_key, q_key, i_samples, q_samples = entry
        for key, samples in ((i_key, i_samples), (q_key, q_samples)):
            if samples is None:
                self.zeros(int(key[5:]))
            else:
                self.waveforms.setdefault(key, samples)
        self._pairs[recipe] = (i_key, q_key)
        return i_key, q_key

    def pair_keys(self, recipe: tuple[object, ...]) -> tuple[str, str]:
        return self._pairs[recipe]

    def zeros(self, length: int) -> str:
        key = f"zeros{length}"
        if key not in self.waveforms:
            values = np.zeros(length, dtype=np.float32)
            values.setflags(write=False)
            self.waveforms[key] = values
        return key


PairEntry = tuple[str, str, "np.ndarray | None", "np.ndarray | None"]


def _pair_entry(recipe: tuple[object, ...], values: np.ndarray) -> PairEntry:
    """Keys and float32 samples of a checked pair (None for an all-zero output, keyed ``zeros<length>``)."""
    digest = hashlib.blake2b(repr(recipe).encode(), digest_size=12).hexdigest()
    out: list[object] = []
    samples: list[np.ndarray | None] = []
    for prefix, part in (("i", values.real), ("q", values.imag)):
        if not part.any():
            out.append(f"zeros{part.shape[0]}")
            samples.append(None)
        else:
            array = np.asarray(part, dtype=np.float32)
            array.setflags(write=False)
            out.append(f"{prefix}{digest}")
            samples.append(array)
    return str(out[0]), str(out[1]), samples[0], samples[1]


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
                    meas_level: MeasLevel, meas_return: MeasReturn, cache: CompileCache | None = None
                    ) -> tuple[dict[str, DigitizerProgram], dict[int, MemorySlotSource]]:
    """Acquisition windows per digitizer (in its samples), and which window feeds each memory slot."""
    cache = cache_or_default(cache)
    kernels: dict[tuple[int, int], np.ndarray] = {}  # id(kernel) -> weights: the points of a sweep share one Kernel
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
            weights = _kernel_weights(acquire, length, t, kernels) if _has_samples(acquire) else _boxcar(length, cache)
            bucket = windows.setdefault(view.digitizer, [])
            slot = int(acquire.mem_slot.index)
            demod = _demod_frequency(point, MeasureChannel(acquire.channel.index), t, frames[measure], acquire)
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


def _demod_frequency(point: FlatPoint, channel: MeasureChannel, t: int, base: float, acquire: Acquire) -> float:
    """The measure channel's frame frequency at the acquisition (the frame walk of rendering, so an acquisition
    demodulates where its readout tone plays: a resonator spectroscopy sweeping ``shift_frequency``)."""
    try:
        frequency = frequency_at(channel, point.channels.get(channel, []), point.table, t, base)
    except PulseError as exc:
        raise CompilationError(f"point {point.index}: {exc}", pass_name="emit", channel=channel.name, time=t,
                               instruction=repr(acquire)) from exc
    if not math.isfinite(frequency):
        raise CompilationError(f"point {point.index}: the frame frequency of {channel.name} at the acquisition is "
                               f"{frequency}, not a finite number; give finite frame values",
                               pass_name="emit", channel=channel.name, time=t, instruction=repr(acquire))
    return frequency


def _boxcar(length: int, cache: CompileCache) -> np.ndarray:
    """Uniform integration weights summing to 1 (shared, read-only: the default kernel)."""

    def make() -> np.ndarray:
        weights = np.full(length, 1.0 / max(length, 1), dtype=np.complex128)
        weights.setflags(write=False)
        return weights

    return cache.get("weights", length, make)


# -- integration weights from the acquisition's kernel (matched filters): the only place emit reads a Kernel -----
def _has_samples(acquire: Acquire) -> bool:
    """Whether the acquisition carries its own weights: a kernel with ``real`` and ``imag`` sample lists (any
    other kernel, e.g. a PulseQobj's named default, integrates with the boxcar as before)."""
    kernel = acquire.kernel
    return kernel is not None and "real" in kernel.params and "imag" in kernel.params


def _kernel_weights(acquire: Acquire, length: int, t: int, kernels: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
    """The kernel's samples as the window's weights (read-only), refused unless they are ``length`` finite
    numbers, one per digitizer sample of the window."""
    kernel = acquire.kernel
    assert kernel is not None
    found = kernels.get((id(kernel), length))
    if found is not None:
        return found
    try:
        weights = np.asarray(kernel.params["real"], dtype=np.float64) + \
            1j * np.asarray(kernel.params["imag"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CompilationError(f"kernel {kernel.name!r}: real and imag must be lists of numbers ({exc})",
                               pass_name="emit", channel=acquire.channel.name, time=t,
                               instruction=repr(acquire)) from exc
    if weights.shape != (length,) or not np.all(np.isfinite(weights)):
        raise CompilationError(f"kernel {kernel.name!r} has {weights.size} weights (finite: "
                               f"{bool(np.all(np.isfinite(weights)))}); the window is {length} digitizer samples: "
                               f"give {length} finite real and imag values", pass_name="emit",
                               channel=acquire.channel.name, time=t, instruction=repr(acquire))
    weights.setflags(write=False)
    kernels[(id(kernel), length)] = weights
    return weights


def _rate(hw: HardwareView, digitizer: str) -> float:
    return next(v.sample_rate for v in hw.acquisitions.values() if v.digitizer == digitizer)


def emit_los(settings: Mapping[str, tuple[float, float]]) -> dict[str, Payload]:
    return {name: LoSettings(name, f, p, True) for name, (f, p) in settings.items()}
