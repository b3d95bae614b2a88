"""The standard gates: names, arities and exact unitaries in Qiskit's conventions.

One table (:data:`GATES`) says what a gate name means, so the circuit builder, the OpenQASM reader, the
translator and the Clifford code agree on it. Matrices follow Qiskit: a gate's first qubit argument is the least
significant bit of the matrix index (``cx(0, 1)`` is ``[[1,0,0,0],[0,0,0,1],[0,0,1,0],[0,1,0,0]]``) and
``ecr`` is Qiskit's ``ECRGate`` ``(IX - XY)/sqrt(2)``, i.e. ``RZX(pi/4)``, ``X`` on the control, ``RZX(-pi/4)``
in time order. Matrices exist only for numeric arguments; a gate with a ``Parameter`` argument has none.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import CircuitError

Matrix = NDArray[np.complex128]

_S2 = 1 / math.sqrt(2)


def _m(rows: Sequence[Sequence[complex]]) -> Matrix:
    return np.array(rows, dtype=np.complex128)


def rx_matrix(theta: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return _m([[c, -1j * s], [-1j * s, c]])


def ry_matrix(theta: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return _m([[c, -s], [s, c]])


def rz_matrix(theta: float) -> Matrix:
    return _m([[cmath.exp(-0.5j * theta), 0], [0, cmath.exp(0.5j * theta)]])


def u_matrix(theta: float, phi: float, lam: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return _m([[c, -cmath.exp(1j * lam) * s], [cmath.exp(1j * phi) * s, cmath.exp(1j * (phi + lam)) * c]])


def rzz_matrix(theta: float) -> Matrix:
    a, b = cmath.exp(-0.5j * theta), cmath.exp(0.5j * theta)
    return np.diag(np.array([a, b, b, a], dtype=np.complex128))


_FIXED: dict[str, Matrix] = {
    "id": np.eye(2, dtype=np.complex128),
    "x": _m([[0, 1], [1, 0]]),
    "y": _m([[0, -1j], [1j, 0]]),
    "z": _m([[1, 0], [0, -1]]),
    "h": _m([[_S2, _S2], [_S2, -_S2]]),
    "s": _m([[1, 0], [0, 1j]]),
    "sdg": _m([[1, 0], [0, -1j]]),
    "t": _m([[1, 0], [0, cmath.exp(0.25j * math.pi)]]),
    "tdg": _m([[1, 0], [0, cmath.exp(-0.25j * math.pi)]]),
    "sx": _m([[0.5 + 0.5j, 0.5 - 0.5j], [0.5 - 0.5j, 0.5 + 0.5j]]),
    "sxdg": _m([[0.5 - 0.5j, 0.5 + 0.5j], [0.5 + 0.5j, 0.5 - 0.5j]]),
    "cx": _m([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]]),
    "cz": np.diag(np.array([1, 1, 1, -1], dtype=np.complex128)),
    "swap": _m([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
    "ecr": _S2 * _m([[0, 1, 0, 1j], [1, 0, -1j, 0], [0, 1j, 0, 1], [-1j, 0, 1, 0]]),
}


@dataclass(frozen=True)
class GateSpec:
    """What a gate name means: how many qubits and angle arguments, and its matrix for numeric arguments."""

    name: str
    num_qubits: int
    num_params: int
    matrix: Callable[..., Matrix]


def _fixed(name: str) -> Callable[[], Matrix]:
    return lambda: _FIXED[name].copy()


GATES: dict[str, GateSpec] = {
    **{name: GateSpec(name, 1, 0, _fixed(name))
       for name in ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg")},
    **{name: GateSpec(name, 2, 0, _fixed(name)) for name in ("cx", "cz", "swap", "ecr")},
    "rx": GateSpec("rx", 1, 1, rx_matrix),
    "ry": GateSpec("ry", 1, 1, ry_matrix),
    "rz": GateSpec("rz", 1, 1, rz_matrix),
    "u": GateSpec("u", 1, 3, u_matrix),
    "rzz": GateSpec("rzz", 2, 1, rzz_matrix),
}
"""Every standard gate qubitlab knows, by its (OpenQASM 3 stdgates) name."""

NON_GATES = ("measure", "barrier", "delay", "reset")
"""Circuit operations that are not unitary gates."""


def gate_spec(name: str) -> GateSpec:
    """The spec of gate ``name``; a :class:`CircuitError` listing the known gates otherwise."""
    try:
        return GATES[name]
    except KeyError:
        raise CircuitError(f"unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}") from None


def gate_matrix(name: str, params: Sequence[float] = ()) -> Matrix:
    """The unitary of gate ``name`` with numeric ``params`` (Qiskit's little-endian convention)."""
    spec = gate_spec(name)
    if len(params) != spec.num_params:
        raise CircuitError(f"gate {name} takes {spec.num_params} angle(s), got {len(params)}")
    return spec.matrix(*(float(p) for p in params))


def apply_matrix(state: Matrix, matrix: Matrix, qubits: Sequence[int], num_qubits: int) -> Matrix:
    """``matrix`` (on ``qubits``, first = least significant) applied to the left of ``state`` (2^n x m)."""
    k = len(qubits)
    columns = state.shape[1]
    tensor = state.reshape((2,) * num_qubits + (columns,))
    # Axis a of the tensor is qubit num_qubits - 1 - a; the gate's index bit j is qubits[j].
    axes = [num_qubits - 1 - q for q in reversed(qubits)]
    gate = matrix.reshape((2,) * (2 * k))
    moved = np.tensordot(gate, tensor, axes=(list(range(k, 2 * k)), axes))
    out = np.moveaxis(moved, list(range(k)), axes)
    return out.reshape(2**num_qubits, columns)
