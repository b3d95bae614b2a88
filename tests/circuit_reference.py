"""Reference matrices for the circuits tests, written out by hand (never taken from qubitlab.circuits).

Conventions as Qiskit: qubit 0 is the least significant bit of a matrix index; a two-qubit matrix's first qubit
argument is its least significant bit (so CX(control=0, target=1) swaps |01> and |11>, with |q1 q0>).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

S2 = 1 / math.sqrt(2)
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
H = S2 * np.array([[1, 1], [1, -1]], dtype=complex)
S = np.array([[1, 0], [0, 1j]], dtype=complex)
SDG = np.array([[1, 0], [0, -1j]], dtype=complex)
T = np.array([[1, 0], [0, cmath.exp(1j * math.pi / 4)]], dtype=complex)
TDG = np.array([[1, 0], [0, cmath.exp(-1j * math.pi / 4)]], dtype=complex)
SX = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex)
SXDG = 0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]], dtype=complex)
CX = np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=complex)
CZ = np.diag([1, 1, 1, -1]).astype(complex)
SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)
ECR = S2 * np.array([[0, 1, 0, 1j], [1, 0, -1j, 0], [0, 1j, 0, 1], [-1j, 0, 1, 0]], dtype=complex)


def RX(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -1j * math.sin(t / 2)], [-1j * math.sin(t / 2), math.cos(t / 2)]])


def RY(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]], dtype=complex)


def RZ(t: float) -> np.ndarray:
    return np.diag([cmath.exp(-0.5j * t), cmath.exp(0.5j * t)])


def U(t: float, p: float, lam: float) -> np.ndarray:
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, -cmath.exp(1j * lam) * s], [cmath.exp(1j * p) * s, cmath.exp(1j * (p + lam)) * c]])


def RZZ(t: float) -> np.ndarray:
    a, b = cmath.exp(-0.5j * t), cmath.exp(0.5j * t)
    return np.diag([a, b, b, a])


FIXED = {"id": I2, "x": X, "y": Y, "z": Z, "h": H, "s": S, "sdg": SDG, "t": T, "tdg": TDG, "sx": SX,
         "sxdg": SXDG, "cx": CX, "cz": CZ, "swap": SWAP, "ecr": ECR}
ROTATIONS = {"rx": RX, "ry": RY, "rz": RZ, "u": U, "rzz": RZZ}


def reference(name: str, params: Sequence[float] = ()) -> np.ndarray:
    return FIXED[name] if name in FIXED else ROTATIONS[name](*params)


def embed(matrix: np.ndarray, qubits: Sequence[int], n: int) -> np.ndarray:
    """``matrix`` on ``qubits`` (first = least significant) as a 2^n x 2^n matrix, by explicit index loops."""
    k = len(qubits)
    others = [q for q in range(n) if q not in qubits]
    out = np.zeros((2**n, 2**n), dtype=complex)
    for i in range(2**n):
        for j in range(2**n):
            if any((i >> q & 1) != (j >> q & 1) for q in others):
                continue
            a = sum((i >> q & 1) << m for m, q in enumerate(qubits))
            b = sum((j >> q & 1) << m for m, q in enumerate(qubits))
            out[i, j] = matrix[a, b] if k else 1
    return out


def circuit_unitary(ops: Any, n: int) -> np.ndarray:
    """The unitary of a sequence of operations (anything with .name, .qubits, .params), barriers skipped."""
    total = np.eye(2**n, dtype=complex)
    for op in ops:
        if op.name in ("barrier", "delay"):
            continue
        total = embed(reference(op.name, [float(p) for p in op.params]), op.qubits, n) @ total
    return total


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    index = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(a[index]) < 1e-12:
        return False
    phase = a[index] / b[index]
    return abs(abs(phase) - 1) < 1e-9 and bool(np.allclose(a, phase * b, atol=atol))
