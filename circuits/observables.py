"""Observables as sparse Pauli sums, and their grouping into measurement bases.

The Estimator measures ``<psi|O|psi>`` for ``O = sum_k c_k P_k``. :class:`SparsePauliOp` follows Qiskit's
``SparsePauliOp`` closely enough that user code ports: labels with the *rightmost* character on qubit 0,
complex coefficients, ``+ - *`` (scalars), ``compose``/``dot``/``@``, ``tensor``, ``simplify`` and
``to_matrix``. :func:`group_qubit_wise` packs terms into qubit-wise-commuting groups, each measured in one
basis after the gates of :meth:`MeasurementGroup.basis_change` (X: ``h``; Y: ``sdg`` then ``h``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import CircuitError

_MATRICES = {
    "I": np.eye(2, dtype=np.complex128),
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}
# Single-qubit products a*b = phase * c.
_PRODUCT: dict[tuple[str, str], tuple[complex, str]] = {}
for _a in "IXYZ":
    _PRODUCT[("I", _a)] = (1, _a)
    _PRODUCT[(_a, "I")] = (1, _a)
    _PRODUCT[(_a, _a)] = (1, "I")
for _a, _b, _c in (("X", "Y", "Z"), ("Y", "Z", "X"), ("Z", "X", "Y")):
    _PRODUCT[(_a, _b)] = (1j, _c)
    _PRODUCT[(_b, _a)] = (-1j, _c)


def _check_label(label: str) -> str:
    if not label or any(ch not in "IXYZ" for ch in label):
        raise CircuitError(f"a Pauli label is a non-empty string of I, X, Y, Z; got {label!r}")
    return label


def pauli_product(a: str, b: str) -> tuple[complex, str]:
    """``a * b`` as (phase, label) for equal-length labels."""
    phase: complex = 1
    out = []
    for x, y in zip(a, b):
        p, c = _PRODUCT[(x, y)]
        phase *= p
        out.append(c)
    return phase, "".join(out)


class SparsePauliOp:
    """``sum_k coeffs[k] * labels[k]``; label character ``-1-q`` acts on qubit ``q`` (Qiskit's order)."""

    __slots__ = ("labels", "coeffs")

    def __init__(self, labels: str | Sequence[str], coeffs: Sequence[complex] | NDArray[Any] | None = None) -> None:
        labels = [labels] if isinstance(labels, str) else list(labels)
        if not labels:
            raise CircuitError("a SparsePauliOp needs at least one term")
        for label in labels:
            _check_label(label)
        if len({len(label) for label in labels}) != 1:
            raise CircuitError(f"all labels must have the same number of qubits: {labels}")
        values = np.ones(len(labels), dtype=np.complex128) if coeffs is None else np.asarray(coeffs, np.complex128)
        if values.shape != (len(labels),):
            raise CircuitError(f"{len(labels)} labels but {values.size} coefficients")
        self.labels: tuple[str, ...] = tuple(labels)
        self.coeffs: NDArray[np.complex128] = values

    @classmethod
    def from_list(cls, terms: Iterable[tuple[str, complex]]) -> SparsePauliOp:
        pairs = list(terms)
        return cls([p for p, _ in pairs], [c for _, c in pairs])

    @classmethod
    def from_sparse_list(cls, terms: Iterable[tuple[str, Sequence[int], complex]], num_qubits: int) -> SparsePauliOp:
        """Terms as ``("ZZ", [0, 3], coeff)``: the i-th character acts on qubit ``indices[i]``."""
        labels, coeffs = [], []
        for paulis, indices, coeff in terms:
            indices = list(indices)
            if len(paulis) != len(indices):
                raise CircuitError(f"sparse term {paulis!r} on qubits {indices}: the label has {len(paulis)} "
                                   f"character(s) but {len(indices)} qubit index(es); give one index per character")
            if len(set(indices)) != len(indices):
                raise CircuitError(f"sparse term {paulis!r} on qubits {indices}: a qubit appears twice; "
                                   "multiply the Paulis of one qubit into one character first")
            chars = ["I"] * num_qubits
            for ch, q in zip(paulis, indices):
                if not 0 <= q < num_qubits:
                    raise CircuitError(f"qubit {q} out of range for {num_qubits} qubits")
                chars[num_qubits - 1 - q] = ch
            labels.append("".join(chars))
            coeffs.append(coeff)
        return cls(labels, coeffs)

    @property
    def num_qubits(self) -> int:
        return len(self.labels[0])

    def __len__(self) -> int:
        return len(self.labels)

    def to_list(self) -> list[tuple[str, complex]]:
        return [(label, complex(c)) for label, c in zip(self.labels, self.coeffs)]

    # -- arithmetic ---------------------------------------------------------------------------------------------
    def _same_size(self, other: SparsePauliOp) -> None:
        if other.num_qubits != self.num_qubits:
            raise CircuitError(f"operators on {self.num_qubits} and {other.num_qubits} qubits cannot be combined")

    def __add__(self, other: object) -> SparsePauliOp:
        if not isinstance(other, SparsePauliOp):
            return NotImplemented
        self._same_size(other)
        return SparsePauliOp(self.labels + other.labels, np.concatenate([self.coeffs, other.coeffs]))

    def __sub__(self, other: object) -> SparsePauliOp:
        if not isinstance(other, SparsePauliOp):
            return NotImplemented
        return self + (-other)

    def __neg__(self) -> SparsePauliOp:
        return SparsePauliOp(self.labels, -self.coeffs)

    def __mul__(self, scalar: complex) -> SparsePauliOp:
        if not isinstance(scalar, (int, float, complex, np.number)):
            return NotImplemented
        return SparsePauliOp(self.labels, self.coeffs * scalar)

    __rmul__ = __mul__

    def __truediv__(self, scalar: complex) -> SparsePauliOp:
        return SparsePauliOp(self.labels, self.coeffs / scalar)

    def dot(self, other: SparsePauliOp) -> SparsePauliOp:
        """The operator product ``self @ other`` (``other`` acts first)."""
        self._same_size(other)
        labels, coeffs = [], []
        for a, ca in zip(self.labels, self.coeffs):
            for b, cb in zip(other.labels, other.coeffs):
                phase, label = pauli_product(a, b)
                labels.append(label)
                coeffs.append(phase * ca * cb)
        return SparsePauliOp(labels, coeffs)

    def compose(self, other: SparsePauliOp) -> SparsePauliOp:
        """Qiskit's ``compose``: ``self`` first, then ``other``, i.e. the product ``other @ self``."""
        return other.dot(self)

    def __matmul__(self, other: SparsePauliOp) -> SparsePauliOp:
        return self.dot(other)

    def tensor(self, other: SparsePauliOp) -> SparsePauliOp:
        """``self (x) other``: ``other`` on the low qubits (labels concatenate, ``self``'s on the left)."""
        labels = [a + b for a in self.labels for b in other.labels]
        coeffs = [ca * cb for ca in self.coeffs for cb in other.coeffs]
        return SparsePauliOp(labels, coeffs)

    def __xor__(self, other: SparsePauliOp) -> SparsePauliOp:
        return self.tensor(other)

    def adjoint(self) -> SparsePauliOp:
        return SparsePauliOp(self.labels, np.conj(self.coeffs))

    def simplify(self, atol: float = 1e-12) -> SparsePauliOp:
        """Equal labels summed, terms with ``|coeff| <= atol`` dropped (an all-identity zero term if none remain)."""
        summed: dict[str, complex] = {}
        for label, c in zip(self.labels, self.coeffs):
            summed[label] = summed.get(label, 0) + complex(c)
        kept = [(label, c) for label, c in summed.items() if abs(c) > atol]
        if not kept:
            return SparsePauliOp("I" * self.num_qubits, [0.0])
        return SparsePauliOp.from_list(kept)

    def to_matrix(self) -> NDArray[np.complex128]:
        """The dense ``2^n x 2^n`` matrix (qubit 0 the least significant index bit)."""
        dim = 2**self.num_qubits
        out = np.zeros((dim, dim), dtype=np.complex128)
        for label, c in zip(self.labels, self.coeffs):
            term: NDArray[Any] = np.ones((1, 1), dtype=np.complex128)
            for ch in label:
                term = np.kron(term, _MATRICES[ch])
            out += c * term
        return out

    def equiv(self, other: SparsePauliOp, atol: float = 1e-10) -> bool:
        """The same operator (after simplifying both)."""
        diff = (self - other).simplify(atol)
        return bool(np.all(np.abs(diff.coeffs) <= atol))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SparsePauliOp) and self.labels == other.labels and bool(
            np.array_equal(self.coeffs, other.coeffs))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        terms = ", ".join(f"({label!r}, {complex(c):g})" for label, c in zip(self.labels, self.coeffs))
        return f"SparsePauliOp.from_list([{terms}])"


def qubit_wise_commute(a: str, b: str) -> bool:
    """Each qubit's Paulis are equal or one is I (so one product basis measures both)."""
    return all(x == y or x == "I" or y == "I" for x, y in zip(a, b))


@dataclass(frozen=True)
class MeasurementGroup:
    """Terms (indices into the operator) measured together in ``basis`` (label, ``I`` where no term cares)."""

    basis: str
    terms: tuple[int, ...]

    def basis_change(self) -> list[tuple[str, int]]:
        """Gates ``(name, qubit)`` in order that rotate the basis to Z before measuring (X: h; Y: sdg, h)."""
        gates: list[tuple[str, int]] = []
        n = len(self.basis)
        for q in range(n):
            ch = self.basis[n - 1 - q]
            if ch == "X":
                gates.append(("h", q))
            elif ch == "Y":
                gates.extend((("sdg", q), ("h", q)))
        return gates


def group_qubit_wise(op: SparsePauliOp) -> list[MeasurementGroup]:
    """Terms packed greedily (heaviest first) into qubit-wise-commuting groups; every term in exactly one group."""
    order = sorted(range(len(op)), key=lambda k: (-sum(ch != "I" for ch in op.labels[k]), k))
    bases: list[list[str]] = []
    members: list[list[int]] = []
    for k in order:
        label = op.labels[k]
        for basis, terms in zip(bases, members):
            if qubit_wise_commute("".join(basis), label):
                for i, ch in enumerate(label):
                    if ch != "I":
                        basis[i] = ch
                terms.append(k)
                break
        else:
            bases.append(list(label))
            members.append([k])
    return [MeasurementGroup("".join(b), tuple(sorted(t))) for b, t in zip(bases, members)]


def expectation_from_counts(op: SparsePauliOp, group: MeasurementGroup, counts: Mapping[str, int]) -> complex:
    """``sum_k c_k <P_k>`` over the group's terms from counts measured in its basis.

    A bitstring has one character ``0``/``1`` per qubit of the operator, qubit 0 rightmost. Qiskit's register
    format (registers separated by spaces, e.g. ``"01 1"``) is accepted: the spaces are dropped, so the
    registers must together hold exactly one bit per qubit in that order. Each term must be measurable in the
    group's basis: on every qubit it is ``I`` or the basis' Pauli (then it is diagonal after the basis change).
    """
    n = op.num_qubits
    if len(group.basis) != n:
        raise CircuitError(f"the group's basis {group.basis!r} has {len(group.basis)} qubit(s); the operator {n}")
    for k in group.terms:
        if not 0 <= k < len(op):
            raise CircuitError(f"group term {k} is not a term of the operator (it has {len(op)})")
        label = op.labels[k]
        if not all(ch == "I" or ch == b for ch, b in zip(label, group.basis)):
            raise CircuitError(f"term {label!r} is not diagonal in the measured basis {group.basis!r}: each qubit "
                               "must be I or the basis' Pauli; use group_qubit_wise(op) to form the groups")
    shots = 0
    parsed: list[tuple[str, int]] = []
    for bits, count in counts.items():
        flat = bits.replace(" ", "")
        if len(flat) != n or any(ch not in "01" for ch in flat):
            raise CircuitError(f"bitstring {bits!r}: expected {n} characters of 0/1 (one per qubit, qubit 0 "
                               "rightmost; register groups may be separated by spaces)")
        if count < 0:
            raise CircuitError(f"bitstring {bits!r} has a negative count {count}")
        parsed.append((flat, count))
        shots += count
    if shots == 0:
        raise CircuitError("no shots to estimate an expectation value from")
    total: complex = 0
    for k in group.terms:
        support = [n - 1 - i for i, ch in enumerate(op.labels[k]) if ch != "I"]
        value = 0
        for flat, count in parsed:
            parity = sum(flat[n - 1 - q] == "1" for q in support) % 2
            value += count * (-1 if parity else 1)
        total += op.coeffs[k] * value / shots
    return total
