"""Open-system evolution of a group of coupled transmons through a program: pulses, idle time, frame changes.

A group is the set of transmons a program drives, joined by their couplings; each group is one density
matrix (``levels**k`` states). All transmons of a group share one rotating frame, so the static Hamiltonian
(detunings, anharmonicities, exchange) stays time-independent whatever frame is chosen; the frame may change
between segments (a diagonal phase), which lets each pulse segment use its line's LO as frame and makes the
held AWG samples exactly piecewise constant.

- **Pulses**: per grid sample (or substep) the coherent step ``exp(-i H_k dt)`` is exact (eigendecomposition,
  batched); dissipation (T1 and pure dephasing as Lindblad terms) enters by symmetric (Strang) splitting at
  every sample, ``E^(1/2) U_k E^(1/2)`` with ``E = exp(D dt)`` exact. The splitting error per sample is third
  order in ``dt`` and proportional to the weak rates ``1/T``; the tests bound the result against the exact
  Lindblad exponential by 1e-6. Each distinct sample is exponentiated once: samples that differ only by a
  phase common to all lines (a pulse played again later, or after a virtual Z) share one unitary, turned by
  ``exp(i theta N)``; a segment's unitaries are also cached by content for repeated runs. A single transmon
  goes through a segment as one time-ordered product of 9 x 9 maps, without a Python loop over samples.
- **Idle time**: ``exp(L0 t)`` of the static Liouvillian from its eigendecomposition (cached per frame), so a
  wait of any length costs one matrix-vector product.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sl
from scipy.optimize import linear_sum_assignment
from numpy.typing import NDArray

from qubitlab.config.device import DeviceConfig, QubitParams
from qubitlab.drivers.mock.physics.propagate import liouvillian, time_ordered_product, unitaries
from qubitlab.drivers.mock.physics.transmon import drive_operators, embed, lowering, static_hamiltonian

ComplexArray = NDArray[np.complex128]
TWO_PI = 2 * math.pi
_CACHE_SIZE = 512


_DENSE_DIM = 9  # groups up to this many states (two transmons) use dense maps and an exact idle Liouvillian
_STACK_BYTES = 256 * 2**20  # largest stack of per-sample Hamiltonians built at once
_IDLE_CHUNK = 1.0  # ns: larger groups wait in Strang steps of this length
_SUPEROPERATOR_DIM = 3  # groups up to this many states go through a pulse as one product of d^2 x d^2 maps
ANGLE_QUANTUM = 1e-6
"""Rad: grid samples whose drives differ by less than this rotation per sample (after a common phase is taken
out) share one exponential. The AWG's own float32 samples differ from their ideal by ~6e-8 of full scale."""


def _as_lines(drives: ComplexArray, sub: int) -> tuple[ComplexArray, ComplexArray]:
    """Per-transmon drives ``(points, k, samples * sub)`` as ``k * sub`` unit lines: ``(mixing, amplitudes)``
    with ``amplitudes`` ``(points, k * sub, samples)``."""
    points, k = drives.shape[0], drives.shape[1]
    samples = drives.shape[2] // sub
    amplitudes = drives.reshape(points, k, samples, sub).transpose(0, 1, 3, 2).reshape(points, k * sub, samples)
    mixing = np.zeros((k, k * sub, sub), dtype=np.complex128)
    mixing[np.repeat(np.arange(k), sub), np.arange(k * sub), np.tile(np.arange(sub), k)] = 1.0
    return mixing, np.ascontiguousarray(amplitudes)


def _bare_frequencies(dressed: NDArray[np.float64], couplings: Sequence[tuple[int, int, float]]
                      ) -> NDArray[np.float64]:
    """Bare transmon frequencies whose exchange-dressed 0-1 lines are ``dressed`` (Hz).

    A device's ``frequency`` is what a Ramsey experiment measures, with the exchange coupling's level repulsion
    (``J^2 / Delta``, ~100 kHz here) included; the Hamiltonian needs the bare values. The exchange conserves
    excitations, so the dressed lines are the eigenvalues of the one-excitation block, matched to the transmon
    they mostly live on; a few fixed-point steps converge to rounding.
    """
    if not couplings:
        return dressed
    bare = dressed.copy()
    for _ in range(20):
        block = np.diag(bare).astype(np.float64)
        for i, j, coupling in couplings:
            block[i, j] = block[j, i] = coupling
        values, vectors = np.linalg.eigh(block)
        owner = np.argmax(np.abs(vectors) ** 2, axis=0)  # transmon each eigenvector mostly lives on
        current = np.empty_like(bare)
        current[owner] = values
        correction = dressed - current
        bare = bare + correction
        if np.max(np.abs(correction)) < 1e-6:  # Hz
            break
    return bare


def _lindblad_ops(params: QubitParams, levels: int) -> list[ComplexArray]:
    """One transmon's Lindblad operators: ``sqrt(1/T1) a`` and pure dephasing ``sqrt(2 gamma_phi) n`` with
    ``gamma_phi = 1/T2 - 1/(2 T1)`` (rates per ns), so that coherences decay at ``1/T2``."""
    a = lowering(levels)
    t1, t2 = params.t1 * 1e9, params.t2 * 1e9
    ops = [math.sqrt(1 / t1) * a]
    dephasing = 1 / t2 - 1 / (2 * t1)
    if dephasing > 0:
        ops.append(math.sqrt(2 * dephasing) * (a.conj().T @ a))
    return ops


@dataclass(frozen=True)
class _Dissipation:
    """``exp(D t)`` for one duration: per-transmon maps, and their product as one matrix for small groups."""

    local: tuple[ComplexArray, ...]
    dense: ComplexArray | None


def _kron_all(maps: Sequence[ComplexArray]) -> ComplexArray:
    """The product of per-transmon maps on the joint row-stacked density matrix (row indices then columns)."""
    levels = int(round(math.sqrt(maps[0].shape[0])))
    count = len(maps)
    tensors = [m.reshape(levels, levels, levels, levels) for m in maps]
    # joint index (r_1..r_k, c_1..c_k); build by einsum over the factors
    letters = "abcdefghijklmnopqrstuvwxyz"
    parts, rows_out, cols_out, rows_in, cols_in = [], "", "", "", ""
    for i in range(count):
        ro, co, ri, ci = list(letters[4 * i: 4 * i + 4])
        parts.append(ro + co + ri + ci)
        rows_out, cols_out, rows_in, cols_in = rows_out + ro, cols_out + co, rows_in + ri, cols_in + ci
    out = np.einsum(",".join(parts) + "->" + rows_out + cols_out + rows_in + cols_in, *tensors)
    d = levels ** count
    return np.asarray(out.reshape(d * d, d * d), dtype=np.complex128)


class Group:
    """Transmons ``qubits`` of ``device`` simulated jointly on a grid of ``step`` ns."""

    def __init__(self, device: DeviceConfig, qubits: Sequence[int], step: float) -> None:
        self.qubits = tuple(qubits)
        self.levels = device.levels
        count = len(self.qubits)
        self.dim = self.levels ** count
        self.step = step
        dims = [self.levels] * count
        index = {q: i for i, q in enumerate(self.qubits)}
        params = [device.qubits[q] for q in self.qubits]
        self._anharmonicities = [TWO_PI * p.anharmonicity * 1e-9 for p in params]
        self._couplings = [(index[c.qubits[0]], index[c.qubits[1]], TWO_PI * c.j * 1e-9)
                           for c in device.couplings if c.qubits[0] in index and c.qubits[1] in index]
        self._frequencies = _bare_frequencies(np.array([p.frequency for p in params]),
                                              [(i, j, c.j) for c in device.couplings
                                               if c.qubits[0] in index and c.qubits[1] in index
                                               for i, j in [(index[c.qubits[0]], index[c.qubits[1]])]])
        self._params = params
        self._drives = [drive_operators(i, count, self.levels) for i in range(count)]
        self._collapse = [embed(op, i, dims) for i, p in enumerate(params) for op in _lindblad_ops(p, self.levels)]
        self._counts = np.sum(np.indices(dims).reshape(count, -1), axis=0)
        self.excitations = self._counts.astype(np.float64)
        self._dissipations: dict[float, _Dissipation] = {}
        self._statics: dict[float, ComplexArray] = {}
        self._idle: dict[float, tuple[ComplexArray, ComplexArray, ComplexArray] | None] = {}
        self._unitaries: OrderedDict[bytes, ComplexArray] = OrderedDict()
        self._dressed: ComplexArray | None = None

    # -- states and frames ----------------------------------------------------------------------------------
    def ground(self) -> ComplexArray:
        rho = np.zeros((self.dim, self.dim), dtype=np.complex128)
        rho[0, 0] = 1.0
        return rho

    def reframe(self, rho: ComplexArray, time: float, old: float, new: float) -> ComplexArray:
        """The same state seen from a frame at ``new`` Hz instead of ``old`` Hz, at ``time`` ns."""
        if old == new:
            return rho
        phase = np.exp(1j * TWO_PI * (new - old) * 1e-9 * time * self.excitations)
        return np.asarray(phase[:, None] * rho * np.conj(phase)[None, :], dtype=np.complex128)

    def static(self, frame: float) -> ComplexArray:
        h = self._statics.get(frame)
        if h is None:
            detunings = TWO_PI * (self._frequencies - frame) * 1e-9
            h = static_hamiltonian(list(detunings), self._anharmonicities, self._couplings, self.levels)
            self._statics[frame] = h
        return h

    # -- idle: exact exponential of the static Liouvillian ----------------------------------------------------
    def idle(self, rho: ComplexArray, frame: float, duration: float) -> ComplexArray:
        """Free evolution (static Hamiltonian and decoherence) for ``duration`` ns."""
        if duration <= 0:
            return rho
        if self.dim > _DENSE_DIM * self.levels:  # four or more transmons: no d^2 x d^2 generator, Strang steps
            return self._idle_steps(rho, frame, duration)
        decomposition = self._idle_decomposition(frame)
        if decomposition is None:  # defective generator: the exponential itself (scaling and squaring)
            vec = sl.expm(liouvillian(self.static(frame), self._collapse) * duration) @ rho.reshape(-1)
        else:
            vectors, values, inverse = decomposition
            vec = vectors @ (np.exp(values * duration) * (inverse @ rho.reshape(-1)))
        return np.asarray(vec.reshape(self.dim, self.dim), dtype=np.complex128)

    def _idle_steps(self, rho: ComplexArray, frame: float, duration: float) -> ComplexArray:
        chunks = max(1, math.ceil(duration / _IDLE_CHUNK))
        energies, vectors = np.linalg.eigh(self.static(frame))
        step = vectors @ np.diag(np.exp(-1j * energies * duration / chunks)) @ vectors.conj().T
        steps = np.broadcast_to(step, (1, chunks, self.dim, self.dim))
        return np.asarray(self.strang(rho[None], steps, duration / chunks)[0], dtype=np.complex128)

    def _idle_decomposition(self, frame: float) -> tuple[ComplexArray, ComplexArray, ComplexArray] | None:
        if frame not in self._idle:
            generator = liouvillian(self.static(frame), self._collapse)
            values, vectors = np.linalg.eig(generator)
            inverse = np.linalg.inv(vectors)
            error = np.linalg.norm(vectors @ (values[:, None] * inverse) - generator)
            self._idle[frame] = (vectors, values, inverse) if error < 1e-10 * np.linalg.norm(generator) else None
        return self._idle[frame]

    # -- pulses: exact unitaries per sample, Strang-split dissipation ---------------------------------------
    def pulse(self, rho: ComplexArray, frame: float, drives: ComplexArray, sub: int) -> ComplexArray:
        """Evolve through a pulse segment: ``drives`` is ``W`` per transmon of the group, shape
        ``(k, samples * sub)`` in rad/ns, in the frame at ``frame`` Hz."""
        mixing, amplitudes = _as_lines(drives[None], sub)
        return self.pulse_lines(rho, frame, mixing, amplitudes[0])

    def pulse_lines(self, rho: ComplexArray, frame: float, mixing: ComplexArray, amplitudes: ComplexArray
                    ) -> ComplexArray:
        """Evolve through a pulse segment given line by line: ``amplitudes`` ``(lines, samples)`` are what each
        line plays per grid sample, ``mixing`` ``(k, lines, sub)`` how much of it each transmon feels in each
        substep (rad/ns per unit), so that ``W_q(sample, j) = sum_l mixing[q, l, j] amplitudes[l, sample]``."""
        steps = self.sample_unitaries(frame, mixing, amplitudes)
        return np.asarray(self.strang(rho[None], steps[None])[0], dtype=np.complex128)

    def pulses(self, rho: ComplexArray, frame: float, drives: ComplexArray, sub: int = 1) -> ComplexArray:
        """A batch of pulse segments from the same state (a sweep): ``drives`` ``(points, k, samples * sub)``."""
        mixing, amplitudes = _as_lines(drives, sub)
        points, lines, samples = amplitudes.shape
        flat = np.moveaxis(amplitudes, 0, 1).reshape(lines, points * samples)
        steps = self._unitaries_of(frame, mixing, flat).reshape(points, samples, self.dim, self.dim)
        return self.strang(np.broadcast_to(rho, (points, self.dim, self.dim)), steps)

    def strang(self, rho: ComplexArray, steps: ComplexArray, step: float | None = None) -> ComplexArray:
        """``E^(1/2) U_k E^(1/2)`` for each unitary, on a batch: ``rho`` ``(b, d, d)``, ``steps``
        ``(b, samples, d, d)``, each unitary lasting ``step`` ns (the grid's by default)."""
        step = self.step if step is None else step
        full, half = self.dissipation(step), self.dissipation(step / 2)
        if self.dim <= _SUPEROPERATOR_DIM and rho.shape[0] == 1 and steps.shape[1] > 1:
            return self._strang_product(rho, steps, full, half)
        rho = self.dissipate(rho, half)
        adjoints = np.conj(np.swapaxes(steps, -1, -2))
        last = steps.shape[1] - 1
        for k in range(steps.shape[1]):
            rho = self.dissipate(steps[:, k] @ rho @ adjoints[:, k], half if k == last else full)
        return np.asarray(rho, dtype=np.complex128)

    def _strang_product(self, rho: ComplexArray, steps: ComplexArray, full: _Dissipation, half: _Dissipation
                        ) -> ComplexArray:
        """The same splitting as one map: each sample's ``E U(.)U^dag`` as a ``d^2 x d^2`` matrix, multiplied
        in time order by pairwise reduction -- no Python loop over samples (a single transmon: 9 x 9)."""
        assert full.dense is not None and half.dense is not None
        batch, count, d = steps.shape[0], steps.shape[1], self.dim
        chunk = max(2, _STACK_BYTES // (batch * d**4 * 16 * 3))
        total = np.broadcast_to(np.eye(d * d, dtype=np.complex128), (batch, d * d, d * d))
        for begin in range(0, count, chunk):
            u = steps[:, begin:begin + chunk]
            # vec(U rho U^dag) = (U kron conj(U)) vec(rho), row-stacked
            maps = np.einsum("bkij,bklm->bkiljm", u, np.conj(u)).reshape(batch, -1, d * d, d * d)
            first = half.dense if begin == 0 else full.dense
            maps[:, 1:] = maps[:, 1:] @ full.dense
            maps[:, 0] = maps[:, 0] @ first
            total = time_ordered_product(maps) @ total
        vec = half.dense @ total @ rho.reshape(batch, d * d, 1)
        return np.asarray(vec.reshape(batch, d, d), dtype=np.complex128)

    def dissipation(self, duration: float) -> _Dissipation:
        """T1 and dephasing over ``duration`` ns, cached. They act on each transmon alone and commute, so
        ``exp(D t)`` is a product of per-transmon maps: one matrix for small groups, applied factor by factor
        (never a d^2 x d^2 matrix) for larger ones."""
        maps = self._dissipations.get(duration)
        if maps is None:
            zero = np.zeros((self.levels, self.levels), dtype=np.complex128)
            local = tuple(np.asarray(sl.expm(liouvillian(zero, _lindblad_ops(p, self.levels)) * duration),
                                     dtype=np.complex128) for p in self._params)
            maps = _Dissipation(local, _kron_all(local) if self.dim <= _DENSE_DIM else None)
            self._dissipations[duration] = maps
        return maps

    def dissipate(self, rho: ComplexArray, maps: _Dissipation) -> ComplexArray:
        """Apply a dissipation map to a batch ``(b, d, d)``."""
        batch, d = rho.shape[0], self.dim
        if maps.dense is not None:
            return np.asarray((rho.reshape(batch, d * d) @ maps.dense.T).reshape(batch, d, d), dtype=np.complex128)
        count, levels = len(self.qubits), self.levels
        tensor = rho.reshape(batch, *([levels] * (2 * count)))
        for i, local in enumerate(maps.local):
            m = local.reshape(levels, levels, levels, levels)  # (row', col', row, col)
            tensor = np.tensordot(tensor, m, axes=([1 + i, 1 + count + i], [2, 3]))
            tensor = np.moveaxis(tensor, [-2, -1], [1 + i, 1 + count + i])
        return np.asarray(tensor.reshape(batch, d, d), dtype=np.complex128)

    def sample_unitaries(self, frame: float, mixing: ComplexArray, amplitudes: ComplexArray) -> ComplexArray:
        """One unitary per grid sample (the product of its substeps), cached by frame and content."""
        digest = hashlib.blake2b(np.ascontiguousarray(amplitudes).tobytes(), digest_size=16)
        digest.update(np.ascontiguousarray(mixing).tobytes())
        digest.update(np.array([frame, *mixing.shape], dtype=np.float64).tobytes())
        key = digest.digest()
        cached = self._unitaries.get(key)
        if cached is not None:
            self._unitaries.move_to_end(key)
            return cached
        steps = self._unitaries_of(frame, mixing, amplitudes)
        self._unitaries[key] = steps
        if len(self._unitaries) > _CACHE_SIZE:
            self._unitaries.popitem(last=False)
        return steps

    def _unitaries_of(self, frame: float, mixing: ComplexArray, amplitudes: ComplexArray) -> ComplexArray:
        """Per-sample unitaries ``(samples, d, d)`` of ``amplitudes`` ``(lines, samples)`` through ``mixing``.

        Each distinct sample is exponentiated once. Distinct means up to a phase common to every line: the
        static Hamiltonian and the dissipators conserve the number of excitations ``N``, so a drive turned by
        ``theta`` gives ``R U R^dag`` with ``R = exp(i theta N)`` -- the same samples of a pulse played at
        another time or after a virtual Z are one unitary. Samples are told apart after rounding each line to
        ``ANGLE_QUANTUM`` of rotation per sample; the first of a kind stands for the rest."""
        lines, count = amplitudes.shape
        turning = np.sum(amplitudes * np.abs(amplitudes), axis=0)  # turns with a phase common to all lines
        size = np.abs(turning)
        phase = np.ones(count, dtype=np.complex128)
        np.divide(turning, size, out=phase, where=size > 0)
        normal = amplitudes * np.conj(phase)
        reach = np.max(np.abs(mixing), axis=(0, 2)) * self.step  # rad per sample per unit of each line
        quantum = np.full(lines, np.inf)
        np.divide(ANGLE_QUANTUM / math.sqrt(2), reach, out=quantum, where=reach > 0)
        keys = np.round(np.ascontiguousarray((normal / quantum[:, None]).T).view(np.float64)).astype(np.int64)
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        drives = np.einsum("qlj,lu->uqj", mixing, normal[:, first])  # (distinct, k, sub)
        distinct = self._exact(frame, drives.reshape(first.shape[0], mixing.shape[0], -1), mixing.shape[2])[:, 0]
        turns = np.power(phase[:, None], self._counts[None, :])
        return np.asarray(turns[:, :, None] * distinct[inverse.reshape(-1)] * np.conj(turns)[:, None, :],
                          dtype=np.complex128)

    def _exact(self, frame: float, drives: ComplexArray, sub: int) -> ComplexArray:
        """Per-sample unitaries for a batch of drives ``(points, k, samples * sub)`` -> ``(points, samples, d, d)``,
        computed in slices of samples so that the stack of Hamiltonians stays under ``_STACK_BYTES``."""
        points, count = drives.shape[0], drives.shape[2]
        per_sample = points * sub * self.dim * self.dim * 16
        samples = count // sub
        chunk = max(1, _STACK_BYTES // per_sample)
        if points > 1 and samples == 1 and per_sample > _STACK_BYTES:
            rows = max(1, _STACK_BYTES // (sub * self.dim * self.dim * 16))
            return np.concatenate([self._exact(frame, drives[i:i + rows], sub) for i in range(0, points, rows)])
        if samples > chunk:
            return np.concatenate([self._exact(frame, drives[:, :, i * sub:(i + chunk) * sub], sub)
                                   for i in range(0, samples, chunk)], axis=1)
        hamiltonians = np.broadcast_to(self.static(frame), (points, count, self.dim, self.dim)).copy()
        for i, (x, y) in enumerate(self._drives):
            w = drives[:, i]
            if np.any(w):
                hamiltonians += w.real[..., None, None] * x
                hamiltonians += w.imag[..., None, None] * y
        steps = unitaries(hamiltonians, self.step / sub)
        if sub > 1:
            steps = time_ordered_product(steps.reshape(points, count // sub, sub, self.dim, self.dim))
        return steps

    def populations(self, rho: ComplexArray) -> NDArray[np.float64]:
        """The bare (uncoupled) transmon levels' populations: ``rho``'s diagonal."""
        return np.clip(np.real(np.diagonal(rho)), 0.0, None)

    def measured_populations(self, rho: ComplexArray) -> NDArray[np.float64]:
        """The populations a readout sees: ``rho``'s diagonal in the dressed basis (the eigenstates of the static
        Hamiltonian, each labelled by the bare state it mostly is), indexed like :meth:`populations`.

        A dispersive readout lasts hundreds of ns, many periods of the qubits' detuning, so it resolves the
        exchange-coupled eigenstates, not the bare ones. The bare populations of a state with coherence between
        ``|01>`` and ``|10>`` beat at the detuning by ``+-4 (J / Delta) |a b|`` in ``<Z>`` (+-0.014 on
        virtual_2q for H2's state); sampling them at the instant the acquisition opens made every readout
        depend on its start time modulo ~10 ns. The dressed populations are constant while the group idles (up
        to decay)."""
        basis = self._dressed_basis()
        if basis is None:
            return self.populations(rho)
        diagonal = np.sum(np.conj(basis) * (rho @ basis), axis=0)       # diag(V^dag rho V)
        return np.asarray(np.clip(np.real(diagonal), 0.0, None), dtype=np.float64)

    def _dressed_basis(self) -> ComplexArray | None:
        """Columns: the dressed eigenvectors, column k the one closest to bare state k (None without couplings).
        The static Hamiltonian conserves the number of excitations, so each block of equal count is diagonalised
        alone (no accidental degeneracy across blocks can mix them), and its eigenvectors are matched one to one
        to its bare states by the largest total overlap."""
        if not self._couplings:
            return None
        if self._dressed is None:
            h = self.static(float(np.mean(self._frequencies)))
            basis = np.zeros((self.dim, self.dim), dtype=np.complex128)
            for count in np.unique(self._counts):
                states = np.flatnonzero(self._counts == count)
                _, vectors = np.linalg.eigh(h[np.ix_(states, states)])
                bare, dressed = linear_sum_assignment(-np.abs(vectors) ** 2)
                basis[np.ix_(states, states[bare])] = vectors[:, dressed]
            self._dressed = basis
        return self._dressed
