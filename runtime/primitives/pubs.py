"""PUBs (primitive unified blocs): parameter bindings, observables, and their coercion and broadcasting.

Why it exists: SamplerV2/EstimatorV2 accept the same loose forms Qiskit does (a circuit, tuples, dicts of
parameters, nested lists of observables, scalars) and must turn them into one checked, shaped object before
anything is sent to the daemon, so a bad PUB fails on the client with an error naming the PUB and the fix.
Follows Qiskit's ``bindings_array.py``, ``observables_array.py``, ``sampler_pub.py`` and
``estimator_pub.py`` (Apache-2.0), with qubitlab's ``Circuit`` and ``SparsePauliOp``.

Parameter order: a circuit's parameters are sorted by name (numbers inside names compared as numbers, so
``θ[2]`` comes before ``θ[10]``), as Qiskit's ``QuantumCircuit.parameters`` sorts them; an array's last axis
gives the values in that order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.circuits.circuit import Circuit
from qubitlab.circuits.observables import SparsePauliOp
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import Parameter

Shape = tuple[int, ...]


def _natural_key(name: str) -> list[Any]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", name) if t]


def sorted_parameters(circuit: Circuit) -> list[Parameter]:
    """The circuit's parameters in the order an array's last axis gives their values."""
    return sorted(circuit.parameters, key=lambda p: _natural_key(p.name))


def _name(key: Parameter | str) -> str:
    if isinstance(key, Parameter):
        return key.name
    if isinstance(key, str) and key:
        return key
    raise CircuitError(f"a parameter key is a Parameter or its name, got {key!r}")


def _infer_shape(data: Mapping[tuple[str, ...], NDArray[np.float64]]) -> Shape:
    """The leading shape common to every array (a one-parameter key may leave off its last axis)."""
    possible: set[Shape] | None = None
    for names, values in data.items():
        options = {values.shape[:-1]} if len(names) != 1 or (values.shape and values.shape[-1] == 1) \
            else {values.shape}
        possible = options if possible is None else possible & options
    if possible is None:
        return ()
    if len(possible) != 1:
        shapes = {k: v.shape for k, v in data.items()}
        raise CircuitError(f"BindingsArray: the value arrays {shapes} share no leading shape; give arrays "
                           "(*shape, number of parameters in the key) or pass shape=")
    return possible.pop()


class BindingsArray:
    """Values for a circuit's parameters over a shape: ``{(names...): array (*shape, len(names))}``."""

    def __init__(self, data: Mapping[tuple[Parameter | str, ...] | Parameter | str, Any] | None = None,
                 shape: int | Sequence[int] | None = None) -> None:
        self._data: dict[tuple[str, ...], NDArray[np.float64]] = {}
        for key, values in (data or {}).items():
            names = (_name(key),) if isinstance(key, (Parameter, str)) else tuple(_name(k) for k in key)
            try:
                array = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise CircuitError(f"BindingsArray: values for {names} must be real numbers") from None
            self._data[names] = array
        self._shape: Shape = _infer_shape(self._data) if shape is None else (
            (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape))
        for names, array in self._data.items():
            if array.shape == self._shape:
                array = self._data[names] = array[..., None]
            if array.shape != self._shape + (len(names),):
                raise CircuitError(f"BindingsArray: values for {names} have shape {array.shape}; expected "
                                   f"{self._shape + (len(names),)} (shape {self._shape}, one column per name)")
        all_names = [n for names in self._data for n in names]
        if len(set(all_names)) != len(all_names):
            raise CircuitError(f"BindingsArray: a parameter is given twice in {list(self._data)}")

    @property
    def shape(self) -> Shape:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def data(self) -> dict[tuple[str, ...], NDArray[np.float64]]:
        return self._data

    @property
    def num_parameters(self) -> int:
        return sum(len(names) for names in self._data)

    @property
    def parameters(self) -> list[str]:
        """Parameter names, sorted as a circuit's parameters are (see the module docstring)."""
        return sorted((n for names in self._data for n in names), key=_natural_key)

    def __repr__(self) -> str:
        return f"BindingsArray(<shape={self.shape}, num_parameters={self.num_parameters}, " \
               f"parameters={self.parameters[:5]}>)"

    def as_array(self, parameters: Iterable[Parameter | str] | None = None) -> NDArray[np.float64]:
        """All values ``(*shape, num_parameters)``, columns in ``parameters`` order (default: :attr:`parameters`)."""
        order = self.parameters if parameters is None else [_name(p) for p in parameters]
        column = {name: k for k, name in enumerate(order)}
        if len(order) != self.num_parameters or set(order) != set(column) or \
                any(n not in column for names in self._data for n in names):
            raise CircuitError(f"as_array: parameters {order} do not match the bound ones {self.parameters}")
        out = np.empty(self._shape + (len(order),), dtype=np.float64)
        for names, array in self._data.items():
            out[..., [column[n] for n in names]] = array
        return out

    def _values(self, circuit: Circuit, loc: tuple[int, ...]) -> dict[Parameter, float]:
        by_name = {p.name: p for p in circuit.parameters}
        return {by_name[n]: float(v) for names, array in self._data.items() for n, v in zip(names, array[loc])}

    def check(self, circuit: Circuit, where: str = "BindingsArray") -> None:
        """Raise naming the missing and unknown parameters unless these values bind exactly ``circuit``'s."""
        wanted = {p.name for p in circuit.parameters}
        given = set(self.parameters)
        if wanted != given:
            missing = sorted(wanted - given, key=_natural_key)
            unknown = sorted(given - wanted, key=_natural_key)
            raise CircuitError(f"{where}: values are given for {self.parameters} but the circuit's parameters "
                               f"are {[p.name for p in sorted_parameters(circuit)]} (missing: {missing or 'none'}"
                               f"; not in the circuit: {unknown or 'none'})")

    def bind(self, circuit: Circuit, loc: tuple[int, ...]) -> Circuit:
        """The circuit with the values at ``loc`` (one index per shape axis) assigned."""
        if len(loc) != self.ndim:
            raise CircuitError(f"bind: loc {loc} must index all {self.ndim} axes of shape {self.shape}")
        self.check(circuit, "bind")
        return circuit.assign_parameters(self._values(circuit, loc))

    def bind_all(self, circuit: Circuit) -> NDArray[np.object_]:
        """An object array of :attr:`shape` of bound circuits."""
        self.check(circuit, "bind_all")
        out = np.empty(self._shape, dtype=object)
        for loc in np.ndindex(self._shape):
            out[loc] = circuit.assign_parameters(self._values(circuit, loc))
        return out

    @classmethod
    def coerce(cls, values: Any, circuit: Circuit | None = None) -> BindingsArray:
        """From None, a BindingsArray, a dict of parameter(s) -> values, or (given ``circuit``) an array whose
        last axis has one column per circuit parameter in :func:`sorted_parameters` order, or a scalar for a
        one-parameter circuit."""
        if values is None:
            return cls()
        if isinstance(values, BindingsArray):
            return values
        if isinstance(values, Mapping):
            return cls(values)
        if circuit is None:
            raise CircuitError(f"BindingsArray.coerce: an array of values needs the circuit, got {type(values)}")
        params = tuple(sorted_parameters(circuit))
        array = np.asarray(values, dtype=np.float64)
        if not params:
            if array.size == 0:
                return cls(shape=array.shape[:-1])
            raise CircuitError(f"parameter values {array.shape} given for a circuit without parameters")
        if len(params) == 1 and (array.ndim == 0 or array.shape[-1] != 1):
            array = array[..., None]
        if array.ndim == 0 or array.shape[-1] != len(params):
            raise CircuitError(f"parameter values of shape {array.shape}: the last axis needs one column per "
                               f"circuit parameter, {len(params)} ({[p.name for p in params]}, in this order)")
        return cls({params: array})


def _terms(observable: Any) -> dict[str, float]:
    """One observable as ``{label: real coeff}``: equal labels summed, zero terms dropped (Qiskit's simplify)."""
    if isinstance(observable, str):
        pairs: list[tuple[str, Any]] = [(observable, 1.0)]
    elif isinstance(observable, SparsePauliOp):
        pairs = list(zip(observable.labels, observable.coeffs))
    elif isinstance(observable, Mapping):
        pairs = list(observable.items())
    else:
        raise CircuitError(f"an observable is a Pauli label, a SparsePauliOp or a {{label: coeff}} dict, "
                           f"got {type(observable).__name__}")
    summed: dict[str, complex] = {}
    for label, coeff in pairs:
        if not isinstance(label, str) or not label or any(ch not in "IXYZ" for ch in label):
            raise CircuitError(f"observable label {label!r} must be a non-empty string of I, X, Y, Z "
                               "(rightmost character on qubit 0)")
        summed[label] = summed.get(label, 0) + complex(coeff)
    if len({len(label) for label in summed}) > 1:
        raise CircuitError(f"observable labels {list(summed)} act on different numbers of qubits")
    for label, coeff in summed.items():
        if abs(coeff.imag) > 1e-10 * max(1.0, abs(coeff)):
            raise CircuitError(f"observable term {label} has coefficient {coeff}: not Hermitian; estimators "
                               "take real coefficients only")
    terms = {label: c.real for label, c in summed.items() if c != 0}
    if not terms:
        raise CircuitError(f"observable {observable!r} is zero (every coefficient cancels)")
    return terms


def _observable_array(observables: Any) -> NDArray[np.object_]:
    if isinstance(observables, (str, SparsePauliOp, Mapping)):
        boxed = np.empty((), dtype=object)
        boxed[()] = _terms(observables)
        return boxed
    if isinstance(observables, np.ndarray) and observables.dtype == object and observables.ndim:
        observables = list(observables)
    try:
        items = [_observable_array(o) for o in observables]
    except TypeError:
        raise CircuitError(f"observables: {type(observables).__name__} is neither an observable nor a nested "
                           "list of them") from None
    shapes = {item.shape for item in items}
    if len(shapes) > 1:
        raise CircuitError(f"observables: nested lists are ragged (element shapes {sorted(shapes)})")
    out = np.empty((len(items),) + (items[0].shape if items else ()), dtype=object)
    for k, item in enumerate(items):
        out[k] = item[()] if item.ndim == 0 else item
    return out


class ObservablesArray:
    """An object array of observables, each ``{Pauli label: real coeff}`` in Qiskit's label order."""

    def __init__(self, observables: Any) -> None:
        self._array: NDArray[np.object_] = observables.array if isinstance(observables, ObservablesArray) \
            else _observable_array(observables)
        widths = {len(label) for terms in self._array.ravel() for label in terms}
        if len(widths) > 1:
            raise CircuitError(f"observables act on different numbers of qubits: {sorted(widths)}")
        self._num_qubits = widths.pop() if widths else 0

    @classmethod
    def coerce(cls, observables: Any) -> ObservablesArray:
        return observables if isinstance(observables, ObservablesArray) else cls(observables)

    @property
    def array(self) -> NDArray[np.object_]:
        return self._array

    @property
    def shape(self) -> Shape:
        return tuple(int(n) for n in self._array.shape)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def size(self) -> int:
        return int(self._array.size)

    @property
    def num_qubits(self) -> int:
        return self._num_qubits

    def __getitem__(self, index: Any) -> Any:
        item = self._array[index]
        return ObservablesArray(item) if isinstance(item, np.ndarray) and item.ndim else \
            (item[()] if isinstance(item, np.ndarray) else item)

    def reshape(self, *shape: int | Sequence[int]) -> ObservablesArray:
        flat = [int(s) for part in shape for s in ([part] if isinstance(part, (int, np.integer)) else part)]
        try:
            array = self._array.reshape(flat)
        except ValueError:
            raise CircuitError(f"observables of shape {self.shape} cannot be reshaped to {tuple(flat)}") from None
        new = ObservablesArray.__new__(ObservablesArray)
        new._array, new._num_qubits = array, self._num_qubits
        return new

    def validate(self, num_qubits: int) -> None:
        if self.size and self._num_qubits != num_qubits:
            raise CircuitError(f"observables act on {self._num_qubits} qubits but the circuit has {num_qubits}; "
                               f"give labels of {num_qubits} characters")

    def __repr__(self) -> str:
        return f"ObservablesArray(<shape={self.shape}, num_qubits={self.num_qubits}>)"


def _circuit(circuit: Any, where: str) -> Circuit:
    """A Circuit, or OpenQASM 3 text read into one."""
    if isinstance(circuit, Circuit):
        return circuit
    if isinstance(circuit, str):
        from qubitlab.circuits.qasm import circuit_from_qasm3

        return circuit_from_qasm3(circuit)
    raise CircuitError(f"{where}: the circuit must be a qubitlab Circuit or OpenQASM 3 text, got "
                       f"{type(circuit).__name__}; to run one circuit write run([circuit]), not run(circuit)")


def _check_shots(shots: Any, where: str) -> int | None:
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, Integral) or shots <= 0:
        raise CircuitError(f"{where}: shots must be a positive integer, got {shots!r}")
    return int(shots)


def _check_precision(precision: Any, where: str) -> float | None:
    if precision is None:
        return None
    if isinstance(precision, bool) or not isinstance(precision, Real) or not float(precision) > 0:
        raise CircuitError(f"{where}: precision must be a real number > 0, got {precision!r}")
    return float(precision)


def _as_tuple(pub: Any, lengths: Sequence[int], form: str, where: str) -> tuple[Any, ...]:
    if not isinstance(pub, (tuple, list)) or len(pub) not in lengths:
        raise CircuitError(f"{where}: a PUB is {form}; got {type(pub).__name__}"
                           f"{f' of length {len(pub)}' if isinstance(pub, (tuple, list)) else ''}; run() takes a list of PUBs, "
                           "e.g. run([pub]) rather than run(pub)")
    return tuple(pub) + (None,) * (max(lengths) - len(pub))


def _where(index: int | None) -> str:
    return "PUB" if index is None else f"PUB {index}"


class SamplerPub:
    """``(circuit, parameter_values, shots)``, checked; ``shape`` is the parameter values' shape."""

    def __init__(self, circuit: Circuit, parameter_values: BindingsArray | None = None,
                 shots: int | None = None, *, index: int | None = None) -> None:
        where = _where(index)
        self.circuit = _circuit(circuit, where)
        self.parameter_values = parameter_values or BindingsArray()
        self.shots = _check_shots(shots, where)
        self.parameter_values.check(self.circuit, where)
        if not any(op.name == "measure" for op in self.circuit):
            raise CircuitError(f"{where}: the circuit has no measurements, so a Sampler has nothing to return; "
                               "add measure() or measure_all()")

    @property
    def shape(self) -> Shape:
        return self.parameter_values.shape

    @classmethod
    def coerce(cls, pub: Any, shots: int | None = None, *, index: int | None = None) -> SamplerPub:
        """From a SamplerPub, a circuit, ``(circuit,)``, ``(circuit, values)`` or ``(circuit, values, shots)``;
        ``shots`` is the default for a PUB that gives none. ``index`` names the PUB in errors."""
        where = _where(index)
        default = _check_shots(shots, where)
        if isinstance(pub, SamplerPub):
            return pub if pub.shots is not None or default is None else \
                cls(pub.circuit, pub.parameter_values, default, index=index)
        if isinstance(pub, (Circuit, str)):
            return cls(_circuit(pub, where), None, default, index=index)
        circuit, values, pub_shots = _as_tuple(pub, (1, 2, 3), "a circuit or (circuit, parameter_values, "
                                               "shots)", where)
        circuit = _circuit(circuit, where)
        bindings = _coerce_values(values, circuit, where)
        return cls(circuit, bindings, default if pub_shots is None else pub_shots, index=index)


class EstimatorPub:
    """``(circuit, observables, parameter_values, precision)``, checked; ``shape`` is the broadcast of the
    observables' and the parameter values' shapes."""

    def __init__(self, circuit: Circuit, observables: ObservablesArray, parameter_values: BindingsArray | None
                 = None, precision: float | None = None, *, index: int | None = None) -> None:
        where = _where(index)
        self.circuit = _circuit(circuit, where)
        self.observables = observables
        self.parameter_values = parameter_values or BindingsArray()
        self.precision = _check_precision(precision, where)
        try:
            self.shape: Shape = tuple(np.broadcast_shapes(observables.shape, self.parameter_values.shape))
        except ValueError:
            raise CircuitError(f"{where}: the observables shape {observables.shape} and the parameter values "
                               f"shape {self.parameter_values.shape} do not broadcast (numpy rules: aligned "
                               "from the right, each axis equal or 1)") from None
        try:
            observables.validate(self.circuit.num_qubits)
        except CircuitError as error:
            raise CircuitError(f"{where}: {error}") from None
        self.parameter_values.check(self.circuit, where)

    @classmethod
    def coerce(cls, pub: Any, precision: float | None = None, *, index: int | None = None) -> EstimatorPub:
        """From an EstimatorPub or ``(circuit, observables[, parameter_values[, precision]])``; ``precision`` is
        the default for a PUB that gives none. ``index`` names the PUB in errors."""
        where = _where(index)
        default = _check_precision(precision, where)
        if isinstance(pub, EstimatorPub):
            return pub if pub.precision is not None or default is None else \
                cls(pub.circuit, pub.observables, pub.parameter_values, default, index=index)
        circuit, observables, values, pub_precision = _as_tuple(
            pub, (2, 3, 4), "(circuit, observables[, parameter_values[, precision]])", where)
        circuit = _circuit(circuit, where)
        try:
            obs = ObservablesArray.coerce(observables)
        except CircuitError as error:
            raise CircuitError(f"{where}: {error}") from None
        bindings = _coerce_values(values, circuit, where)
        return cls(circuit, obs, bindings, default if pub_precision is None else pub_precision, index=index)


def _coerce_values(values: Any, circuit: Circuit, where: str) -> BindingsArray:
    try:
        return BindingsArray.coerce(values, circuit)
    except CircuitError as error:
        raise CircuitError(f"{where}: {error}") from None
