"""IQ points -> bits -> counts and readout-corrected probabilities, as pure functions over numpy arrays.

Why it exists: the calibration experiments, the runtime's primitives and mitigation all need the same step
after an executor run (``RawAcquisitions``, one complex array ``(..., shots)`` per memory slot): classify
each shot with the stored discriminators, count outcomes, and undo readout errors. Before this module that
lived inside calibration, tied to its ``Context``. Nothing here imports another qubitlab layer except
:mod:`qubitlab.errors`; every input is an array or a mapping of calibrated values.

Conventions are Qiskit's, exactly:

- a bit array is ``uint8`` of shape ``(..., shots, n_bits)`` whose last axis is the **memory slot**;
- an outcome's integer is ``sum(bit[k] << k)``: memory slot 0 is the least significant bit;
- a bitstring prints slot 0 rightmost (``'10'``: slot 1 = 1, slot 0 = 0), as in ``Counts``;
- probabilities are ``(..., 2**n)`` indexed by that integer; assignment matrices are ``M[measured, prepared]``
  in the same index, and a tensored matrix is ``kron(M[n-1], ..., M[0])``;
- :func:`pack_bits` gives ``qiskit.primitives.BitArray.array``'s layout: the integer as big-endian bytes, so
  the last byte holds slots 0-7 (slot 0 in its least significant bit).

Data errors (shapes, non-binary bits) raise :class:`DriverError` (the data came from a digitizer); missing or
unusable calibrations (discriminators, assignment matrices) raise :class:`CalibrationError`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qubitlab.errors import CalibrationError, DriverError

BitArray = NDArray[np.uint8]
FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
SlotData = Sequence[ArrayLike] | Mapping[int, ArrayLike]
"""IQ per memory slot: ``data[k]`` is slot k's complex array ``(..., shots)`` (``RawAcquisitions.data`` fits)."""

DISCRIMINATOR_KEYS = ("iq0_re", "iq0_im", "iq1_re", "iq1_im")
MAX_FULL_MATRIX_BITS = 4
"""Largest register for :func:`full_assignment_matrix` (2**n preparations of 2**n outcomes each)."""
MAX_JOINT_CENTRE_BITS = 8
MAX_PROBABILITY_BITS = 20


# -- classifiers ----------------------------------------------------------------------------------------------------
class Classifier(Protocol):
    """Anything that turns per-slot IQ data into a bit array ``(..., shots, num_bits)``."""

    @property
    def num_bits(self) -> int: ...

    def bits(self, iqs: SlotData) -> BitArray: ...


@dataclass(frozen=True)
class Discriminator:
    """One qubit's nearest-centre discriminator: a shot is |1> when it is closer to ``centre1`` than to
    ``centre0`` (a tie reads |0>). The boundary is the perpendicular bisector of the two centres."""

    centre0: complex
    centre1: complex

    def __post_init__(self) -> None:
        centres = (self.centre0, self.centre1)
        if not all(math.isfinite(c.real) and math.isfinite(c.imag) for c in centres):
            raise CalibrationError(f"discriminator centres must be finite, got {centres}; rerun the readout "
                                   "experiment")
        if self.centre0 == self.centre1:
            raise CalibrationError(f"discriminator centres are equal ({self.centre0}): |0> and |1> cannot be "
                                   "told apart; rerun the readout experiment with more readout power or length")

    @classmethod
    def from_values(cls, values: Mapping[str, float], qubit: int) -> Discriminator:
        """From calibrated values ``q<qubit>.iq0_re``, ``.iq0_im``, ``.iq1_re``, ``.iq1_im``."""
        keys = [f"q{qubit}.{k}" for k in DISCRIMINATOR_KEYS]
        missing = [k for k in keys if k not in values]
        if missing:
            raise CalibrationError(f"no discriminator for qubit {qubit}: missing {', '.join(missing)}; run the "
                                   f"readout experiment on q{qubit} first")
        re0, im0, re1, im1 = (float(values[k]) for k in keys)
        return cls(complex(re0, im0), complex(re1, im1))

    def assign(self, iq: ArrayLike) -> NDArray[np.bool_]:
        """Per point, True where the shot reads |1>; any shape, vectorised."""
        z = np.asarray(iq, dtype=np.complex128)
        axis = self.centre1 - self.centre0
        middle = (self.centre0 + self.centre1) / 2
        # |z - c1| < |z - c0|  <=>  Re((z - middle) * conj(c1 - c0)) > 0: one multiply, no square roots.
        projected = (z.real - middle.real) * axis.real + (z.imag - middle.imag) * axis.imag
        return np.asarray(projected > 0)


@dataclass(frozen=True)
class JointDiscriminator:
    """A register read qubit by qubit: ``discriminators[k]`` classifies memory slot k."""

    discriminators: tuple[Discriminator, ...]

    def __post_init__(self) -> None:
        if not self.discriminators:
            raise CalibrationError("a JointDiscriminator needs at least one per-slot Discriminator")

    @classmethod
    def from_values(cls, values: Mapping[str, float], qubits: Sequence[int]) -> JointDiscriminator:
        """``qubits[k]`` is the qubit measured into memory slot k."""
        return cls(tuple(Discriminator.from_values(values, q) for q in qubits))

    @property
    def num_bits(self) -> int:
        return len(self.discriminators)

    def bits(self, iqs: SlotData) -> BitArray:
        z = stack_slots(iqs, self.num_bits)
        out = np.empty(z.shape, dtype=np.uint8)
        for k, d in enumerate(self.discriminators):
            out[..., k] = d.assign(z[..., k])
        return out


@dataclass(frozen=True, eq=False)
class JointCentres:
    """Nearest centre in the joint IQ^n space: row j of ``centres`` ``(2**n, n)`` is where the register lands
    when prepared in basis state j (slot 0 least significant). For multiplexed readout whose per-qubit blobs
    move with a neighbour's state, where per-qubit discriminators fail."""

    centres: ComplexArray

    def __post_init__(self) -> None:
        c = np.array(self.centres, dtype=np.complex128)   # a copy: the caller's array stays writable
        n = c.shape[1] if c.ndim == 2 else 0
        if c.ndim != 2 or not 1 <= n <= MAX_JOINT_CENTRE_BITS or c.shape[0] != 2**n:
            raise CalibrationError(f"JointCentres needs centres of shape (2**n, n) with 1 <= n <= "
                                   f"{MAX_JOINT_CENTRE_BITS}, got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise CalibrationError("JointCentres has non-finite centres; rerun the joint readout calibration")
        c.setflags(write=False)
        object.__setattr__(self, "centres", c)

    @classmethod
    def from_preparations(cls, prepared: Sequence[SlotData]) -> JointCentres:
        """``prepared[j]`` is the per-slot IQ ``(shots,)`` measured after preparing basis state j; each
        centre is the per-quadrature median (robust to shots that decayed, as the readout experiment does)."""
        n = len(prepared).bit_length() - 1
        if len(prepared) < 2 or len(prepared) != 2**n:
            raise CalibrationError(f"JointCentres.from_preparations needs 2**n preparations, got {len(prepared)}")
        rows = []
        for z in (stack_slots(p, n).reshape(-1, n) for p in prepared):
            rows.append(np.median(z.real, axis=0) + 1j * np.median(z.imag, axis=0))
        return cls(np.asarray(rows, dtype=np.complex128))

    @property
    def num_bits(self) -> int:
        return int(self.centres.shape[1])

    def outcomes(self, iqs: SlotData) -> NDArray[np.int64]:
        """Per shot, the index of the nearest joint centre ``(..., shots)``."""
        z = stack_slots(iqs, self.num_bits)
        # |z - c_j|^2 = |z|^2 - 2 Re(z . conj c_j) + |c_j|^2; |z|^2 is the same for every j, so the nearest
        # centre is the smallest |c_j|^2 - 2 Re(z . conj c_j): one real matrix product over [Re z, Im z].
        c = self.centres
        quadratures = np.concatenate([z.real, z.imag], axis=-1)                  # (..., shots, 2n)
        weights = -2.0 * np.concatenate([c.real, c.imag], axis=-1).T             # (2n, 2**n)
        score = quadratures @ weights + np.sum(np.abs(c) ** 2, axis=-1)
        return np.asarray(np.argmin(score, axis=-1), dtype=np.int64)

    def bits(self, iqs: SlotData) -> BitArray:
        return outcomes_to_bits(self.outcomes(iqs), self.num_bits)


def stack_slots(iqs: SlotData, num_bits: int) -> ComplexArray:
    """Per-slot IQ arrays ``(..., shots)`` -> one complex array ``(..., shots, num_bits)``."""
    if isinstance(iqs, Mapping):
        missing = [k for k in range(num_bits) if k not in iqs]
        if missing:
            raise DriverError(f"IQ data has no memory slot(s) {missing}; the classifier reads slots "
                              f"0..{num_bits - 1} (slots present: {sorted(iqs)})")
        arrays = [np.asarray(iqs[k], dtype=np.complex128) for k in range(num_bits)]
    else:
        if len(iqs) != num_bits:
            raise DriverError(f"IQ data has {len(iqs)} memory slot(s), the classifier reads {num_bits}")
        arrays = [np.asarray(z, dtype=np.complex128) for z in iqs]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim < 1:
        raise DriverError(f"IQ data per memory slot must share one shape (..., shots), got "
                          f"{[a.shape for a in arrays]}")
    return np.stack(arrays, axis=-1)


# -- bit arrays, outcomes, counts -----------------------------------------------------------------------------------
def _checked_bits(bits: ArrayLike, name: str = "bits") -> BitArray:
    b = np.asarray(bits)
    if b.ndim < 2 or b.shape[-1] < 1:
        raise DriverError(f"{name} must have shape (..., shots, n_bits) with n_bits >= 1, got {b.shape}")
    if b.dtype == np.bool_:
        return np.asarray(b, dtype=np.uint8)
    if not np.issubdtype(b.dtype, np.integer) or np.any((b != 0) & (b != 1)):
        raise DriverError(f"{name} must hold only 0 and 1 (bool or integer dtype), got dtype {b.dtype}")
    return np.asarray(b, dtype=np.uint8)


def bits_to_outcomes(bits: ArrayLike) -> NDArray[np.int64]:
    """Per shot, the outcome integer ``sum(bit[k] << k)`` ``(..., shots)``."""
    b = _checked_bits(bits)
    if b.shape[-1] > 62:
        raise DriverError(f"outcome integers hold at most 62 bits, got {b.shape[-1]}; use pack_bits")
    weights = np.left_shift(np.int64(1), np.arange(b.shape[-1], dtype=np.int64))
    return np.asarray(b.astype(np.int64) @ weights, dtype=np.int64)


def outcomes_to_bits(outcomes: ArrayLike, num_bits: int) -> BitArray:
    """Outcome integers ``(..., shots)`` -> bit array ``(..., shots, num_bits)``."""
    o = np.asarray(outcomes, dtype=np.int64)
    return np.asarray((o[..., None] >> np.arange(num_bits, dtype=np.int64)) & 1, dtype=np.uint8)


def bitstring(outcome: int, num_bits: int) -> str:
    """``bitstring(1, 2) == '01'``: slot 0 rightmost, zero-padded to the register width."""
    return format(outcome, f"0{num_bits}b")


def int_counts(bits: ArrayLike) -> dict[int, int]:
    """``{outcome integer: shots}`` over every shot of every point (index ``bits[point]`` for one point),
    observed outcomes only, in increasing order."""
    values, tally = np.unique(bits_to_outcomes(bits).ravel(), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, tally)}


def counts(bits: ArrayLike) -> dict[str, int]:
    """``{bitstring: shots}`` like Qiskit's ``Counts`` / ``BitArray.get_counts()`` (slot 0 rightmost)."""
    n = int(np.shape(bits)[-1])
    return {bitstring(v, n): c for v, c in int_counts(bits).items()}


def probabilities(bits: ArrayLike) -> FloatArray:
    """Per point, the outcome frequencies ``(..., 2**n)`` over the shots axis."""
    b = _checked_bits(bits)
    n = b.shape[-1]
    if n > MAX_PROBABILITY_BITS:
        raise DriverError(f"probabilities over {n} bits need 2**{n} entries per point; at most "
                          f"{MAX_PROBABILITY_BITS} bits, use counts() for wider registers")
    outcomes = bits_to_outcomes(b)
    shots = outcomes.shape[-1]
    if shots == 0:
        raise DriverError(f"probabilities of bits with no shots (shape {b.shape}) are undefined")
    rows = outcomes.reshape(-1, shots)
    offsets = (np.arange(rows.shape[0], dtype=np.int64) * 2**n)[:, None]
    tally = np.bincount((rows + offsets).ravel(), minlength=rows.shape[0] * 2**n)
    return np.asarray(tally.reshape(outcomes.shape[:-1] + (2**n,)) / shots, dtype=np.float64)


def pack_bits(bits: ArrayLike) -> BitArray:
    """Bit array ``(..., shots, n)`` -> ``(..., shots, ceil(n/8))`` bytes in Qiskit ``BitArray`` layout."""
    b = _checked_bits(bits)
    n = b.shape[-1]
    pad = np.zeros(b.shape[:-1] + ((-n) % 8,), dtype=np.uint8)
    big_endian = np.concatenate([pad, b[..., ::-1]], axis=-1)   # most significant slot first
    return np.packbits(big_endian, axis=-1)


def unpack_bits(packed: ArrayLike, num_bits: int) -> BitArray:
    """Inverse of :func:`pack_bits`: Qiskit ``BitArray.array`` bytes -> bit array ``(..., shots, num_bits)``."""
    p = np.asarray(packed)
    width = -(-num_bits // 8)
    if p.dtype != np.uint8 or p.ndim < 2 or num_bits < 1 or p.shape[-1] != width:
        raise DriverError(f"packed bits must be uint8 of shape (..., shots, {width}) for {num_bits} bits, got "
                          f"{p.dtype} {p.shape}")
    unpacked = np.unpackbits(p, axis=-1)[..., 8 * width - num_bits:]
    return np.ascontiguousarray(unpacked[..., ::-1])


unpack = unpack_bits
"""Short alias of :func:`unpack_bits`."""


# -- readout assignment matrices and mitigation ---------------------------------------------------------------------
class Mitigation(enum.Enum):
    """How :func:`mitigate` undoes readout errors."""

    INVERSE = "inverse"
    """Apply the inverse assignment matrix; unbiased, but entries can go negative with shot noise."""
    NEAREST_PROBABILITY = "nearest_probability"
    """The inverse, then the nearest probability vector in the 2-norm (Smolin, Gambetta, Smith 2012)."""


Assignment = ArrayLike | Sequence[ArrayLike]
"""A full ``(2**n, 2**n)`` assignment matrix, or ``n`` ``2x2`` matrices, one per memory slot (tensored)."""


def assignment_matrix_1q(p1_given_0: float, p1_given_1: float) -> FloatArray:
    """``M[measured, prepared]`` of one qubit from P(read 1 | prepared 0) and P(read 1 | prepared 1)."""
    for name, p in (("p1_given_0", p1_given_0), ("p1_given_1", p1_given_1)):
        if not 0.0 <= p <= 1.0:
            raise CalibrationError(f"assignment_matrix_1q: {name} = {p} is not a probability in [0, 1]")
    return np.array([[1 - p1_given_0, 1 - p1_given_1], [p1_given_0, p1_given_1]], dtype=np.float64)


def _checked_matrix(matrix: ArrayLike, what: str) -> FloatArray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] & (m.shape[0] - 1) or m.shape[0] < 2:
        raise CalibrationError(f"{what} must be a square (2**n, 2**n) assignment matrix, got shape {m.shape}")
    if np.any(m < -1e-12) or not np.allclose(m.sum(axis=0), 1.0, atol=1e-9):
        raise CalibrationError(f"{what} must be M[measured, prepared] with non-negative columns summing to 1; "
                               f"column sums {np.round(m.sum(axis=0), 6).tolist()}")
    return m


def tensored(matrices: Sequence[ArrayLike]) -> FloatArray:
    """The register's assignment matrix from per-slot ``2x2`` ones: ``kron(M[n-1], ..., M[0])``."""
    full: FloatArray = np.ones((1, 1), dtype=np.float64)
    for k, m in enumerate(matrices):
        full = np.asarray(np.kron(_checked_1q(m, k), full), dtype=np.float64)   # later slots more significant
    return full


def _checked_1q(matrix: ArrayLike, slot: int) -> FloatArray:
    m = _checked_matrix(matrix, f"assignment matrix of memory slot {slot}")
    if m.shape != (2, 2):
        raise CalibrationError(f"assignment matrix of memory slot {slot} must be 2x2, got {m.shape}")
    return m


def full_assignment_matrix(bits_per_prep: Sequence[ArrayLike]) -> FloatArray:
    """``M[measured, prepared]`` from 2**n experiments: ``bits_per_prep[j]`` ``(shots, n)`` was measured after
    preparing basis state j. Catches correlated readout errors the tensored form misses; n <= 4."""
    count = len(bits_per_prep)
    n = max(count.bit_length() - 1, 0)
    if count < 2 or count != 2**n:
        raise CalibrationError(f"full_assignment_matrix needs 2**n preparations (one per basis state), "
                               f"got {count}")
    if n > MAX_FULL_MATRIX_BITS:
        raise CalibrationError(f"full_assignment_matrix over {n} qubits needs 2**{n} preparations; at most "
                               f"{MAX_FULL_MATRIX_BITS} qubits, use tensored per-qubit matrices instead")
    columns = []
    for j, bits in enumerate(bits_per_prep):
        b = _checked_bits(bits, f"bits_per_prep[{j}]")
        if b.ndim != 2 or b.shape[-1] != n:
            raise DriverError(f"bits_per_prep[{j}] must have shape (shots, {n}), got {b.shape}")
        columns.append(probabilities(b))
    return np.asarray(np.stack(columns, axis=-1), dtype=np.float64)


def _per_slot_apply(probs: FloatArray, operators: Sequence[FloatArray]) -> FloatArray:
    """Apply ``operators[k]`` (2x2) to the slot-k index of ``probs`` ``(..., 2**n)`` without the 2**n matrix."""
    n = len(operators)
    lead = probs.shape[:-1]
    x = probs
    for k, op in enumerate(operators):
        # slot k is bit k of the outcome index: the middle axis of (2**(n-1-k), 2, 2**k) in C order, and
        # op @ x contracts op's columns with that axis, broadcast over the rest
        x = np.matmul(op, x.reshape(lead + (2 ** (n - 1 - k), 2, 2**k)))
    return np.asarray(x.reshape(probs.shape), dtype=np.float64)


def _inverse(matrix: FloatArray, what: str) -> FloatArray:
    singular_values = np.linalg.svd(matrix, compute_uv=False)
    if singular_values[-1] <= 1e-12 * singular_values[0]:
        raise CalibrationError(f"{what} is singular (readout cannot tell the outcomes apart); recalibrate "
                               "the readout")
    return np.asarray(np.linalg.inv(matrix), dtype=np.float64)


def _inverse_operators(assignment: Assignment, size: int) -> list[FloatArray] | FloatArray:
    """Per-slot inverses (a list) for a tensored assignment ``(n, 2, 2)``, or the full inverse (an array)."""
    n = size.bit_length() - 1
    try:
        a = np.asarray(assignment, dtype=np.float64)
    except ValueError as error:
        raise CalibrationError(f"the assignment must be one (2**n, 2**n) matrix or n 2x2 matrices: {error}"
                               ) from None
    if a.ndim == 3:
        if a.shape[0] != n:
            raise CalibrationError(f"{a.shape[0]} per-slot assignment matrices for probabilities over {n} bits")
        return [_inverse(_checked_1q(m, k), f"assignment matrix of memory slot {k}") for k, m in enumerate(a)]
    m = _checked_matrix(a, "the assignment matrix")
    if m.shape[0] != size:
        raise CalibrationError(f"the assignment matrix is {m.shape} but the probabilities have {size} "
                               f"outcomes ({n} bits)")
    return _inverse(m, "the assignment matrix")


def corrected_weights(weights: ArrayLike, assignment: Assignment) -> FloatArray:
    """Outcome weights ``w`` (an observable diagonal in the measured basis, one entry per outcome) turned into
    ``M^-T w``, so that ``measured_probs @ corrected == mitigated_probs @ w`` and the per-shot variance of the
    corrected estimator is ``p @ corrected**2 - (p @ corrected)**2`` (what :func:`expectation_z` does for one
    parity, for any weights)."""
    w = np.asarray(weights, dtype=np.float64)
    inverse = _inverse_operators(assignment, w.shape[-1])
    if isinstance(inverse, list):
        return _per_slot_apply(w, [m.T for m in inverse])
    return np.asarray(inverse.T @ w, dtype=np.float64)


def corrected_weight_derivatives(weights: ArrayLike, assignment: Assignment) -> FloatArray:
    """The derivatives of :func:`corrected_weights` with respect to each memory slot's readout errors, shape
    ``(n, 2, 2**n)``: entry ``[k, c]`` is d/dP(1|c) of slot k's 2x2 matrix with its column kept stochastic
    (P(0|c) = 1 - P(1|c)), exactly: d(A^-1) = -A^-1 dA A^-1 on slot k, the other slots' inverses unchanged.
    What the readout calibration's own shot noise adds to a corrected mean's variance is built from these
    (first order: sum over k, c of (p @ d[k, c])**2 var(P(1|c)))."""
    w = np.asarray(weights, dtype=np.float64)
    inverse = _inverse_operators(assignment, w.shape[-1])
    if not isinstance(inverse, list):
        raise CalibrationError("corrected_weight_derivatives needs per-slot (n, 2, 2) assignment matrices")
    return _derivatives(w, inverse)


def corrected_weights_with_derivatives(weights: ArrayLike, assignment: Assignment) -> tuple[FloatArray, FloatArray]:
    """:func:`corrected_weights` and :func:`corrected_weight_derivatives` of per-slot ``(n, 2, 2)`` matrices
    from one inversion (the estimator needs both for every basis of every call). ``weights`` may stack several
    observables' weights ``(..., 2**n)``: the results are ``(..., 2**n)`` and ``(n, 2, ..., 2**n)``."""
    w = np.asarray(weights, dtype=np.float64)
    inverse = _inverse_operators(assignment, w.shape[-1])
    if not isinstance(inverse, list):
        raise CalibrationError("corrected_weight_derivatives needs per-slot (n, 2, 2) assignment matrices")
    return _per_slot_apply(w, [m.T for m in inverse]), _derivatives(w, inverse)


def _derivatives(w: FloatArray, inverse: list[FloatArray]) -> FloatArray:
    transposed = [m.T for m in inverse]
    out = np.zeros((len(inverse), 2) + w.shape)
    for k, a_inv in enumerate(inverse):
        for column in (0, 1):
            change = np.zeros((2, 2))
            change[1, column], change[0, column] = 1.0, -1.0
            operators = list(transposed)
            operators[k] = -(a_inv @ change @ a_inv).T
            out[k, column] = _per_slot_apply(w, operators)
    return out


def _checked_probs(probs: ArrayLike) -> FloatArray:
    p = np.asarray(probs, dtype=np.float64)
    size = p.shape[-1] if p.ndim else 0
    if size < 2 or size & (size - 1):
        raise DriverError(f"probabilities must have shape (..., 2**n) with n >= 1, got {p.shape}")
    return p


def mitigate(probs: ArrayLike, assignment: Assignment, *, method: Mitigation = Mitigation.INVERSE
             ) -> FloatArray:
    """Readout-corrected probabilities ``(..., 2**n)``: ``M^-1 p`` for a full matrix, per-slot inverses
    contracted on each slot's axis for a list of 2x2 matrices (same result as the kron, never built)."""
    p = _checked_probs(probs)
    inverse = _inverse_operators(assignment, p.shape[-1])
    if isinstance(inverse, list):
        corrected = _per_slot_apply(p, inverse)
    else:
        corrected = np.asarray(p @ inverse.T, dtype=np.float64)
    if method is Mitigation.NEAREST_PROBABILITY:
        return nearest_probability(corrected)
    return corrected


def nearest_probability(values: ArrayLike) -> FloatArray:
    """The probability vector nearest in the 2-norm to each row ``(..., d)`` (Smolin, Gambetta, Smith,
    PRL 108, 070502 (2012)). Their pass sorts descending, then from the smallest entry up zeroes every
    entry ``mu_i`` with ``mu_i + a/i < 0`` (``a`` the running sum of the zeroed ones) and adds ``a/i`` to
    the ``i`` kept; written here in closed form: with ``S_i`` the sum of the ``i`` largest, keep the largest
    ``i`` with ``mu_i > (S_i - 1)/i`` and subtract that threshold. Rows need not sum to 1."""
    mu = np.asarray(values, dtype=np.float64)
    if mu.ndim == 0 or mu.shape[-1] < 1 or not np.all(np.isfinite(mu)):
        raise DriverError(f"nearest_probability needs finite rows (..., d), got shape {mu.shape}")
    ordered = -np.sort(-mu, axis=-1)
    ranks = np.arange(1, mu.shape[-1] + 1, dtype=np.float64)
    thresholds = (np.cumsum(ordered, axis=-1) - 1.0) / ranks
    kept = np.sum(ordered > thresholds, axis=-1, keepdims=True)   # the condition holds for exactly 1..kept
    theta = np.take_along_axis(thresholds, kept - 1, axis=-1)
    return np.asarray(np.maximum(mu - theta, 0.0), dtype=np.float64)


class Expectation(NamedTuple):
    value: FloatArray
    stderr: FloatArray


def _slot_mask(mask: int | Sequence[int], n: int) -> int:
    bitmask = mask if isinstance(mask, int) else sum(1 << k for k in set(mask))
    if bitmask <= 0 or bitmask >> n:
        raise DriverError(f"expectation_z mask {mask!r} must select one or more of memory slots 0..{n - 1} "
                          "(an int bitmask, bit k = slot k, or a list of slots)")
    return bitmask


def expectation_z(probs: ArrayLike, mask: int | Sequence[int], shots: int,
                  assignment: Assignment | None = None) -> Expectation:
    """``<Z...Z>`` over the masked slots from *measured* probabilities ``(..., 2**n)``, with its standard error
    from ``shots`` (multinomial). With ``assignment`` the value is readout-corrected (inverse) and the error
    propagated through the same linear map: value ``w.p`` with ``w = M^-T s``, variance
    ``(sum w^2 p - (w.p)^2) / shots``. (Passing already-mitigated probabilities without ``assignment``
    gives the right value but understates the error.)"""
    p = _checked_probs(probs)
    size = p.shape[-1]
    bitmask = _slot_mask(mask, size.bit_length() - 1)
    parity = np.array([bin(i & bitmask).count("1") & 1 for i in range(size)], dtype=np.float64)
    weights = 1.0 - 2.0 * parity
    if assignment is not None:
        inverse = _inverse_operators(assignment, size)
        if isinstance(inverse, list):
            weights = _per_slot_apply(weights, [m.T for m in inverse])
        else:
            weights = np.asarray(inverse.T @ weights, dtype=np.float64)
    if shots < 1:
        raise DriverError(f"expectation_z needs shots >= 1, got {shots}")
    value = np.asarray(p @ weights, dtype=np.float64)
    variance = np.maximum(p @ weights**2 - value**2, 0.0) / shots
    return Expectation(value, np.asarray(np.sqrt(variance), dtype=np.float64))
