"""OpenQASM 3 input from untrusted clients: every limit refused at its stated boundary, bad constants and bad
programs refused with a CircuitError naming line and column, and a program for a wider device refused by
translate(). Boundaries and counts are derived by hand in each test from the documented rules."""

from __future__ import annotations

import math
import time
import tracemalloc
from pathlib import Path

import pytest

from qubitlab import load_lab
from qubitlab.circuits import Circuit, Target, translate
from qubitlab.circuits.qasm import circuit_from_qasm3
from qubitlab.circuits.qasm_limits import (
    MAX_CLBITS,
    MAX_EXPRESSION_DEPTH,
    MAX_GATE_NESTING,
    MAX_OPERATIONS,
    MAX_PROGRAM_CHARS,
    MAX_QUBITS,
)
from qubitlab.errors import CircuitError

ROOT = Path(__file__).resolve().parents[2]
HEAD = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"


def doubling_nest(levels: int) -> str:
    """g0 is one x; g(k) calls g(k-1) twice: g(k) expands to 2**k x gates. g(k) is on line k + 3."""
    lines = ["gate g0 a { x a; }"] + [f"gate g{k} a {{ g{k - 1} a; g{k - 1} a; }}" for k in range(1, levels + 1)]
    return HEAD + "\n".join(lines) + "\n"


def test_the_limits_are_what_the_documentation_states() -> None:
    assert (MAX_QUBITS, MAX_CLBITS, MAX_OPERATIONS, MAX_EXPRESSION_DEPTH) == (1024, 1024, 100_000, 64)
    assert (MAX_PROGRAM_CHARS, MAX_GATE_NESTING) == (262_144, 32)


# -- registers ----------------------------------------------------------------------------------------------------
def test_registers_up_to_the_cap_are_read() -> None:
    qc = circuit_from_qasm3(HEAD + "qubit[1000] a;\nqubit[24] b;\nbit[1024] c;\nx b[23];\n")
    assert (qc.num_qubits, qc.num_clbits) == (1024, 1024)
    assert circuit_from_qasm3(HEAD + "bit[1] c;\nx $1023;\n").num_qubits == 1024


@pytest.mark.parametrize("program, line, column, message", [
    ("qubit[1025] q;", 3, 6, "a register of 1025 is larger than any lab; at most 1024 qubits"),
    ("qubit[100000000] q;", 3, 6, "a register of 100000000"),
    ("qubit[1000] a;\nqubit[25] b;", 4, 1, r"qubit register b\[25\] brings the program to 1025 qubits; at most 1024"),
    ("bit[1000] a;\nbit[25] b;", 4, 1, r"bit register b\[25\] brings the program to 1025 bits; at most 1024"),
    ("bit[10**8] c;", 3, 4, "a register of 100000000"),  # the size's span starts at its bracket
    ("x $1024;", 3, 3, r"physical qubit \$1024 is beyond the largest a program may name, \$1023"),
    ("x $" + "9" * 5000 + ";", 3, 3, r"physical qubit \$9999999999"),
])
def test_registers_beyond_the_cap_are_refused_fast(program: str, line: int, column: int, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(CircuitError, match=rf"line {line}, column {column}: {message}"):
        circuit_from_qasm3(HEAD + program)
    assert time.perf_counter() - start < 1.0


# -- operations after expansion -----------------------------------------------------------------------------------
def test_a_nest_within_the_cap_expands_to_the_closed_form_count() -> None:
    # g(k) costs c(k) operations: the call plus its statements, expanded: c(0) = 2, c(k) = 1 + 2 c(k-1), so
    # c(k) = 3 * 2**k - 1: c(15) = 98,303 <= 100,000 < c(16) = 196,607. g15 gives 2**15 x gates.
    qc = circuit_from_qasm3(doubling_nest(15) + "qubit q;\ng15 q;\n")
    assert len(qc) == 2**15 and {op.name for op in qc} == {"x"}
    with pytest.raises(CircuitError, match=r"line 19, column 1: gate definition g16 expands to 196,607 operations"):
        circuit_from_qasm3(doubling_nest(16))


def test_the_budget_is_shared_by_the_whole_program() -> None:
    # two calls of g15 cost 2 * 98,303 > 100,000: the second call (line 21) is refused
    with pytest.raises(CircuitError, match=r"line 21, column 1: the program grows beyond 100,000 operations"):
        circuit_from_qasm3(doubling_nest(15) + "qubit q;\ng15 q;\ng15 q;\n")
    # broadcasting counts each qubit: 98 statements x 1024 qubits = 100,352 > 100,000 at statement 98 (line 101)
    with pytest.raises(CircuitError, match=r"line 101, column 1: the program grows beyond 100,000"):
        circuit_from_qasm3(HEAD + "qubit[1024] q;\n" + "x q;\n" * 98)


def test_empty_definitions_are_not_free() -> None:
    # e(k) has an empty body at k=0 and calls e(k-1) twice: cost 1, 3, 7, ... = 2**(k+1) - 1 > 100,000 at k = 16
    lines = ["gate e0 a { }"] + [f"gate e{k} a {{ e{k - 1} a; e{k - 1} a; }}" for k in range(1, 40)]
    with pytest.raises(CircuitError, match=r"gate definition e16 expands to 131,071 operations"):
        circuit_from_qasm3(HEAD + "\n".join(lines))


def test_a_gate_bomb_is_refused_at_once_in_bounded_memory() -> None:
    text = doubling_nest(60) + "qubit q;\ng60 q;\n"  # 2**60 gates if expanded
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CircuitError, match="gate definition g16 expands to 196,607 operations per call"):
            circuit_from_qasm3(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 10e6  # the AST of a 3 kB program, not 2**16 operations


def test_definitions_nest_at_most_max_gate_nesting_deep() -> None:
    # h(k) calls h(k-1) once: h(k) is k + 1 definitions deep; h31 is 32 deep (allowed), h32 is 33 (refused)
    lines = ["gate h0 a { x a; }"] + [f"gate h{k} a {{ h{k - 1} a; }}" for k in range(1, 33)]
    assert len(circuit_from_qasm3(HEAD + "\n".join(lines[:32]) + "\nqubit q;\nh31 q;")) == 1
    with pytest.raises(CircuitError, match="gate definition h32 nests 33 definitions deep; at most 32"):
        circuit_from_qasm3(HEAD + "\n".join(lines))


def test_substituted_expressions_are_bounded() -> None:
    # f(k)(a) calls f(k-1)(a + a). Called with t, f(n)'s body makes a + a of 3 nodes, and f(k)'s body one of
    # 2**(n - k + 2) - 1 nodes: f11(t) reaches 2**12 - 1 = 4095 <= 4096 nodes (angle 2**11 t); from f29(t) the
    # body of f18 (line 21, its 'a + a' at column 21) would make 8191 nodes, 13 deep
    lines = ["gate f0(a) q { rx(a) q; }"] + [f"gate f{k}(a) q {{ f{k - 1}(a + a) q; }}" for k in range(1, 30)]
    text = HEAD + "\n".join(lines) + "\ninput float t;\nqubit q;\n"
    qc = circuit_from_qasm3(text + "f11(t) q;")
    (theta,) = qc.parameters
    assert math.isclose(float(list(qc.assign_parameters({theta: 1.0}))[0].params[0]), 2**11)
    start = time.perf_counter()
    with pytest.raises(CircuitError, match=r"line 21, column 21: the angle expression grows to more than 4096 nodes, 13 deep"):
        circuit_from_qasm3(text + "f29(t) q;")
    assert time.perf_counter() - start < 2.0


# -- nesting and size of the text ----------------------------------------------------------------------------------
def test_statement_nesting_is_refused_beyond_max_expression_depth() -> None:
    # 'rx(' opens one bracket; n more nested parentheses make the statement n + 1 deep: 63 is read, 64 is not
    def nested(n: int) -> str:
        return HEAD + "qubit q;\nrx(" + "(" * n + "0.5" + ")" * n + ") q;\n"

    assert circuit_from_qasm3(nested(63)) == Circuit(1).rx(0.5, 0)
    with pytest.raises(CircuitError, match=r"line 4, column 1: the statement nests too deeply .* at most 64"):
        circuit_from_qasm3(nested(64))
    # 63 unary minus signs (63 operators) inside rx( (1 bracket): 64, read; 64 signs: 65, refused
    assert circuit_from_qasm3(HEAD + "qubit q;\nrx(" + "-" * 63 + "0.5) q;") == Circuit(1).rx(-0.5, 0)
    with pytest.raises(CircuitError, match="nests too deeply"):
        circuit_from_qasm3(HEAD + "qubit q;\nrx(" + "-" * 64 + "0.5) q;")


@pytest.mark.parametrize("text", [
    "qubit q;\nrx(" + "(" * 100_000 + "1" + ")" * 100_000 + ") q;",  # would overflow the parser's recursion
    "qubit q;\nrx(" + "+".join(["1"] * 50_000) + ") q;",
    "{" * 100_000,
    "qubit q;\n" + "ctrl @ " * 10_000 + "x q;",
])
def test_hostile_nesting_is_refused_before_parsing(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(CircuitError, match="nests too deeply"):
        circuit_from_qasm3(text)
    assert time.perf_counter() - start < 10.0  # a bound against a hang, not a timing (the machine is shared)


def test_program_text_is_limited_before_lexing() -> None:
    start = time.perf_counter()
    with pytest.raises(CircuitError, match=r"has 262,145 characters; at most 262,144 \(MAX_PROGRAM_CHARS\)"):
        circuit_from_qasm3("qubit q;" + " " * (MAX_PROGRAM_CHARS - 8 + 1))
    assert time.perf_counter() - start < 2.0  # refused before lexing: far below the seconds lexing would take
    assert circuit_from_qasm3("qubit q;" + " " * (MAX_PROGRAM_CHARS - 8)) == Circuit(1)


# -- bad programs and constants --------------------------------------------------------------------------------------
@pytest.mark.parametrize("program, where, message", [
    ("qubit q;\nrx(1/0) q;", "line 4, column 4", "division by zero"),
    ("qubit q;\nrx(1 / (2 - 2)) q;", "line 4, column 4", "division by zero"),
    ("qubit q;\nrx(0 ** -1) q;", "line 4, column 4", "zero raised to a negative power"),
    ("qubit q;\nrx(10.0 ** 400) q;", "line 4, column 4", r"10 \*\* 400 overflows"),
    ("qubit q;\nrx(1e300 * 1e300) q;", "line 4, column 4", r"1e\+300 \* 1e\+300 overflows"),
    # right-associative: 9 ** (9 ** 387420489) overflows at the inner power, which starts at column 9
    ("qubit q;\nrx(9 ** 9 ** 9 ** 9) q;", "line 4, column 9", r"9 \*\* 3.8742e\+08 overflows"),
    ("qubit q;\nrx((-8) ** (1/3)) q;", "line 4, column 4", "is not a real number"),
    ("qubit q;\nrx(1" + "0" * 400 + ") q;", "line 4, column 4", "is too large"),
    ("qubit q;\nrx(1" + "0" * 5000 + ") q;", "", "could not read the program"),  # beyond Python's int digits
    ("qubit q;\nrx(1e999) q;", "line 4, column 4", "is not finite"),
    ("qubit[2] q;\nrx(theta) q[0];", "line 4, column 4", "unknown name 'theta'"),
    ("qubit[2] q;\ncx q[0];", "line 4, column 1", r"gate cx takes 0 argument\(s\) and 2 qubit\(s\); got 0 and 1"),
    ("qubit[2] q;\nrx q[0];", "line 4, column 1", r"gate rx takes 1 argument"),
    ("qubit[2] q;\nx q[2];", "line 4, column 3", r"index 2 out of range for q\[2\]"),
    ("qubit[2] q;\nx q[-3];", "line 4, column 3", "index -3 out of range"),
    ("qubit[2] q;\nx q[1e30];", "line 4, column 3", "out of range"),
    ("qubit[1/0] q;", "line 3, column 6", "division by zero"),
    ("qubit[-2] q;", "line 3, column 6", "a register size must be a positive integer, got -2$"),
    ("input float n;\nqubit[n] q;", "line 4, column 6", "a register size must be a positive integer, got n$"),
    ("gate g(a, a) q { rx(a) q; }", "line 3, column 1", "a parameter name appears twice"),
    ("gate g q, q { x q; }", "line 3, column 1", "a qubit name appears twice"),
    ("gate ecr a, b { cx a, a; }", "line 3, column 17", "cx acts on the same qubit twice"),
    ("gate g a { g a; }\nqubit q;\ng q;", "line 3, column 12", "unknown gate 'g'"),
    ("gate g a { x b; }", "line 3, column 12", "a body acts on the gate's own qubits"),
    ("qubit q;\nh q[;", "syntax error at line 4, column 5", "mismatched input ';'"),
    ("qubit q;\n\x00", "syntax error at line 4, column 1", r"token recognition error at: '\\x00'"),
    ("qubit q;\nh q", "syntax error at line 4, column 4", "missing ';' at '<EOF>'"),
])
def test_bad_programs_name_line_and_column(program: str, where: str, message: str) -> None:
    with pytest.raises(CircuitError, match=f"{where}.*{message}"):
        circuit_from_qasm3(HEAD + program)


@pytest.mark.parametrize("text, message", [
    ("", "the OpenQASM 3 program is empty"),
    ("  \n\t\n", "the OpenQASM 3 program is empty"),
    ("// only a comment\n/* and another */", "the OpenQASM 3 program is empty"),
    ("OPENQASM 3.0;", "has no statements"),
    (b"OPENQASM 3.0;", "must be text"),
])
def test_empty_programs_are_refused(text: str, message: str) -> None:
    with pytest.raises(CircuitError, match=message):
        circuit_from_qasm3(text)


# -- the lab's qubits ------------------------------------------------------------------------------------------------
def test_translate_refuses_qubits_the_lab_does_not_have() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")  # qubits 0..4
    target = Target.from_lab(lab)
    assert target.qubits == frozenset(range(5))
    qc = circuit_from_qasm3(HEAD + "qubit[6] q;\nbit[1] c;\nx q[1];\nc[0] = measure q[5];")
    with pytest.raises(CircuitError, match=r"measure on qubit 5: the lab has no qubit 5; its qubits are "
                                           r"\[0, 1, 2, 3, 4\]"):
        translate(qc, target)
    assert [op.name for op in translate(Circuit(5).x(4), target)] == ["x"]


def test_a_hand_made_target_states_its_qubits_consistently() -> None:
    target = Target.make(couplings=[(0, 2)], qubits=[0, 2])
    with pytest.raises(CircuitError, match=r"sx on qubit 1: the lab has no qubit 1; its qubits are \[0, 2\]"):
        translate(Circuit(3).sx(1), target)
    with pytest.raises(CircuitError, match=r"couplings \[\(0, 3\)\] name qubits \[3\] that are not among"):
        Target.make(couplings=[(0, 3)], qubits=[0, 1])
