"""The result side of the V2 primitives: BitArray, DataBin, PubResult, SamplerPubResult, PrimitiveResult.

Why it exists: a Qiskit Runtime user reads ``result[0].data.meas.get_counts()`` or ``result[0].data.evs``;
qubitlab's SamplerV2/EstimatorV2 return the same objects so that code ports by an import change. The design
follows Qiskit's ``qiskit/primitives/containers/`` (Apache-2.0) closely, without importing qiskit. The byte
layout is Qiskit's and :mod:`qubitlab.drivers.decode`'s: ``array[..., shot, byte]`` big-endian bytes, memory
slot 0 the least significant bit, bitstrings printed with slot 0 rightmost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from itertools import repeat
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qubitlab.drivers.decode import pack_bits, unpack_bits
from qubitlab.errors import CircuitError

Loc = int | tuple[int, ...] | None
_DIAGONAL = {"I": (1, 1), "Z": (1, -1), "0": (1, 0), "1": (0, 1)}
"""Diagonal single-bit observables: value on outcome 0 and outcome 1 (``0`` = |0><0|, ``1`` = |1><1|)."""


def _num_bytes(num_bits: int) -> int:
    return -(-num_bits // 8)


class BitArray:
    """Shots of a classical register: ``array`` is ``uint8`` ``(*shape, num_shots, ceil(num_bits / 8))``."""

    __slots__ = ("_array", "_num_bits")

    def __init__(self, array: NDArray[np.uint8], num_bits: int) -> None:
        if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
            raise CircuitError(f"BitArray: array must be a numpy uint8 array, got {type(array).__name__} "
                               f"{getattr(array, 'dtype', '')}")
        if not isinstance(num_bits, (int, np.integer)) or num_bits < 0:
            raise CircuitError(f"BitArray: num_bits must be a non-negative integer, got {num_bits!r}")
        if array.ndim < 2 or array.shape[-1] != _num_bytes(int(num_bits)):
            raise CircuitError(f"BitArray: array must have shape (*shape, num_shots, {_num_bytes(int(num_bits))}) "
                               f"for {num_bits} bits, got {array.shape}")
        self._array = array
        self._num_bits = int(num_bits)

    # -- shape ---------------------------------------------------------------------------------------------
    @property
    def array(self) -> NDArray[np.uint8]:
        return self._array

    @property
    def num_bits(self) -> int:
        return self._num_bits

    @property
    def num_shots(self) -> int:
        return int(self._array.shape[-2])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self._array.shape[:-2])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return f"BitArray(<shape={self.shape}, num_shots={self.num_shots}, num_bits={self.num_bits}>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitArray) or other.num_bits != self.num_bits:
            return False
        return bool(np.array_equal(self._masked(), other._masked()))

    __hash__ = None  # type: ignore[assignment]

    def _masked(self) -> NDArray[np.uint8]:
        """The array with the unused high bits of the first byte cleared (they carry no data)."""
        if self._num_bits % 8 == 0:
            return self._array
        mask = np.array([255 >> (-self._num_bits % 8)] + [255] * (self._num_bits // 8), dtype=np.uint8)
        return np.bitwise_and(self._array, mask)

    def _bits(self) -> NDArray[np.uint8]:
        """Unpacked ``(*shape, shots, num_bits)``, slot 0 first."""
        if self._num_bits == 0:
            return np.zeros(self._array.shape[:-1] + (0,), dtype=np.uint8)
        return unpack_bits(self._array, self._num_bits)

    @staticmethod
    def _packed(bits: NDArray[np.uint8]) -> BitArray:
        if bits.shape[-1] == 0:
            return BitArray(np.zeros(bits.shape[:-1] + (0,), dtype=np.uint8), 0)
        return BitArray(pack_bits(bits), bits.shape[-1])

    # -- indexing and reshaping ----------------------------------------------------------------------------
    def __getitem__(self, indices: Any) -> BitArray:
        if isinstance(indices, tuple) and len(indices) > self.ndim:
            raise CircuitError(f"BitArray of shape {self.shape} is indexed over its {self.ndim} shape axes "
                               "only; use slice_shots() for shots and slice_bits() for bits")
        if not isinstance(indices, tuple) and self.ndim == 0:
            raise CircuitError("a BitArray of shape () cannot be indexed; use slice_shots() or slice_bits()")
        return BitArray(self._array[indices], self._num_bits)

    def reshape(self, *shape: int | Sequence[int]) -> BitArray:
        """New shape over the shape axes (shots kept), or over shape and shots together, as Qiskit does."""
        flat: list[int] = []
        for s in shape:
            flat.extend([int(s)] if isinstance(s, (int, np.integer)) else [int(x) for x in s])
        size = int(np.prod(flat, dtype=np.int64))
        if size == self.size:
            new = tuple(flat) + self._array.shape[-2:]
        elif size == self.size * self.num_shots:
            new = tuple(flat) + self._array.shape[-1:]
        else:
            raise CircuitError(f"BitArray.reshape{tuple(flat)}: size {size} is neither the shape's size "
                               f"{self.size} nor size x shots {self.size * self.num_shots}")
        return BitArray(self._array.reshape(new), self._num_bits)

    def slice_bits(self, indices: int | Sequence[int]) -> BitArray:
        """Keep bits ``indices`` (0 = slot 0, the rightmost character), in that order (first = new slot 0)."""
        picked = [indices] if isinstance(indices, (int, np.integer)) else list(indices)
        for i in picked:
            if not 0 <= i < self._num_bits:
                raise CircuitError(f"slice_bits: bit {i} is out of range (valid: 0..{self._num_bits - 1})")
        return self._packed(np.ascontiguousarray(self._bits()[..., picked]))

    def slice_shots(self, indices: int | Sequence[int]) -> BitArray:
        picked = [indices] if isinstance(indices, (int, np.integer)) else list(indices)
        for i in picked:
            if not 0 <= i < self.num_shots:
                raise CircuitError(f"slice_shots: shot {i} is out of range (valid: 0..{self.num_shots - 1})")
        return BitArray(self._array[..., picked, :], self._num_bits)

    def postselect(self, indices: int | Sequence[int], selection: bool | int | Sequence[bool | int]) -> BitArray:
        """Shape ``()``: every shot (all shape points flattened) whose bits ``indices`` equal ``selection``."""
        idx = [indices] if isinstance(indices, (int, np.integer)) else list(indices)
        sel = [selection] if isinstance(selection, (bool, int, np.integer)) else list(selection)
        if len(idx) != len(sel):
            raise CircuitError(f"postselect: {len(idx)} indices but {len(sel)} selection values; give one each")
        for i in idx:
            if not -self._num_bits <= i < self._num_bits:
                raise CircuitError(f"postselect: bit {i} is out of range for {self._num_bits} bits")
        flat = self.reshape((), self.size * self.num_shots)
        if not idx:
            return flat
        bits = flat._bits()
        keep = np.all(bits[:, [i % self._num_bits for i in idx]] == np.asarray(sel, dtype=bool), axis=-1)
        return BitArray(flat._array[keep], self._num_bits)

    # -- reading -------------------------------------------------------------------------------------------
    def _rows(self, loc: Loc) -> NDArray[np.uint8]:
        arr = self._masked()
        return arr.reshape(-1, arr.shape[-1]) if loc is None else arr[loc]

    def get_int_counts(self, loc: Loc = None) -> dict[int, int]:
        """``{outcome integer: shots}`` (slot 0 least significant); all points together when ``loc`` is None."""
        rows = self._rows(loc)
        if rows.shape[-1] <= 7:   # up to 56 bits: one vectorised pass (outcomes in increasing order)
            weights = np.left_shift(np.uint64(1), np.arange(8 * rows.shape[-1] - 8, -1, -8, dtype=np.uint64))
            values, tally_np = np.unique(rows.astype(np.uint64) @ weights, return_counts=True)
            return {int(v): int(c) for v, c in zip(values, tally_np)}
        tally: defaultdict[int, int] = defaultdict(int)
        for row in rows:
            tally[int.from_bytes(row.tobytes(), "big")] += 1
        return dict(tally)

    def get_counts(self, loc: Loc = None) -> dict[str, int]:
        """``{bitstring: shots}`` with slot 0 rightmost, like Qiskit's ``Counts``."""
        return {format(v, f"0{self._num_bits}b"): c for v, c in self.get_int_counts(loc).items()}

    def get_bitstrings(self, loc: Loc = None) -> list[str]:
        return [format(int.from_bytes(r.tobytes(), "big"), f"0{self._num_bits}b") for r in self._rows(loc)]

    def bitcount(self) -> NDArray[np.uint64]:
        """Number of ones per shot, ``(*shape, num_shots)``."""
        return np.asarray(self._bits().sum(axis=-1, dtype=np.uint64), dtype=np.uint64)

    def to_bool_array(self, order: Literal["big", "little"] = "big") -> NDArray[np.bool_]:
        bits = self._bits().astype(np.bool_)
        return bits if order == "little" else bits[..., ::-1]

    def expectation_values(self, observables: Any) -> NDArray[np.float64]:
        """``<O>`` per point for diagonal observables (labels of I, Z, 0, 1; rightmost on bit 0), broadcast
        against this array's shape, from the sampled frequencies (as Qiskit's ``sampled_expectation_value``)."""
        obs = _diagonal_observables(observables, self._num_bits)
        try:
            shape = np.broadcast_shapes(obs.shape, self.shape)
        except ValueError:
            raise CircuitError(f"expectation_values: observables of shape {obs.shape} do not broadcast "
                               f"against the BitArray's shape {self.shape}") from None
        bits = self._bits()
        out = np.zeros(shape, dtype=np.float64)
        for index in np.ndindex(shape):
            point = bits[tuple(i if n > 1 else 0 for i, n in zip(index[len(shape) - self.ndim:], self.shape))]
            terms = obs[tuple(i if n > 1 else 0 for i, n in zip(index[len(shape) - obs.ndim:], obs.shape))]
            out[index] = sum(c * _diagonal_mean(point, label) for label, c in terms.items())
        return out

    # -- construction --------------------------------------------------------------------------------------
    @classmethod
    def from_bool_array(cls, array: ArrayLike, order: Literal["big", "little"] = "big") -> BitArray:
        """From bools ``(*shape, shots, num_bits)``; ``order="big"``: ``[..., 0]`` is the most significant bit."""
        bits = np.asarray(array, dtype=bool)
        if bits.ndim < 2:
            raise CircuitError(f"from_bool_array needs (*shape, shots, bits), got shape {bits.shape}")
        if order not in ("big", "little"):
            raise CircuitError(f"from_bool_array: order {order!r} is not one of 'big', 'little'")
        little = bits if order == "little" else bits[..., ::-1]
        return cls._packed(np.ascontiguousarray(little, dtype=np.uint8))

    @classmethod
    def from_samples(cls, samples: Iterable[str] | Iterable[int], num_bits: int | None = None) -> BitArray:
        """From bitstrings, ``0x`` hexstrings or integers; shape ``()``; width = widest sample if not given."""
        values = list(samples)
        if not values:
            raise CircuitError("from_samples needs at least one sample")
        if isinstance(values[0], str):
            base = 16 if values[0].startswith("0x") else 2
            ints = [int(str(v), base) for v in values]
        else:
            ints = [int(cast(int, v)) for v in values]
        if min(ints) < 0:
            raise CircuitError(f"from_samples: outcomes are non-negative integers, got {min(ints)}")
        width = max(max(v.bit_length() for v in ints), 1) if num_bits is None else num_bits
        if max(ints).bit_length() > width:
            raise CircuitError(f"from_samples: outcome {max(ints)} does not fit in num_bits={width}")
        nbytes = _num_bytes(width)
        data = b"".join(v.to_bytes(nbytes, "big") for v in ints)
        return cls(np.frombuffer(data, dtype=np.uint8).reshape(len(ints), nbytes).copy(), width)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int] | Mapping[int, int] | Iterable[Mapping[Any, int]],
                    num_bits: int | None = None) -> BitArray:
        """From one counts mapping (shape ``()``) or N of them with equal shots (shape ``(N,)``)."""
        single = isinstance(counts, Mapping)
        mappings = [cast(Mapping[Any, int], counts)] if single else list(cast(Iterable[Mapping[Any, int]], counts))
        if not mappings:
            raise CircuitError("from_counts needs at least one counts mapping")
        samples = [k for m in mappings for k, n in m.items() for k in repeat(k, n)]
        result = cls.from_samples(samples, num_bits)
        if single:
            return result
        totals = {sum(m.values()) for m in mappings}
        if len(totals) != 1:
            raise CircuitError(f"from_counts: every mapping needs the same number of shots, got {sorted(totals)}")
        return result.reshape(len(mappings), totals.pop())

    @staticmethod
    def concatenate(bit_arrays: Sequence[BitArray], axis: int = 0) -> BitArray:
        """Join along an existing shape axis (same bits, shots and number of dimensions)."""
        first = _first(bit_arrays, "concatenate")
        if first.ndim == 0 or not 0 <= axis < first.ndim:
            raise CircuitError(f"concatenate: axis {axis} is not a shape axis of shape {first.shape}")
        for i, ba in enumerate(bit_arrays):
            if (ba.num_bits, ba.num_shots, ba.ndim) != (first.num_bits, first.num_shots, first.ndim):
                raise CircuitError(f"concatenate: bit array {i} has {ba.num_bits} bits, {ba.num_shots} shots, "
                                   f"{ba.ndim} dims; bit array 0 has {first.num_bits}, {first.num_shots}, "
                                   f"{first.ndim}")
        return BitArray(np.concatenate([ba.array for ba in bit_arrays], axis=axis), first.num_bits)

    @staticmethod
    def concatenate_shots(bit_arrays: Sequence[BitArray]) -> BitArray:
        first = _first(bit_arrays, "concatenate_shots")
        _same(bit_arrays, "concatenate_shots", lambda b: (b.num_bits, b.shape), "(num_bits, shape)")
        return BitArray(np.concatenate([ba.array for ba in bit_arrays], axis=-2), first.num_bits)

    @staticmethod
    def concatenate_bits(bit_arrays: Sequence[BitArray]) -> BitArray:
        """Per-shot bitstring concatenation; the first array's bits are the least significant (rightmost)."""
        _first(bit_arrays, "concatenate_bits")
        _same(bit_arrays, "concatenate_bits", lambda b: (b.num_shots, b.shape), "(num_shots, shape)")
        return BitArray._packed(np.concatenate([ba._bits() for ba in bit_arrays], axis=-1))


def _first(bit_arrays: Sequence[BitArray], what: str) -> BitArray:
    if not bit_arrays:
        raise CircuitError(f"{what} needs at least one BitArray")
    return bit_arrays[0]


def _same(bit_arrays: Sequence[BitArray], what: str, key: Any, label: str) -> None:
    for i, ba in enumerate(bit_arrays):
        if key(ba) != key(bit_arrays[0]):
            raise CircuitError(f"{what}: bit array {i} has {label} {key(ba)}, bit array 0 has {key(bit_arrays[0])}")


def _diagonal_terms(observable: Any, num_bits: int) -> dict[str, float]:
    terms: Mapping[str, Any] = {observable: 1.0} if isinstance(observable, str) else observable
    if not isinstance(terms, Mapping):
        raise CircuitError(f"expectation_values: an observable is a label or a {{label: coeff}} dict, "
                           f"got {type(observable).__name__}")
    for label in terms:
        if len(label) != num_bits or any(ch not in _DIAGONAL for ch in label):
            raise CircuitError(f"expectation_values: label {label!r} must have {num_bits} characters of "
                               f"I, Z, 0, 1 (diagonal observables only)")
    return {str(k): float(np.real(v)) for k, v in terms.items()}


def _diagonal_observables(observables: Any, num_bits: int) -> NDArray[np.object_]:
    """An object array of ``{label: coeff}`` from a label, a dict, a SparsePauliOp, or nested lists of them."""
    if isinstance(observables, (str, Mapping)):
        boxed = np.empty((), dtype=object)
        boxed[()] = _diagonal_terms(observables, num_bits)
        return boxed
    if hasattr(observables, "labels") and hasattr(observables, "coeffs"):
        return _diagonal_observables(dict(zip(observables.labels, observables.coeffs)), num_bits)
    items = [_diagonal_observables(o, num_bits) for o in observables]
    if len({i.shape for i in items}) > 1:
        raise CircuitError(f"expectation_values: nested observables are ragged: {[i.shape for i in items]}")
    out = np.empty((len(items),) + (items[0].shape if items else ()), dtype=object)
    for k, item in enumerate(items):
        out[k] = item[()] if item.ndim == 0 else item
    return out


def _diagonal_mean(bits: NDArray[np.uint8], label: str) -> float:
    """Mean over shots ``bits`` ``(shots, n)`` of the product of per-bit values; label rightmost on bit 0."""
    value = np.ones(bits.shape[0], dtype=np.float64)
    for k, ch in enumerate(reversed(label)):
        on0, on1 = _DIAGONAL[ch]
        value *= np.where(bits[:, k] == 1, on1, on0)
    return float(value.mean()) if bits.shape[0] else float("nan")


def _value_repr(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"np.ndarray(<shape={value.shape}, dtype={value.dtype}>)"
    return repr(value)


class DataBin:
    """One PUB's data: named fields (``data.meas``, ``data["evs"]``) all leading with ``shape``; immutable."""

    __slots__ = ("_data", "_shape")
    _data: dict[str, Any]
    _shape: tuple[int, ...]
    _RESTRICTED = frozenset({"_data", "_shape", "keys", "values", "items", "shape", "ndim", "size"})

    def __init__(self, *, shape: int | Sequence[int] = (), **fields: Any) -> None:
        bad = sorted(self._RESTRICTED.intersection(fields))
        if bad:
            raise CircuitError(f"DataBin: field names {bad} are reserved; use other names")
        lead = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        for name, value in fields.items():
            value_shape = tuple(getattr(value, "shape", lead))
            if value_shape[:len(lead)] != lead:
                raise CircuitError(f"DataBin: field {name!r} has shape {value_shape}, which does not lead "
                                   f"with the bin's shape {lead}")
        object.__setattr__(self, "_shape", lead)
        object.__setattr__(self, "_data", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_data")[name]
        except KeyError:
            raise AttributeError(f"DataBin has no field {name!r}; its fields: "
                                 f"{', '.join(self._data) or 'none'}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"DataBin is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DataBin is immutable: cannot delete {name!r}")

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise KeyError(f"Key ({key}) does not exist in this data bin; its keys: "
                           f"{', '.join(self._data) or 'none'}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def values(self) -> ValuesView[Any]:
        return self._data.values()

    def items(self) -> ItemsView[str, Any]:
        return self._data.items()

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    def __repr__(self) -> str:
        parts = [f"{name}={_value_repr(value)}" for name, value in self._data.items()]
        if self.ndim:
            parts.append(f"shape={self.shape}")
        return f"DataBin({', '.join(parts)})"


class PubResult:
    """One PUB's result: ``data`` (a :class:`DataBin`) and free-form ``metadata``."""

    __slots__ = ("_data", "_metadata")

    def __init__(self, data: DataBin, metadata: dict[str, Any] | None = None) -> None:
        self._data = data
        self._metadata: dict[str, Any] = metadata or {}

    @property
    def data(self) -> DataBin:
        return self._data

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    def __repr__(self) -> str:
        metadata = f", metadata={self.metadata}" if self.metadata else ""
        return f"{type(self).__name__}(data={self._data}{metadata})"


class SamplerPubResult(PubResult):
    """A Sampler PUB's result; :meth:`join_data` joins registers into one."""

    __slots__ = ()

    def join_data(self, names: Iterable[str] | None = None) -> BitArray | np.ndarray[Any, Any]:
        """Registers ``names`` (default: all, in circuit order) joined along the bits axis; as in Qiskit the
        first register's bits are the least significant (rightmost in a bitstring)."""
        chosen = list(self.data) if names is None else list(names)
        if not chosen:
            raise CircuitError("join_data: no registers to join (the data bin is empty or names is empty)")
        for name in chosen:
            if name not in self.data:
                raise CircuitError(f"join_data: no register {name!r}; registers: {', '.join(self.data)}")
        data = [self.data[name] for name in chosen]
        if all(isinstance(d, BitArray) for d in data):
            return BitArray.concatenate_bits(data)
        if all(isinstance(d, np.ndarray) for d in data):
            return np.concatenate(data, axis=-1)
        raise CircuitError(f"join_data: registers {chosen} mix BitArrays and arrays; join one kind at a time")


class PrimitiveResult(Sequence[PubResult]):
    """The result of one ``run()``: its PUB results in order, and metadata about the whole job."""

    def __init__(self, pub_results: Iterable[PubResult], metadata: dict[str, Any] | None = None) -> None:
        self._pub_results = list(pub_results)
        self._metadata: dict[str, Any] = metadata or {}

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    def __getitem__(self, index: Any) -> Any:
        return self._pub_results[index]

    def __len__(self) -> int:
        return len(self._pub_results)

    def __iter__(self) -> Iterator[PubResult]:
        return iter(self._pub_results)

    def __repr__(self) -> str:
        return f"PrimitiveResult({self._pub_results}, metadata={self.metadata})"
