"""Transmon Hamiltonians in a rotating frame: ladder operators, Duffing oscillators, exchange coupling, drives.

Units are the engine's: time in ns, angular frequencies in rad/ns. Each transmon keeps three levels
(``levels=3``): enough for leakage, DRAG and the cross-resonance and ZZ physics that the third level causes.
Operators for several transmons act on the tensor product, qubit 0 the most significant factor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

ComplexArray = NDArray[np.complex128]


def lowering(levels: int) -> ComplexArray:
    """Annihilation operator ``a`` truncated to ``levels`` levels."""
    return np.diag(np.sqrt(np.arange(1, levels, dtype=np.float64)), 1).astype(np.complex128)


def embed(operator: ComplexArray, index: int, dims: Sequence[int]) -> ComplexArray:
    """``operator`` acting on subsystem ``index`` of a product space with dimensions ``dims``."""
    out: ComplexArray = np.ones((1, 1), dtype=np.complex128)
    for i, d in enumerate(dims):
        out = np.asarray(np.kron(out, operator if i == index else np.eye(d, dtype=np.complex128)), dtype=np.complex128)
    return out


def static_hamiltonian(detunings: Sequence[float], anharmonicities: Sequence[float],
                       couplings: Sequence[tuple[int, int, float]], levels: int = 3) -> ComplexArray:
    """``sum_q [delta_q n_q + alpha_q/2 n_q(n_q - 1)] + sum J (a_i^dag a_j + a_i a_j^dag)`` in rad/ns.

    ``detunings`` are each transmon's frequency minus the frame's, ``couplings`` ``(i, j, J)``.
    """
    dims = [levels] * len(detunings)
    a = lowering(levels)
    n = a.conj().T @ a
    h = np.zeros((levels ** len(dims),) * 2, dtype=np.complex128)
    for q, (delta, alpha) in enumerate(zip(detunings, anharmonicities)):
        h += embed(delta * n + 0.5 * alpha * (n @ n - n), q, dims)
    for i, j, coupling in couplings:
        ai, aj = embed(a, i, dims), embed(a, j, dims)
        h += coupling * (ai.conj().T @ aj + ai @ aj.conj().T)
    return h


def drive_operators(index: int, count: int, levels: int = 3) -> tuple[ComplexArray, ComplexArray]:
    """``(X, Y) = ((a + a^dag)/2, i(a^dag - a)/2)`` on transmon ``index``: a complex drive ``W`` enters as
    ``Re(W) X + Im(W) Y``, so on the qubit levels ``W = Omega`` real rotates about x at ``Omega`` rad/ns."""
    dims = [levels] * count
    a = embed(lowering(levels), index, dims)
    return (a + a.conj().T) / 2, 1j * (a.conj().T - a) / 2


def driven_hamiltonians(static: ComplexArray, drives: Sequence[tuple[ComplexArray, ComplexArray, ComplexArray]]
                        ) -> ComplexArray:
    """A stack ``H_k = static + sum_d Re(W_dk) X_d + Im(W_dk) Y_d`` for drive sample arrays ``W_d``.

    ``drives`` holds ``(W, X, Y)`` with ``W`` the complex samples (rad/ns) of one drive term.
    """
    n = len(drives[0][0]) if drives else 1
    h = np.broadcast_to(static, (n, *static.shape)).copy()
    for samples, x, y in drives:
        w = np.asarray(samples, dtype=np.complex128)
        h += w.real[:, None, None] * x + w.imag[:, None, None] * y
    return h
