"""The circuit IR: builder, checks, parameters, equality, text, and gate matrices against hand-written ones."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from circuit_reference import FIXED, ROTATIONS, embed, equal_up_to_phase

from qubitlab.circuits import GATES, Circuit, Operation, Parameter, gate_matrix
from qubitlab.errors import CircuitError


@pytest.mark.parametrize("name", sorted(GATES))
def test_every_gate_matrix_equals_the_hand_written_one_exactly(name: str) -> None:
    rng = np.random.default_rng(7)
    params = list(rng.uniform(-math.pi, math.pi, GATES[name].num_params))
    expected = FIXED[name] if name in FIXED else ROTATIONS[name](*params)
    assert np.allclose(gate_matrix(name, params), expected, atol=1e-14)


def test_cx_is_little_endian_like_qiskit() -> None:
    # |q1 q0> = |01> (index 1): control q0 is 1, so the target q1 flips -> |11> (index 3).
    qc = Circuit(2).cx(0, 1)
    state = qc.to_matrix()[:, 1]
    assert np.allclose(state, [0, 0, 0, 1])


def test_builder_records_operations_in_order() -> None:
    theta = Parameter("theta")
    qc = Circuit(3)
    qc.h(0).cx(0, 1).rz(theta, 2).u(0.1, 0.2, 0.3, 1).delay(100, 2, "ns").measure_all()
    assert [op.name for op in qc] == ["h", "cx", "rz", "u", "delay", "barrier", "measure", "measure", "measure"]
    assert qc.num_clbits == 3
    assert qc.data[2] == Operation("rz", (2,), (theta,))
    assert qc.data[-1] == Operation("measure", (2,), (), (2,))
    assert qc.parameters == {theta}
    assert qc.count_ops()["measure"] == 3


def test_str_is_readable() -> None:
    theta = Parameter("theta")
    qc = Circuit(2, 1, name="bell").h(0).cx(0, 1).rz(theta / 2, 1).delay(160, 0).measure(1, 0)
    assert str(qc) == (
        "Circuit 'bell': 2 qubits, 1 bits\n"
        "  h q[0]\n"
        "  cx q[0], q[1]\n"
        "  rz(theta / 2) q[1]\n"
        "  delay[160dt] q[0]\n"
        "  measure q[1] -> c[0]"
    )


def test_equality_compares_operations_and_sizes() -> None:
    a = Circuit(2).h(0).cx(0, 1)
    assert a == Circuit(2).h(0).cx(0, 1)
    assert a != Circuit(2).h(0).cx(1, 0)
    assert a != Circuit(3).h(0).cx(0, 1)


def test_assign_parameters_returns_a_new_circuit_with_numbers() -> None:
    a, b = Parameter("a"), Parameter("b")
    qc = Circuit(1).rx(a, 0).rz(2 * b + 1, 0)
    bound = qc.assign_parameters({a: 0.5, b: 0.25})
    assert bound.data == (Operation("rx", (0,), (0.5,)), Operation("rz", (0,), (1.5,)))
    assert qc.parameters == {a, b}
    partly = qc.assign_parameters({a: 0.5})
    assert partly.parameters == {b}
    assert equal_up_to_phase(bound.to_matrix(), ROTATIONS["rz"](1.5) @ ROTATIONS["rx"](0.5))
    with pytest.raises(CircuitError, match="not in the circuit"):
        qc.assign_parameters({Parameter("c"): 1.0})


def test_to_matrix_matches_the_reference_embedding() -> None:
    qc = Circuit(3).h(2).cx(2, 0).rzz(0.7, 0, 1).swap(1, 2)
    expected = (embed(FIXED["swap"], (1, 2), 3) @ embed(ROTATIONS["rzz"](0.7), (0, 1), 3)
                @ embed(FIXED["cx"], (2, 0), 3) @ embed(FIXED["h"], (2,), 3))
    assert np.allclose(qc.to_matrix(), expected)


@pytest.mark.parametrize("build, message", [
    (lambda qc: qc.h(2), "qubit 2 is not in this circuit"),
    (lambda qc: qc.cx(0, 0), "same qubit appears twice"),
    (lambda qc: qc.measure(0, 0), "classical bit 0"),
    (lambda qc: qc.append("rx", (0,), ()), "1 angle"),
    (lambda qc: qc.append("toffoli", (0, 1)), "unknown operation 'toffoli'"),
    (lambda qc: qc.delay(10, 0, "fortnights"), "unit 'fortnights'"),
    (lambda qc: qc.rx(1j, 0), "real number"),
])
def test_invalid_operations_are_refused_with_a_clear_error(build: object, message: str) -> None:
    with pytest.raises(CircuitError, match=message):
        build(Circuit(2))  # type: ignore[operator]


def test_reset_is_representable_in_the_ir() -> None:
    qc = Circuit(1).reset(0)
    assert qc.data == (Operation("reset", (0,)),)


@pytest.mark.parametrize("build, message", [
    (lambda: Circuit(1, 1).append("measure", (0,)), r"measure takes measure\(qubit, clbit\)"),
    (lambda: Circuit(1, 2).append("measure", (0,), clbits=(0, 1)), r"measure takes .*classical bits \(0, 1\)"),
    (lambda: Circuit(2, 1).append("measure", (0, 1), clbits=(0,)), r"measure takes .*qubits \(0, 1\)"),
    (lambda: Circuit(2).append("delay", (0, 1), (10,), unit="dt"), r"delay takes delay\(duration, qubit, unit\)"),
    (lambda: Circuit(1).append("delay", (0,), (), unit="dt"), r"delay takes .*0 argument"),
    (lambda: Circuit(1).append("delay", (0,), (10,)), r"unit None is not one of dt"),
    (lambda: Circuit(1).delay(-5, 0), "non-negative"),
    (lambda: Circuit(1).append("barrier", (0,), (1.0,)), r"barrier takes .*1 argument"),
    (lambda: Circuit(1).append("barrier", ()), "at least one qubit"),
    (lambda: Circuit(1, 1).append("barrier", (0,), clbits=(0,)), "barrier takes"),
    (lambda: Circuit(1).append("reset", (0,), (0.5,)), r"reset takes reset\(qubit\)"),
    (lambda: Circuit(1, 1).append("x", (0,), clbits=(0,)), r"gate x .*no classical bits; .*classical bits \(0,\)"),
    (lambda: Circuit(1).append("x", (0,), unit="ns"), "only delay takes a unit"),
])
def test_append_checks_the_arity_of_every_operation(build: Callable[[], object], message: str) -> None:
    with pytest.raises(CircuitError, match=message):
        build()


@pytest.mark.parametrize("angle", [float("nan"), float("inf"), -float("inf")])
def test_angles_must_be_finite(angle: float) -> None:
    with pytest.raises(CircuitError, match="finite"):
        Circuit(1).rx(angle, 0)
    theta = Parameter("theta")
    with pytest.raises(CircuitError, match="finite"):
        Circuit(1).rx(theta, 0).assign_parameters({theta: angle})


def test_bools_and_complex_numbers_are_not_angles() -> None:
    with pytest.raises(CircuitError, match="real number"):
        Circuit(1).rx(True, 0)  # type: ignore[arg-type]
    with pytest.raises(CircuitError, match="real number"):
        Circuit(1).rx(1j, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("index", [1.7, True, "1", None])
def test_qubit_indices_must_be_integers(index: object) -> None:
    with pytest.raises(CircuitError, match="qubit index must be an integer"):
        Circuit(2).h(index)  # type: ignore[arg-type]
    with pytest.raises(CircuitError, match="classical bit index must be an integer"):
        Circuit(2, 2).measure(0, index)  # type: ignore[arg-type]


def test_integral_indices_of_other_integer_types_are_accepted() -> None:
    qc = Circuit(2).h(np.int64(1)).h(1.0)  # type: ignore[arg-type]
    assert [op.qubits for op in qc] == [(1,), (1,)]
    assert all(type(op.qubits[0]) is int for op in qc)
