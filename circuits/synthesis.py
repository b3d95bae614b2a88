"""Exact synthesis into the device basis: single-qubit ZXZXZ, and two-qubit gates as ECR plus single-qubit gates.

These are the identities the translator (:mod:`qubitlab.circuits.translate`) applies; each is exact up to a
global phase and each is checked in the tests against matrices written there by hand.

- Any single-qubit unitary is ``U(theta, phi, lam)`` up to phase, and
  ``U(theta, phi, lam) = RZ(phi + pi) SX RZ(theta + pi) SX RZ(lam)`` (matrix product; time order is the reverse).
  Numeric special cases use fewer pulses: ``theta = 0`` is one RZ, ``theta = pi/2`` is
  ``RZ(phi + pi/2) SX RZ(lam - pi/2)`` and ``theta = pi`` is ``RZ(phi + pi) X RZ(lam)``.
- A gate with parameter arguments becomes numeric pieces around ``RZ(parameter)`` (:func:`parametric_pieces`),
  so parameters live only in virtual Zs and the numeric pieces merge with their neighbours.
- ``ECR(c, t) = (X_c - Y_c X_t)/sqrt(2)`` (Qiskit's ``ECRGate``), so ``CX(c, t) = [A_c (x) B_t] ECR(c, t)``
  with ``A = RZ(pi/2) Z X`` and ``B = RX(pi/2) X``; ``CZ``, ``SWAP`` and ``RZZ`` go through ``CX``.
- An ECR in the direction the device lacks is flipped with Hadamards:
  ``ECR(a, b) = [X_a H_a (x) H_b X_b] ECR(b, a) [H_a (x) H_b]``.
"""

from __future__ import annotations

import cmath
import math
from typing import Union

import numpy as np

from qubitlab.circuits.circuit import ParamValue
from qubitlab.circuits.gates import GATES, Matrix, rx_matrix, ry_matrix, rz_matrix
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import ParameterExpression

PI = math.pi
EPS = 1e-10

Step = Union[tuple[str, tuple[int, ...], tuple[ParamValue, ...]], tuple[str, tuple[int, ...], Matrix]]
"""A synthesis step in time order: ``(gate name, qubits, angles)`` or ``("unitary", (q,), 2x2 matrix)``."""

_X = GATES["x"].matrix()
_Z = GATES["z"].matrix()
_H = GATES["h"].matrix()
_SH: Matrix = GATES["s"].matrix() @ _H
CX_AFTER_ECR_CONTROL: Matrix = rz_matrix(PI / 2) @ _Z @ _X
CX_AFTER_ECR_TARGET: Matrix = rx_matrix(PI / 2) @ _X
FLIP_AFTER_FIRST: Matrix = _X @ _H
FLIP_AFTER_SECOND: Matrix = _H @ _X


def wrap_angle(angle: float) -> float:
    """``angle`` mapped into (-pi, pi]."""
    out = math.remainder(angle, 2 * PI)
    return PI if out <= -PI + EPS else out


def euler_angles(matrix: Matrix) -> tuple[float, float, float]:
    """``(theta, phi, lam)`` with ``matrix = e^{i alpha} U(theta, phi, lam)`` for some global phase alpha."""
    c, s = abs(matrix[0, 0]), abs(matrix[1, 0])
    theta = 2 * math.atan2(s, c)
    if s < EPS:
        return 0.0, 0.0, cmath.phase(matrix[1, 1]) - cmath.phase(matrix[0, 0])
    if c < EPS:
        alpha = cmath.phase(-matrix[0, 1])
        return theta, cmath.phase(matrix[1, 0]) - alpha, 0.0
    alpha = cmath.phase(matrix[0, 0])
    return theta, cmath.phase(matrix[1, 0]) - alpha, cmath.phase(-matrix[0, 1]) - alpha


def _rz(angle: ParamValue, q: int) -> list[Step]:
    if isinstance(angle, ParameterExpression):
        return [("rz", (q,), (angle,))]
    angle = wrap_angle(angle)
    return [] if abs(angle) < EPS else [("rz", (q,), (angle,))]


def _sx_pair(q: int, basis: frozenset[str]) -> list[Step]:
    return [("x", (q,), ())] if "x" in basis else [("sx", (q,), ()), ("sx", (q,), ())]


def zxzxz(theta: ParamValue, phi: ParamValue, lam: ParamValue, q: int, basis: frozenset[str]) -> list[Step]:
    """``U(theta, phi, lam)`` on qubit ``q`` as rz/sx/x steps in time order (up to global phase)."""
    if not isinstance(theta, ParameterExpression):
        t = wrap_angle(theta)
        if abs(t) < EPS:
            return _rz(phi + lam, q)
        if abs(t - PI / 2) < EPS:
            return [*_rz(lam - PI / 2, q), ("sx", (q,), ()), *_rz(phi + PI / 2, q)]
        if abs(abs(t) - PI) < EPS:
            return [*_rz(lam, q), *_sx_pair(q, basis), *_rz(phi + PI, q)]
        theta = t
    return [*_rz(lam, q), ("sx", (q,), ()), *_rz(theta + PI, q), ("sx", (q,), ()), *_rz(phi + PI, q)]


def synthesize_matrix(matrix: Matrix, q: int, basis: frozenset[str]) -> list[Step]:
    """A numeric 2x2 unitary on ``q`` as rz/sx/x steps (exact up to global phase)."""
    return zxzxz(*euler_angles(matrix), q, basis)


def parametric_pieces(name: str, params: tuple[ParamValue, ...]) -> list[Matrix | ParamValue]:
    """A single-qubit gate with parameter arguments as numeric 2x2 matrices and rz angles, in time order.

    Every parameter ends up in an rz, the only gate whose angle a pulse schedule can take late (a virtual Z):
    ``RX(t) = H RZ(t) H``, ``RY(t) = (S H) RZ(t) (S H)^dag`` and ``U(t, p, l) = RZ(p) RY(t) RZ(l)`` up to
    phase. The numeric pieces merge with the numeric gates around them, so ``h rx(t) h`` becomes one ``rz(t)``
    and a lone parameterised rotation costs two ``sx`` like ZXZXZ.
    """

    def z(angle: ParamValue) -> list[Matrix | ParamValue]:
        return [angle] if isinstance(angle, ParameterExpression) else [rz_matrix(float(angle))]

    def y(angle: ParamValue) -> list[Matrix | ParamValue]:
        return [_SH.conj().T, angle, _SH] if isinstance(angle, ParameterExpression) else [ry_matrix(float(angle))]

    if name == "rz":
        return z(params[0])
    if name == "rx":
        return [_H, params[0], _H]
    if name == "ry":
        return y(params[0])
    if name == "u":
        theta, phi, lam = params
        return [*z(lam), *y(theta), *z(phi)]
    raise CircuitError(f"no parametric synthesis for gate {name!r} (known: rx, ry, rz, u)")


def two_qubit_steps(name: str, qubits: tuple[int, ...], params: tuple[ParamValue, ...]) -> list[Step]:
    """A two-qubit gate as ``ecr`` (in the gate's own qubit order), ``rz`` and 2x2 ``unitary`` steps."""
    a, b = qubits
    if name == "ecr":
        return [("ecr", (a, b), ())]
    if name == "cx":
        return [("ecr", (a, b), ()), ("unitary", (a,), CX_AFTER_ECR_CONTROL),
                ("unitary", (b,), CX_AFTER_ECR_TARGET)]
    if name == "cz":
        return [("unitary", (b,), _H), *two_qubit_steps("cx", (a, b), ()), ("unitary", (b,), _H)]
    if name == "swap":
        return [*two_qubit_steps("cx", (a, b), ()), *two_qubit_steps("cx", (b, a), ()),
                *two_qubit_steps("cx", (a, b), ())]
    if name == "rzz":
        return [*two_qubit_steps("cx", (a, b), ()), ("rz", (b,), params), *two_qubit_steps("cx", (a, b), ())]
    raise CircuitError(f"no two-qubit synthesis for gate {name!r} (known: cx, cz, ecr, swap, rzz)")


def flip_ecr(a: int, b: int) -> list[Step]:
    """``ECR(a, b)`` built from ``ECR(b, a)`` and Hadamard-based single-qubit gates."""
    return [("unitary", (a,), _H), ("unitary", (b,), _H), ("ecr", (b, a), ()),
            ("unitary", (a,), FLIP_AFTER_FIRST), ("unitary", (b,), FLIP_AFTER_SECOND)]


def numeric_matrix(name: str, params: tuple[ParamValue, ...]) -> Matrix | None:
    """The 2x2 matrix of a single-qubit gate with numeric angles, or None when an angle is a parameter."""
    if any(isinstance(p, ParameterExpression) for p in params):
        return None
    return np.asarray(GATES[name].matrix(*(float(p) for p in params)))
