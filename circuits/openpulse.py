"""OpenQASM 3 with OpenPulse calibrations: ``cal`` and ``defcal`` blocks read into pulse schedules.

Labs write new calibrations as OpenPulse; this reads them with the ``openpulse`` reference parser, inside the
one OpenQASM reader of :mod:`.qasm` (which hands every ``defcalgrammar``, ``cal`` and ``defcal`` statement here).
:func:`program_from_qasm3` returns the circuit and a *copy* of the lab's gate map in which the program's defcals
replace the lab's entries, so they hold for that program only.

The hardware model: a ``port`` is named after a qubitlab channel (``port d0;``, ``u1``, ``m0``, ``a0``: drive,
control, measure, acquire; the grammar has no ``extern port``), ``frame f = newframe(port, frequency, phase);``
puts a frame on that channel (one frame per channel: qubitlab channels carry one frame each, starting at the
calibrated frequency, so a frame must ask for that frequency -- checked when the lab's ``frequencies`` are given
-- and phase 0; move it inside a defcal with ``set_frequency``/``shift_frequency``). In a defcal each frame keeps
its own time from 0: ``play(frame, waveform)``, ``delay[d] frame;`` and ``capture_v1/v2(frame, duration)``
advance it, ``shift_phase``/``set_phase``/``shift_frequency``/``set_frequency`` take no time, ``barrier a, b;``
(or ``barrier;`` over every frame used so far) lines frames up. A capture on an ``a<q>`` frame is an ``Acquire``
of qubit q (lowering stores it in the measured bit; v1 and v2 differ only in what the runtime returns).
Waveforms: ``{...}`` literals and the kernels ``gaussian(amp, d, sigma)``, ``sech(amp, d, sigma)``,
``gaussian_square(amp, d, width, sigma)``, ``drag(amp, d, sigma, beta)``, ``constant(amp, d)``,
``sine(amp, d, frequency_hz, phase)`` -- each the Qiskit Pulse 1.4 shape of that name, with a complex ``amp``
split into amplitude and angle (``r * exp(a im)`` keeps them exact) -- and ``mix``, ``sum`` (sample-wise
product and sum), ``phase_shift(wf, angle)``, ``scale(wf, factor)``. Defcal arguments (``defcal
rx(angle theta) $0``) become the template's parameters. Anything else is a :class:`CircuitError` naming the
line and column in the whole program.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from openpulse import ast
from openqasm3 import ast as qasm_ast
from openpulse.parser import OpenPulseParsingError, parse_openpulse

from qubitlab.circuits.circuit import Circuit
from qubitlab.circuits.gate_map import GateEntry, GateKey, GateMap
from qubitlab.circuits.gates import GATES
from qubitlab.circuits.qasm_limits import where
from qubitlab.errors import CircuitError, PulseError
from qubitlab.pulse import library
from qubitlab.pulse.alignments import AlignLeft
from qubitlab.pulse.block import ScheduleBlock
from qubitlab.pulse.channels import (
    AcquireChannel,
    Channel,
    ControlChannel,
    DriveChannel,
    MeasureChannel,
    MemorySlot,
)
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
from qubitlab.pulse.parameters import Parameter, ParameterExpression

PORT = re.compile(r"^([duma])(\d+)$")
_PORTS: dict[str, type[Channel]] = {"d": DriveChannel, "u": ControlChannel, "m": MeasureChannel, "a": AcquireChannel}
KERNELS = ("gaussian", "sech", "gaussian_square", "drag", "constant", "sine", "mix", "sum", "phase_shift", "scale")
_FRAME_OPS = {"shift_phase": ShiftPhase, "set_phase": SetPhase, "shift_frequency": ShiftFrequency,
              "set_frequency": SetFrequency}
_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi, "euler": math.e}
_TIME = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
FREQUENCY_TOLERANCE = 1.0
"""Hz a frame's ``newframe`` frequency may differ from the channel's calibrated frequency (float print noise)."""


@dataclass(frozen=True)
class Frame:
    """A declared frame: its name, the channel its port names, its initial frequency (Hz) and phase."""

    name: str
    channel: Channel
    frequency: float
    phase: float = 0.0


@dataclass(frozen=True)
class Polar:
    """``r * exp(angle im)`` kept apart, so amplitude and angle survive a round trip exactly."""

    r: Any
    angle: float


@dataclass(frozen=True)
class PulseProgram:
    """What an OpenQASM 3 + OpenPulse program asks for: the circuit, the gate map with its defcals, its frames."""

    circuit: Circuit
    gate_map: GateMap
    defcals: dict[GateKey, GateEntry] = field(default_factory=dict)
    frames: dict[str, Frame] = field(default_factory=dict)
    captures: dict[GateKey, str] = field(default_factory=dict)
    """``capture_v1`` or ``capture_v2`` per defcal that captures."""


class Calibrations:
    """Collects ports, frames, waveforms and defcals from the calibration statements of one program."""

    def __init__(self, text: str, dt: float | None, frequencies: Mapping[Channel, float] | None) -> None:
        self.lines = text.splitlines()
        self.dt = dt
        self.frequencies = frequencies
        self.ports: dict[str, Channel] = {}
        self.frames: dict[str, Frame] = {}
        self.values: dict[str, Any] = {}
        self.defcals: dict[GateKey, GateEntry] = {}
        self.captures: dict[GateKey, str] = {}
        """Which capture each defcal uses (``capture_v1``: IQ, ``capture_v2``: bits, in the OpenPulse spec): the
        runtime picks the measurement level from it."""
        self.origin = (1, 0)

    # -- positions ----------------------------------------------------------------------------------------------
    def fail(self, node: Any, what: str) -> CircuitError:
        span = getattr(node, "span", None)
        if span is None:
            return CircuitError(f"OpenQASM line {self.origin[0]}: {what}")
        line, column = span.start_line, span.start_column
        if self.origin != (1, 0):
            line, column = (self.origin[0], self.origin[1] + column) if line == 1 else (self.origin[0] + line - 1,
                                                                                      column)
        return CircuitError(f"OpenQASM {where(line, column)}: {what}")

    def body(self, node: Any, in_defcal: bool) -> list[Any]:
        """Parse the block's text with the OpenPulse grammar; positions are kept relative to the whole text."""
        self.origin = (1, 0)
        line, column = node.span.start_line, node.span.start_column
        text = self.lines[line - 1][column:] if line - 1 < len(self.lines) else ""
        while "{" not in text and line < len(self.lines):
            line, column, text = line + 1, 0, self.lines[line]
        brace = text.find("{")
        self.origin = (line, column + brace + 1)
        try:
            return list(parse_openpulse(node.body, in_defcal=in_defcal, permissive=False).body)
        except OpenPulseParsingError as exc:
            raise CircuitError(f"OpenQASM {self.position(str(exc), node.body)}: OpenPulse syntax error "
                               f"({exc or 'unexpected input'}); ports are declared 'port d0;' (no extern port), "
                               "frames with newframe(port, frequency, phase)") from None
        except RecursionError:
            raise CircuitError(f"OpenQASM OpenPulse block at {where(*self.origin)} nests too deeply") from None

    def position(self, message: str, body: str) -> str:
        """Where in the whole program the OpenPulse parser stopped (it counts within the block, and its
        'column' is the character offset in the block)."""
        found = re.search(r"at line (\d+), column (\d+)", message)
        if found is None:
            return f"block at {where(*self.origin)}"
        line, offset = int(found.group(1)), int(found.group(2))
        column = offset - (body.rfind("\n", 0, offset) + 1)
        if line == 1:
            return where(self.origin[0], self.origin[1] + column)
        return where(self.origin[0] + line - 1, column)

    # -- statements -------------------------------------------------------------------------------------------
    def statement(self, node: Any) -> None:
        if isinstance(node, ast.CalibrationGrammarDeclaration):
            if node.name != "openpulse":
                raise self.fail(node, f"defcalgrammar {node.name!r} is not supported; write 'defcalgrammar \"openpulse\";'")
        elif isinstance(node, qasm_ast.CalibrationStatement):
            for item in self.body(node, in_defcal=False):
                if not self.declaration(item, self.values):
                    raise self.fail(item, f"{type(item).__name__} in a cal block: qubitlab reads port, frame, "
                                          "waveform and constant declarations there (pulses go in defcals)")
            self.origin = (1, 0)
        elif isinstance(node, qasm_ast.CalibrationDefinition):
            self.defcal(node)
        else:  # pragma: no cover - qasm.py only hands over the three kinds above
            raise self.fail(node, f"unexpected {type(node).__name__}")

    def declaration(self, node: Any, scope: dict[str, Any]) -> bool:
        """Handle a declaration; False when ``node`` is not one."""
        if isinstance(node, ast.ExternDeclaration):
            if node.name.name not in KERNELS:
                raise self.fail(node, f"extern {node.name.name!r} is not a known waveform kernel; known: {KERNELS}")
            return True
        if isinstance(node, ast.ConstantDeclaration):
            scope[node.identifier.name] = self.value(node.init_expression, scope)
            return True
        if not isinstance(node, ast.ClassicalDeclaration):
            return False
        name = node.identifier.name
        if isinstance(node.type, ast.PortType):
            match = PORT.match(name)
            if match is None or node.init_expression is not None:
                raise self.fail(node, f"port {name!r}: name ports after a qubitlab channel and declare them "
                                      "without a value: 'port d0;' (d, u, m, a followed by the index)")
            self.ports[name] = _PORTS[match.group(1)](int(match.group(2)))
        elif isinstance(node.type, ast.FrameType):
            self.frame(name, node)
        elif node.init_expression is None:
            raise self.fail(node, f"declaration of {name!r} needs a value")
        else:
            scope[name] = self.value(node.init_expression, scope)
        return True

    def frame(self, name: str, node: Any) -> None:
        call = node.init_expression
        if not isinstance(call, ast.FunctionCall) or call.name.name != "newframe" or len(call.arguments) != 3:
            raise self.fail(node, f"frame {name!r}: write 'frame {name} = newframe(port, frequency, phase);'")
        port = call.arguments[0]
        channel = self.ports.get(port.name) if isinstance(port, ast.Identifier) else None
        if channel is None:
            raise self.fail(node, f"frame {name!r}: {getattr(port, 'name', port)!r} is not a declared port; "
                                  f"declared: {sorted(self.ports) or 'none'}")
        frequency, phase = (self.real(a, self.values) for a in call.arguments[1:])
        if any(f.channel == channel for f in self.frames.values()):
            raise self.fail(node, f"frame {name!r}: port {channel.name} has a frame already; qubitlab channels "
                                  "carry one frame each")
        base = None if self.frequencies is None else self.frequencies.get(channel)
        if not isinstance(channel, AcquireChannel) and base is not None and abs(frequency - base) > FREQUENCY_TOLERANCE:
            raise self.fail(node, f"frame {name!r} asks {frequency!r} Hz but {channel.name} is calibrated at "
                                  f"{base!r} Hz; declare the calibrated frequency and move the frame with "
                                  "set_frequency/shift_frequency inside a defcal")
        if phase != 0.0:
            raise self.fail(node, f"frame {name!r}: initial phase {phase} is not supported (frames start at "
                                  "phase 0); use shift_phase inside a defcal")
        self.frames[name] = Frame(name, channel, frequency, phase)

    def defcal(self, node: Any) -> None:
        name = node.name.name
        if name not in GATES and name != "measure":
            raise self.fail(node, f"defcal {name!r}: qubitlab calibrates the standard gates and measure; "
                                  f"known: {', '.join(sorted(GATES))}, measure")
        qubits = []
        for q in node.qubits:
            if not q.name.startswith("$") or not q.name[1:].isdigit():
                raise self.fail(q, f"defcal {name}: qubit {q.name!r} must be a physical qubit such as $0")
            qubits.append(int(q.name[1:]))
        scope = dict(self.values)
        params: list[Parameter] = []
        for arg in node.arguments:
            if not isinstance(arg, ast.ClassicalArgument):
                raise self.fail(arg, f"defcal {name}: only named arguments ('angle theta') are supported")
            params.append(Parameter(arg.name.name))
            scope[arg.name.name] = params[-1]
        block = _DefcalBuilder(self, scope, name, tuple(qubits)).build(self.body(node, in_defcal=True))
        self.origin = (1, 0)
        self.defcals[(name, tuple(qubits))] = GateEntry(block, tuple(params))

    # -- values ---------------------------------------------------------------------------------------------------
    def real(self, node: Any, scope: Mapping[str, Any]) -> float:
        value = self.value(node, scope)
        if isinstance(value, Polar):
            value = value.r * complex(math.cos(value.angle), math.sin(value.angle))
        if isinstance(value, complex):
            if value.imag:
                raise self.fail(node, f"expected a real number, got {value}")
            value = value.real
        if not isinstance(value, (int, float)):
            raise self.fail(node, f"expected a number, got {type(value).__name__}")
        return float(value)

    def samples(self, node: Any, scope: Mapping[str, Any]) -> int:
        """A duration in samples of dt: ``160dt`` or a time (``32ns``, with the lab's dt), a whole number."""
        value = self.value(node, scope)
        if not isinstance(value, _Duration):
            raise self.fail(node, "expected a duration such as 160dt or 32ns")
        return self.whole(node, value)

    def whole(self, node: Any, value: _Duration) -> int:
        if value.unit == "dt":
            count = value.value
        elif self.dt is None:
            raise self.fail(node, f"a duration in {value.unit} needs the lab's dt; write it in dt (e.g. 160dt)")
        else:
            count = value.value * _TIME[value.unit] / self.dt
        if not math.isfinite(count) or count < 0 or abs(count - round(count)) > 1e-6:
            raise self.fail(node, f"duration {value.value}{value.unit} is not a whole number of samples of dt "
                                  f"({count:.6g} dt)")
        return int(round(count))

    def value(self, node: Any, scope: Mapping[str, Any]) -> Any:
        from qubitlab.circuits.openpulse_values import evaluate

        return evaluate(self, node, scope)


@dataclass(frozen=True)
class _Duration:
    value: float
    unit: str


class _DefcalBuilder:
    """One defcal body -> a left-aligned ScheduleBlock reproducing each frame's own timeline exactly."""

    def __init__(self, cal: Calibrations, scope: dict[str, Any], name: str, qubits: tuple[int, ...]) -> None:
        self.cal, self.scope, self.name, self.qubits = cal, scope, name, qubits
        self.clock: dict[Channel, int] = {}
        self.items: list[tuple[Channel, Instruction]] = []

    def build(self, body: list[Any]) -> ScheduleBlock:
        for node in body:
            self.statement(node)
        block = ScheduleBlock(name=f"{self.name}{self.qubits}", alignment_context=AlignLeft())
        for _, inst in self.items:
            block.append(inst)
        return block

    def channel(self, node: Any) -> Channel:
        frame = self.cal.frames.get(node.name) if isinstance(node, ast.Identifier) else None
        if frame is None:
            raise self.cal.fail(node, f"{getattr(node, 'name', node)!r} is not a declared frame; declared: "
                                      f"{sorted(self.cal.frames) or 'none'} (frame f = newframe(port, freq, 0);)")
        return frame.channel

    def put(self, ch: Channel, inst: Instruction, duration: int) -> None:
        self.clock.setdefault(ch, 0)
        self.items.append((ch, inst))
        self.clock[ch] += duration

    def statement(self, node: Any) -> None:
        cal = self.cal
        if isinstance(node, ast.ExpressionStatement) and isinstance(node.expression, ast.FunctionCall):
            self.call(node.expression)
        elif isinstance(node, ast.ReturnStatement) and isinstance(node.expression, ast.FunctionCall):
            self.call(node.expression)
        elif (isinstance(node, ast.ClassicalDeclaration) and isinstance(node.init_expression, ast.FunctionCall)
              and node.init_expression.name.name.startswith("capture_v")):
            self.call(node.init_expression)
        elif isinstance(node, ast.DelayInstruction):
            duration = cal.samples(node.duration, self.scope)
            for target in node.qubits:
                ch = self.channel(target)
                self.put(ch, Delay(duration, ch), duration)
        elif isinstance(node, ast.QuantumBarrier):
            channels = [self.channel(t) for t in node.qubits] or list(self.clock)
            latest = max((self.clock.get(ch, 0) for ch in channels), default=0)
            for ch in channels:
                gap = latest - self.clock.get(ch, 0)
                if gap:
                    self.put(ch, Delay(gap, ch), gap)
                self.clock.setdefault(ch, latest)
            if len(channels) > 1:  # kept, so the gate's template still names every channel it waits for
                self.items.append((channels[0], RelativeBarrier(*channels)))
        elif not cal.declaration(node, self.scope):
            raise cal.fail(node, f"{type(node).__name__} is not supported in a defcal; qubitlab reads play, "
                                 "capture_v1/v2, delay, barrier, shift/set_phase, shift/set_frequency and "
                                 "declarations")

    def call(self, call: Any) -> None:
        cal, name, args = self.cal, call.name.name, call.arguments
        if name == "play" and len(args) == 2:
            ch = self.channel(args[0])
            pulse = cal.value(args[1], self.scope)
            if not isinstance(pulse, library.Pulse):
                raise cal.fail(args[1], "play needs a waveform (a kernel call, a literal or a waveform name)")
            if isinstance(ch, AcquireChannel):
                raise cal.fail(call, f"cannot play on {ch.name}, an acquire port; capture there")
            try:
                self.put(ch, Play(pulse, ch), int(pulse.duration))  # type: ignore[arg-type]
            except PulseError as exc:
                raise cal.fail(call, str(exc)) from None
        elif name in _FRAME_OPS and len(args) == 2:
            ch = self.channel(args[0])
            value = cal.value(args[1], self.scope)
            if not isinstance(value, ParameterExpression):
                value = cal.real(args[1], self.scope)
            self.put(ch, _FRAME_OPS[name](value, ch), 0)  # type: ignore[arg-type]
        elif name in ("capture_v1", "capture_v2") and len(args) == 2:
            ch = self.channel(args[0])
            if not isinstance(ch, AcquireChannel):
                raise cal.fail(call, f"{name} needs a frame on an acquire port (a<q>), not {ch.name}")
            duration = cal.samples(args[1], self.scope)
            cal.captures[(self.name, self.qubits)] = name
            self.put(ch, Acquire(duration, ch, MemorySlot(ch.index)), duration)
        else:
            raise cal.fail(call, f"{name}({len(args)} arguments) is not supported in a defcal; qubitlab reads "
                                 "play(frame, wf), capture_v1/v2(frame, duration), shift_phase, set_phase, "
                                 "shift_frequency, set_frequency (frame, value)")


def program_from_qasm3(text: str, gate_map: GateMap, *, frequencies: Mapping[Channel, float] | None = None,
                       name: str | None = None) -> PulseProgram:
    """Read an OpenQASM 3 program with OpenPulse ``cal``/``defcal`` blocks; ``frequencies``: each channel's
    calibrated frequency (Hz), checked against the frames. The returned gate map is a copy with the defcals."""
    from qubitlab.circuits.qasm import read_program

    cal = Calibrations(text, gate_map.dt, frequencies)
    circuit = read_program(text, name, cal)
    entries = {**gate_map.entries, **cal.defcals}
    return PulseProgram(circuit, replace(gate_map, entries=entries), dict(cal.defcals), dict(cal.frames),
                        dict(cal.captures))


def calibrations_from_qasm3(text: str, *, dt: float | None = None,
                            frequencies: Mapping[Channel, float] | None = None) -> Calibrations:
    """Only the calibrations of a program (no circuit needed): its ``defcals``, ``frames`` and ``ports``."""
    from qubitlab.circuits.qasm import read_program

    cal = Calibrations(text, dt, frequencies)
    read_program(text, None, cal, allow_empty=True)
    return cal


def _split_amp(amp: Any) -> tuple[Any, float]:
    """(amplitude, angle) of a kernel's ``amp``: a Polar keeps both, a complex number is split."""
    if isinstance(amp, Polar):
        return amp.r, amp.angle
    if isinstance(amp, complex):
        return abs(amp), float(np.angle(amp))
    return amp, 0.0
