"""Sparse Pauli operators (against matrices built here with np.kron) and qubit-wise-commuting grouping."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from circuit_reference import H, I2, SDG, X, Y, Z, embed

from qubitlab.circuits.observables import (
    MeasurementGroup,
    SparsePauliOp,
    expectation_from_counts,
    group_qubit_wise,
    qubit_wise_commute,
)
from qubitlab.errors import CircuitError

P = {"I": I2, "X": X, "Y": Y, "Z": Z}


def dense(label: str) -> np.ndarray:
    return reduce(np.kron, [P[ch] for ch in label])  # leftmost character is the highest qubit


def random_op(rng: np.random.Generator, n: int, terms: int) -> SparsePauliOp:
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(terms)]
    return SparsePauliOp(labels, rng.normal(size=terms) + 1j * rng.normal(size=terms))


def test_label_order_puts_qubit_zero_on_the_right() -> None:
    assert np.allclose(SparsePauliOp("IZ").to_matrix(), np.diag([1, -1, 1, -1]))
    assert SparsePauliOp.from_sparse_list([("X", [0], 2.0)], 3).labels == ("IIX",)


def test_arithmetic_matches_matrices() -> None:
    rng = np.random.default_rng(5)
    a, b = random_op(rng, 3, 4), random_op(rng, 3, 3)
    ma, mb = a.to_matrix(), b.to_matrix()
    assert np.allclose((a + b).to_matrix(), ma + mb)
    assert np.allclose((a - b).to_matrix(), ma - mb)
    assert np.allclose((2.5j * a).to_matrix(), 2.5j * ma)
    assert np.allclose((a * 3).to_matrix(), 3 * ma)
    assert np.allclose((a / 2).to_matrix(), ma / 2)
    assert np.allclose((a @ b).to_matrix(), ma @ mb)
    assert np.allclose(a.compose(b).to_matrix(), mb @ ma)  # Qiskit: a first, then b
    assert np.allclose(a.tensor(SparsePauliOp("XY")).to_matrix(), np.kron(ma, dense("XY")))
    assert np.allclose(a.adjoint().to_matrix(), ma.conj().T)


def test_pauli_products_have_the_right_phases() -> None:
    assert (SparsePauliOp("X") @ SparsePauliOp("Y")).to_list() == [("Z", 1j)]
    assert (SparsePauliOp("Z") @ SparsePauliOp("Y")).to_list() == [("X", -1j)]


def test_simplify_combines_and_drops_terms() -> None:
    op = SparsePauliOp(["XZ", "IY", "XZ", "IY"], [1, 2, 0.5, -2])
    simple = op.simplify()
    assert simple.to_list() == [("XZ", 1.5 + 0j)]
    assert np.allclose(simple.to_matrix(), op.to_matrix())
    assert (op - op).simplify().to_list() == [("II", 0j)]
    assert op.equiv(simple)


def test_invalid_labels_are_refused() -> None:
    with pytest.raises(CircuitError, match="I, X, Y, Z"):
        SparsePauliOp("XA")
    with pytest.raises(CircuitError, match="same number of qubits"):
        SparsePauliOp(["X", "XX"])


@pytest.mark.parametrize("seed", range(5))
def test_grouping_covers_every_term_once_with_qubit_wise_commuting_groups(seed: int) -> None:
    rng = np.random.default_rng(seed)
    op = random_op(rng, 4, 30)
    groups = group_qubit_wise(op)
    covered = sorted(k for g in groups for k in g.terms)
    assert covered == list(range(len(op)))
    for g in groups:
        for k in g.terms:
            assert qubit_wise_commute(op.labels[k], g.basis)
            for j in g.terms:
                assert qubit_wise_commute(op.labels[k], op.labels[j])
    assert len(groups) < len(op)


def test_basis_change_diagonalises_every_term_of_its_group() -> None:
    op = SparsePauliOp(["XYZ", "XIZ", "IYI", "XYI"])
    (group,) = group_qubit_wise(op)
    assert group.basis == "XYZ"
    gates = group.basis_change()
    assert gates == [("sdg", 1), ("h", 1), ("h", 2)]
    matrices = {"h": H, "sdg": SDG}
    rotation = reduce(lambda acc, g: embed(matrices[g[0]], (g[1],), 3) @ acc, gates, np.eye(8))
    for label in op.labels:
        rotated = rotation @ dense(label) @ rotation.conj().T
        assert np.allclose(rotated, np.diag(np.diag(rotated)))  # diagonal: Z-type after the change


def test_expectation_from_counts() -> None:
    op = SparsePauliOp(["ZZ", "IZ"], [1.0, 0.5])
    group = MeasurementGroup("ZZ", (0, 1))
    # "01": qubit 0 is 1, qubit 1 is 0 -> ZZ = -1, IZ (Z on qubit 0) = -1.
    assert expectation_from_counts(op, group, {"00": 3, "01": 1}) == pytest.approx(
        1.0 * (3 - 1) / 4 + 0.5 * (3 - 1) / 4)


def test_sparse_list_needs_one_distinct_index_per_character() -> None:
    with pytest.raises(CircuitError, match=r"'ZZ' on qubits \[0\]: the label has 2 character\(s\) but 1"):
        SparsePauliOp.from_sparse_list([("ZZ", [0], 1.0)], 2)
    with pytest.raises(CircuitError, match="a qubit appears twice"):
        SparsePauliOp.from_sparse_list([("XZ", [0, 0], 1.0)], 2)
    assert SparsePauliOp.from_sparse_list([("XZ", [2, 0], 1.0)], 3).labels == ("XIZ",)


@pytest.mark.parametrize("counts, message", [
    ({"01": 5}, "expected 3 characters"),
    ({"0121": 5}, "expected 3 characters"),
    ({"012": 5}, "expected 3 characters"),
    ({"000": -1, "001": 2}, "negative count"),
])
def test_expectation_checks_the_bitstrings(counts: dict[str, int], message: str) -> None:
    with pytest.raises(CircuitError, match=message):
        expectation_from_counts(SparsePauliOp("ZZZ"), MeasurementGroup("ZZZ", (0,)), counts)


def test_expectation_accepts_qiskit_register_spacing() -> None:
    # Registers separated by a space, qubit 0 rightmost:
    # "1 10" (3 shots): q0=0, q1=1, q2=1 -> Z0 = +1, Z1 Z2 = +1;  "0 01" (1 shot): q0=1 -> Z0 = -1, Z1 Z2 = +1.
    op = SparsePauliOp(["IIZ", "ZZI"], [1.0, 0.5])
    group = MeasurementGroup("ZZZ", (0, 1))
    assert expectation_from_counts(op, group, {"1 10": 3, "0 01": 1}) == pytest.approx((3 - 1) / 4 + 0.5)


def test_expectation_refuses_terms_not_diagonal_in_the_group_basis() -> None:
    op = SparsePauliOp(["XX", "ZZ"])
    with pytest.raises(CircuitError, match=r"term 'ZZ' is not diagonal in the measured basis 'XX'"):
        expectation_from_counts(op, MeasurementGroup("XX", (0, 1)), {"00": 5})
    with pytest.raises(CircuitError, match="basis 'XXX' has 3"):
        expectation_from_counts(op, MeasurementGroup("XXX", (0,)), {"00": 5})
