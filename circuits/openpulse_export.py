"""OpenQASM 3 + OpenPulse export: a ScheduleBlock, or a lab's whole calibrated gate map, as ``cal``/``defcal`` text.

The inverse of :mod:`.openpulse`, so a lab can hand its calibrations to any OpenPulse tool and read them back:
one ``port`` and one frame (``<channel>_frame``, at the channel's calibrated frequency) per channel, a
``defcal`` per gate-map entry whose body reproduces each channel's timeline with ``delay``s between
instructions. Gaussian, GaussianSquare, Drag, Constant and Sech are written as kernels (amplitude and angle as
``r * exp(a im)``, floats in ``repr`` precision, so reading back gives the same pulse); every other pulse is a
``waveform`` literal of its samples. Reading the text back renders identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qubitlab.circuits.gate_map import GateEntry, GateMap
from qubitlab.errors import CircuitError
from qubitlab.pulse import library
from qubitlab.pulse.block import ScheduleBlock, block_to_schedule
from qubitlab.pulse.channels import AcquireChannel, Channel, ClassicalIOChannel, MeasureChannel
from qubitlab.pulse.instructions import (
    Acquire,
    Delay,
    Instruction,
    Play,
    RelativeBarrier,
    SetFrequency,
    SetPhase,
    ShiftFrequency,
    ShiftPhase,
)
from qubitlab.pulse.parameters import ParameterExpression

_FRAME_OPS: dict[type[Instruction], str] = {ShiftPhase: "shift_phase", SetPhase: "set_phase", ShiftFrequency: "shift_frequency",
              SetFrequency: "set_frequency"}


def _number(value: Any) -> str:
    if isinstance(value, ParameterExpression):
        return f"({value})"
    return repr(float(value))


def _amp(params: Mapping[str, Any]) -> str:
    amp, angle = params["amp"], params["angle"]
    if isinstance(angle, ParameterExpression):
        raise CircuitError(f"cannot export a pulse whose angle is a parameter ({angle}); bind it first")
    return _number(amp) if angle == 0 else f"{_number(amp)} * exp({float(angle)!r}im)"


def _kernel(pulse: library.Pulse) -> str | None:
    """The kernel call that makes ``pulse``, or None when it must be written as samples."""
    if not isinstance(pulse, library.ScalableSymbolicPulse) or isinstance(pulse.duration, ParameterExpression):
        return None
    p = pulse.parameters
    d = f"{int(p['duration'])}dt"
    kind = pulse.pulse_type
    if kind == "Gaussian":
        return f"gaussian({_amp(p)}, {d}, {_number(p['sigma'])}dt)"
    if kind == "Sech" and p.get("zero_ends", True):
        return f"sech({_amp(p)}, {d}, {_number(p['sigma'])}dt)"
    if kind == "GaussianSquare":
        return f"gaussian_square({_amp(p)}, {d}, {_number(p['width'])}dt, {_number(p['sigma'])}dt)"
    if kind == "Drag":
        return f"drag({_amp(p)}, {d}, {_number(p['sigma'])}dt, {_number(p['beta'])})"
    if kind == "Constant":
        return f"constant({_amp(p)}, {d})"
    return None


def _literal(pulse: library.Pulse) -> str:
    if pulse.is_parameterized():
        raise CircuitError(f"cannot export {pulse!r}: it has parameters and no OpenPulse kernel; bind it first")
    shape = pulse if isinstance(pulse, library.Waveform) else pulse.get_waveform()
    samples = np.asarray(shape.samples, dtype=np.complex128)
    return "{" + ", ".join(f"{float(z.real)!r} + {float(z.imag)!r}im" for z in samples) + "}"


class _Body:
    """The statements of one defcal."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.waveforms = 0

    def frame(self, ch: Channel) -> str:
        return f"{ch.name}_frame"

    def emit(self, t: int, clock: int, ch: Channel, inst: Instruction) -> int:
        """Write ``inst`` on ``ch`` at ``t`` (a delay first when the frame's time ``clock`` is earlier)."""
        if t > clock:
            self.lines.append(f"delay[{t - clock}dt] {self.frame(ch)};")
        frame = self.frame(ch)
        if isinstance(inst, Play):
            kernel = _kernel(inst.pulse)
            if kernel is None:
                self.waveforms += 1
                name = f"wf{self.waveforms}"
                self.lines.append(f"waveform {name} = {_literal(inst.pulse)};")
                kernel = name
            self.lines.append(f"play({frame}, {kernel});")
        elif type(inst) in _FRAME_OPS:
            self.lines.append(f"{_FRAME_OPS[type(inst)]}({frame}, {_number(inst._value)});")  # type: ignore[attr-defined]
        elif isinstance(inst, Acquire):
            self.lines.append(f"capture_v2({frame}, {int(inst.duration)}dt);")
        elif isinstance(inst, Delay):
            self.lines.append(f"delay[{int(inst.duration)}dt] {frame};")
        else:
            raise CircuitError(f"cannot export {inst!r} to OpenPulse: no statement for {type(inst).__name__}")
        duration = inst.duration
        return t + (int(duration) if not isinstance(duration, ParameterExpression) else 0)


def _channel_of(inst: Instruction) -> Channel | None:
    if isinstance(inst, Acquire):
        return inst.acquire
    pulse_channels = [c for c in inst.channels if not isinstance(c, ClassicalIOChannel)]
    return pulse_channels[0] if len(pulse_channels) == 1 else None


def defcal_text(name: str, qubits: Sequence[int], entry: GateEntry | ScheduleBlock) -> tuple[str, set[Channel]]:
    """One ``defcal`` statement and the channels it uses."""
    if isinstance(entry, ScheduleBlock):
        entry = GateEntry(entry)
    body = _Body()
    clocks: dict[Channel, int] = {}
    events = sorted(block_to_schedule(entry.schedule).instructions,
                    key=lambda e: (e[0], e[1].duration != 0, isinstance(e[1], Acquire)))
    for t, inst in events:
        if isinstance(inst, RelativeBarrier):
            chs = [c for c in inst.channels if not isinstance(c, ClassicalIOChannel)]
            for ch in chs:
                if t > clocks.get(ch, 0):
                    body.lines.append(f"delay[{t - clocks.get(ch, 0)}dt] {body.frame(ch)};")
                clocks[ch] = t
            body.lines.append(f"barrier {', '.join(body.frame(c) for c in chs)};")
            continue
        target = _channel_of(inst)
        if target is None:
            raise CircuitError(f"defcal {name}{tuple(qubits)}: {inst!r} spans several channels; OpenPulse "
                               "instructions act on one frame")
        clocks[target] = body.emit(t, clocks.get(target, 0), target, inst)
    per_channel = set(clocks)
    lines = body.lines
    returns = " -> bit" if name == "measure" else ""
    if returns and lines and lines[-1].startswith("capture_v2("):
        lines[-1] = "return " + lines[-1]
    args = f"({', '.join(f'angle {p.name}' for p in entry.params)})" if entry.params else ""
    targets = ", ".join(f"${q}" for q in qubits)
    inner = "".join(f"  {line}\n" for line in lines)
    return f"defcal {name}{args} {targets}{returns} {{\n{inner}}}\n", set(per_channel)


def _cal_block(channels: set[Channel], frequencies: Mapping[Channel, float]) -> str:
    lines = []
    ordered = sorted(channels, key=lambda c: (c.prefix, str(c.index)))
    for ch in ordered:
        lines.append(f"  port {ch.name};")
    for ch in ordered:
        base = frequencies.get(ch)
        if base is None and isinstance(ch, AcquireChannel):
            base = frequencies.get(MeasureChannel(ch.index), 0.0)
        if base is None:
            raise CircuitError(f"OpenPulse export: no frequency for channel {ch.name}; pass frequencies={{channel: "
                               "Hz}} with every channel the calibrations play on")
        lines.append(f"  frame {ch.name}_frame = newframe({ch.name}, {float(base)!r}, 0.0);")
    return "cal {\n" + "\n".join(lines) + "\n}\n"


def gate_map_to_qasm3(gate_map: GateMap, frequencies: Mapping[Channel, float]) -> str:
    """Every calibrated gate of ``gate_map`` as an OpenQASM 3 program of ``cal`` + ``defcal`` blocks."""
    defcals, channels = [], set()
    for (name, qubits), entry in sorted(gate_map.entries.items()):
        text, used = defcal_text(name, qubits, entry)
        defcals.append(text)
        channels |= used
    return ('OPENQASM 3.0;\ndefcalgrammar "openpulse";\n' + _cal_block(channels, frequencies) + "".join(defcals))


def schedule_to_qasm3(block: ScheduleBlock, frequencies: Mapping[Channel, float], *, name: str = "x",
                      qubits: Sequence[int] = (0,)) -> str:
    """``block`` as the ``defcal`` of gate ``name`` on ``qubits``, with the ``cal`` block its frames need."""
    text, used = defcal_text(name, qubits, block)
    return 'OPENQASM 3.0;\ndefcalgrammar "openpulse";\n' + _cal_block(used, frequencies) + text
