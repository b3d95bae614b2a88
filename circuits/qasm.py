"""OpenQASM 3 input at gate level, parsed with the reference ``openqasm3`` parser.

What a Sampler/Estimator client sends most often is OpenQASM text; this turns it into a :class:`Circuit`.
Supported: ``OPENQASM 3.0;``, ``include "stdgates.inc";``, ``qubit``/``bit`` declarations (single or arrays,
old-style ``qreg``/``creg`` too), the standard gates of :data:`~qubitlab.circuits.gates.GATES` plus the
stdgates aliases ``U``, ``u3``, ``u2``, ``CX``, ``cnot`` and ``p``/``phase``/``u1`` (as ``rz``, equal up to global
phase), gates broadcast over whole registers, ``input float``/``input angle`` parameters (they become
:class:`~qubitlab.pulse.Parameter` objects, one per name), ``c[0] = measure q[0];`` and ``measure q -> c;``,
``barrier``, ``delay[100ns]`` (dt, ns, us, ms, s) and ``reset``. Angle expressions may use ``+ - * / **``,
``pi``/``π``, ``tau``, ``euler`` and the inputs. Anything else (control flow, classical computation, gate
definitions, modifiers) is refused with a :class:`CircuitError` naming the line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from openqasm3 import ast
from openqasm3.parser import QASM3ParsingError, parse

from qubitlab.circuits.circuit import Circuit
from qubitlab.circuits.gates import GATES
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import Parameter, ParameterExpression

_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi, "euler": math.e, "ℇ": math.e}
_ALIASES: dict[str, Callable[[list[Any]], tuple[str, list[Any]]]] = {
    "U": lambda a: ("u", a),
    "u3": lambda a: ("u", a),
    "u2": lambda a: ("u", [math.pi / 2, *a]),
    "CX": lambda a: ("cx", a),
    "cnot": lambda a: ("cx", a),
    "p": lambda a: ("rz", a),
    "phase": lambda a: ("rz", a),
    "u1": lambda a: ("rz", a),
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _line(node: ast.QASMNode) -> int:
    return node.span.start_line if node.span is not None else 0


class _Reader:
    def __init__(self, name: str | None) -> None:
        self.name = name
        self.qregs: dict[str, list[int]] = {}
        self.cregs: dict[str, list[int]] = {}
        self.inputs: dict[str, Parameter] = {}
        self.ops: list[tuple[str, tuple[int, ...], list[Any], tuple[int, ...], str | None]] = []
        self.nq = self.nc = 0

    def fail(self, node: ast.QASMNode, what: str) -> CircuitError:
        return CircuitError(f"OpenQASM line {_line(node)}: {what}")

    # -- expressions --------------------------------------------------------------------------------------------
    def value(self, node: ast.Expression) -> Any:
        if isinstance(node, (ast.IntegerLiteral, ast.FloatLiteral)):
            return node.value
        if isinstance(node, ast.Identifier):
            if node.name in self.inputs:
                return self.inputs[node.name]
            if node.name in _CONSTANTS:
                return _CONSTANTS[node.name]
            raise self.fail(node, f"unknown name {node.name!r} in an expression (inputs: {sorted(self.inputs)})")
        if isinstance(node, ast.UnaryExpression) and node.op.name == "-":
            return -self.value(node.expression)
        if isinstance(node, ast.BinaryExpression) and node.op.name in _BINARY:
            return _BINARY[node.op.name](self.value(node.lhs), self.value(node.rhs))
        raise self.fail(node, f"unsupported expression {type(node).__name__} (numbers, pi, inputs and + - * / ** only)")

    def size(self, node: ast.Expression | None) -> int:
        if node is None:
            return 1
        value = self.value(node)
        if isinstance(value, ParameterExpression) or int(value) != value or value < 1:
            raise self.fail(node, f"a register size must be a positive integer, got {value}")
        return int(value)

    # -- operands -----------------------------------------------------------------------------------------------
    def operand(self, node: ast.QASMNode, regs: dict[str, list[int]], kind: str) -> list[int]:
        """The bits an operand names: a whole register, or one (or several) indexed elements."""
        if isinstance(node, ast.Identifier):
            if node.name not in regs:
                raise self.fail(node, f"unknown {kind} {node.name!r}; declared: {sorted(regs) or 'none'}")
            return list(regs[node.name])
        if isinstance(node, ast.IndexedIdentifier):
            if node.name.name not in regs:
                raise self.fail(node, f"unknown {kind} {node.name.name!r}; declared: {sorted(regs) or 'none'}")
            reg = regs[node.name.name]
            if len(node.indices) != 1 or not isinstance(node.indices[0], list):
                raise self.fail(node, "only one simple index per operand is supported (q[0], q[1], ...)")
            out = []
            for index in node.indices[0]:
                i = self.value(index) if not isinstance(index, ast.RangeDefinition) else None
                if i is None or isinstance(i, ParameterExpression) or int(i) != i:
                    raise self.fail(node, "indices must be integer literals")
                if not -len(reg) <= int(i) < len(reg):
                    raise self.fail(node, f"index {int(i)} out of range for {node.name.name}[{len(reg)}]")
                out.append(reg[int(i)])
            return out
        raise self.fail(node, f"unsupported {kind} operand {type(node).__name__}")

    def broadcast(self, node: ast.QASMNode, groups: list[list[int]]) -> list[tuple[int, ...]]:
        sizes = {len(g) for g in groups if len(g) != 1}
        if len(sizes) > 1:
            raise self.fail(node, f"registers of different sizes {sorted(sizes)} cannot be broadcast together")
        n = sizes.pop() if sizes else 1
        return [tuple(g[0] if len(g) == 1 else g[k] for g in groups) for k in range(n)]

    # -- statements ---------------------------------------------------------------------------------------------
    def declare(self, regs: dict[str, list[int]], name: str, size: int, kind: str, node: ast.QASMNode) -> None:
        if name in self.qregs or name in self.cregs or name in self.inputs:
            raise self.fail(node, f"{name!r} is declared twice")
        start = self.nq if kind == "qubit" else self.nc
        regs[name] = list(range(start, start + size))
        if kind == "qubit":
            self.nq += size
        else:
            self.nc += size

    def statement(self, node: ast.Statement) -> None:
        if isinstance(node, ast.Include):
            if node.filename != "stdgates.inc":
                raise self.fail(node, f"only 'stdgates.inc' can be included, not {node.filename!r}")
        elif isinstance(node, ast.QubitDeclaration):
            self.declare(self.qregs, node.qubit.name, self.size(node.size), "qubit", node)
        elif isinstance(node, ast.ClassicalDeclaration) and isinstance(node.type, ast.BitType):
            if node.init_expression is not None:
                raise self.fail(node, "bit declarations with an initial value are not supported")
            self.declare(self.cregs, node.identifier.name, self.size(node.type.size), "bit", node)
        elif isinstance(node, ast.IODeclaration):
            if node.io_identifier != ast.IOKeyword.input or not isinstance(node.type, (ast.FloatType, ast.AngleType)):
                raise self.fail(node, "only 'input float name;' and 'input angle name;' are supported")
            if node.identifier.name in self.inputs:
                raise self.fail(node, f"input {node.identifier.name!r} is declared twice")
            self.inputs[node.identifier.name] = Parameter(node.identifier.name)
        elif isinstance(node, ast.QuantumGate):
            self.gate(node)
        elif isinstance(node, ast.QuantumMeasurementStatement):
            self.measure(node)
        elif isinstance(node, ast.QuantumBarrier):
            qubits = sorted({q for operand in node.qubits for q in self.operand(operand, self.qregs, "qubit")})
            self.ops.append(("barrier", tuple(qubits or range(self.nq)), [], (), None))
        elif isinstance(node, ast.DelayInstruction):
            self.delay(node)
        elif isinstance(node, ast.QuantumReset):
            for q in self.operand(node.qubits, self.qregs, "qubit"):
                self.ops.append(("reset", (q,), [], (), None))
        else:
            raise self.fail(node, f"unsupported statement {type(node).__name__} (qubitlab reads gate-level "
                                  "OpenQASM 3: declarations, standard gates, measure, barrier, delay, reset)")

    def gate(self, node: ast.QuantumGate) -> None:
        if node.modifiers:
            raise self.fail(node, "gate modifiers (ctrl @, inv @, pow @) are not supported")
        name, args = node.name.name, [self.value(a) for a in node.arguments]
        if name in _ALIASES:
            name, args = _ALIASES[name](args)
        if name not in GATES:
            raise self.fail(node, f"unknown gate {node.name.name!r}; supported: {', '.join(sorted(GATES))}, "
                                  f"{', '.join(sorted(_ALIASES))}")
        spec = GATES[name]
        groups = [self.operand(q, self.qregs, "qubit") for q in node.qubits]
        if len(groups) != spec.num_qubits or len(args) != spec.num_params:
            raise self.fail(node, f"gate {name} takes {spec.num_params} argument(s) and {spec.num_qubits} "
                                  f"qubit(s); got {len(args)} and {len(groups)}")
        for qubits in self.broadcast(node, groups):
            self.ops.append((name, qubits, args, (), None))

    def measure(self, node: ast.QuantumMeasurementStatement) -> None:
        if node.target is None:
            raise self.fail(node, "a measurement needs a target bit: 'c[0] = measure q[0];' or 'measure q -> c;'")
        qubits = self.operand(node.measure.qubit, self.qregs, "qubit")
        bits = self.operand(node.target, self.cregs, "bit")
        if len(qubits) != len(bits):
            raise self.fail(node, f"measuring {len(qubits)} qubit(s) into {len(bits)} bit(s)")
        for q, c in zip(qubits, bits):
            self.ops.append(("measure", (q,), [], (c,), None))

    def delay(self, node: ast.DelayInstruction) -> None:
        if not isinstance(node.duration, ast.DurationLiteral):
            raise self.fail(node, "a delay needs a duration literal such as delay[100ns] or delay[160dt]")
        value, unit = node.duration.value, node.duration.unit.name
        qubits = [q for operand in node.qubits for q in self.operand(operand, self.qregs, "qubit")]
        for q in qubits or range(self.nq):
            self.ops.append(("delay", (q,), [value], (), unit))

    def circuit(self) -> Circuit:
        qc = Circuit(self.nq, self.nc, self.name)
        for name, qubits, params, clbits, unit in self.ops:
            qc.append(name, qubits, params, clbits, unit)
        return qc


def _syntax_error_line(exc: BaseException) -> int | None:
    seen: BaseException | None = exc
    while seen is not None:
        token = getattr(seen, "offendingToken", None)
        if token is not None:
            return int(token.line)
        seen = seen.__cause__ or seen.__context__
    return None


def circuit_from_qasm3(text: str, name: str | None = None) -> Circuit:
    """Read a gate-level OpenQASM 3 program into a :class:`Circuit` (inputs become Parameters)."""
    try:
        program = parse(text)
    except QASM3ParsingError as exc:
        line = _syntax_error_line(exc)
        where = f" at line {line}" if line is not None else ""
        raise CircuitError(f"OpenQASM 3 syntax error{where}; check that line against the OpenQASM 3 grammar") from None
    if program.version is not None and not program.version.startswith("3"):
        raise CircuitError(f"OpenQASM version {program.version} is not supported; write 'OPENQASM 3.0;'")
    reader = _Reader(name)
    for statement in program.statements:
        reader.statement(statement)  # type: ignore[arg-type]
    return reader.circuit()


def input_parameters(circuit: Circuit) -> dict[str, Parameter]:
    """The circuit's parameters by name (what ``input float`` declared)."""
    return {p.name: p for p in circuit.parameters}
