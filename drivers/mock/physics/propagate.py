"""Exact propagation of piecewise-constant Hamiltonians and Liouvillians, batched with numpy.

Instruments play samples: between two samples the drive is constant, so the evolution over a sample is one
matrix exponential, exactly. This module computes those exponentials for whole stacks at once -- Hermitian
generators by eigendecomposition, Lindblad generators by scaling and squaring of a Taylor series -- and
multiplies them in time order by pairwise (tree) reduction. No ODE solver, no time step other than the
instrument's own; results are exact to rounding, which the tests check against ``scipy.linalg.expm``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

ComplexArray = NDArray[np.complex128]


def unitaries(hamiltonians: ComplexArray, dt: float) -> ComplexArray:
    """``exp(-i H_k dt)`` for a stack of Hermitian ``H_k`` (shape ``(..., d, d)``), by eigendecomposition."""
    energies, vectors = np.linalg.eigh(hamiltonians)
    phases = np.exp(-1j * dt * energies)
    return np.asarray(np.matmul(vectors * phases[..., None, :], np.conj(np.swapaxes(vectors, -1, -2))),
                      dtype=np.complex128)


def time_ordered_product(steps: ComplexArray) -> ComplexArray:
    """``M_{N-1} ... M_1 M_0`` for a stack ``steps[..., k, :, :]`` (the first step acts first).

    Pairwise reduction: log2(N) batched matrix products instead of N sequential ones.
    """
    current = steps
    while current.shape[-3] > 1:
        n = current.shape[-3]
        if n % 2:
            identity = np.broadcast_to(np.eye(current.shape[-1], dtype=current.dtype),
                                       (*current.shape[:-3], 1, *current.shape[-2:]))
            current = np.concatenate([current, identity], axis=-3)
        current = np.matmul(current[..., 1::2, :, :], current[..., 0::2, :, :])
    return np.asarray(current[..., 0, :, :], dtype=np.complex128)


def expm_batched(generators: ComplexArray, dt: float = 1.0, tolerance: float = 1e-13,
                 overwrite: bool = False) -> ComplexArray:
    """``exp(G_k dt)`` for a stack of general (non-Hermitian) matrices ``(n, d, d)``.

    Scaling and squaring of a Taylor series (Horner form): the matrices are scaled by ``2^-s`` so their largest
    row sum is at most 1/8, then the degree ``m`` is the smallest whose remainder bound ``x^(m+1)/(m+1)!`` is
    below ``tolerance``. All products reuse two buffers: fresh memory is costly, arithmetic is cheap. With
    ``overwrite`` the generators' own (complex128, contiguous) buffer is scaled in place and reused.
    """
    shape = generators.shape
    if overwrite and generators.dtype == np.complex128 and generators.flags.c_contiguous:
        a = generators.reshape(-1, *shape[-2:])
        if dt != 1.0:
            a *= dt
    else:
        a = np.asarray(generators, dtype=np.complex128).reshape(-1, *shape[-2:]) * dt
    n = a.shape[-1]
    norm = float(np.max(np.abs(a).sum(axis=-1))) if a.size else 0.0
    squarings = max(0, math.ceil(math.log2(norm * 8))) if norm > 0.125 else 0
    scaled = norm / 2**squarings
    degree = 1
    while scaled ** (degree + 1) / math.factorial(degree + 1) > tolerance and degree < 30:
        degree += 1
    a *= 1.0 / 2**squarings
    result = a * (1.0 / degree)
    result.reshape(result.shape[0], -1)[:, :: n + 1] += 1
    spare = np.empty_like(result)
    for k in range(degree - 1, 0, -1):  # I + a/1 (I + a/2 (... (I + a/m)))
        np.matmul(a, result, out=spare)
        spare *= 1.0 / k
        spare.reshape(spare.shape[0], -1)[:, :: n + 1] += 1
        result, spare = spare, result
    for _ in range(squarings):
        np.matmul(result, result, out=spare)
        result, spare = spare, result
    return result.reshape(shape)


def liouvillian(hamiltonian: ComplexArray, collapse: list[ComplexArray]) -> ComplexArray:
    """Lindblad generator acting on row-stacked density matrices: ``d vec(rho)/dt = L vec(rho)``.

    ``vec(A rho B) = (A kron B^T) vec(rho)``; ``hamiltonian`` may be a stack ``(..., d, d)``.
    """
    d = hamiltonian.shape[-1]
    identity = np.eye(d, dtype=np.complex128)
    h = np.asarray(hamiltonian, dtype=np.complex128)
    generator = -1j * (_kron(h, identity) - _kron(identity, np.swapaxes(h, -1, -2)))
    for c in collapse:
        cdc = c.conj().T @ c
        generator = generator + np.kron(c, c.conj()) - 0.5 * np.kron(cdc, identity) - 0.5 * np.kron(identity, cdc.T)
    return np.asarray(generator, dtype=np.complex128)


def _kron(a: ComplexArray, b: ComplexArray) -> ComplexArray:
    """Kronecker product broadcasting over leading axes."""
    da, db = a.shape[-1], b.shape[-1]
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return np.asarray(out.reshape(*out.shape[:-4], da * db, da * db), dtype=np.complex128)
