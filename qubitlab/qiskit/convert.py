"""Qiskit 2.x ``QuantumCircuit`` -> qubitlab :class:`~qubitlab.circuits.Circuit`, so Qiskit users' circuits run.

Qiskit 2.x has no pulses; its circuits are where users' programs now come from. :func:`from_qiskit` maps the
standard gates qubitlab knows (``p`` as ``rz``: equal up to a global phase, which no measurement sees),
barriers, delays (with their unit), measurements, resets and the classical registers (``Circuit.cregs``, so the
Sampler answers per register as Qiskit's does). Parameters keep their names (``θ[0]`` for a vector element), and
parameter expressions are rebuilt from their text over a whitelist of operations and functions: no ``eval``.
Anything else (control flow, custom gates, multi-controlled gates, ...) is a :class:`CircuitError` naming the
instruction, its index and the gates that are valid (``qiskit.transpile(circuit, backend)`` first gives those).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from typing import Any

from qubitlab.circuits import Circuit
from qubitlab.circuits.gates import GATES
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import Parameter, ParameterExpression

ALIASES = {"p": "rz", "u1": "rz", "cnot": "cx", "i": "id", "measure": "measure", "barrier": "barrier",
           "delay": "delay", "reset": "reset"}
"""Qiskit instruction names that are a qubitlab operation under another (or the same) name."""
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": lambda x: x.sin() if isinstance(x, ParameterExpression) else math.sin(x),
    "cos": lambda x: x.cos() if isinstance(x, ParameterExpression) else math.cos(x),
    "tan": lambda x: x.tan() if isinstance(x, ParameterExpression) else math.tan(x),
    "asin": lambda x: x.arcsin() if isinstance(x, ParameterExpression) else math.asin(x),
    "acos": lambda x: x.arccos() if isinstance(x, ParameterExpression) else math.acos(x),
    "atan": lambda x: x.arctan() if isinstance(x, ParameterExpression) else math.atan(x),
    "exp": lambda x: x.exp() if isinstance(x, ParameterExpression) else math.exp(x),
    "log": lambda x: x.log() if isinstance(x, ParameterExpression) else math.log(x),
    "sqrt": lambda x: x.sqrt() if isinstance(x, ParameterExpression) else math.sqrt(x),
    "abs": abs,
    "sign": lambda x: x.sign() if isinstance(x, ParameterExpression) else math.copysign(1.0, x) if x else 0.0,
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b,
}


class Converter:
    """One conversion: Qiskit parameters -> qubitlab parameters of the same name (the same object each time)."""

    def __init__(self) -> None:
        self.parameters: dict[Any, Parameter] = {}

    def parameter(self, qiskit_parameter: Any) -> Parameter:
        found = self.parameters.get(qiskit_parameter)
        if found is None:
            found = self.parameters[qiskit_parameter] = Parameter(str(qiskit_parameter.name))
        return found

    def value(self, value: Any, where: str) -> Any:
        """A gate argument: a number, or a qubitlab expression of the same parameters."""
        from qiskit.circuit import ParameterExpression as QiskitExpression

        if not isinstance(value, QiskitExpression):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            raise CircuitError(f"{where}: argument {value!r} is not a number or a parameter expression")
        if not value.parameters:
            return float(value.numeric())
        if len(value.parameters) == 1 and value.is_symbol():
            return self.parameter(next(iter(value.parameters)))
        return self._expression(value, where)

    def _expression(self, value: Any, where: str) -> Any:
        text = str(value)
        names: dict[str, Parameter] = {}
        for k, p in enumerate(sorted(value.parameters, key=lambda p: -len(p.name))):
            placeholder = f"_qubitlab_p{k}"
            text = re.sub(rf"(?<![\w\]]){re.escape(p.name)}(?![\w\[])", placeholder, text)
            names[placeholder] = self.parameter(p)
        text = re.sub(r"\((-?[\d.]+(?:e-?\d+)?)i\)", r"(\1j)", text)
        try:
            tree = ast.parse(text, mode="eval")
            return _evaluate(tree.body, names)
        except (SyntaxError, CircuitError, TypeError, ValueError) as exc:
            raise CircuitError(f"{where}: cannot convert the parameter expression {str(value)!r} ({exc}); "
                               f"valid: + - * / ** and {', '.join(sorted(FUNCTIONS))}") from None


def _evaluate(node: ast.expr, names: dict[str, Parameter]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left, names), _evaluate(node.right, names))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and len(node.args) == 1 and not node.keywords:
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], names))
    raise CircuitError(f"unsupported term {ast.unparse(node)!r}")


def from_qiskit(circuit: Any, converter: Converter | None = None) -> Circuit:
    """The qubitlab circuit of a Qiskit ``QuantumCircuit`` (same qubit and bit indices, same register names)."""
    converter = converter or Converter()
    out = Circuit(circuit.num_qubits, circuit.num_clbits, name=circuit.name)
    cregs = {reg.name: [circuit.find_bit(bit).index for bit in reg] for reg in circuit.cregs}
    if cregs:
        out.set_registers(cregs)
    for index, instruction in enumerate(circuit.data):
        operation = instruction.operation
        name = ALIASES.get(operation.name, operation.name)
        where = f"instruction {index} ({operation.name})"
        if name not in GATES and name not in ("measure", "barrier", "delay", "reset"):
            raise CircuitError(f"{where}: qubitlab has no {operation.name!r}; valid: {', '.join(sorted(GATES))}, "
                               "measure, barrier, delay, reset (qiskit.transpile(circuit, backend) gives these)")
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        clbits = [circuit.find_bit(c).index for c in instruction.clbits]
        if name == "delay":
            duration = converter.value(operation.duration, where)
            out.append("delay", qubits, (duration,), unit=str(operation.unit))
        else:
            params = [converter.value(p, where) for p in operation.params]
            out.append(name, qubits, params, clbits)
    return out
