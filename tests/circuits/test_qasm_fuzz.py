"""Property-based tests of the OpenQASM 3 reader against hostile input: mutated valid programs, token soup,
random constant expressions (checked against a float evaluator written here) and random gate-definition nests
(checked against a leaf count written here) raise nothing but CircuitError, each within hypothesis' deadline;
gate bombs are refused in bounded memory."""

from __future__ import annotations

import math
import re
import tracemalloc
from typing import Union

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qubitlab.circuits import Circuit
from qubitlab.circuits.qasm import circuit_from_qasm3
from qubitlab.errors import CircuitError

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
MAX_OPERATIONS = 100_000  # as documented in qubitlab.circuits.qasm_limits
MAX_STATEMENT_DEPTH = 64  # operators plus bracket depth per statement, as documented
WITHOUT_POSITION = ("program is empty", "has no statements", "OpenQASM version", "could not read the program",
                    "nests too deeply for the parser")
"""The only refusals that may not name a line and column: they concern the program as a whole."""

CORPUS = [
    """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
barrier q;
delay[100ns] q[1];
c[0] = measure q[0];
measure q[1] -> c[1];
""",
    """OPENQASM 3.0;
include "stdgates.inc";
input float theta;
input angle phi;
qubit[1] q;
bit[1] c;
rx(theta) q[0];
rz(2 * phi + pi / 4) q[0];
u(theta, -phi, pi) q[0];
measure q -> c;
""",
    """OPENQASM 3.0;
include "stdgates.inc";
gate rzx(p) a, b { h b; cx a, b; rz(p) b; cx a, b; h b; }
gate ecr a, b { rzx(pi/4) a, b; x a; rzx(-pi/4) a, b; }
gate g(a, b) x, y { rx(a / 2) y; gphase(b); cx y, x; }
gate twice(a) x, y { g(a, 0) x, y; g(2 * a, pi) y, x; }
qubit[3] q;
bit[2] c;
ecr q[0], q[1];
twice(0.4) q[2], q[0];
reset q[1];
c[1] = measure q[2];
""",
    """OPENQASM 3.0;
bit[2] c;
x $2;
cx $2, $0;
barrier;
c[1] = measure $0;
""",
]
VOCABULARY = [
    "0", "1", "2", "0.5", "1e400", "1e308", "99999999", "1" + "0" * 30, "(", ")", "[", "]", "{", "}", ";", ",", "-",
    "+", "*", "/", "**", "->", "=", "@", ":", "gate", "qubit", "bit", "measure", "reset", "barrier", "delay[10ns]",
    "input float t;", "$5", "$1023", "$1024", "q", "c", "a", "x", "cx", "rx", "pi", "theta", "ctrl @", "inv @", "if",
    "for", "while", "def", "OPENQASM 3.0;", "include \"stdgates.inc\";", "\x00", "π", "//", "/*", "\"", "\n",
    "qubit[1025] r;", "gate b a { b a; }", "1/0", "10**400",
]
NUMBERS = ["0", "1", "2", "3", "0.5", "1e400", "1e308", "1023", "1024", "99999999", "1" + "0" * 30, "1" + "0" * 5000]
NAMES = ["q", "c", "a", "b", "x", "y", "h", "cx", "rx", "u", "g", "twice", "ecr", "rzx", "pi", "theta", "phi",
         "measure", "reset", "gate", "qubit", "bit", "input", "float", "angle", "int", "if", "sin", "stdgates"]
TOKEN = re.compile(r"\s+|[A-Za-z_$π][\w$]*|\d+\.?\d*(?:e[+-]?\d+)?|\*\*|->|.", re.S)


def check_refusal(error: CircuitError) -> None:
    """A refusal names line and column unless it concerns the whole program."""
    message = str(error)
    assert re.search(r"line \d+, column \d+", message) or any(m in message for m in WITHOUT_POSITION), message


def read(text: str) -> Circuit | None:
    """The circuit, or None after a CircuitError that is well formed; any other exception fails the test."""
    try:
        return circuit_from_qasm3(text)
    except CircuitError as error:
        check_refusal(error)
        return None


# -- mutated programs and token soup -------------------------------------------------------------------------------
@st.composite
def mutated_programs(draw: st.DrawFn) -> str:
    tokens = TOKEN.findall(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(tokens) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert", "retype", "retype"]))
        if kind == "retype":  # a number for a number, a name for a name: mostly still parses
            pool = NUMBERS if tokens[i][:1].isdigit() else NAMES if tokens[i][:1].isalpha() else [tokens[i]]
            tokens[i] = draw(st.sampled_from(pool))
        elif kind == "delete" and len(tokens) > 1:
            del tokens[i]
        elif kind == "duplicate":
            tokens.insert(i, tokens[i])
        elif kind == "swap" and i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif kind in ("replace", "insert"):
            new = draw(st.sampled_from(VOCABULARY))
            tokens[i:i + (kind == "replace")] = [new]
    return "".join(tokens)


@FUZZ
@given(mutated_programs())
def test_mutated_programs_raise_only_circuit_errors(text: str) -> None:
    read(text)


@FUZZ
@given(st.lists(st.sampled_from(VOCABULARY), max_size=40).map(" ".join))
def test_token_soup_raises_only_circuit_errors(text: str) -> None:
    read(text)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_circuit_errors(text: str) -> None:
    read(text)


# -- constant expressions against a reference evaluator --------------------------------------------------------------
Tree = Union[float, str, tuple["Tree", ...]]
LEAVES = st.sampled_from([0.0, 1.0, 2.0, 0.5, 3.0, 10.0, 400.0, 1e300, 1e-300, 0.1, "pi"])


OPERATORS = st.sampled_from(["+", "-", "*", "/", "**", "neg"])


@st.composite
def chain(draw: st.DrawFn) -> Tree:
    """A long chain of operators (on either side), so that some statements cross the nesting limit."""
    tree: Tree = draw(LEAVES)
    for _ in range(draw(st.integers(10, 70))):
        op, leaf = draw(OPERATORS), draw(LEAVES)
        tree = ("neg", tree) if op == "neg" else (op, tree, leaf) if draw(st.booleans()) else (op, leaf, tree)
    return tree


def trees() -> st.SearchStrategy[Tree]:
    return st.one_of(st.recursive(LEAVES, lambda sub: st.one_of(
        st.tuples(st.just("neg"), sub),
        st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), sub, sub)), max_leaves=60), chain())


def text_of(tree: Tree) -> str:
    if isinstance(tree, float):
        return repr(tree)
    if isinstance(tree, str):
        return tree
    if tree[0] == "neg":  # parenthesised like a binary node: '-a ** b' would read as '-(a ** b)'
        return f"(-{text_of(tree[1])})"
    return f"({text_of(tree[1])} {tree[0]} {text_of(tree[2])})"


def operators(tree: Tree) -> int:
    return 0 if not isinstance(tree, tuple) else 1 + sum(operators(t) for t in tree[1:])


def parens(tree: Tree) -> int:
    return 0 if not isinstance(tree, tuple) else 1 + max(parens(t) for t in tree[1:])


class Refused(Exception):
    pass


def reference(tree: Tree) -> float:
    """IEEE double arithmetic as Python does it; division by zero, overflow, inf or complex: Refused."""
    if isinstance(tree, float):
        return tree
    if isinstance(tree, str):
        return math.pi
    if tree[0] == "neg":
        return -reference(tree[1])
    a, b = reference(tree[1]), reference(tree[2])
    try:
        out = {"+": a + b, "-": a - b, "*": a * b}[tree[0]] if tree[0] in "+-*" else (a / b if tree[0] == "/" else a**b)
    except (ZeroDivisionError, OverflowError):
        raise Refused from None
    if isinstance(out, complex) or not math.isfinite(out):
        raise Refused
    return out


@FUZZ
@given(trees())
def test_constant_expressions_equal_float_arithmetic_or_are_refused(tree: Tree) -> None:
    text = f"OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit q;\nrx({text_of(tree)}) q;\n"
    depth = operators(tree) + 1 + parens(tree)  # 'rx(' is one bracket level
    try:
        expected: float | None = reference(tree)
    except Refused:
        expected = None
    try:
        qc = circuit_from_qasm3(text)
    except CircuitError as error:
        check_refusal(error)
        if depth > MAX_STATEMENT_DEPTH:
            assert "nests too deeply" in str(error)
        else:
            assert expected is None and "line 4" in str(error) and "constant expression" in str(error), str(error)
        return
    assert depth <= MAX_STATEMENT_DEPTH and expected is not None
    assert qc == Circuit(1).rx(expected, 0)


# -- gate-definition nests against a leaf count ---------------------------------------------------------------------
@st.composite
def nests(draw: st.DrawFn) -> tuple[list[list[tuple[str, bool]]], int]:
    """Definitions d0..dn on qubits (a, b); each body calls standard gates or earlier definitions (reversed
    qubits or not); the program calls the last definition ``calls`` times."""
    bodies: list[list[tuple[str, bool]]] = []
    for k in range(draw(st.integers(1, 16))):
        repeats = draw(st.integers(1, 3)) if k else 0  # calls of the previous definition make nests grow
        names = st.sampled_from(["x", "h", "cx"] + [f"d{j}" for j in range(k)])
        body = [(f"d{k - 1}", draw(st.booleans())) for _ in range(repeats)]
        body += draw(st.lists(st.tuples(names, st.booleans()), max_size=3))
        bodies.append(draw(st.permutations(body)))
    return bodies, draw(st.integers(1, 3))


def nest_program(bodies: list[list[tuple[str, bool]]], calls: int) -> str:
    lines = ["OPENQASM 3.0;", "include \"stdgates.inc\";"]
    for k, body in enumerate(bodies):
        lines.append(f"gate d{k} a, b {{ " + " ".join(
            f"{name} {'b' if flip else 'a'}{', a' if flip else ', b'};" if name != "x" and name != "h" else
            f"{name} {'b' if flip else 'a'};" for name, flip in body) + " }")
    lines.append("qubit[2] q;")
    lines += [f"d{len(bodies) - 1} q[0], q[1];"] * calls
    return "\n".join(lines) + "\n"


@settings(FUZZ, max_examples=100)
@given(nests())
def test_gate_nests_expand_to_the_leaf_count_or_are_refused(nest: tuple[list[list[tuple[str, bool]]], int]) -> None:
    bodies, calls = nest
    leaves: list[int] = []
    cost: list[int] = []  # documented: one per call plus one per statement of the body, expanded
    for body in bodies:
        leaves.append(sum(leaves[int(n[1:])] if n.startswith("d") else 1 for n, _ in body))
        cost.append(1 + sum(cost[int(n[1:])] if n.startswith("d") else 1 for n, _ in body))
    oversized = [k for k, c in enumerate(cost) if c > MAX_OPERATIONS]
    expanded = 0 if oversized else min(calls, MAX_OPERATIONS // cost[-1]) * leaves[-1]
    assume(expanded <= 10_000)  # keep each example well inside the deadline on a shared machine
    try:
        qc = circuit_from_qasm3(nest_program(bodies, calls))
    except CircuitError as error:
        check_refusal(error)
        if oversized:
            assert f"gate definition d{oversized[0]} expands to {cost[oversized[0]]:,} operations" in str(error)
        else:
            assert calls * cost[-1] > MAX_OPERATIONS and "grows beyond 100,000 operations" in str(error)
        return
    assert not oversized and calls * cost[-1] <= MAX_OPERATIONS
    assert len(qc) == calls * leaves[-1]


@settings(FUZZ, max_examples=30)
@given(st.integers(2, 8), st.integers(20, 60), st.sampled_from(["x a;", "", "gphase(pi);"]))
def test_gate_bombs_are_refused_in_bounded_memory(branching: int, levels: int, leaf: str) -> None:
    lines = ["OPENQASM 3.0;", f"gate g0 a {{ {leaf} }}"]
    lines += [f"gate g{k} a {{ " + f"g{k - 1} a; " * branching + "}" for k in range(1, levels + 1)]
    text = "\n".join(lines) + f"\nqubit q;\ng{levels} q;\n"
    tracemalloc.start()
    try:
        try:
            circuit_from_qasm3(text)
        except CircuitError as error:
            assert "expands to" in str(error) and "MAX_OPERATIONS" in str(error)
        else:
            raise AssertionError(f"a {branching}-way nest {levels} deep was expanded")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"{peak / 1e6:.1f} MB"


@FUZZ
@given(st.lists(st.sampled_from(["t", "t + t", "2 * t", "t / 2", "t ** 2", "-t", "t / 0", "(t - t)", "1e300 * t"]),
                min_size=1, max_size=25))
def test_parameterised_nests_raise_only_circuit_errors(arguments: list[str]) -> None:
    lines = ["OPENQASM 3.0;", "include \"stdgates.inc\";", "gate f0(t) a { rx(t) a; }"]
    lines += [f"gate f{k}(t) a {{ f{k - 1}({arg}) a; f{k - 1}(t) a; }}" for k, arg in enumerate(arguments, 1)]
    qc = read("\n".join(lines) + f"\ninput float th;\nqubit q;\nf{len(arguments)}(th) q;\n")
    if qc is not None:
        assert len(qc) == 2 ** len(arguments)
