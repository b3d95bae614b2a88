"""PUB coercion and broadcasting as Qiskit's SamplerPub/EstimatorPub do it, with errors naming the PUB."""

from __future__ import annotations

import numpy as np
import pytest

from qubitlab.circuits import Circuit, Parameter, ParameterVector, SparsePauliOp
from qubitlab.errors import CircuitError
from qubitlab.runtime.primitives import BindingsArray, EstimatorPub, ObservablesArray, SamplerPub
from qubitlab.runtime.primitives.pubs import sorted_parameters


def _two_params() -> tuple[Circuit, Parameter, Parameter]:
    a, b = Parameter("a"), Parameter("b")
    return Circuit(2).ry(b, 0).rx(a, 1).cx(0, 1), a, b


def test_broadcast_3x1_parameters_against_4_observables() -> None:
    # Qiskit: EstimatorPub.coerce((qc, ["ZZ", "XX", "YY", "ZI"], np.zeros((3, 1, 2)))).shape == (3, 4)
    circuit, _, _ = _two_params()
    pub = EstimatorPub.coerce((circuit, ["ZZ", "XX", "YY", "ZI"], np.zeros((3, 1, 2))))
    assert pub.shape == (3, 4)
    assert pub.parameter_values.shape == (3, 1) and pub.observables.shape == (4,)
    assert pub.precision is None


def test_shapes_that_do_not_broadcast_name_both() -> None:
    circuit, _, _ = _two_params()
    with pytest.raises(CircuitError, match=r"PUB 2: the observables shape \(3,\) and the parameter values "
                                           r"shape \(4,\) do not broadcast"):
        EstimatorPub.coerce((circuit, ["ZZ", "XX", "YY"], np.zeros((4, 2))), index=2)


def test_array_columns_follow_sorted_parameter_names() -> None:
    # the circuit uses b first, but columns are in name order: a, b (Qiskit sorts by name)
    circuit, a, b = _two_params()
    pub = SamplerPub.coerce((circuit.copy().measure_all(), [[0.5, 0.25]]))
    bound = pub.parameter_values.bind(pub.circuit, (0,))
    angles = {op.name: float(op.params[0]) for op in bound if op.params}
    assert angles == {"ry": 0.25, "rx": 0.5}      # ry(b) got column 1, rx(a) column 0


def test_vector_parameters_sort_numerically() -> None:
    theta = ParameterVector("t", 11)
    circuit = Circuit(1)
    for p in theta:
        circuit.rz(p, 0)
    names = [p.name for p in sorted_parameters(circuit)]
    assert names.index(theta[2].name) < names.index(theta[10].name)


def test_wrong_column_count_unknown_and_missing_names() -> None:
    circuit, _, _ = _two_params()
    with pytest.raises(CircuitError, match=r"PUB 1: .*shape \(4, 3\).*2 \(\['a', 'b'\]"):
        EstimatorPub.coerce((circuit, "ZZ", np.zeros((4, 3))), index=1)
    with pytest.raises(CircuitError, match=r"missing: \['b'\]; not in the circuit: \['q'\]"):
        EstimatorPub.coerce((circuit, "ZZ", {"a": [1.0], "q": [2.0]}))


def test_dict_forms_and_scalars() -> None:
    circuit, a, b = _two_params()
    values = BindingsArray({(a, b): np.ones((5, 2))})
    assert values.shape == (5,) and values.num_parameters == 2 and values.parameters == ["a", "b"]
    mixed = BindingsArray({"b": [1.0, 2.0], a: [[3.0], [4.0]]})     # one-parameter keys, last axis optional
    assert mixed.shape == (2,)
    assert mixed.as_array().tolist() == [[3.0, 1.0], [4.0, 2.0]]
    assert mixed.as_array(["b", "a"]).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    one = Circuit(1).rx(a, 0)
    one.measure_all()
    assert SamplerPub.coerce((one, 0.3)).shape == ()
    assert SamplerPub.coerce((one, [0.1, 0.2, 0.3])).shape == (3,)
    bound = SamplerPub.coerce((one, [0.1, 0.2])).parameter_values.bind_all(one)
    assert bound.shape == (2,) and float(bound[1].data[0].params[0]) == 0.2


def test_ambiguous_or_inconsistent_bindings() -> None:
    with pytest.raises(CircuitError, match="share no leading shape"):
        BindingsArray({("a", "b"): np.zeros((3, 2)), "c": np.zeros(4)})


def test_sampler_pub_forms_and_shots() -> None:
    circuit = Circuit(1).x(0)
    circuit.measure_all()
    assert SamplerPub.coerce(circuit).shots is None
    assert SamplerPub.coerce(circuit, shots=100).shots == 100
    assert SamplerPub.coerce((circuit, None, 7), shots=100).shots == 7     # the PUB's own shots win
    for bad in (0, -3, 1.5, True):
        with pytest.raises(CircuitError, match="PUB 0: shots must be a positive integer"):
            SamplerPub.coerce((circuit, None, bad), index=0)
    with pytest.raises(CircuitError, match="no measurements"):
        SamplerPub.coerce(Circuit(1).x(0))
    with pytest.raises(CircuitError, match="length 4"):
        SamplerPub.coerce((circuit, None, 1, 2))


def test_sampler_pub_from_openqasm3_inputs() -> None:
    text = ('OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float theta;\nqubit[1] q;\nbit[1] c;\n'
            'rx(theta) q[0];\nc[0] = measure q[0];\n')
    pub = SamplerPub.coerce((text, [[0.1], [0.2]]))
    assert pub.shape == (2,) and pub.parameter_values.parameters == ["theta"]


def test_estimator_precision_and_qubit_count() -> None:
    circuit = Circuit(2).h(0).cx(0, 1)
    assert EstimatorPub.coerce((circuit, "ZZ"), precision=0.01).precision == 0.01
    assert EstimatorPub.coerce((circuit, "ZZ", None, 0.02), precision=0.01).precision == 0.02
    with pytest.raises(CircuitError, match="precision must be a real number > 0"):
        EstimatorPub.coerce((circuit, "ZZ", None, 0.0))
    with pytest.raises(CircuitError, match="PUB 3: observables act on 3 qubits but the circuit has 2"):
        EstimatorPub.coerce((circuit, "ZZI"), index=3)
    with pytest.raises(CircuitError, match=r"got Circuit; run\(\) takes a list of PUBs"):
        EstimatorPub.coerce(circuit)


def test_observables_array_forms() -> None:
    op = SparsePauliOp(["ZZ", "XX", "ZZ"], [0.5, -1.0, 0.25])
    obs = ObservablesArray([[op, "IZ"], [{"XX": 2.0}, "YY"]])
    assert obs.shape == (2, 2) and obs.num_qubits == 2
    assert obs[0, 0] == {"ZZ": 0.75, "XX": -1.0}                   # equal labels summed (Qiskit simplifies)
    assert obs[1, 1] == {"YY": 1.0}
    assert obs.reshape(4).shape == (4,) and obs[1].shape == (2,)
    with pytest.raises(CircuitError, match="not Hermitian"):
        ObservablesArray(SparsePauliOp(["XY"], [1j]))
    with pytest.raises(CircuitError, match="is zero"):
        ObservablesArray(SparsePauliOp(["Z", "Z"], [1.0, -1.0]))
    with pytest.raises(CircuitError, match="ragged"):
        ObservablesArray([["Z", "X"], ["Y"]])
    with pytest.raises(CircuitError, match="I, X, Y, Z"):
        ObservablesArray("ZA")
