"""Clifford groups on one and two qubits, for randomized benchmarking.

A Clifford is stored as its tableau: the images of ``X_k`` and ``Z_k`` under conjugation ``P -> C P C^dag``,
each a Pauli in "XZ form" ``i^p X^x Z^z`` (bit masks x, z over qubits, p mod 4). Composition multiplies Paulis
with ``X^x1 Z^z1 X^x2 Z^z2 = (-1)^{|z1 & x2|} X^(x1^x2) Z^(z1^z2)``, so it is exact and needs no matrices.

:class:`CliffordGroup` enumerates the whole group (24 elements on one qubit, 11,520 on two) breadth-first from
``h``, ``s`` (and ``cx``), so every element comes with a shortest gate sequence in those generators -- which is
how a Clifford is put into a circuit. Composition and inverse are then lookups by tableau.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qubitlab.circuits.circuit import Circuit
from qubitlab.errors import CircuitError

Pauli = tuple[int, int, int]
"""``(x mask, z mask, p)`` meaning ``i^p X^x Z^z``."""
GateStep = tuple[str, tuple[int, ...]]


def _popcount(v: int) -> int:
    return bin(v).count("1")


def pauli_mul(a: Pauli, b: Pauli) -> Pauli:
    x1, z1, p1 = a
    x2, z2, p2 = b
    return x1 ^ x2, z1 ^ z2, (p1 + p2 + 2 * _popcount(z1 & x2)) % 4


@dataclass(frozen=True)
class Clifford:
    """``rows[k]`` is the image of ``X_k`` (k < n) or of ``Z_{k-n}`` (k >= n)."""

    num_qubits: int
    rows: tuple[Pauli, ...]

    @classmethod
    def identity(cls, num_qubits: int) -> Clifford:
        xs = tuple((1 << k, 0, 0) for k in range(num_qubits))
        zs = tuple((0, 1 << k, 0) for k in range(num_qubits))
        return cls(num_qubits, xs + zs)

    def image(self, pauli: Pauli) -> Pauli:
        """``C P C^dag`` for a Pauli in XZ form."""
        x, z, p = pauli
        n = self.num_qubits
        out: Pauli = (0, 0, p)
        for k in range(n):
            if x >> k & 1:
                out = pauli_mul(out, self.rows[k])
        for k in range(n):
            if z >> k & 1:
                out = pauli_mul(out, self.rows[n + k])
        return out

    def then(self, other: Clifford) -> Clifford:
        """``other`` applied after ``self`` (the unitary ``other @ self``)."""
        return Clifford(self.num_qubits, tuple(other.image(row) for row in self.rows))

    def apply(self, name: str, qubits: Sequence[int]) -> Clifford:
        """This Clifford followed by one gate (h, s, sdg, x, y, z, sx, sxdg, cx, cz, swap)."""
        return self.then(gate_clifford(name, tuple(qubits), self.num_qubits))

    @classmethod
    def from_gates(cls, num_qubits: int, gates: Sequence[GateStep]) -> Clifford:
        out = cls.identity(num_qubits)
        for name, qubits in gates:
            out = out.apply(name, qubits)
        return out

    def pauli_images(self) -> list[tuple[int, str]]:
        """Images of X_0..X_{n-1}, Z_0..Z_{n-1} as ``(sign, label)``: ``sign * label`` with Hermitian Y and
        Qiskit's label order (rightmost character on qubit 0)."""
        return [to_label(row, self.num_qubits) for row in self.rows]


def to_label(pauli: Pauli, num_qubits: int) -> tuple[int, str]:
    """An XZ-form Pauli as ``(sign, label)`` with ``Y = i X Z``; refuses non-Hermitian ones."""
    x, z, p = pauli
    chars = []
    for k in reversed(range(num_qubits)):
        bx, bz = x >> k & 1, z >> k & 1
        chars.append("IXZY"[bx + 2 * bz])
    p = (p - _popcount(x & z)) % 4  # i^p X^x Z^z with XZ = -i Y on each such qubit
    if p % 2:
        raise CircuitError(f"Pauli {pauli} is not Hermitian")
    return (1 if p == 0 else -1), "".join(chars)


def _single(num_qubits: int, q: int, x_image: Pauli, z_image: Pauli) -> Clifford:
    rows = list(Clifford.identity(num_qubits).rows)
    rows[q] = (x_image[0] << q, x_image[1] << q, x_image[2])
    rows[num_qubits + q] = (z_image[0] << q, z_image[1] << q, z_image[2])
    return Clifford(num_qubits, tuple(rows))


# Images of (X, Z) on one qubit, in XZ form: Y = i X Z is (1, 1, 1).
_ONE_QUBIT: dict[str, tuple[Pauli, Pauli]] = {
    "id": ((1, 0, 0), (0, 1, 0)),
    "h": ((0, 1, 0), (1, 0, 0)),
    "s": ((1, 1, 1), (0, 1, 0)),       # X -> Y, Z -> Z
    "sdg": ((1, 1, 3), (0, 1, 0)),     # X -> -Y
    "x": ((1, 0, 0), (0, 1, 2)),       # Z -> -Z
    "z": ((1, 0, 2), (0, 1, 0)),       # X -> -X
    "y": ((1, 0, 2), (0, 1, 2)),
    "sx": ((1, 0, 0), (1, 1, 3)),      # Z -> -Y
    "sxdg": ((1, 0, 0), (1, 1, 1)),    # Z -> Y
}


@lru_cache(maxsize=None)
def gate_clifford(name: str, qubits: tuple[int, ...], num_qubits: int) -> Clifford:
    """The tableau of one gate on ``qubits`` of an ``num_qubits``-qubit register."""
    if any(not 0 <= q < num_qubits for q in qubits):
        raise CircuitError(f"{name} on {qubits}: qubits out of range for {num_qubits}")
    if name in _ONE_QUBIT and len(qubits) == 1:
        return _single(num_qubits, qubits[0], *_ONE_QUBIT[name])
    if name == "cx" and len(qubits) == 2:
        c, t = qubits
        rows = list(Clifford.identity(num_qubits).rows)
        rows[c] = ((1 << c) | (1 << t), 0, 0)                       # X_c -> X_c X_t
        rows[num_qubits + t] = (0, (1 << c) | (1 << t), 0)          # Z_t -> Z_c Z_t
        return Clifford(num_qubits, tuple(rows))
    if name == "cz" and len(qubits) == 2:
        a, b = qubits
        return Clifford.identity(num_qubits).apply("h", (b,)).apply("cx", (a, b)).apply("h", (b,))
    if name == "swap" and len(qubits) == 2:
        a, b = qubits
        return Clifford.identity(num_qubits).apply("cx", (a, b)).apply("cx", (b, a)).apply("cx", (a, b))
    raise CircuitError(f"{name} on {qubits} is not a Clifford gate qubitlab knows "
                       f"({', '.join(sorted(_ONE_QUBIT))}, cx, cz, swap)")


_INVERSE_GATE = {"h": "h", "s": "sdg", "sdg": "s", "x": "x", "y": "y", "z": "z", "sx": "sxdg", "sxdg": "sx",
                 "cx": "cx", "cz": "cz", "swap": "swap", "id": "id"}


class CliffordGroup:
    """All Cliffords on 1 or 2 qubits, indexed 0..size-1 (0 is the identity), with gate sequences."""

    def __init__(self, num_qubits: int) -> None:
        if num_qubits not in (1, 2):
            raise CircuitError(f"Clifford groups are enumerated for 1 or 2 qubits, not {num_qubits}")
        self.num_qubits = num_qubits
        gens: list[GateStep] = [(g, (q,)) for q in range(num_qubits) for g in ("h", "s")]
        if num_qubits == 2:
            gens.append(("cx", (0, 1)))
        tables = [gate_clifford(name, qubits, num_qubits) for name, qubits in gens]
        start = Clifford.identity(num_qubits)
        self.elements: list[Clifford] = [start]
        self.sequences: list[tuple[GateStep, ...]] = [()]
        self._index: dict[tuple[Pauli, ...], int] = {start.rows: 0}
        frontier = [0]
        while frontier:
            nxt = []
            for i in frontier:
                for gate, table in zip(gens, tables):
                    c = self.elements[i].then(table)
                    if c.rows not in self._index:
                        self._index[c.rows] = len(self.elements)
                        self.elements.append(c)
                        self.sequences.append(self.sequences[i] + (gate,))
                        nxt.append(len(self.elements) - 1)
            frontier = nxt
        self._inverse: dict[int, int] = {}

    @property
    def size(self) -> int:
        return len(self.elements)

    def index(self, clifford: Clifford) -> int:
        try:
            return self._index[clifford.rows]
        except KeyError:
            raise CircuitError(f"{clifford} is not in the {self.num_qubits}-qubit Clifford group") from None

    def gates(self, i: int) -> tuple[GateStep, ...]:
        """A shortest sequence of h, s (and cx) that implements element ``i`` (up to global phase)."""
        return self.sequences[i]

    def compose(self, i: int, j: int) -> int:
        """Element ``j`` applied after element ``i``."""
        return self._index[self.elements[i].then(self.elements[j]).rows]

    def inverse(self, i: int) -> int:
        found = self._inverse.get(i)
        if found is None:
            undo = [(_INVERSE_GATE[name], qubits) for name, qubits in reversed(self.sequences[i])]
            found = self._inverse[i] = self.index(Clifford.from_gates(self.num_qubits, undo))
        return found

    def random_sequence(self, length: int, rng: np.random.Generator) -> list[int]:
        return [int(k) for k in rng.integers(self.size, size=length)]

    def recovery(self, sequence: Sequence[int]) -> int:
        """The element that undoes the whole ``sequence`` (applied in order)."""
        total = 0
        for k in sequence:
            total = self.compose(total, k)
        return self.inverse(total)

    def rb_circuit(self, length: int, rng: np.random.Generator, qubits: Sequence[int] | None = None,
                   num_qubits: int | None = None) -> Circuit:
        """``length`` random Cliffords, the recovery, barriers between them, and measurements of ``qubits``."""
        qubits = list(qubits if qubits is not None else range(self.num_qubits))
        width = num_qubits if num_qubits is not None else max(qubits) + 1
        qc = Circuit(width, len(qubits), name=f"rb{self.num_qubits}q_{length}")
        sequence = self.random_sequence(length, rng)
        for k in [*sequence, self.recovery(sequence)]:
            for name, local in self.gates(k):
                qc.append(name, [qubits[q] for q in local])
            qc.barrier(*qubits)
        for c, q in enumerate(qubits):
            qc.measure(q, c)
        return qc


@lru_cache(maxsize=2)
def clifford_group(num_qubits: int) -> CliffordGroup:
    """The (cached) Clifford group on 1 or 2 qubits."""
    return CliffordGroup(num_qubits)
