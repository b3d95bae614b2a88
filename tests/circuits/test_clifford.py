"""Clifford groups: sizes, closure, inverses, and gate sequences whose unitaries conjugate Paulis as the tableau says."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from circuit_reference import I2, X, Y, Z, circuit_unitary, embed, equal_up_to_phase, reference

from qubitlab.circuits import Circuit
from qubitlab.circuits.clifford import Clifford, clifford_group
from qubitlab.errors import CircuitError

P = {"I": I2, "X": X, "Y": Y, "Z": Z}


def unitary_of(gates: tuple[tuple[str, tuple[int, ...]], ...], n: int) -> np.ndarray:
    return reduce(lambda acc, g: embed(reference(g[0]), g[1], n) @ acc, gates, np.eye(2**n, dtype=complex))


def conjugation_matches(clifford: Clifford, unitary: np.ndarray) -> bool:
    n = clifford.num_qubits
    generators = [embed(P[p], (k,), n) for p in "XZ" for k in range(n)]
    for generator, (sign, label) in zip(generators, clifford.pauli_images()):
        image = sign * reduce(np.kron, [P[ch] for ch in label])
        if not np.allclose(unitary @ generator @ unitary.conj().T, image):
            return False
    return True


@pytest.mark.parametrize("n, size", [(1, 24), (2, 11520)])
def test_group_sizes(n: int, size: int) -> None:
    assert clifford_group(n).size == size


@pytest.mark.parametrize("n", [1, 2])
def test_every_gate_sequence_conjugates_paulis_like_its_tableau(n: int) -> None:
    group = clifford_group(n)
    indices = range(group.size) if n == 1 else np.random.default_rng(1).integers(group.size, size=300)
    for i in indices:
        assert conjugation_matches(group.elements[i], unitary_of(group.gates(int(i)), n))


def test_single_gate_tableaux_conjugate_like_their_matrices() -> None:
    for name in ("h", "s", "sdg", "x", "y", "z", "sx", "sxdg"):
        assert conjugation_matches(Clifford.from_gates(1, [(name, (0,))]), reference(name))
    for name in ("cx", "cz", "swap"):
        for qubits in ((0, 1), (1, 0)):
            assert conjugation_matches(Clifford.from_gates(2, [(name, qubits)]), embed(reference(name), qubits, 2))


def test_one_qubit_group_is_closed_and_every_element_has_an_inverse() -> None:
    group = clifford_group(1)
    for i in range(group.size):
        for j in range(group.size):
            k = group.compose(i, j)
            assert equal_up_to_phase(unitary_of(group.gates(k), 1),
                                     unitary_of(group.gates(j), 1) @ unitary_of(group.gates(i), 1))
        assert group.compose(i, group.inverse(i)) == 0
        assert group.compose(group.inverse(i), i) == 0


def test_two_qubit_closure_and_inverses_on_samples() -> None:
    group = clifford_group(2)
    rng = np.random.default_rng(2)
    for i, j in rng.integers(group.size, size=(200, 2)):
        k = group.compose(int(i), int(j))
        assert equal_up_to_phase(unitary_of(group.gates(k), 2),
                                 unitary_of(group.gates(int(j)), 2) @ unitary_of(group.gates(int(i)), 2))
        assert group.compose(int(i), group.inverse(int(i))) == 0


@pytest.mark.parametrize("n", [1, 2])
def test_random_sequence_and_recovery_give_the_identity(n: int) -> None:
    group = clifford_group(n)
    rng = np.random.default_rng(3)
    qc = group.rb_circuit(20, rng)
    gates = Circuit(n)
    for op in qc:
        if op.name not in ("barrier", "measure"):
            gates.add(op)
    assert equal_up_to_phase(circuit_unitary(gates, n), np.eye(2**n))
    assert qc.count_ops()["measure"] == n


def test_only_small_groups_are_enumerated() -> None:
    with pytest.raises(CircuitError, match="1 or 2 qubits"):
        clifford_group(3)
