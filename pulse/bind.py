"""Bind an already compiled program: a parametric sweep compiled once, then only its parameter values change.

A variational loop compiles the same lowered circuits with new angles every iteration. Their timing, segments,
carrier rows and every pulse on a channel without parameters are the same each time; what the angles change is
only the frame coefficient of the plays after a parametric ``ShiftPhase`` (a factor ``exp(i phi)`` on samples
already on their carrier) and, for a parametric amplitude, its scale. :class:`CompiledTemplate` runs the pass
list of :func:`qubitlab.pulse.compiler.compile` once and remembers, per point, which contributions of which busy
steps come from a parametric channel. :meth:`CompiledTemplate.bind` then only walks those channels' frames with
the new values (pass 2 on them alone), rebuilds their contributions on the cached carrier rows, and computes,
checks and keys the waveforms whose recipe changed (passes 6-8); the others keep their samples and content keys,
so the AWG driver does not upload them again. The result equals a full ``compile`` of the bound programs.

A parameter that changes a pulse's shape or a duration cannot be bound this way: :class:`TemplateMismatch`
says so, and the caller compiles fully (``CompiledTemplate.build`` refuses structural parameters up front).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from qubitlab.drivers.payloads import CompiledProgram, content_key, MeasLevel, MeasReturn, Payload, ShotsLayout
from qubitlab.errors import CompilationError
from qubitlab.pulse.cache import CompileCache, cache_or_default
from qubitlab.pulse.channels import Channel, MeasureChannel, PulseChannel
from qubitlab.pulse.parameters import Parameter
from qubitlab.pulse.passes import (
    Contribution, FramedPlays, HardwareView, check_limits, check_lo_limits, check_program_limits, emit_awg,
    emit_digitizers, emit_los, flatten_points, lo_settings, map_to_outputs, modulate, segment, track_frames,
)
from qubitlab.pulse.passes.emit import WaveformTable
from qubitlab.pulse.passes.flatten import FlatPoint
from qubitlab.pulse.passes.frames import _check_frame_values
from qubitlab.pulse.passes.hardware import hardware_view
from qubitlab.pulse.passes.segment import Busy, Idle
from qubitlab.pulse.program import Program
from qubitlab.pulse.rendering import PlayRecord, channel_plays


class TemplateMismatch(CompilationError):
    """The new values change more than coefficients (a pulse's shape, a duration): compile fully instead."""


@dataclass(frozen=True)
class _Site:
    """Where one contribution of a parametric channel sits: its busy step, output pair and part index."""

    awg: str
    step: int
    pair: tuple[str, str]
    part: int


@dataclass(frozen=True)
class _Play:
    """A parametric channel's play as compiled: which play of the frame walk it is, its template contribution
    (line, start, carrier row, carrier phasor) and the busy-step sites it was summed into."""

    index: int
    contribution: Contribution
    unit: np.ndarray
    """The sampled unit envelope it was modulated from (a new walk giving other samples is a shape change)."""
    sites: tuple[_Site, ...]


@dataclass(frozen=True)
class _Point:
    flat: FlatPoint
    free: frozenset[Parameter]
    channels: Mapping[PulseChannel, tuple[float, list[_Play]]]
    """Parametric channel -> (its base frame frequency, its plays)."""
    steps: Mapping[str, list[Busy | Idle]]


class CompiledTemplate:
    """A sweep of programs compiled once; :meth:`bind` gives the ``CompiledProgram`` for new parameter values.

    Build it with :meth:`build`, which also returns the program for the first values. ``binds`` counts the
    rebinds and ``compiles`` the full pass-list runs (always 1), so a caller can show it compiled once.
    """

    def __init__(self, programs: tuple[Program, ...], hw: HardwareView, frames: dict[str, float],
                 points: list[_Point], fixed: dict[str, Payload], meas: tuple[MeasLevel, MeasReturn],
                 shots_layout: ShotsLayout, cache: CompileCache) -> None:
        self.programs = programs
        self.hw = hw
        self.frames = frames
        self._points = points
        self._fixed = fixed
        self._meas = meas
        self._shots_layout = shots_layout
        self._cache = cache
        self._slots: Any = None
        self.compiles = 1
        self.binds = 0

    @classmethod
    def build(cls, programs: Sequence[Program], values: Sequence[Mapping[Parameter, float]], lab: Any,
              frames: Mapping[str, float] | Mapping[Channel, float] | Mapping[str | Channel, float], *,
              meas_level: MeasLevel = MeasLevel.KERNELED, meas_return: MeasReturn = MeasReturn.SINGLE,
              shots_layout: ShotsLayout | None = None, cache: CompileCache | None = None
              ) -> tuple[CompiledTemplate, CompiledProgram]:
        """Compile ``programs`` (point ``i`` with ``values[i]``) through the pass list once; the template and
        the compiled program for these values (equal to ``compile`` of the bound programs)."""
        from qubitlab.pulse.compiler import _frame_map

        if len(values) != len(programs):
            raise CompilationError(f"CompiledTemplate: {len(programs)} programs but {len(values)} value sets; give "
                                   "one mapping per program", pass_name="bind")
        cache = cache_or_default(cache)
        hw = lab if isinstance(lab, HardwareView) else hardware_view(lab)
        frame_map = _frame_map(frames)
        free = [_free(p, i) for i, p in enumerate(programs)]
        template_points = flatten_points([(p, {}) for p in programs])         # timing only: no values yet
        flats = [_with_values(flat, values[i], free[i], i) for i, flat in enumerate(template_points)]
        settings = lo_settings(hw)
        check_lo_limits(settings, hw)
        fixed: dict[str, Payload] = dict(emit_los(settings))
        self = cls(tuple(programs), hw, frame_map, [], fixed, (meas_level, meas_return),
                   shots_layout or ShotsLayout.POINTS_INNER, cache)
        framed: FramedPlays | None = None
        reuse: dict[PulseChannel, list[Contribution]] = {}
        for flat, params in zip(flats, free):
            if framed is None or framed.point.channels is not flat.channels:
                reuse = {}
            framed = track_frames(flat, frame_map, hw.dt, cache=cache, previous=framed)
            per_line = modulate(framed, hw, cache=cache, reuse=reuse)
            per_awg = map_to_outputs(per_line, hw)
            steps = {name: segment(per_awg.get(name, []), awg, flat.duration * hw.samples_per_dt(name))
                     for name, awg in hw.awgs.items()}
            self._points.append(_Point(flat, params, _parametric_plays(framed, per_line, steps), steps))
        return self, self._emit([p.steps for p in self._points], flats, digitizers=True)

    def bind(self, values: Sequence[Mapping[Parameter, float]]) -> CompiledProgram:
        """The compiled program for ``values`` (one mapping per program, every free parameter of it bound)."""
        if len(values) != len(self._points):
            raise CompilationError(f"bind: the template has {len(self._points)} points but {len(values)} value "
                                   "sets were given; give one mapping per program", pass_name="bind")
        flats = [_with_values(p.flat, values[i], p.free, i) for i, p in enumerate(self._points)]
        steps = [self._rebound(point, flat) for point, flat in zip(self._points, flats)]
        measured = any(isinstance(ch, MeasureChannel) for p in self._points for ch in p.channels)
        self.binds += 1
        return self._emit(steps, flats, digitizers=measured)

    def _rebound(self, point: _Point, flat: FlatPoint) -> dict[str, list[Busy | Idle]]:
        """The point's steps with its parametric channels' contributions rebuilt from a new frame walk."""
        if not point.channels:
            return dict(point.steps)
        steps = {name: list(s) for name, s in point.steps.items()}
        copied: set[tuple[str, int]] = set()
        dt = self.hw.dt
        envelopes: dict[Any, Any] = {}
        for channel, (base, plays) in point.channels.items():
            events = flat.channels[channel]
            _check_frame_values(flat, channel, events)
            walked = channel_plays(channel, events, flat.table, dt, {channel: base}, envelopes, self._cache)
            for play in plays:
                new = _rebuilt(play, walked, channel, flat.index)
                for site in play.sites:
                    step = steps[site.awg][site.step]
                    assert isinstance(step, Busy)
                    if (site.awg, site.step) not in copied:
                        step = steps[site.awg][site.step] = Busy(step.start, step.length,
                                                                 {k: list(v) for k, v in step.parts.items()},
                                                                 step.sources)
                        copied.add((site.awg, site.step))
                    offset, _ = step.parts[site.pair][site.part]
                    step.parts[site.pair][site.part] = (offset, new)
        return steps

    def _emit(self, steps_per_point: Sequence[Mapping[str, list[Busy | Idle]]], flats: list[FlatPoint],
              digitizers: bool) -> CompiledProgram:
        """Passes 6-8 over the steps (each distinct waveform sampled and checked once, by recipe)."""
        from qubitlab.pulse.compiler import _input_hash

        hw = self.hw
        payloads: dict[str, Payload] = {}
        for name, awg in hw.awgs.items():
            outputs = tuple(sorted({o for line in hw.lines.values() if line.awg == name for o in line.outputs}))
            if not outputs:
                continue
            table = WaveformTable(self._cache)
            k = hw.samples_per_dt(name)
            for steps in steps_per_point:
                check_limits(steps[name], awg, k, table)
            program = emit_awg(name, awg, [steps[name] for steps in steps_per_point], outputs, table)
            check_program_limits(program, awg)
            payloads[name] = program
        payloads.update(self._fixed)
        if digitizers or self._slots is None:
            windows, self._slots = emit_digitizers(flats, hw, self.frames, *self._meas, self._cache)
            self._fixed.update(windows)
            payloads.update(windows)
        return CompiledProgram(
            payloads=payloads, memory_slots=self._slots, points=len(flats),
            duration=max((p.duration for p in flats), default=0) * hw.dt,
            input_hash=_input_hash(payloads, self._slots, self.frames, hw), shots_layout=self._shots_layout)


def _free(program: Program, index: int) -> frozenset[Parameter]:
    """The program's unbound parameters; refused when one of them sets a duration (the timing would change)."""
    from qubitlab.pulse.block import ScheduleBlock, _has_structural

    if isinstance(program, ScheduleBlock) and _has_structural(program):
        raise TemplateMismatch(f"point {index}: a duration or alignment of {program.name or 'the program'} depends "
                               "on a parameter, so its timing changes with the values; compile it fully",
                               pass_name="bind")
    return frozenset(program.parameters)


def _with_values(flat: FlatPoint, values: Mapping[Parameter, float], free: frozenset[Parameter], index: int
                 ) -> FlatPoint:
    """The point with ``values`` in its table, which must bind exactly its free parameters, to finite numbers."""
    keys = set(values)
    if keys != free:
        missing = sorted(p.name for p in free - keys)
        unknown = sorted(p.name for p in keys - free)
        raise CompilationError(
            f"bind: point {index} " + (f"has no value for {', '.join(missing)}" if missing else "")
            + ("; " if missing and unknown else "") + (f"got {', '.join(unknown)}, not parameters of it"
                                                       if unknown else "")
            + f" (its parameters: {', '.join(sorted(p.name for p in free)) or 'none'})", pass_name="bind")
    for param, value in values.items():
        if not math.isfinite(float(value)):
            raise CompilationError(f"bind: point {index}: {param.name} = {value} is not a finite number",
                                   pass_name="bind")
    return dataclasses.replace(flat, table={**flat.table, **values}) if values else flat


def _parametric_plays(framed: FramedPlays, per_line: Mapping[str, list[Contribution]],
                      steps: Mapping[str, list[Busy | Idle]]) -> dict[PulseChannel, tuple[float, list[_Play]]]:
    """Per channel with parameters: its plays, each matched to its contribution and the busy-step parts it is in."""
    sites: dict[int, list[_Site]] = {}
    for awg, awg_steps in steps.items():
        for s, step in enumerate(awg_steps):
            if isinstance(step, Busy):
                for pair, parts in step.parts.items():
                    for j, (_, c) in enumerate(parts):
                        sites.setdefault(id(c), []).append(_Site(awg, s, pair, j))
    out: dict[PulseChannel, tuple[float, list[_Play]]] = {}
    for channel, plays in framed.plays.items():
        if channel in framed.static or not plays:
            continue
        index = {(id(p.instruction), p.start): j for j, p in enumerate(plays)}
        found = [c for cs in per_line.values() for c in cs if c.channel == channel.name]
        out[channel] = (framed.base_frequency[channel],
                        [_Play(index[(id(c.instruction), c.time)], c, plays[index[(id(c.instruction), c.time)]].unit,
                               tuple(sites.get(id(c), ()))) for c in found])
    return out


def _rebuilt(play: _Play, walked: list[PlayRecord], channel: PulseChannel, point: int) -> Contribution:
    """The contribution of ``play`` with the new frame walk's coefficient (as pass 3 builds it)."""
    template = play.contribution
    record = walked[play.index] if play.index < len(walked) else None
    if record is None or record.start != template.time or record.instruction is not template.instruction:
        raise TemplateMismatch(f"point {point}: the plays on {channel.name} moved with the new values; compile fully",
                               pass_name="bind", channel=channel.name, time=template.time)
    key, k, base_if, dt, _, cycle, _, _ = template.recipe
    if record.unit is not play.unit and content_key(record.unit) != key:
        raise TemplateMismatch(f"point {point}: a parameter changes the shape of {template.instruction!r} on "
                               f"{channel.name}; compile fully", pass_name="bind", channel=channel.name,
                               time=template.time, instruction=repr(template.instruction))
    chirp = None
    if record.omega:
        sub = np.arange(template.length) / cast(int, k)
        chirp = np.exp(1j * (record.offset + record.omega * sub))
    recipe = (key, k, base_if, dt, record.coefficient, cycle, record.omega, record.offset)
    return Contribution(template.line, template.start, template.row, record.coefficient * template.phasor, chirp,
                        template.channel, template.time, template.instruction, recipe, template.phasor)
