"""OpenQASM 3 input at gate level, parsed with the reference ``openqasm3`` parser.

What a Sampler/Estimator client sends most often is OpenQASM text; this turns it into a :class:`Circuit`.
Supported: ``OPENQASM 3.0;``, ``include "stdgates.inc";``, ``qubit``/``bit`` declarations (single or arrays,
old-style ``qreg``/``creg`` too), the standard gates of :data:`~qubitlab.circuits.gates.GATES` plus the
stdgates aliases ``U``, ``u3``, ``u2``, ``CX``, ``cnot`` and ``p``/``phase``/``u1`` (as ``rz``, equal up to global
phase), gates broadcast over whole registers, ``input float``/``input angle`` parameters (they become
:class:`~qubitlab.pulse.Parameter` objects, one per name), ``c[0] = measure q[0];`` and ``measure q -> c;``,
``barrier``, ``delay[100ns]`` (dt, ns, us, ms, s) and ``reset``. Angle expressions may use ``+ - * / **``,
``pi``/``π``, ``tau``, ``euler`` and the inputs. Physical qubits ``$0``, ``$1``, ... are qubits 0, 1, ... (the
circuit is as wide as the largest index + 1); they cannot be mixed with declared qubit registers.

Gate definitions (``gate name(params) qubits { ... }``), as Qiskit's exporter writes them for ``ecr``, ``rzz``,
``sxdg``, ``rzx``: a definition named like a standard gate is checked -- its body's unitary, computed from the
library matrices at a few sample parameter values, must equal the standard gate's up to global phase -- and the
standard gate is used; any other definition is expanded inline wherever it is called. ``gphase`` is dropped (a
global phase). Anything else (control flow, classical computation, modifiers, ``measure q;`` without a target
bit, since every qubitlab measurement is stored in a bit) is refused with a :class:`CircuitError` naming the
line and column; so are errors found when the operations are added to the circuit (e.g. ``cx q[0], q[0];``).

Programs come from clients, so every resource is bounded (:mod:`.qasm_limits`): the text's length and each
statement's nesting before parsing; then registers (:data:`MAX_QUBITS`, :data:`MAX_CLBITS`), the operations
after expanding gate definitions (:data:`MAX_OPERATIONS`, counted from each definition's size before anything
is expanded, so a definition that doubles at every level is refused at once), the nesting of definitions and
the size of substituted angle expressions. Constant arithmetic refuses division by zero, overflow and complex
results. Whatever the input, the only error raised is a :class:`CircuitError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Union

import numpy as np

from openqasm3 import ast

from qubitlab.circuits.circuit import Circuit
from qubitlab.circuits.gates import GATES, Matrix, apply_matrix, gate_matrix
from qubitlab.circuits.qasm_limits import (
    BINARY_OPERATORS,
    MAX_CLBITS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_GATE_NESTING,
    MAX_OPERATIONS,
    MAX_QUBITS,
    ShapeMemo,
    arithmetic,
    literal,
    parse_program,
    where,
)
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import Parameter, ParameterExpression

_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi, "euler": math.e, "ℇ": math.e}
_ALIASES: dict[str, tuple[int, int, Callable[[list[Any]], tuple[str, list[Any]]]]] = {
    # name: (angle arguments, qubits, the standard gate it is)
    "U": (3, 1, lambda a: ("u", a)),
    "u3": (3, 1, lambda a: ("u", a)),
    "u2": (2, 1, lambda a: ("u", [math.pi / 2, *a])),
    "CX": (0, 2, lambda a: ("cx", a)),
    "cnot": (0, 2, lambda a: ("cx", a)),
    "p": (1, 1, lambda a: ("rz", a)),
    "phase": (1, 1, lambda a: ("rz", a)),
    "u1": (1, 1, lambda a: ("rz", a)),
}
_SAMPLES = (0.37, -1.21, 2.45)
"""Parameter values at which a parameterised definition of a standard gate is compared with it."""


def _where(node: ast.QASMNode) -> str:
    return where(node.span.start_line, node.span.start_column) if node.span is not None else "line ?"


@dataclass(frozen=True)
class _Definition:
    """A user gate definition expanded inline where it is called."""

    name: str
    params: tuple[str, ...]
    qubits: tuple[str, ...]
    body: tuple[ast.QASMNode, ...]
    cost: int = 1
    """Operations one call costs: the call itself plus every statement of the body, expanded."""
    nesting: int = 1
    """Length of the longest chain of definitions this one calls through (itself included)."""


Qubits = Union[tuple[int, ...], None]
"""An operation's qubits; ``None``: every qubit of the circuit (a bare ``barrier;`` or ``delay[...];``)."""
Call = tuple[str, tuple[int, ...], list[Any], ast.QASMNode]
"""A standard gate applied: name, qubits, arguments, and the statement it came from (for the line number)."""


class _Reader:
    def __init__(self, name: str | None) -> None:
        self.name = name
        self.qregs: dict[str, list[int]] = {}
        self.cregs: dict[str, list[int]] = {}
        self.inputs: dict[str, Parameter] = {}
        self.ops: list[tuple[str, Qubits, list[Any], tuple[int, ...], str | None, ast.QASMNode]] = []
        self.nq = self.nc = 0
        self.physical: int | None = None
        """Largest ``$k`` used (physical qubits), or None."""
        self.defs: dict[str, _Definition] = {}
        self.operations = 0
        """Operations counted against :data:`MAX_OPERATIONS` so far."""
        self.shapes = ShapeMemo()
        self.calibrations: Any = None
        """Where ``defcalgrammar``/``cal``/``defcal`` go (:class:`~.openpulse.Calibrations`); None refuses them."""

    def fail(self, node: ast.QASMNode, what: str) -> CircuitError:
        return CircuitError(f"OpenQASM {_where(node)}: {what}")

    def charge(self, node: ast.QASMNode, count: int) -> None:
        """Count ``count`` operations about to be produced; refuse the program beyond :data:`MAX_OPERATIONS`."""
        self.operations += count
        if self.operations > MAX_OPERATIONS:
            raise self.fail(node, f"the program grows beyond {MAX_OPERATIONS:,} operations (MAX_OPERATIONS) "
                                  "once gate definitions are expanded and gates broadcast over registers; a lab "
                                  "circuit needs far fewer: use loops of shorter programs or fewer repetitions")

    # -- expressions --------------------------------------------------------------------------------------------
    def value(self, node: ast.Expression, scope: dict[str, Any] | None = None) -> Any:
        """The expression's value: a finite float or a :class:`ParameterExpression` of bounded size."""
        out = self.evaluate(node, scope)
        if isinstance(out, ParameterExpression):
            size, depth = self.shapes.shape(out)
            if size > MAX_EXPRESSION_NODES or depth > MAX_EXPRESSION_DEPTH:
                nodes = f"more than {MAX_EXPRESSION_NODES}" if size > MAX_EXPRESSION_NODES else str(size)
                raise self.fail(node, f"the angle expression grows to {nodes} nodes, {depth} deep, once gate "
                                      "arguments are substituted; at most "
                                      f"{MAX_EXPRESSION_NODES} nodes (MAX_EXPRESSION_NODES) and "
                                      f"{MAX_EXPRESSION_DEPTH} deep (MAX_EXPRESSION_DEPTH)")
        return out

    def evaluate(self, node: ast.Expression, scope: dict[str, Any] | None) -> Any:
        if isinstance(node, (ast.IntegerLiteral, ast.FloatLiteral)):
            try:
                return literal(node.value)
            except ValueError as exc:
                raise self.fail(node, str(exc)) from None
        if isinstance(node, ast.Identifier):
            if scope is not None and node.name in scope:
                return scope[node.name]
            if node.name in self.inputs:
                return self.inputs[node.name]
            if node.name in _CONSTANTS:
                return _CONSTANTS[node.name]
            raise self.fail(node, f"unknown name {node.name!r} in an expression (inputs: {sorted(self.inputs)})")
        if isinstance(node, ast.UnaryExpression) and node.op.name == "-":
            return -self.evaluate(node.expression, scope)
        if isinstance(node, ast.BinaryExpression) and node.op.name in BINARY_OPERATORS:
            lhs, rhs = self.evaluate(node.lhs, scope), self.evaluate(node.rhs, scope)
            try:
                return arithmetic(node.op.name, lhs, rhs)
            except ValueError as exc:
                raise self.fail(node, f"in a constant expression: {exc}") from None
        raise self.fail(node, f"unsupported expression {type(node).__name__} (numbers, pi, inputs and + - * / ** only)")

    def size(self, node: ast.Expression | None) -> int:
        if node is None:
            return 1
        value = self.value(node)
        if isinstance(value, ParameterExpression) or int(value) != value or value < 1:
            raise self.fail(node, f"a register size must be a positive integer, got {value if isinstance(value, ParameterExpression) else format(value, 'g')}")
        if value > max(MAX_QUBITS, MAX_CLBITS):
            raise self.fail(node, f"a register of {value:.0f} is larger than any lab; at most {MAX_QUBITS} qubits "
                                  f"(MAX_QUBITS) and {MAX_CLBITS} bits (MAX_CLBITS) in all registers together")
        return int(value)

    # -- operands -----------------------------------------------------------------------------------------------
    def operand(self, node: ast.QASMNode, regs: dict[str, list[int]], kind: str) -> list[int]:
        """The bits an operand names: a whole register, or one (or several) indexed elements."""
        if isinstance(node, ast.Identifier) and node.name.startswith("$") and kind == "qubit":
            return [self.physical_qubit(node)]
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

    def physical_qubit(self, node: ast.Identifier) -> int:
        """``$k`` is qubit k; refused when qubit registers are declared too (two numberings would clash)."""
        if not node.name[1:].isdigit():
            raise self.fail(node, f"physical qubit {node.name!r} must be '$' followed by a number, e.g. $0")
        if len(node.name) > 6 or int(node.name[1:]) >= MAX_QUBITS:
            raise self.fail(node, f"physical qubit {node.name[:12]} is beyond the largest a program may name, "
                                  f"${MAX_QUBITS - 1} (MAX_QUBITS = {MAX_QUBITS})")
        if self.qregs:
            raise self.fail(node, f"physical qubit {node.name} used in a program that declares qubit registers "
                                  f"({', '.join(sorted(self.qregs))}); use either $k qubits or declared ones")
        k = int(node.name[1:])
        self.physical = k if self.physical is None else max(self.physical, k)
        return k

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
        if kind == "qubit" and self.physical is not None:
            raise self.fail(node, f"qubit register {name!r} declared after physical qubits ($k) were used; "
                                  "use either $k qubits or declared ones")
        start, cap = (self.nq, MAX_QUBITS) if kind == "qubit" else (self.nc, MAX_CLBITS)
        if start + size > cap:
            raise self.fail(node, f"{kind} register {name}[{size}] brings the program to {start + size} {kind}s; "
                                  f"at most {cap} ({'MAX_QUBITS' if kind == 'qubit' else 'MAX_CLBITS'}) in all "
                                  "registers together, far more than any lab has")
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
            self.record(("barrier", tuple(qubits) or None, [], (), None, node))
        elif isinstance(node, ast.QuantumGateDefinition):
            self.define(node)
        elif isinstance(node, ast.QuantumPhase) and not node.modifiers:
            pass  # gphase: a global phase, invisible in every measurement
        elif isinstance(node, ast.DelayInstruction):
            self.delay(node)
        elif isinstance(node, (ast.CalibrationGrammarDeclaration, ast.CalibrationStatement,
                               ast.CalibrationDefinition)):
            if self.calibrations is None:
                raise self.fail(node, "cal/defcal blocks calibrate a lab's gates: read this program with "
                                      "qubitlab.circuits.openpulse.program_from_qasm3(text, gate_map)")
            self.calibrations.statement(node)
        elif isinstance(node, ast.QuantumReset):
            for q in self.operand(node.qubits, self.qregs, "qubit"):
                self.record(("reset", (q,), [], (), None, node))
        else:
            raise self.fail(node, f"unsupported statement {type(node).__name__} (qubitlab reads gate-level "
                                  "OpenQASM 3: declarations, standard gates, measure, barrier, delay, reset)")

    def gate(self, node: ast.QuantumGate) -> None:
        groups = [self.operand(q, self.qregs, "qubit") for q in node.qubits]
        args = [self.value(a) for a in node.arguments]
        _, _, definition = self.signature(node)
        for qubits in self.broadcast(node, groups):
            self.charge(node, definition.cost if definition is not None else 1)
            calls: list[Call] = []
            self.expand(node, args, qubits, calls, node)
            self.ops.extend((name, on, params, (), None, source) for name, on, params, source in calls)

    def signature(self, node: ast.QuantumGate) -> tuple[int, int, _Definition | None]:
        """Angle arguments and qubits gate ``node`` calls for, and its user definition if it has one."""
        if node.modifiers:
            raise self.fail(node, "gate modifiers (ctrl @, inv @, pow @) are not supported")
        name = node.name.name
        if name in _ALIASES:
            return _ALIASES[name][0], _ALIASES[name][1], None
        if name in GATES:
            return GATES[name].num_params, GATES[name].num_qubits, None
        if name in self.defs:
            definition = self.defs[name]
            return len(definition.params), len(definition.qubits), definition
        raise self.fail(node, f"unknown gate {name!r}; supported: {', '.join(sorted(GATES))}, "
                              f"{', '.join(sorted(_ALIASES))} and gates defined earlier in the program")

    def expand(self, node: ast.QuantumGate, args: list[Any], qubits: Sequence[int], out: list[Call],
               source: ast.QASMNode) -> None:
        """A gate call as standard gates appended to ``out`` (each naming ``source``, the statement of the
        program): an alias renamed, a user definition expanded inline (recursively; :meth:`define` bounded the
        depth by :data:`MAX_GATE_NESTING`, and the caller charged the size)."""
        num_params, num_qubits, definition = self.signature(node)
        name = node.name.name
        if len(qubits) != num_qubits or len(args) != num_params:
            raise self.fail(node, f"gate {name} takes {num_params} argument(s) and {num_qubits} qubit(s); got "
                                  f"{len(args)} and {len(qubits)}")
        if name in _ALIASES:
            std, std_args = _ALIASES[name][2](args)
            out.append((std, tuple(qubits), std_args, source))
        elif definition is None:
            out.append((name, tuple(qubits), args, source))
        else:
            self.inline(definition, args, qubits, out, source)

    def inline(self, definition: _Definition, args: list[Any], qubits: Sequence[int], out: list[Call],
               source: ast.QASMNode) -> None:
        """The body of a user definition as standard gates on ``qubits`` with ``args`` for its parameters."""
        inner = dict(zip(definition.params, args))
        where_ = dict(zip(definition.qubits, qubits))
        for statement in definition.body:
            if isinstance(statement, ast.QuantumGate):
                on = [where_[op.name] for op in statement.qubits if isinstance(op, ast.Identifier)]  # by survey()
                self.expand(statement, [self.value(a, inner) for a in statement.arguments], on, out, source)

    def survey(self, definition: _Definition, node: ast.QASMNode, args: list[Any]) -> tuple[int, int]:
        """Check a definition's body without expanding it (statements, operands, the calls' signatures and
        argument values at ``args``); return its :attr:`~_Definition.cost` and :attr:`~_Definition.nesting`."""
        inner = dict(zip(definition.params, args))
        cost, nesting = 1, 1
        for statement in definition.body:
            cost += 1
            if isinstance(statement, ast.QuantumPhase) and not statement.modifiers:
                continue
            if not isinstance(statement, ast.QuantumGate):
                raise self.fail(statement, f"gate {definition.name}: only gate calls and gphase may appear in a "
                                           f"gate body, not {type(statement).__name__}")
            names = [op.name if isinstance(op, ast.Identifier) else None for op in statement.qubits]
            if any(n not in definition.qubits for n in names):
                raise self.fail(statement, f"gate {definition.name}: a body acts on the gate's own qubits "
                                           f"({', '.join(definition.qubits)}), by name")
            if len(set(names)) != len(names):
                raise self.fail(statement, f"gate {definition.name}: {statement.name.name} acts on the same qubit "
                                           "twice")
            num_params, num_qubits, callee = self.signature(statement)
            values = [self.value(a, inner) for a in statement.arguments]
            if (len(values), len(names)) != (num_params, num_qubits):
                raise self.fail(statement, f"gate {statement.name.name} takes {num_params} argument(s) and "
                                           f"{num_qubits} qubit(s); got {len(values)} and {len(names)}")
            if callee is not None:
                cost, nesting = cost - 1 + callee.cost, max(nesting, callee.nesting + 1)
        return cost, nesting

    def define(self, node: ast.QuantumGateDefinition) -> None:
        """Record a gate definition; one named like a standard gate must be that gate (checked numerically)."""
        name = node.name.name
        if name in self.defs:
            raise self.fail(node, f"gate {name!r} is defined twice")
        definition = _Definition(name, tuple(p.name for p in node.arguments), tuple(q.name for q in node.qubits),
                                 tuple(node.body))
        for kind, names in (("parameter", definition.params), ("qubit", definition.qubits)):
            if len(set(names)) != len(names):
                raise self.fail(node, f"gate definition {name}: a {kind} name appears twice in {', '.join(names)}")
        n = len(definition.qubits)
        standard = name in GATES or name in _ALIASES
        if standard:
            spec = _ALIASES[name][:2] if name in _ALIASES else (GATES[name].num_params, GATES[name].num_qubits)
            if (len(definition.params), n) != spec:
                raise self.fail(node, f"gate definition {name} has {len(definition.params)} parameter(s) and "
                                      f"{n} qubit(s); the standard {name} has {spec[0]} and {spec[1]}; rename "
                                      "the definition to use it as a custom gate")
        samples = [[_SAMPLES[(i + k) % 3] + k for i in range(len(definition.params))] for k in range(3)]
        for values in samples if definition.params else [[]]:
            cost, nesting = self.survey(definition, node, list(values))
            self.refuse_oversized(definition, node, cost, nesting)
            if standard:
                self.charge(node, cost + 1)
                calls: list[Call] = []
                self.inline(definition, list(values), range(n), calls, node)
                call = ast.QuantumGate([], ast.Identifier(name), [], [])
                call.span = node.span
                standard_calls: list[Call] = []
                self.expand(call, list(values), range(n), standard_calls, node)
                body, reference = _unitary(calls, n), _unitary(standard_calls, n)
                if not _equal_up_to_phase(body, reference):
                    raise self.fail(node, f"the body of gate definition {name} is not the standard {name} (compared "
                                          f"at parameters {[round(v, 3) for v in values]}); rename it to use it as "
                                          "a custom gate")
        if not standard:
            self.defs[name] = replace(definition, cost=cost, nesting=nesting)

    def refuse_oversized(self, definition: _Definition, node: ast.QASMNode, cost: int, nesting: int) -> None:
        if nesting > MAX_GATE_NESTING:
            raise self.fail(node, f"gate definition {definition.name} nests {nesting} definitions deep; at most "
                                  f"{MAX_GATE_NESTING} (MAX_GATE_NESTING)")
        if cost > MAX_OPERATIONS:
            raise self.fail(node, f"gate definition {definition.name} expands to {cost:,} operations per call; "
                                  f"at most {MAX_OPERATIONS:,} (MAX_OPERATIONS) in a whole program")

    def measure(self, node: ast.QuantumMeasurementStatement) -> None:
        if node.target is None:
            raise self.fail(node, "'measure' without a target bit is not supported: every qubitlab measurement is "
                                  "stored in a classical bit; declare 'bit[n] c;' and write 'c[0] = measure q[0];' "
                                  "or 'measure q -> c;'")
        qubits = self.operand(node.measure.qubit, self.qregs, "qubit")
        bits = self.operand(node.target, self.cregs, "bit")
        if len(qubits) != len(bits):
            raise self.fail(node, f"measuring {len(qubits)} qubit(s) into {len(bits)} bit(s)")
        for q, c in zip(qubits, bits):
            self.record(("measure", (q,), [], (c,), None, node))

    def delay(self, node: ast.DelayInstruction) -> None:
        if not isinstance(node.duration, ast.DurationLiteral):
            raise self.fail(node, "a delay needs a duration literal such as delay[100ns] or delay[160dt]")
        value, unit = node.duration.value, node.duration.unit.name
        qubits = [q for operand in node.qubits for q in self.operand(operand, self.qregs, "qubit")]
        if qubits:
            for q in qubits:
                self.record(("delay", (q,), [value], (), unit, node))
        else:
            self.record(("delay", None, [value], (), unit, node))

    def record(self, op: tuple[str, Qubits, list[Any], tuple[int, ...], str | None, ast.QASMNode]) -> None:
        """Keep a measure, barrier, delay or reset (counted against :data:`MAX_OPERATIONS`)."""
        self.charge(op[-1], 1)
        self.ops.append(op)

    def circuit(self) -> Circuit:
        """The circuit of the recorded operations; an error adding one names its line."""
        nq = self.nq if self.physical is None else self.physical + 1
        qc = Circuit(nq, self.nc, self.name)
        qc.set_registers(self.cregs)
        for name, qubits, params, clbits, unit, node in self.ops:
            try:
                if qubits is None and name == "delay":
                    self.charge(node, nq - 1)
                    for q in range(nq):
                        qc.append(name, (q,), params, clbits, unit)
                else:
                    qc.append(name, tuple(range(nq)) if qubits is None else qubits, params, clbits, unit)
            except CircuitError as exc:
                if str(exc).startswith("OpenQASM "):
                    raise
                raise self.fail(node, str(exc)) from None
        return qc


def circuit_from_qasm3(text: str, name: str | None = None) -> Circuit:
    """Read a gate-level OpenQASM 3 program into a :class:`Circuit` (inputs become Parameters)."""
    return read_program(text, name)


def read_program(text: str, name: str | None, calibrations: Any = None, allow_empty: bool = False) -> Circuit:
    """The one OpenQASM 3 reader: ``calibrations`` (an :class:`~.openpulse.Calibrations`) takes the OpenPulse
    statements; ``allow_empty``: a program of calibrations only gives an empty circuit."""
    program = parse_program(text)
    if program.version is not None and not program.version.startswith("3"):
        raise CircuitError(f"OpenQASM version {program.version} is not supported; write 'OPENQASM 3.0;'")
    if not program.statements:
        raise CircuitError("the OpenQASM 3 program has no statements; declare qubits ('qubit[1] q;') and gates")
    reader = _Reader(name)
    reader.calibrations = calibrations
    for statement in program.statements:
        reader.statement(statement)  # type: ignore[arg-type]
    return reader.circuit()


def _unitary(calls: list[Call], n: int) -> Matrix:
    out = np.eye(2**n, dtype=np.complex128)
    for gate, qubits, args, _ in calls:
        out = apply_matrix(out, gate_matrix(gate, [float(a) for a in args]), qubits, n)
    return out


def _equal_up_to_phase(a: Matrix, b: Matrix, atol: float = 1e-9) -> bool:
    overlap = np.vdot(b, a)
    if abs(overlap) < atol:
        return False
    return bool(np.allclose(a * (abs(overlap) / overlap), b, atol=atol))


def input_parameters(circuit: Circuit) -> dict[str, Parameter]:
    """The circuit's parameters by name (what ``input float`` declared)."""
    return {p.name: p for p in circuit.parameters}
