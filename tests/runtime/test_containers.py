"""BitArray, DataBin and the result containers against Qiskit's documented behaviour (worked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from qubitlab.errors import CircuitError
from qubitlab.runtime.primitives import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult


def test_from_counts_round_trip_and_layout() -> None:
    # Qiskit: BitArray.from_counts({"01": 3, "10": 1}).get_counts() == {"01": 3, "10": 1}
    ba = BitArray.from_counts({"01": 3, "10": 1})
    assert ba.get_counts() == {"01": 3, "10": 1}
    assert ba.get_int_counts() == {1: 3, 2: 1}
    assert (ba.num_shots, ba.num_bits, ba.shape) == (4, 2, ())
    # one byte per shot: "01" is the integer 1, "10" is 2 (slot 0 rightmost, least significant)
    assert ba.array.tolist() == [[1], [1], [1], [2]]
    assert repr(ba) == "BitArray(<shape=(), num_shots=4, num_bits=2>)"


def test_bytes_are_big_endian_across_a_byte_boundary() -> None:
    # Qiskit: from_samples(["1000000001"]) -> 10 bits in 2 bytes, array [[2, 1]] (0b10, 0b00000001)
    ba = BitArray.from_samples(["1000000001"])
    assert ba.num_bits == 10
    assert ba.array.tolist() == [[2, 1]]
    assert ba.get_bitstrings() == ["1000000001"]


def test_from_bool_array_orders() -> None:
    # big: [..., 0] is the most significant bit; little: [..., 0] is slot 0
    assert BitArray.from_bool_array([[1, 0, 0]], order="big").get_bitstrings() == ["100"]
    assert BitArray.from_bool_array([[1, 0, 0]], order="little").get_bitstrings() == ["001"]
    with pytest.raises(CircuitError, match="'big', 'little'"):
        BitArray.from_bool_array([[1]], order="middle")  # type: ignore[arg-type]


def test_shape_axes_indexing_and_loc() -> None:
    ba = BitArray.from_counts([{"00": 2}, {"11": 1, "01": 1}])   # shape (2,), 2 shots each
    assert ba.shape == (2,) and ba.num_shots == 2 and ba.size == 1 * 2 and ba.ndim == 1
    assert ba.get_counts(1) == {"11": 1, "01": 1}
    assert ba.get_counts() == {"00": 2, "11": 1, "01": 1}
    assert ba[0].get_bitstrings() == ["00", "00"]
    with pytest.raises(CircuitError, match="slice_shots"):
        ba[0, 1]


def test_reshape_keeps_or_splits_shots() -> None:
    ba = BitArray.from_samples(list(range(8)), num_bits=3)   # shape (), 8 shots
    assert ba.reshape(2, 4).shape == (2,) and ba.reshape(2, 4).num_shots == 4
    assert ba.reshape(2, 4).get_bitstrings(1) == ["100", "101", "110", "111"]
    with pytest.raises(CircuitError, match="size"):
        ba.reshape(3)


def test_slice_bits_and_shots() -> None:
    ba = BitArray.from_samples(["110", "011"])
    # slice_bits([0, 2]): new slot 0 = old slot 0, new slot 1 = old slot 2
    assert ba.slice_bits([0, 2]).get_bitstrings() == ["10", "01"]
    assert ba.slice_shots(1).get_bitstrings() == ["011"]
    with pytest.raises(CircuitError, match="valid: 0..2"):
        ba.slice_bits(3)


def test_postselect_hand_worked() -> None:
    # shots 000 001 010 011 100 101 110 111; keep bit0 == 1 and bit2 == 0 -> 001, 011
    ba = BitArray.from_samples(list(range(8)), num_bits=3).reshape(2, 4)
    kept = ba.postselect([0, 2], [1, 0])
    assert kept.shape == () and kept.get_bitstrings() == ["001", "011"]
    # negative index -1 is the top bit (Qiskit allows it)
    assert ba.postselect(-1, 1).get_bitstrings() == ["100", "101", "110", "111"]
    with pytest.raises(CircuitError, match="one each"):
        ba.postselect([0, 1], [1])


def test_bitcount_and_equality_ignores_padding() -> None:
    ba = BitArray.from_samples(["101", "111", "000"])
    assert ba.bitcount().tolist() == [2, 3, 0]
    padded = BitArray(np.array([[0b11100101]], dtype=np.uint8), 3)   # high 5 bits carry nothing
    assert padded == BitArray.from_samples(["101"])
    assert padded.bitcount().tolist() == [2]
    assert BitArray.from_samples(["101"]) != BitArray.from_samples(["101"], num_bits=4)


def test_expectation_values_diagonal() -> None:
    # shots: "01" x3, "10" x1.  <ZZ> = -1 (odd parity always); <IZ> (bit 0) = (-3 + 1)/4;
    # <ZI> (bit 1) = (3 - 1)/4; <0I> = P(bit 1 = 0) = 3/4; 2 ZZ + IZ = -2.5
    ba = BitArray.from_counts({"01": 3, "10": 1})
    evs = ba.expectation_values(["ZZ", "IZ", "ZI", "0I", {"ZZ": 2.0, "IZ": 1.0}])
    assert evs.tolist() == [-1.0, -0.5, 0.5, 0.75, -2.5]
    with pytest.raises(CircuitError, match="diagonal"):
        ba.expectation_values("XZ")


def test_expectation_values_broadcast() -> None:
    ba = BitArray.from_counts([{"01": 3, "10": 1}, {"11": 4}])          # shape (2,)
    evs = ba.expectation_values([["ZZ"], ["IZ"]])                        # (2, 1) against (2,) -> (2, 2)
    assert evs.tolist() == [[-1.0, 1.0], [-0.5, -1.0]]
    with pytest.raises(CircuitError, match=r"\(3,\).*\(2,\)"):
        ba.expectation_values(["ZZ", "ZZ", "ZZ"])


def test_concatenations() -> None:
    a = BitArray.from_counts([{"0": 2}])                # shape (1,), 2 shots, 1 bit
    b = BitArray.from_counts([{"1": 2}])
    assert BitArray.concatenate([a, b]).shape == (2,)
    assert BitArray.concatenate_shots([a, b]).get_bitstrings() == ["0", "0", "1", "1"]
    # bits: the first array's bits are the least significant (Qiskit's test_join_data_bit_array_default)
    alpha = BitArray.from_samples(["00", "11"], 2)
    beta = BitArray.from_samples(["010", "101"], 3)
    assert BitArray.concatenate_bits([alpha, beta]).get_bitstrings() == ["01000", "10111"]
    with pytest.raises(CircuitError, match="bit array 1"):
        BitArray.concatenate_shots([a, BitArray.from_samples(["0"])])


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(CircuitError, match="uint8"):
        BitArray(np.zeros((2, 1), dtype=np.int64), 2)  # type: ignore[arg-type]
    with pytest.raises(CircuitError, match=r"\(\*shape, num_shots, 2\)"):
        BitArray(np.zeros((2, 1), dtype=np.uint8), 9)


def test_data_bin() -> None:
    # Qiskit docstring: DataBin(alpha=BitArray.from_samples(["0010"]), beta=np.array([1.2]))
    data = DataBin(alpha=BitArray.from_samples(["0010"]), beta=np.array([1.2]))
    assert data.alpha.num_bits == 2 and data["beta"].tolist() == [1.2]
    assert list(data) == ["alpha", "beta"] and len(data) == 2 and "alpha" in data
    assert repr(data) == ("DataBin(alpha=BitArray(<shape=(), num_shots=1, num_bits=2>), "
                          "beta=np.ndarray(<shape=(1,), dtype=float64>))")
    with pytest.raises(AttributeError, match="immutable"):
        data.alpha = 1
    with pytest.raises(KeyError, match="alpha, beta"):
        data["gamma"]
    shaped = DataBin(evs=np.zeros((3, 4)), shape=(3, 4))
    assert (shaped.shape, shaped.ndim, shaped.size) == ((3, 4), 2, 12)
    assert repr(shaped) == "DataBin(evs=np.ndarray(<shape=(3, 4), dtype=float64>), shape=(3, 4))"
    with pytest.raises(CircuitError, match="does not lead"):
        DataBin(evs=np.zeros(3), shape=(4,))
    with pytest.raises(CircuitError, match="reserved"):
        DataBin(shape=(), keys=1)


def test_results() -> None:
    result = SamplerPubResult(DataBin(c=BitArray.from_samples(["1"]), d=BitArray.from_samples(["0"])),
                              {"shots": 1})
    assert result.join_data().get_bitstrings() == ["01"]          # c rightmost
    assert result.join_data(["d", "c"]).get_bitstrings() == ["10"]
    with pytest.raises(CircuitError, match="registers: c, d"):
        result.join_data(["e"])
    everything = PrimitiveResult([result, PubResult(DataBin())], metadata={"version": 2})
    assert len(everything) == 2 and everything[0] is result and everything.metadata == {"version": 2}
    assert [type(r).__name__ for r in everything] == ["SamplerPubResult", "PubResult"]
    assert PubResult(DataBin()).metadata == {}


@pytest.mark.parametrize("num_bits", [3, 10, 60])
def test_counts_match_an_independent_tally(num_bits: int) -> None:
    # 60 bits need 8 bytes: the per-row path; 3 and 10 bits: the vectorised one
    bits = np.random.default_rng(7).integers(0, 2, (3, 50, num_bits)).astype(bool)   # [..., 0] = top bit
    expected: dict[str, int] = {}
    for row in bits.reshape(-1, num_bits):
        key = "".join("1" if b else "0" for b in row)
        expected[key] = expected.get(key, 0) + 1
    ba = BitArray.from_bool_array(bits)
    assert ba.get_counts() == expected
    assert ba.get_int_counts() == {int(k, 2): n for k, n in expected.items()}
