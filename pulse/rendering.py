"""Render a program to per-channel baseband envelopes: the signal before IF modulation, one sample per ``dt``.

Each pulse channel carries a frame: a phase and a frequency offset. ``ShiftPhase``/``SetPhase`` change the
phase from their time on; ``ShiftFrequency``/``SetFrequency`` change the offset and keep the phase continuous,
so sample ``n`` of the channel is ``envelope[n] * exp(i (phi + 2 pi df dt (n - t_ref)))``. Frame changes at the
same time as a play come first (Qiskit orders zero-duration instructions first), so they apply to it.

Rendering is vectorised: plays that share a sampled envelope on one channel are written in one numpy
operation, so a 2800-instruction program renders in a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import PulseError
from qubitlab.pulse.alignments import Timed
from qubitlab.pulse.cache import CompileCache
from qubitlab.pulse.channels import Channel, PulseChannel
from qubitlab.pulse.instructions import Instruction, Play, SetFrequency, SetPhase, ShiftFrequency, ShiftPhase
from qubitlab.pulse.parameters import Parameter, ParameterExpression, resolve
from qubitlab.pulse.program import Program

ComplexArray = NDArray[np.complex128]
Plan = dict[PulseChannel, list[tuple[int, Instruction]]]


def _plan(timed: Timed) -> Plan:
    """Instructions grouped per pulse channel in execution order; kept on the timing result itself (a
    ``Timed`` is never changed once made), so it lives and dies with it."""
    if timed.plan is not None:
        return timed.plan  # type: ignore[no-any-return]
    plan: Plan = {}
    for t, inst in timed.items:
        for ch in inst.channels:
            if isinstance(ch, PulseChannel):
                plan.setdefault(ch, []).append((t, inst))
    for events in plan.values():
        if not _in_order(events):
            events.sort(key=_event_order)
    plan = dict(sorted(plan.items()))
    timed.plan = plan
    return plan


def _in_order(events: list[tuple[int, Instruction]]) -> bool:
    """Already in execution order (the usual case for left and sequential alignment): strictly increasing
    times, or equal times with no longer instruction before a shorter one."""
    previous = -1
    previous_duration = 0
    for t, inst in events:
        if t < previous:
            return False
        if t == previous:
            duration = inst.duration
            if not isinstance(duration, int) or duration < previous_duration:
                return False
            previous_duration = duration
        else:
            previous, previous_duration = t, inst.duration if isinstance(inst.duration, int) else 0
    return True


def _event_order(event: tuple[int, Instruction]) -> tuple[int, int]:
    duration = event[1].duration
    return event[0], duration if isinstance(duration, int) else 0


def _value(inst: Any, table: Mapping[Parameter, Any]) -> float:
    value = inst._value
    if isinstance(value, ParameterExpression):
        value = resolve(value, table)
        if isinstance(value, ParameterExpression):
            names = sorted(p.name for p in value.parameters)
            raise PulseError(f"cannot render {inst!r}: parameters {names} are unbound; assign them first")
    return float(value)


def render(program: Program, *, dt: float | None = None, frequencies: Mapping[Channel, float] | None = None,
           channels: list[PulseChannel] | None = None) -> dict[PulseChannel, ComplexArray]:
    """Per-channel complex baseband envelope (frame phase and frequency applied), ``program.duration`` long.

    ``dt`` (s) is needed only when the program shifts or sets a frequency; ``frequencies`` gives each channel's
    base frame frequency (Hz), needed only for ``SetFrequency``. ``channels`` restricts the output.
    """
    timed = program._timed()
    table = program._table
    plan = _plan(timed)
    duration = timed.duration
    envelopes: dict[Any, tuple[ComplexArray, complex]] = {}
    out: dict[PulseChannel, ComplexArray] = {}
    wanted = None if channels is None else set(channels)
    for ch, events in plan.items():
        if wanted is not None and ch not in wanted:
            continue
        buffer = np.zeros(duration, dtype=np.complex128)
        _render_channel(buffer, ch, events, table, envelopes, dt, frequencies)
        out[ch] = buffer
    return out


class PlayRecord(NamedTuple):
    """One play on a channel with its frame applied: sample ``j`` is
    ``coefficient * unit[j] * exp(i (offset + omega * j))`` at time ``start + j`` (samples of dt)."""

    start: int
    unit: ComplexArray
    coefficient: complex
    omega: float
    """Frame-frequency offset as phase advance per sample of dt (rad); 0 without frequency shifts."""
    offset: float
    instruction: Instruction
    frequency_offset: float
    """Frame frequency during the play minus the channel's base frequency, Hz."""


def channel_plays(ch: PulseChannel, events: list[tuple[int, Instruction]], table: Mapping[Parameter, Any],
                  dt: float | None, frequencies: Mapping[Channel, float] | None,
                  envelopes: dict[Any, tuple[ComplexArray, complex]] | None = None,
                  cache: CompileCache | None = None) -> list[PlayRecord]:
    """Walk one channel's instructions in order, tracking its frame, and return its plays (``envelopes``:
    this call's pulses already sampled; ``cache``: where sampled shapes are kept, the default when None)."""
    envelopes = {} if envelopes is None else envelopes
    phi, omega, t_ref, shift = 0.0, 0.0, 0, 0.0  # phase at t_ref; its advance per sample; Hz off the base
    plays: list[PlayRecord] = []
    for t, inst in events:
        kind = type(inst)
        if kind is Play:
            pulse = inst.pulse  # type: ignore[attr-defined]
            env = envelopes.get(id(pulse))
            if env is None:  # first time this object: maybe an equal pulse was sampled already
                key = pulse.content_key
                env = envelopes.get(key)
                if env is None:
                    env = envelopes[key] = pulse.envelope(table, cache)
                envelopes[id(pulse)] = env
            unit, coefficient = env
            if omega == 0.0:
                if phi:
                    coefficient = coefficient * complex(math.cos(phi), math.sin(phi))
                plays.append(PlayRecord(t, unit, coefficient, 0.0, 0.0, inst, shift))
            else:
                plays.append(PlayRecord(t, unit, coefficient, omega, phi + omega * (t - t_ref), inst, shift))
        elif kind is ShiftPhase:
            phi += _value(inst, table)
        elif kind is SetPhase:
            phi, t_ref = _value(inst, table), t
        elif kind is ShiftFrequency or kind is SetFrequency:
            if dt is None:
                raise PulseError(f"cannot render {inst!r} at t={t}: pass render(..., dt=...) to turn Hz into phase")
            phi, t_ref = phi + omega * (t - t_ref), t
            shift = _shifted(ch, t, inst, table, shift, frequencies)
            omega = 2 * math.pi * shift * dt
    return plays


def _shifted(ch: PulseChannel, t: int, inst: Instruction, table: Mapping[Parameter, Any], shift: float,
             frequencies: Mapping[Channel, float] | None) -> float:
    """The frame's offset from its base frequency (Hz) after ``inst``, a ShiftFrequency or SetFrequency."""
    value = _value(inst, table)
    if type(inst) is ShiftFrequency:
        return shift + value
    if frequencies is None or ch not in frequencies:
        raise PulseError(
            f"cannot render {inst!r} at t={t}: SetFrequency needs the base frequency of {ch.name}; "
            "pass render(..., frequencies={channel: Hz})"
        )
    return value - frequencies[ch]


def frequency_at(ch: PulseChannel, events: list[tuple[int, Instruction]], table: Mapping[Parameter, Any], t: int,
                 base: float) -> float:
    """The frame frequency (Hz) of ``ch`` in force at sample ``t``: ``base`` with every ShiftFrequency and
    SetFrequency up to and including ``t`` applied -- the same frame walk as :func:`channel_plays` (changes at
    the same time as an instruction apply to it), for what is not a play (an acquisition's demodulation)."""
    shift = 0.0
    for when, inst in events:
        if when > t:
            break
        if type(inst) is ShiftFrequency or type(inst) is SetFrequency:
            shift = _shifted(ch, when, inst, table, shift, {ch: base})
    return base + shift


def _render_channel(buffer: ComplexArray, ch: PulseChannel, events: list[tuple[int, Instruction]],
                    table: Mapping[Parameter, Any], envelopes: dict[Any, tuple[ComplexArray, complex]],
                    dt: float | None, frequencies: Mapping[Channel, float] | None) -> None:
    # id(unit envelope) -> (unit, starts, coefficients, omegas, phase offsets at start)
    groups: dict[int, tuple[ComplexArray, list[int], list[complex], list[float], list[float]]] = {}
    for play in channel_plays(ch, events, table, dt, frequencies, envelopes):
        group = groups.get(id(play.unit))
        if group is None:
            group = groups[id(play.unit)] = (play.unit, [], [], [], [])
        group[1].append(play.start)
        group[2].append(play.coefficient)
        group[3].append(play.omega)
        group[4].append(play.offset)
    for unit, starts, coefficients, omegas, offsets in groups.values():
        _write(buffer, unit, starts, coefficients, omegas, offsets)


def _write(buffer: ComplexArray, unit: ComplexArray, starts: list[int], coefficients: list[complex],
           omegas: list[float], offsets: list[float]) -> None:
    """Write each play straight into its slice of the buffer: no index arrays and no temporaries the size of
    the output (fresh memory is expensive to fault in, more than the arithmetic)."""
    n = unit.shape[0]
    if n == 0:
        return
    if not any(omegas):
        for start, coefficient in zip(starts, coefficients):
            np.multiply(unit, coefficient, out=buffer[start: start + n])
        return
    steps = np.arange(n)
    for start, coefficient, omega, offset in zip(starts, coefficients, omegas, offsets):
        target = buffer[start: start + n]
        np.multiply(unit, coefficient, out=target)
        if omega:
            target *= np.exp(1j * (offset + omega * steps))
