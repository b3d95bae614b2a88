"""OpenQASM 3 input: programs become the expected circuits; unsupported constructs name their line."""

from __future__ import annotations

import math

import pytest

from qubitlab.circuits import Circuit
from qubitlab.circuits.qasm import circuit_from_qasm3, input_parameters
from qubitlab.errors import CircuitError


def test_bell_program_with_arrays_measure_forms_barrier_and_delay() -> None:
    qc = circuit_from_qasm3("""
        OPENQASM 3.0;
        include "stdgates.inc";
        qubit[2] q;
        bit[2] c;
        h q[0];
        cx q[0], q[1];
        barrier q;
        delay[100ns] q[1];
        delay[32dt] q[0];
        c[0] = measure q[0];
        measure q[1] -> c[1];
    """)
    expected = Circuit(2, 2).h(0).cx(0, 1).barrier(0, 1).delay(100.0, 1, "ns").delay(32.0, 0, "dt")
    expected.measure(0, 0).measure(1, 1)
    assert qc == expected


def test_parameterised_program_inputs_become_parameters() -> None:
    qc = circuit_from_qasm3("""
        OPENQASM 3.0;
        include "stdgates.inc";
        input float theta;
        input angle phi;
        qubit[1] q;
        bit[1] c;
        rx(theta) q[0];
        rz(2 * phi + pi / 4) q[0];
        u(theta, -phi, pi) q[0];
        measure q -> c;
    """)
    params = input_parameters(qc)
    theta, phi = params["theta"], params["phi"]
    assert [op.name for op in qc] == ["rx", "rz", "u", "measure"]
    assert qc.parameters == {theta, phi}
    bound = qc.assign_parameters({theta: 0.3, phi: 0.1})
    assert bound == Circuit(1, 1).rx(0.3, 0).rz(0.2 + math.pi / 4, 0).u(0.3, -0.1, math.pi, 0).measure(0, 0)


def test_single_qubit_declarations_broadcast_and_aliases() -> None:
    qc = circuit_from_qasm3("""
        OPENQASM 3.0;
        include "stdgates.inc";
        qubit a;
        qubit[2] b;
        bit[3] c;
        x b;
        CX a, b[1];
        U(pi, 0, pi) a;
        p(0.5) b[0];
        sx a;
        reset b[0];
        c[1] = measure b[1];
    """)
    expected = Circuit(3, 3).x(1).x(2).cx(0, 2).u(math.pi, 0.0, math.pi, 0).rz(0.5, 1).sx(0).reset(1).measure(2, 1)
    assert qc == expected


@pytest.mark.parametrize("program, line, message", [
    ("OPENQASM 3.0;\nqubit q;\nbit c;\nif (c) x q;", 4, "unsupported statement BranchingStatement"),
    ("OPENQASM 3.0;\nqubit q;\nfoo q;", 3, "unknown gate 'foo'"),
    ("OPENQASM 3.0;\nqubit q;\n\nctrl @ x q, q;", 4, "modifiers"),
    ("OPENQASM 3.0;\ninclude \"mygates.inc\";", 2, "stdgates.inc"),
    ("OPENQASM 3.0;\nqubit[2] q;\nrx(1, 2) q[0];", 3, "takes 1 argument"),
    ("OPENQASM 3.0;\nqubit[2] q;\nh r[0];", 3, "unknown qubit 'r'"),
    ("OPENQASM 3.0;\nqubit[2] q;\nh q[5];", 3, "out of range"),
    ("OPENQASM 3.0;\nqubit q;\nrx(sin(0.1)) q;", 3, "unsupported expression"),
    ("OPENQASM 3.0;\ngate g a { x a; }\n", 2, "QuantumGateDefinition"),
])
def test_unsupported_constructs_name_the_line(program: str, line: int, message: str) -> None:
    with pytest.raises(CircuitError, match=rf"line {line}\b.*{message}|line {line}: .*{message}"):
        circuit_from_qasm3(program)


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(CircuitError, match="syntax error at line 3"):
        circuit_from_qasm3("OPENQASM 3.0;\nqubit q;\nh q[;\n")


def test_package_level_reader_is_the_same() -> None:
    from qubitlab import circuits

    text = "OPENQASM 3.0;\nqubit[1] q;\nsx q[0];"
    assert circuits.circuit_from_qasm3(text) == circuit_from_qasm3(text) == Circuit(1).sx(0)
