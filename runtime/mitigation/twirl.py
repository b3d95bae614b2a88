"""Pauli twirling of the ECR: each randomization surrounds every ECR with a random Pauli pair and its image.

Why it exists: averaged over random Paulis P before a gate G and P' = G P G^dag after it (so the ideal gate is
unchanged), any noise channel of G becomes a Pauli channel: coherent errors (a CR over-rotation, a residual ZZ)
turn into stochastic ones, which add up linearly in the number of gates -- what ZNE's extrapolation assumes
and what makes expectation values decay smoothly. The 16 pairs are computed here from the ECR's matrix and
checked (:func:`ecr_pairs`), not hand-listed. The Paulis are merged into the neighbouring single-qubit gates
by translating the twirled circuit again (z is a virtual rz, x and y join the pending ZXZXZ synthesis), so a
randomization costs no extra pulses; each randomization is lowered once and cached like any variant.

``twirling.strategy``: the twirled qubits are those of each ECR (Qiskit's ``"active"``); the strategies that
also twirl idle qubits are not implemented (refused when chosen, see options.IMPLEMENTED).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from typing import Any

import numpy as np

PAULIS = ("I", "X", "Y", "Z")
Pair = tuple[str, str]


def _matrix(paulis: Pair, gate_first: bool) -> Any:
    """The two-qubit circuit (P on q0, q1) then ECR(0, 1), or ECR then P, as a unitary."""
    from qubitlab.circuits import Circuit

    circuit = Circuit(2)
    if gate_first:
        circuit.ecr(0, 1)
    for q, p in enumerate(paulis):
        if p != "I":
            circuit.append(p.lower(), (q,))
    if not gate_first:
        circuit.ecr(0, 1)
    return circuit.to_matrix()


def _equal_up_to_phase(a: Any, b: Any) -> bool:
    return bool(abs(abs(np.trace(a.conj().T @ b)) / a.shape[0] - 1.0) < 1e-9)


@functools.cache
def ecr_pairs() -> tuple[tuple[Pair, Pair], ...]:
    """The 16 (before, after) Pauli pairs on (control, target) with ECR P_before = P_after ECR up to a phase."""
    out: list[tuple[Pair, Pair]] = []
    every: list[Pair] = [(a, b) for a, b in itertools.product(PAULIS, repeat=2)]
    for before in every:
        lhs = _matrix(before, gate_first=False)
        found = [after for after in every if _equal_up_to_phase(
            lhs, _matrix(after, gate_first=True))]
        if len(found) != 1:
            raise AssertionError(f"ECR is Clifford: exactly one Pauli image of {before} expected, got {found}")
        out.append((before, found[0]))
    return tuple(out)


def twirled(translated: Any, randomization: int, seed: str, target: Any) -> Any:
    """``translated`` with every ECR between a random pair of ``ecr_pairs`` (randomization ``randomization``
    of the circuit ``seed``), translated again so the Paulis merge into the single-qubit gates."""
    from qubitlab.circuits import translate

    pairs = ecr_pairs()
    rng = np.random.default_rng(int(hashlib.sha256(f"twirl:{seed}:{randomization}".encode()).hexdigest()[:16], 16))
    out = translated.copy_empty()
    for op in translated:
        if op.name != "ecr":
            out.add(op)
            continue
        before, after = pairs[int(rng.integers(len(pairs)))]
        _paulis(out, before, op.qubits)
        out.add(op)
        _paulis(out, after, op.qubits)
    return translate(out, target)


def _paulis(circuit: Any, paulis: Pair, qubits: tuple[int, ...]) -> None:
    for p, q in zip(paulis, qubits):
        if p != "I":
            circuit.append(p.lower(), (q,))
