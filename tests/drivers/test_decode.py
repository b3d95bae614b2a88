"""qubitlab.drivers.decode against closed forms and hand-written Qiskit examples.

Expected values come from the Gaussian error function, hand-computed bytes and bitstrings (Qiskit's
conventions: memory slot 0 is the least significant bit and prints rightmost), explicit per-entry products
for tensored matrices, the worked simplex projection of Smolin, Gambetta and Smith (2012), and a generic
constrained optimiser (scipy SLSQP) as an independent reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.optimize import minimize

from qubitlab.drivers import decode
from qubitlab.drivers.decode import (Discriminator, JointCentres, JointDiscriminator, Mitigation,
                                     assignment_matrix_1q)
from qubitlab.errors import CalibrationError, DriverError, QubitlabError

RNG_SEED = 20240614


def cloud(rng: np.random.Generator, centre: complex, sigma: float, shots: int) -> np.ndarray:
    """Shots of a circular Gaussian blob: independent N(0, sigma) noise on each quadrature."""
    return centre + sigma * (rng.standard_normal(shots) + 1j * rng.standard_normal(shots))


def binomial_sigma(p: float, shots: int) -> float:
    return math.sqrt(p * (1 - p) / shots)


# -- per-qubit discriminator ----------------------------------------------------------------------------------------
def test_assignment_error_of_a_gaussian_cloud_is_erfc() -> None:
    """Two blobs a distance d apart with per-quadrature spread sigma: a shot crosses the bisector with
    probability P(N(0, sigma) > d/2) = erfc(d / (2 sqrt(2) sigma)) / 2, for either preparation."""
    rng = np.random.default_rng(RNG_SEED)
    c0, c1, sigma, shots = 0.3 + 0.1j, -0.2 + 0.6j, 0.25, 200_000
    d = abs(c1 - c0)
    expected = math.erfc(d / (2 * math.sqrt(2) * sigma)) / 2          # ~0.0786 here
    disc = Discriminator(c0, c1)
    p1_given_0 = float(np.mean(disc.assign(cloud(rng, c0, sigma, shots))))
    p0_given_1 = float(np.mean(~disc.assign(cloud(rng, c1, sigma, shots))))
    for measured in (p1_given_0, p0_given_1):
        assert abs(measured - expected) < 3 * binomial_sigma(expected, shots)


def test_assign_is_nearest_centre_over_any_shape() -> None:
    rng = np.random.default_rng(1)
    c0, c1 = 1.0 - 0.5j, -0.3 + 0.2j
    z = rng.normal(size=(3, 4, 50)) + 1j * rng.normal(size=(3, 4, 50))
    assigned = Discriminator(c0, c1).assign(z)
    assert assigned.shape == (3, 4, 50) and assigned.dtype == np.bool_
    assert np.array_equal(assigned, np.abs(z - c1) < np.abs(z - c0))
    assert Discriminator(c0, c1).assign(c1).item() and not Discriminator(c0, c1).assign(c0).item()
    assert not Discriminator(0, 2).assign(1 + 5j).item()   # on the bisector: a tie reads |0>, as before


def test_discriminator_from_stored_values_and_missing_keys() -> None:
    values = {"q3.iq0_re": 1.0, "q3.iq0_im": -2.0, "q3.iq1_re": 0.5, "q3.iq1_im": 4.0, "q3.f01": 5e9}
    assert Discriminator.from_values(values, 3) == Discriminator(1 - 2j, 0.5 + 4j)
    partial = {k: v for k, v in values.items() if k != "q3.iq1_im"}
    with pytest.raises(CalibrationError, match=r"q3\.iq1_im.*readout experiment"):
        Discriminator.from_values(partial, 3)
    with pytest.raises(CalibrationError, match=r"q0\.iq0_re, q0\.iq0_im, q0\.iq1_re, q0\.iq1_im"):
        JointDiscriminator.from_values(values, [3, 0])


def test_unusable_discriminators_are_refused() -> None:
    with pytest.raises(CalibrationError, match="cannot be told apart"):
        Discriminator(1 + 1j, 1 + 1j)
    with pytest.raises(CalibrationError, match="finite"):
        Discriminator(complex(math.nan, 0), 1j)


# -- Qiskit bit ordering ---------------------------------------------------------------------------------------------
def test_slot_zero_is_the_least_significant_rightmost_bit() -> None:
    # shots as (slot0, slot1): Qiskit prints slot 0 rightmost, so slot0=1, slot1=0 is '01', integer 1.
    bits = np.array([[1, 0], [1, 0], [0, 1], [1, 1], [0, 0], [1, 0]], dtype=np.uint8)
    assert decode.counts(bits) == {"00": 1, "01": 3, "10": 1, "11": 1}
    assert decode.int_counts(bits) == {0: 1, 1: 3, 2: 1, 3: 1}
    assert decode.bits_to_outcomes(bits).tolist() == [1, 1, 2, 3, 0, 1]
    assert decode.bitstring(1, 3) == "001" and decode.bitstring(6, 3) == "110"
    assert np.array_equal(decode.outcomes_to_bits([6], 3), [[0, 1, 1]])
    assert np.allclose(decode.probabilities(bits), [1 / 6, 3 / 6, 1 / 6, 1 / 6])


def test_probabilities_per_point_and_counts_union_over_points() -> None:
    bits = np.array([[[0, 0], [0, 0], [1, 0], [0, 0]],     # point 0: '00' x3, '01' x1
                     [[1, 1], [0, 1], [1, 1], [1, 1]]])    # point 1: '11' x3, '10' x1
    assert np.allclose(decode.probabilities(bits), [[0.75, 0.25, 0, 0], [0, 0, 0.25, 0.75]])
    assert decode.counts(bits) == {"00": 3, "01": 1, "10": 1, "11": 3}
    assert decode.counts(bits[1]) == {"10": 1, "11": 3}


def test_pack_bits_matches_qiskit_bitarray_bytes() -> None:
    # 10 slots: slots 0, 2, 3 and 8 set -> integer 1 + 4 + 8 + 256 = 269 = 0x010D -> big-endian bytes 01 0D;
    # slot 9 alone -> 512 = 0x0200 -> bytes 02 00 (the first byte holds slots 8-9, the last slots 0-7).
    bits = np.array([[1, 0, 1, 1, 0, 0, 0, 0, 1, 0],
                     [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]], dtype=np.uint8)
    packed = decode.pack_bits(bits)
    assert packed.dtype == np.uint8 and packed.tolist() == [[0x01, 0x0D], [0x02, 0x00]]
    assert np.array_equal(decode.unpack(packed, 10), bits)
    # 3 slots, '110' (slot1 = slot2 = 1) -> one byte 6, as BitArray.from_samples(['110']).array
    assert decode.pack_bits([[0, 1, 1]]).tolist() == [[6]]
    eight = np.array([[[1, 0, 0, 0, 0, 0, 0, 1]]])                   # (points, shots, 8): slot 7 + slot 0
    assert decode.pack_bits(eight).tolist() == [[[0x81]]]


def test_pack_round_trips_random_bits_and_rejects_wrong_widths() -> None:
    rng = np.random.default_rng(2)
    for n in (1, 7, 8, 9, 17):
        bits = rng.integers(0, 2, size=(3, 5, n)).astype(np.uint8)
        packed = decode.pack_bits(bits)
        assert packed.shape == (3, 5, -(-n // 8))
        ints = [int.from_bytes(row.tobytes(), "big") for row in packed.reshape(-1, packed.shape[-1])]
        assert ints == decode.bits_to_outcomes(bits).ravel().tolist()
        assert np.array_equal(decode.unpack_bits(packed, n), bits)
    with pytest.raises(DriverError, match=r"\(\.\.\., shots, 2\) for 10 bits"):
        decode.unpack_bits(np.zeros((4, 1), dtype=np.uint8), 10)


def test_bad_bit_arrays_are_refused() -> None:
    with pytest.raises(DriverError, match="only 0 and 1"):
        decode.counts(np.array([[0, 2]]))
    with pytest.raises(DriverError, match=r"\(\.\.\., shots, n_bits\)"):
        decode.probabilities(np.array([0, 1]))
    with pytest.raises(DriverError, match="no shots"):
        decode.probabilities(np.zeros((0, 2), dtype=np.uint8))


# -- registers -------------------------------------------------------------------------------------------------------
def test_joint_discriminator_reads_slots_in_order_from_a_raw_acquisition_mapping() -> None:
    joint = JointDiscriminator((Discriminator(0, 1), Discriminator(0, 1j)))
    data = {0: np.array([[0.9, 0.1, 0.8]]), 1: np.array([[0.1j, 0.2j, 0.9j]])}   # (points=1, shots=3)
    bits = joint.bits(data)
    assert bits.shape == (1, 3, 2) and bits.dtype == np.uint8
    assert decode.counts(bits[0]) == {"01": 1, "00": 1, "11": 1}
    with pytest.raises(DriverError, match=r"no memory slot\(s\) \[1\]"):
        joint.bits({0: data[0]})
    with pytest.raises(DriverError, match="share one shape"):
        joint.bits([data[0], data[1][0, :2]])


def neighbour_dependent_centres() -> np.ndarray:
    """Row j: where (slot0, slot1) land for basis state j. Qubit 0's blob moves by +2 when qubit 1 is excited,
    so |q1=1, q0=0> lands on qubit 0's unshifted |1> centre; 00 and 01 are D = 0.5 apart, all others >= 2."""
    return np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 3j], [4.0, 3j]], dtype=np.complex128)


def test_joint_centres_handle_neighbour_dependent_readout() -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    centres, sigma, shots = neighbour_dependent_centres(), 0.15, 100_000
    joint = JointCentres(centres)
    # per-qubit discriminator trained with the neighbour in |0>: q0 centres 0 and 0.5, q1 centres 0 and 3j
    naive = JointDiscriminator((Discriminator(0, 0.5), Discriminator(0, 3j)))
    # 00 <-> 01: D = 0.5 in IQ^2 = R^4 -> error erfc(D/(2 sqrt 2 sigma))/2 (~0.048); the next centre is 2 or more
    # away (erfc(2/(2 sqrt 2 * 0.15))/2 ~ 1e-11, negligible).
    expected = math.erfc(0.5 / (2 * math.sqrt(2) * sigma)) / 2
    for state, row in enumerate(centres):
        iqs = [cloud(rng, complex(c), sigma, shots) for c in row]
        wrong = float(np.mean(joint.outcomes(iqs) != state))
        if state in (0, 1):
            assert abs(wrong - expected) < 3 * binomial_sigma(expected, shots)
        else:
            assert wrong == 0.0
        if state == 2:   # the per-qubit read of q0 sees its |1> blob: '11' instead of '10'
            assert np.mean(decode.bits_to_outcomes(naive.bits(iqs)) == 3) > 0.99
    assert np.array_equal(joint.bits([np.array([3.9]), np.array([3.1j])]), [[1, 1]])


def test_joint_centres_of_a_product_readout_equal_per_qubit_discriminators() -> None:
    """Nearest centre in IQ^n over product centres is separable: it must agree shot by shot with per-slot
    nearest centres."""
    per_slot = (Discriminator(0.2 - 0.1j, 1.1 + 0.4j), Discriminator(-1j, 0.5j), Discriminator(1, -1))
    centres = np.array([[(d.centre1 if (j >> k) & 1 else d.centre0) for k, d in enumerate(per_slot)]
                        for j in range(8)])
    rng = np.random.default_rng(3)
    iqs = [rng.normal(size=(4, 300)) + 1j * rng.normal(size=(4, 300)) for _ in range(3)]
    assert np.array_equal(JointCentres(centres).bits(iqs), JointDiscriminator(per_slot).bits(iqs))
    centres[0, 0] = 9.0                   # the classifier holds its own read-only copy
    assert JointCentres(np.array(centres)).centres.flags.writeable is False


def test_joint_centres_from_preparations_recover_the_blob_centres() -> None:
    rng = np.random.default_rng(4)
    centres, sigma, shots = neighbour_dependent_centres(), 0.2, 20_000
    prepared = [[cloud(rng, complex(c), sigma, shots) for c in row] for row in centres]
    fitted = JointCentres.from_preparations(prepared).centres
    # the median of a Gaussian has standard error sigma * sqrt(pi / 2) / sqrt(shots) per quadrature
    tolerance = 5 * sigma * math.sqrt(math.pi / 2 / shots)
    assert np.all(np.abs(fitted.real - centres.real) < tolerance)
    assert np.all(np.abs(fitted.imag - centres.imag) < tolerance)
    with pytest.raises(CalibrationError, match=r"\(2\*\*n, n\)"):
        JointCentres(np.zeros((3, 2), dtype=np.complex128))


# -- assignment matrices and mitigation ------------------------------------------------------------------------------
M0 = assignment_matrix_1q(0.02, 0.91)      # slot 0: P(1|0) = 2 %, P(1|1) = 91 %
M1 = assignment_matrix_1q(0.05, 0.85)
M2 = assignment_matrix_1q(0.01, 0.97)
TRUE_P = np.array([0.30, 0.05, 0.10, 0.15, 0.02, 0.08, 0.20, 0.10])   # index = slot0 + 2 slot1 + 4 slot2


def product_matrix(matrices: list[np.ndarray]) -> np.ndarray:
    """Entry by entry: M[i, j] = prod_k M_k[bit k of i, bit k of j] (slot 0 = least significant bit)."""
    size = 2 ** len(matrices)
    return np.array([[math.prod(m[(i >> k) & 1, (j >> k) & 1] for k, m in enumerate(matrices))
                      for j in range(size)] for i in range(size)])


def test_assignment_matrix_1q_columns_are_the_prepared_state() -> None:
    assert np.allclose(M0, [[0.98, 0.09], [0.02, 0.91]])
    with pytest.raises(CalibrationError, match="p1_given_1 = 1.2"):
        assignment_matrix_1q(0.0, 1.2)


def test_tensored_matrix_puts_slot_zero_in_the_least_significant_index() -> None:
    reference = product_matrix([M0, M1, M2])
    assert np.allclose(decode.tensored([M0, M1, M2]), reference, rtol=0, atol=1e-15)
    # prepared |slot0 = 1>, read '00': P(read 0|1) of slot 0 times P(read 0|0) of slot 1
    assert math.isclose(decode.tensored([M0, M1])[0, 1], 0.09 * 0.95)


def test_tensored_mitigation_recovers_the_true_probabilities_exactly() -> None:
    measured = product_matrix([M0, M1, M2]) @ TRUE_P
    recovered = decode.mitigate(measured, [M0, M1, M2])
    assert np.allclose(recovered, TRUE_P, rtol=0, atol=1e-14)
    assert np.allclose(recovered, np.linalg.inv(np.kron(M2, np.kron(M1, M0))) @ measured, rtol=0, atol=1e-14)
    assert np.allclose(decode.mitigate(measured, decode.tensored([M0, M1, M2])), TRUE_P, rtol=0, atol=1e-13)
    batch = np.stack([measured, product_matrix([M0, M1, M2]) @ TRUE_P[::-1]])[None]     # (1, 2, 8)
    assert np.allclose(decode.mitigate(batch, np.stack([M0, M1, M2])), [[TRUE_P, TRUE_P[::-1]]], atol=1e-14)


def test_full_assignment_matrix_from_hand_written_preparations() -> None:
    prepared = [
        np.array([[0, 0], [0, 0], [0, 0], [1, 0]]),          # |00>: '00' x3, '01' x1
        np.array([[1, 0], [1, 0], [0, 0], [1, 0]]),          # |01>: '01' x3, '00' x1
        np.array([[0, 1], [0, 1], [0, 1], [0, 1]]),          # |10>: always '10'
        np.array([[1, 1], [0, 1], [1, 0], [1, 1]]),          # |11>: '11' x2, '10', '01'
    ]
    expected = np.array([[0.75, 0.25, 0, 0], [0.25, 0.75, 0, 0.25], [0, 0, 1, 0.25], [0, 0, 0, 0.5]])
    full = decode.full_assignment_matrix(prepared)
    assert np.array_equal(full, expected)
    assert np.allclose(decode.mitigate(expected @ TRUE_P[:4], full), TRUE_P[:4], atol=1e-14)
    with pytest.raises(CalibrationError, match="at most 4 qubits, use tensored"):
        decode.full_assignment_matrix([np.zeros((2, 5))] * 32)
    with pytest.raises(CalibrationError, match="2\\*\\*n preparations"):
        decode.full_assignment_matrix(prepared[:3])


def test_unusable_assignment_matrices_are_refused() -> None:
    with pytest.raises(CalibrationError, match="singular"):
        decode.mitigate([0.5, 0.5], assignment_matrix_1q(0.5, 0.5)[None])
    with pytest.raises(CalibrationError, match="2 per-slot assignment matrices for probabilities over 3 bits"):
        decode.mitigate(TRUE_P, [M0, M1])
    with pytest.raises(CalibrationError, match="summing to 1"):
        decode.mitigate([0.5, 0.5], [[0.9, 0.9], [0.2, 0.1]])


def test_simplex_projection_of_the_smolin_gambetta_smith_example() -> None:
    # mu = (3/5, 1/2, 7/20, 1/10, -11/20), sorted, sums to 1. The paper's pass, by hand, a = 0:
    # i = 5: -11/20 + 0/5 < 0 -> zero it, a = -11/20;  i = 4: 1/10 - 11/80 = -3/80 < 0 -> zero it, a = -9/20;
    # i = 3: 7/20 - 9/60 = 1/5 >= 0 -> stop; the three kept get a/3 = -3/20: lambda = (9/20, 7/20, 1/5, 0, 0).
    mu = np.array([3 / 5, 1 / 2, 7 / 20, 1 / 10, -11 / 20])
    assert np.allclose(decode.nearest_probability(mu), [9 / 20, 7 / 20, 1 / 5, 0, 0], rtol=0, atol=1e-15)
    shuffled = mu[[4, 2, 0, 3, 1]]                       # order of the input is kept in the output
    assert np.allclose(decode.nearest_probability(shuffled), [0, 1 / 5, 9 / 20, 0, 7 / 20], atol=1e-15)
    valid = np.array([0.1, 0.0, 0.9])
    assert np.array_equal(decode.nearest_probability(valid), valid)


def test_simplex_projection_equals_a_generic_constrained_least_squares() -> None:
    rng = np.random.default_rng(5)
    rows = rng.normal(0.25, 0.3, size=(6, 4))
    rows /= rows.sum(axis=1, keepdims=True) * rng.uniform(0.8, 1.2, size=(6, 1))   # sums near, not at, 1
    projected = decode.nearest_probability(rows)
    for row, ours in zip(rows, projected):
        reference = minimize(lambda x, r=row: float(np.sum((x - r) ** 2)), np.full(4, 0.25), method="SLSQP",
                             bounds=[(0, 1)] * 4, constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
                             options={"ftol": 1e-14, "maxiter": 500})
        assert np.allclose(ours, reference.x, atol=1e-6)
    assert np.allclose(projected.sum(axis=1), 1) and np.all(projected >= 0)


def test_nearest_probability_mitigation_stays_a_probability_under_shot_noise() -> None:
    rng = np.random.default_rng(6)
    true = np.array([0.5, 0.0, 0.0, 0.5])                           # a Bell state's outcomes
    measured = rng.multinomial(500, product_matrix([M0, M1]) @ true, size=200) / 500
    inverted = decode.mitigate(measured, [M0, M1])
    assert np.any(inverted < 0)                                     # the plain inverse goes negative ...
    nearest = decode.mitigate(measured, [M0, M1], method=Mitigation.NEAREST_PROBABILITY)
    assert np.all(nearest >= 0) and np.allclose(nearest.sum(axis=-1), 1)   # ... the projection does not
    assert np.all(np.linalg.norm(nearest - true, axis=-1) <= np.linalg.norm(inverted - true, axis=-1) + 1e-12)


# -- expectation values ----------------------------------------------------------------------------------------------
def test_expectation_z_and_its_binomial_error() -> None:
    probs = np.array([0.4, 0.1, 0.2, 0.3])                         # '00', '01', '10', '11'
    zz = decode.expectation_z(probs, [0, 1], shots=1000)
    assert math.isclose(float(zz.value), 0.4 - 0.1 - 0.2 + 0.3)
    assert math.isclose(float(zz.stderr), math.sqrt((1 - 0.4**2) / 1000))
    z1 = decode.expectation_z(probs, 0b10, shots=1000)              # slot 1 only: + for '0x', - for '1x'
    assert math.isclose(float(z1.value), 0.4 + 0.1 - 0.2 - 0.3)
    with pytest.raises(DriverError, match="memory slots 0..1"):
        decode.expectation_z(probs, [2], shots=10)


def test_mitigated_expectation_error_of_one_qubit_is_the_closed_form() -> None:
    """<Z> corrected = 1 - 2 (p1 - e0) / (1 - e0 - e1); its error 2 sqrt(p1 (1 - p1) / N) / (1 - e0 - e1)."""
    e0, e1, p1, shots = 0.03, 0.08, 0.4, 2000
    result = decode.expectation_z([1 - p1, p1], [0], shots, assignment=[assignment_matrix_1q(e0, 1 - e1)])
    assert math.isclose(float(result.value), 1 - 2 * (p1 - e0) / (1 - e0 - e1))
    assert math.isclose(float(result.stderr), 2 * math.sqrt(p1 * (1 - p1) / shots) / (1 - e0 - e1))


def test_mitigated_expectation_error_matches_the_spread_of_repeated_experiments() -> None:
    rng = np.random.default_rng(7)
    shots, repeats = 400, 4000
    raw = product_matrix([M0, M1]) @ np.array([0.45, 0.05, 0.1, 0.4])
    samples = rng.multinomial(shots, raw, size=repeats) / shots
    values = decode.expectation_z(samples, [0, 1], shots, assignment=[M0, M1]).value
    predicted = float(decode.expectation_z(raw, [0, 1], shots, assignment=[M0, M1]).stderr)
    # the sample standard deviation of `repeats` draws is within ~1/sqrt(2 repeats) = 1.1 % of the truth
    assert abs(float(np.std(values)) / predicted - 1) < 0.05
    assert abs(float(np.mean(values)) - (0.45 - 0.05 - 0.1 + 0.4)) < 4 * predicted / math.sqrt(repeats)


def test_every_refusal_is_a_qubitlab_error() -> None:
    for call in (lambda: decode.mitigate([0.2, 0.3, 0.5], [M0]),
                 lambda: decode.expectation_z([0.5, 0.5], [0], shots=0),
                 lambda: decode.nearest_probability([math.inf, 0.0]),
                 lambda: JointDiscriminator(())):
        with pytest.raises(QubitlabError):
            call()


@pytest.mark.parametrize("n", [1, 2, 3])
def test_probabilities_of_every_basis_state(n: int) -> None:
    for state in range(2**n):
        bits = np.array([[(state >> k) & 1 for k in range(n)]] * 3)
        expected = np.zeros(2**n)
        expected[state] = 1
        assert np.array_equal(decode.probabilities(bits), expected)
        assert decode.counts(bits) == {"".join(str((state >> k) & 1) for k in reversed(range(n))): 3}
    # shot k has only slot k set: outcome 2**k, its bitstring a 1 at position k from the right
    assert list(decode.counts(np.eye(n, dtype=np.uint8))) == ["0" * (n - 1 - k) + "1" + "0" * k for k in range(n)]


def test_corrected_weights_equal_mitigating_the_probabilities_first() -> None:
    from qubitlab.drivers.decode import assignment_matrix_1q, corrected_weights, mitigate

    rng = np.random.default_rng(5)
    matrices = [assignment_matrix_1q(0.02, 0.93), assignment_matrix_1q(0.05, 0.9)]
    measured = rng.dirichlet(np.ones(4), size=3)
    weights = np.array([0.3, -1.0, 2.0, 0.5])          # any observable diagonal in the measured basis
    np.testing.assert_allclose(measured @ corrected_weights(weights, matrices),
                               mitigate(measured, matrices) @ weights, atol=1e-12)
    full = np.kron(matrices[1], matrices[0])
    np.testing.assert_allclose(corrected_weights(weights, full), np.linalg.inv(full).T @ weights, atol=1e-12)


def assert_central_differences(found: np.ndarray, corrected: Any, p1: dict[tuple[int, int], float]) -> None:
    """``found[k, c]`` against central differences of ``corrected`` in slot k's P(1 | prepared c)."""
    h = 1e-6
    for (k, c) in p1:
        up, down = dict(p1), dict(p1)
        up[(k, c)] += h
        down[(k, c)] -= h
        np.testing.assert_allclose(found[k, c], (corrected(up) - corrected(down)) / (2 * h), rtol=1e-6, atol=1e-8)


def test_weights_and_derivatives_from_one_inversion_match_the_kron_inverse_over_three_slots() -> None:
    """The estimator's one-call form: M^-T w with M = kron(A_2, A_1, A_0) inverted in full, and each slot's
    derivative by central differences of that full inverse (three slots: the per-slot reshapes of every axis)."""
    from qubitlab.drivers.decode import assignment_matrix_1q, corrected_weights_with_derivatives

    p1 = {(0, 0): 0.02, (0, 1): 0.93, (1, 0): 0.05, (1, 1): 0.9, (2, 0): 0.08, (2, 1): 0.85}
    weights = np.array([0.3, -1.0, 2.0, 0.5, -0.7, 1.1, 0.0, 0.4])

    def corrected(values: dict[tuple[int, int], float]) -> np.ndarray:
        a = [assignment_matrix_1q(values[(k, 0)], values[(k, 1)]) for k in (0, 1, 2)]
        return np.linalg.inv(np.kron(a[2], np.kron(a[1], a[0]))).T @ weights

    w, found = corrected_weights_with_derivatives(
        weights, [assignment_matrix_1q(p1[(k, 0)], p1[(k, 1)]) for k in (0, 1, 2)])
    np.testing.assert_allclose(w, corrected(p1), atol=1e-12)
    assert found.shape == (3, 2, 8)
    assert_central_differences(found, corrected, p1)


def test_corrected_weight_derivatives_match_central_differences_of_the_kron_inverse() -> None:
    """d/dP(1|c) of M^-T w on slot k, with M = kron(A_1, A_0) rebuilt and inverted in full for each nudge."""
    from qubitlab.drivers.decode import assignment_matrix_1q, corrected_weight_derivatives

    p1 = {(0, 0): 0.02, (0, 1): 0.93, (1, 0): 0.05, (1, 1): 0.9}     # slot k's P(1 | prepared c)
    weights = np.array([0.3, -1.0, 2.0, 0.5])

    def corrected(values: dict[tuple[int, int], float]) -> np.ndarray:
        a = [assignment_matrix_1q(values[(k, 0)], values[(k, 1)]) for k in (0, 1)]
        return np.linalg.inv(np.kron(a[1], a[0])).T @ weights

    found = corrected_weight_derivatives(weights, [assignment_matrix_1q(p1[(k, 0)], p1[(k, 1)]) for k in (0, 1)])
    assert found.shape == (2, 2, 4)
    assert_central_differences(found, corrected, p1)
