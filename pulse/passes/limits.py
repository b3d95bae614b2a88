"""Pass 6: hardware limits -- refuse, never clip.

Any sample whose magnitude on an output exceeds that output's allowed fraction of full scale, and any LO
setting outside the LO's range, stops compilation with the channel, time and instruction responsible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from qubitlab.drivers.payloads import AwgProgram
from qubitlab.errors import CompilationError
from qubitlab.pulse.passes.hardware import AwgView, HardwareView
from qubitlab.pulse.passes.segment import Busy, Idle

if TYPE_CHECKING:
    from qubitlab.pulse.passes.emit import WaveformTable


def check_limits(steps: list[Busy | Idle], awg: AwgView, k: int, table: WaveformTable) -> None:
    """Every busy step's samples within each output's ``max_amplitude`` (fraction of full scale).

    Each distinct waveform is checked once and, if it passes, stored in ``table`` (pass 7, de-duplication):
    a step whose recipe is already there (or in the table's cache, for the same limits) was checked before."""
    for step in steps:
        if not isinstance(step, Busy):
            continue
        for pair in step.parts:
            recipe = step.recipe(pair)
            if table.has_pair(recipe):
                continue
            limits = (awg.outputs[pair[0]].max_amplitude, awg.outputs[pair[1]].max_amplitude)
            table.add_pair(recipe, limits, lambda: _checked(step, awg, k, pair))


def _checked(step: Busy, awg: AwgView, k: int, pair: tuple[str, str]) -> np.ndarray:
    values = step.samples(pair)
    for name, part in zip(pair, (values.real, values.imag)):
        _check_output(step, awg, k, name, part)
    return values


def check_program_limits(program: AwgProgram, awg: AwgView) -> None:
    """The AWG's sequencer and memory hold the program: at most ``max_sequence_steps`` steps, and on every
    output at most ``waveform_memory`` samples of distinct waveforms (the instrument model's figures)."""
    steps = len(program.sequence)
    if awg.max_sequence_steps and steps > awg.max_sequence_steps:
        raise CompilationError(
            f"{awg.instrument} ({awg.model}) would need {steps} sequence steps for {program.points} point(s), over "
            f"its limit of {awg.max_sequence_steps} steps; compile fewer sweep points per program (split the "
            "sweep) or give the schedules fewer idle gaps",
            pass_name="limits")
    if not awg.waveform_memory:
        return
    distinct: dict[str, set[str]] = {output: set() for output in program.outputs}
    for step in program.sequence:                  # one walk over the steps for every output
        for output, key in step.waveforms:
            if output in distinct:
                distinct[output].add(key)
    for output, keys in distinct.items():
        used = sum(int(program.waveforms[key].shape[0]) for key in keys)
        if used > awg.waveform_memory:
            raise CompilationError(
                f"output {awg.instrument}.{output} ({awg.model}) would hold {used} samples of distinct waveforms, "
                f"over its waveform memory of {awg.waveform_memory} samples per channel; split the sweep or "
                "shorten the pulses",
                pass_name="limits", channel=None)


def _check_output(step: Busy, awg: AwgView, k: int, name: str, samples: np.ndarray) -> None:
    limit = awg.outputs[name].max_amplitude
    if samples.size == 0 or max(float(samples.max()), -float(samples.min())) <= limit + 1e-12:
        return
    magnitude = np.abs(samples)
    peak_index = int(np.argmax(magnitude))
    peak = float(magnitude[peak_index])
    at = step.start + peak_index
    culprits = [s.source for s in step.sources
                if name in (s.i_output, s.q_output) and s.source.start <= at < s.source.start + s.source.length]
    source = culprits[0] if culprits else None
    raise CompilationError(
        f"output {awg.instrument}.{name} would need {peak:.4f} of full scale at AWG sample {at}, over its "
        f"limit {limit:.4f} ({limit * awg.outputs[name].full_scale_vpp / 2:.3f} V peak)"
        + (f"; {len(culprits)} plays overlap there" if len(culprits) > 1 else "")
        + "; lower the pulse amplitude or raise the limit in the lab configuration",
        pass_name="limits",
        channel=None if source is None else source.channel,
        time=None if source is None else source.time + (at - source.start) // k,
        instruction=None if source is None else repr(source.instruction),
    )


def check_lo_limits(settings: Mapping[str, tuple[float, float]], hw: HardwareView) -> None:
    """Every LO's frequency and power inside its configured range."""
    for name, (frequency, power) in settings.items():
        lo = hw.los[name]
        fmin, fmax = lo.frequency_range
        pmin, pmax = lo.power_range
        if not fmin <= frequency <= fmax:
            raise CompilationError(f"LO {name}: frequency {frequency / 1e9:.6f} GHz is outside its allowed range "
                                   f"{fmin / 1e9:.6f} .. {fmax / 1e9:.6f} GHz", pass_name="limits")
        if not pmin <= power <= pmax:
            raise CompilationError(f"LO {name}: power {power} dBm is outside its allowed range {pmin} .. {pmax} dBm",
                                   pass_name="limits")
