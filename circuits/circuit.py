"""The circuit IR: qubits, classical bits and a list of operations, with a Qiskit-like builder.

A :class:`Circuit` is what users, the OpenQASM reader and the Clifford code produce, and what translation and
lowering consume. It is deliberately plain: an :class:`Operation` is a frozen record (name, qubits, angle
arguments, classical bits), angles are floats or the pulse layer's :class:`~qubitlab.pulse.Parameter`
expressions (one parameter type for circuits and pulses, so a circuit parameter can flow into a schedule), and
two circuits are equal when their operations are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from qubitlab.circuits.gates import GATES, NON_GATES, Matrix, apply_matrix, gate_matrix, gate_spec
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import Parameter, ParameterExpression, is_number

ParamValue = Union[float, ParameterExpression]
"""A gate argument: a number (radians) or a parameter expression."""

DELAY_UNITS = {"dt": None, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
"""Units a delay may carry; ``dt`` means samples of the device's sample time."""


@dataclass(frozen=True)
class Operation:
    """One circuit operation: a gate, ``measure`` (qubit -> clbit), ``barrier``, ``delay`` or ``reset``."""

    name: str
    qubits: tuple[int, ...]
    params: tuple[ParamValue, ...] = ()
    clbits: tuple[int, ...] = ()
    unit: str | None = None
    """Only for ``delay``: the unit of ``params[0]`` (``dt``, ``s``, ``ms``, ``us``, ``ns``)."""

    @property
    def is_parameterized(self) -> bool:
        return any(isinstance(p, ParameterExpression) and p.parameters for p in self.params)

    @property
    def parameters(self) -> set[Parameter]:
        out: set[Parameter] = set()
        for p in self.params:
            if isinstance(p, ParameterExpression):
                out |= p.parameters
        return out

    def __str__(self) -> str:
        args = ""
        if self.params:
            shown = [_format_value(p) + (self.unit if self.name == "delay" and self.unit else "") for p in self.params]
            args = f"({', '.join(shown)})" if self.name != "delay" else f"[{shown[0]}]"
        qubits = ", ".join(f"q[{q}]" for q in self.qubits)
        text = f"{self.name}{args} {qubits}"
        if self.clbits:
            text += " -> " + ", ".join(f"c[{c}]" for c in self.clbits)
        return text


def _format_value(value: ParamValue) -> str:
    if isinstance(value, ParameterExpression):
        return str(value)
    return f"{value:.6g}"


def _param(value: Any, gate: str) -> ParamValue:
    if isinstance(value, ParameterExpression):
        if value.parameters:
            return value
        value = value.numeric()
    if is_number(value) and not isinstance(value, (complex, bool, np.bool_)):
        number = float(value)
        if not math.isfinite(number):
            raise CircuitError(f"{gate}: an argument must be a finite real number, got {number}")
        return number
    raise CircuitError(f"{gate}: an argument must be a real number or a Parameter expression, got {value!r}")


def _index(value: Any, op: str, kind: str) -> int:
    """A qubit or bit index: an integer (or an integral float); bools and fractions are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise CircuitError(f"{op}: a {kind} index must be an integer, got the bool {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise CircuitError(f"{op}: a {kind} index must be an integer, got {value!r}")


_NON_GATE_ARITY: dict[str, tuple[str, int | None, int, int]] = {
    # name: (how to call it, qubits (None: one or more), angle arguments, classical bits)
    "measure": ("measure(qubit, clbit)", 1, 0, 1),
    "delay": ("delay(duration, qubit, unit)", 1, 1, 0),
    "barrier": ("barrier(*qubits) with at least one qubit", None, 0, 0),
    "reset": ("reset(qubit)", 1, 0, 0),
}


def _check_arity(name: str, qubits: tuple[int, ...], num_params: int, clbits: tuple[int, ...],
                 unit: str | None) -> None:
    """Qubit, argument and bit counts (and the unit) that operation ``name`` takes; a CircuitError otherwise."""
    if name in GATES:
        spec = gate_spec(name)
        if len(qubits) != spec.num_qubits or num_params != spec.num_params or clbits:
            raise CircuitError(f"gate {name} acts on {spec.num_qubits} qubit(s) with {spec.num_params} "
                               f"angle(s) and no classical bits; got qubits {qubits}, {num_params} angle(s)"
                               f"{f' and classical bits {clbits}' if clbits else ''}")
    elif name in _NON_GATE_ARITY:
        usage, nq, npar, nc = _NON_GATE_ARITY[name]
        if (len(qubits) != nq if nq is not None else not qubits) or num_params != npar or len(clbits) != nc:
            raise CircuitError(f"{name} takes {usage}; got qubits {qubits}, {num_params} argument(s) and "
                               f"classical bits {clbits}")
    else:
        raise CircuitError(f"unknown operation {name!r}; known: {', '.join(sorted(GATES))}, "
                           f"{', '.join(NON_GATES)}")
    if name == "delay":
        if unit not in DELAY_UNITS:
            raise CircuitError(f"delay: unit {unit!r} is not one of {', '.join(DELAY_UNITS)}")
    elif unit is not None:
        raise CircuitError(f"{name}: only delay takes a unit, got unit={unit!r}")


class Circuit:
    """Qubits ``0..num_qubits-1``, classical bits ``0..num_clbits-1`` and operations in program order.

    Classical bits are grouped into named registers (:attr:`cregs`), as Qiskit names them: the bits given to
    the constructor form register ``c``, :meth:`measure_all` adds register ``meas``, and OpenQASM 3 ``bit[n] name``
    declarations keep their names. The Sampler returns one ``BitArray`` per register.
    """

    def __init__(self, num_qubits: int, num_clbits: int = 0, name: str | None = None) -> None:
        if num_qubits < 0 or num_clbits < 0:
            raise CircuitError(f"a circuit needs non-negative sizes, got {num_qubits} qubits, {num_clbits} bits")
        self.num_qubits = num_qubits
        self.num_clbits = num_clbits
        self.name = name
        self.cregs: dict[str, tuple[int, ...]] = {"c": tuple(range(num_clbits))} if num_clbits else {}
        self._data: list[Operation] = []

    def set_registers(self, cregs: Mapping[str, Sequence[int]]) -> Circuit:
        """Name the classical bits: each bit in at most one register, every index a bit of this circuit."""
        seen: set[int] = set()
        out: dict[str, tuple[int, ...]] = {}
        for reg, bits in cregs.items():
            if not isinstance(reg, str) or not reg.isidentifier():
                raise CircuitError(f"classical register name {reg!r} must be an identifier (e.g. 'meas', 'c')")
            members = tuple(_index(b, f"register {reg}", "classical bit") for b in bits)
            bad = [b for b in members if not 0 <= b < self.num_clbits or b in seen]
            if bad:
                raise CircuitError(f"register {reg}: bits {bad} are outside 0..{self.num_clbits - 1} or already "
                                   "in another register")
            seen.update(members)
            out[reg] = members
        self.cregs = out
        return self

    # -- the generic entry point ------------------------------------------------------------------------------
    def append(self, name: str, qubits: Sequence[int], params: Sequence[Any] = (),
               clbits: Sequence[int] = (), unit: str | None = None) -> Circuit:
        """Add an operation after checking its name, arity, qubits, bits and arguments; returns the circuit."""
        qubits = tuple(_index(q, name, "qubit") for q in qubits)
        clbits = tuple(_index(c, name, "classical bit") for c in clbits)
        for q in qubits:
            if not 0 <= q < self.num_qubits:
                raise CircuitError(f"{name}: qubit {q} is not in this circuit (valid: 0..{self.num_qubits - 1})")
        if len(set(qubits)) != len(qubits):
            raise CircuitError(f"{name}: the same qubit appears twice in {qubits}")
        for c in clbits:
            if not 0 <= c < self.num_clbits:
                raise CircuitError(f"{name}: classical bit {c} is not in this circuit "
                                   f"(it has {self.num_clbits} bits; pass num_clbits or use measure_all())")
        _check_arity(name, qubits, len(params), clbits, unit)
        values = tuple(_param(p, name) for p in params)
        if name == "delay" and not isinstance(values[0], ParameterExpression) and values[0] < 0:
            raise CircuitError(f"delay: a duration must be non-negative, got {values[0]:g} {unit}")
        self._data.append(Operation(name, qubits, values, clbits, unit))
        return self

    def add(self, operation: Operation) -> Circuit:
        """Append an existing :class:`Operation` (checked like :meth:`append`)."""
        return self.append(operation.name, operation.qubits, operation.params, operation.clbits, operation.unit)

    # -- familiar builder methods -----------------------------------------------------------------------------
    def x(self, q: int) -> Circuit: return self.append("x", (q,))
    def y(self, q: int) -> Circuit: return self.append("y", (q,))
    def z(self, q: int) -> Circuit: return self.append("z", (q,))
    def h(self, q: int) -> Circuit: return self.append("h", (q,))
    def s(self, q: int) -> Circuit: return self.append("s", (q,))
    def sdg(self, q: int) -> Circuit: return self.append("sdg", (q,))
    def t(self, q: int) -> Circuit: return self.append("t", (q,))
    def tdg(self, q: int) -> Circuit: return self.append("tdg", (q,))
    def sx(self, q: int) -> Circuit: return self.append("sx", (q,))
    def sxdg(self, q: int) -> Circuit: return self.append("sxdg", (q,))
    def id(self, q: int) -> Circuit: return self.append("id", (q,))
    def rx(self, theta: ParamValue, q: int) -> Circuit: return self.append("rx", (q,), (theta,))
    def ry(self, theta: ParamValue, q: int) -> Circuit: return self.append("ry", (q,), (theta,))
    def rz(self, theta: ParamValue, q: int) -> Circuit: return self.append("rz", (q,), (theta,))

    def u(self, theta: ParamValue, phi: ParamValue, lam: ParamValue, q: int) -> Circuit:
        return self.append("u", (q,), (theta, phi, lam))

    def cx(self, control: int, target: int) -> Circuit: return self.append("cx", (control, target))
    def cz(self, a: int, b: int) -> Circuit: return self.append("cz", (a, b))
    def ecr(self, control: int, target: int) -> Circuit: return self.append("ecr", (control, target))
    def swap(self, a: int, b: int) -> Circuit: return self.append("swap", (a, b))
    def rzz(self, theta: ParamValue, a: int, b: int) -> Circuit: return self.append("rzz", (a, b), (theta,))

    def measure(self, qubit: int, clbit: int) -> Circuit:
        return self.append("measure", (qubit,), clbits=(clbit,))

    def measure_all(self, add_bits: bool = True) -> Circuit:
        """A barrier, then every qubit measured into a bit of its own number (bits added when ``add_bits``)."""
        if add_bits:
            start = self.num_clbits
            self.num_clbits += self.num_qubits
            if self.num_qubits:
                self.cregs["meas" if "meas" not in self.cregs else f"meas{len(self.cregs)}"] = \
                    tuple(range(start, self.num_clbits))
        else:
            if self.num_clbits < self.num_qubits:
                raise CircuitError(f"measure_all(add_bits=False) needs {self.num_qubits} bits; "
                                   f"the circuit has {self.num_clbits}")
            start = 0
        if self.num_qubits:
            self.barrier()
        for q in range(self.num_qubits):
            self.measure(q, start + q)
        return self

    def barrier(self, *qubits: int) -> Circuit:
        """Nothing after the barrier on these qubits (all qubits when none given) starts before all arrive."""
        return self.append("barrier", qubits or tuple(range(self.num_qubits)))

    def delay(self, duration: float | ParameterExpression, qubit: int, unit: str = "dt") -> Circuit:
        return self.append("delay", (qubit,), (duration,), unit=unit)

    def reset(self, qubit: int) -> Circuit:
        """Reset a qubit to |0> (kept in the IR; refused when translating for a device without reset)."""
        return self.append("reset", (qubit,))

    # -- reading ----------------------------------------------------------------------------------------------
    @property
    def data(self) -> tuple[Operation, ...]:
        return tuple(self._data)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def count_ops(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self._data:
            counts[op.name] = counts.get(op.name, 0) + 1
        return counts

    @property
    def parameters(self) -> set[Parameter]:
        out: set[Parameter] = set()
        for op in self._data:
            if op.params:
                out |= op.parameters
        return out

    def copy_empty(self, name: str | None = None) -> Circuit:
        out = Circuit(self.num_qubits, self.num_clbits, name or self.name)
        out.cregs = dict(self.cregs)
        return out

    def copy(self) -> Circuit:
        new = self.copy_empty()
        new._data = list(self._data)
        return new

    def assign_parameters(self, values: Mapping[Parameter, Any], inplace: bool = False) -> Circuit:
        """Parameters replaced by numbers (or expressions); a new circuit unless ``inplace``."""
        unknown = [p for p in values if p not in self.parameters]
        if unknown:
            known = ", ".join(sorted(p.name for p in self.parameters)) or "none"
            raise CircuitError(f"cannot assign {', '.join(p.name for p in unknown)}: not in the circuit "
                               f"(its parameters: {known})")
        data = []
        for op in self._data:
            if op.is_parameterized:
                params = tuple(_param(_subs(p, values), op.name) for p in op.params)
                op = Operation(op.name, op.qubits, params, op.clbits, op.unit)
            data.append(op)
        target = self if inplace else self.copy_empty()
        target._data = data
        return target

    def to_matrix(self) -> Matrix:
        """The unitary of a circuit of gates (and barriers) with numeric angles; qubit 0 least significant."""
        state = np.eye(2**self.num_qubits, dtype=np.complex128)
        for op in self._data:
            if op.name == "barrier" or (op.name == "delay"):
                continue
            if op.name not in GATES:
                raise CircuitError(f"to_matrix: {op.name} is not unitary")
            if op.is_parameterized:
                raise CircuitError(f"to_matrix: {op} has unbound parameters; assign them first")
            state = apply_matrix(state, gate_matrix(op.name, [float(p) for p in op.params]), op.qubits,
                                 self.num_qubits)
        return state

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Circuit) and self.num_qubits == other.num_qubits
                and self.num_clbits == other.num_clbits and self._data == other._data)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        head = f"Circuit{' ' + repr(self.name) if self.name else ''}: {self.num_qubits} qubits, {self.num_clbits} bits"
        return "\n".join([head, *(f"  {op}" for op in self._data)])

    def __repr__(self) -> str:
        return f"<Circuit {self.name or ''} qubits={self.num_qubits} clbits={self.num_clbits} ops={len(self)}>"

    def extend(self, operations: Iterable[Operation]) -> Circuit:
        for op in operations:
            self.add(op)
        return self


def _subs(value: ParamValue, values: Mapping[Parameter, Any]) -> ParamValue:
    if isinstance(value, ParameterExpression) and value.parameters:
        relevant = {p: v for p, v in values.items() if p in value.parameters}
        if relevant:
            return value.subs(relevant)
    return value
