"""Reading OpenQASM 3 from untrusted clients: the limits, a safe parse, and safe constant arithmetic.

The reference ``openqasm3`` parser (ANTLR) is written for trusted input: it recurses once per nested bracket,
operator or statement, so a few hundred nested parentheses raise ``RecursionError``; an empty program raises
``AttributeError``; syntax errors carry no position; and it reads about 50,000 characters a second, so its
time is bounded only by the length of the text. A daemon that reads programs sent by clients needs each of
these refused up front with a :class:`CircuitError`. This module lexes the text itself, refuses it before the
parser recurses, and turns every parser failure into a ``CircuitError`` naming line and column (1-based).

The other limits (:data:`MAX_QUBITS`, :data:`MAX_CLBITS`, :data:`MAX_OPERATIONS`, :data:`MAX_GATE_NESTING`,
:data:`MAX_EXPRESSION_NODES`) are applied by :mod:`.qasm` while it reads the AST; the arithmetic of constant
expressions (:func:`arithmetic`) refuses division by zero, overflow and complex results instead of raising
Python's ``ZeroDivisionError`` or ``OverflowError``, and :func:`expression_shape` measures a parameter
expression built by expanding gate definitions, whose shared sub-trees could otherwise grow exponentially.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NoReturn

from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from openqasm3 import ast
from openqasm3._antlr.qasm3Lexer import qasm3Lexer
from openqasm3._antlr.qasm3Parser import qasm3Parser
from openqasm3.parser import QASM3ParsingError, QASMNodeVisitor

from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import ParameterExpression

MAX_PROGRAM_CHARS = 262_144
"""Longest program text read (256 Ki characters, about 15,000 gate lines; the parser takes about 5 s on it)."""
MAX_EXPRESSION_DEPTH = 64
"""Per statement: operators, keywords and modifiers, plus the depth of nested brackets. This bounds the depth
of every expression in the statement (a path through an expression tree passes at most one node per operator
and per bracket level) and keeps the parser's recursion far from Python's limit (it fails near 150)."""

MAX_QUBITS = 1024
"""Most qubits a program may declare (all registers together) or name as ``$k`` (k < MAX_QUBITS): a lab has tens."""
MAX_CLBITS = 1024
"""Most classical bits a program may declare (all registers together)."""
MAX_OPERATIONS = 100_000
"""Most gate calls and other operations after expanding gate definitions and broadcasting over registers
(each call of a user gate counts too, so a definition with an empty body is not free). Reading costs about
10 us per operation (half of it in ``Circuit.append``), so 100,000 take about a second; a lab's circuits are
far smaller (20 qubits x 2,000 layers of 50 ns gates already outlast a 100 us T1)."""
MAX_GATE_NESTING = 32
"""Deepest chain of user gate definitions calling each other (g2 calls g1 calls g0: 3)."""
MAX_EXPRESSION_NODES = 4096
"""Largest angle expression, in nodes, after the arguments of gate definitions are substituted."""
_OPEN = {qasm3Lexer.LPAREN, qasm3Lexer.LBRACKET, qasm3Lexer.LBRACE}
_CLOSE = {qasm3Lexer.RPAREN, qasm3Lexer.RBRACKET, qasm3Lexer.RBRACE}
_FREE = {  # tokens that cannot make the parser recurse: names, literals, separators
    getattr(qasm3Lexer, name) for name in (
        "Identifier", "HardwareQubit", "BooleanLiteral", "BinaryIntegerLiteral", "OctalIntegerLiteral",
        "DecimalIntegerLiteral", "HexIntegerLiteral", "FloatLiteral", "TimingLiteral", "BitstringLiteral",
        "ImaginaryLiteral", "StringLiteral", "COMMA", "VersionSpecifier", "OPENQASM")
}


def where(line: int, column: int) -> str:
    """``line L, column C`` with a 1-based column (ANTLR counts columns from 0)."""
    return f"line {line}, column {column + 1}"


class _Raise(ErrorListener):  # type: ignore[misc]
    """Stops the lexer or parser at its first error, keeping ANTLR's description of it."""

    def syntaxError(self, recognizer: Any, offendingSymbol: Any, line: int, column: int, msg: str,
                    e: Any) -> NoReturn:
        msg = "".join(c if c.isprintable() else repr(c)[1:-1] for c in msg[:200]) + (" ..." if len(msg) > 200 else "")
        raise CircuitError(f"OpenQASM 3 syntax error at {where(line, column)}: {msg}; check that line against "
                           "the OpenQASM 3 grammar")


def _tokens(text: str) -> CommonTokenStream:
    lexer = qasm3Lexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Raise())
    stream = CommonTokenStream(lexer)
    stream.fill()
    return stream


def _check_nesting(tokens: list[Token]) -> None:
    """Refuse a statement whose operators and bracket nesting exceed :data:`MAX_EXPRESSION_DEPTH`."""
    depth = count = deepest = 0
    start: Token | None = None
    for token in tokens:
        if token.channel != Token.DEFAULT_CHANNEL or token.type == Token.EOF:
            continue
        start = start or token
        if token.type in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.type in _CLOSE:
            depth = max(depth - 1, 0)
        elif token.type not in _FREE and token.type != qasm3Lexer.SEMICOLON:
            count += 1
        if count + deepest > MAX_EXPRESSION_DEPTH:
            raise CircuitError(
                f"OpenQASM {where(start.line, start.column)}: the statement nests too deeply ({count} operators "
                f"or keywords, and brackets {deepest} deep, by {where(token.line, token.column)}); at most "
                f"{MAX_EXPRESSION_DEPTH} (MAX_EXPRESSION_DEPTH) are read per statement; split the expression "
                "or compute it before writing the program")
        if token.type in (qasm3Lexer.SEMICOLON, qasm3Lexer.LBRACE, qasm3Lexer.RBRACE):
            count, deepest, start = 0, depth, None


def _visitor_error(exc: QASM3ParsingError) -> CircuitError:
    """The reference visitor writes ``L3:C4: message``; ours reads ``line 3, column 5: message``."""
    text = str(exc)
    head, _, rest = text.partition(": ")
    if head.startswith("L") and ":C" in head:
        line, _, column = head[1:].partition(":C")
        if line.isdigit() and column.isdigit():
            text = f"{where(int(line), int(column))}: {rest}"
    return CircuitError(f"OpenQASM {text}")


def parse_program(text: str) -> ast.Program:
    """The program's AST, or a :class:`CircuitError` saying what is wrong and where."""
    if not isinstance(text, str):
        raise CircuitError(f"an OpenQASM 3 program must be text (str), got {type(text).__name__}")
    if len(text) > MAX_PROGRAM_CHARS:
        raise CircuitError(f"the OpenQASM 3 program has {len(text):,} characters; at most {MAX_PROGRAM_CHARS:,} "
                           "(MAX_PROGRAM_CHARS) are read: a lab circuit fits in far fewer; send gate definitions "
                           "instead of repeated gate lists")
    stream = _tokens(text)
    if all(token.type == Token.EOF or token.channel != Token.DEFAULT_CHANNEL for token in stream.tokens):
        raise CircuitError("the OpenQASM 3 program is empty; write at least 'OPENQASM 3.0;' and a qubit "
                           "declaration such as 'qubit[1] q;'")
    _check_nesting(stream.tokens)
    parser = qasm3Parser(stream)
    parser.removeErrorListeners()
    parser.addErrorListener(_Raise())
    try:
        tree = parser.program()
        return QASMNodeVisitor().visitProgram(tree)  # type: ignore[no-untyped-call, no-any-return]
    except QASM3ParsingError as exc:
        raise _visitor_error(exc) from None
    except RecursionError:
        raise CircuitError("the OpenQASM 3 program nests too deeply for the parser; flatten its expressions "
                           "and blocks") from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        # the reference parser's own failures on input it does not expect (e.g. ints beyond 4300 digits)
        raise CircuitError(f"the OpenQASM 3 parser could not read the program: {exc}") from None


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}
BINARY_OPERATORS = frozenset(_BINARY)


def literal(value: int | float) -> float:
    """A numeric literal as a finite float (integers too: ``10**10**8`` must not be computed exactly)."""
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"the number {str(value)[:20]}... is too large (beyond 1.8e308)") from None
    if not math.isfinite(out):
        raise ValueError(f"the number {value} is not finite")
    return out


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for numbers (floats) or parameter expressions; a ValueError saying why the result is refused."""
    numeric = not isinstance(a, ParameterExpression) and not isinstance(b, ParameterExpression)
    if op == "/" and not isinstance(b, ParameterExpression) and b == 0:
        raise ValueError("division by zero")
    if op == "**" and numeric and a == 0 and b < 0:
        raise ValueError("zero raised to a negative power (division by zero)")
    try:
        out = _BINARY[op](a, b)
    except OverflowError:
        raise ValueError(f"{_show(a)} {op} {_show(b)} overflows (beyond 1.8e308)") from None
    if isinstance(out, complex):
        raise ValueError(f"{_show(a)} {op} {_show(b)} is not a real number")
    if numeric and not math.isfinite(out):
        raise ValueError(f"{_show(a)} {op} {_show(b)} overflows (beyond 1.8e308)")
    return out


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"({value:.6g})" if value < 0 else f"{value:.6g}"
    return f"({value})"


class ShapeMemo:
    """Tree size and depth of expression nodes already measured, by node id (the nodes are kept alive here,
    so an id is never reused while its entry exists)."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[tuple[Any, ...], int, int]] = {}

    def shape(self, expression: ParameterExpression) -> tuple[int, int]:
        """(nodes, depth) of the expression as a tree: a sub-tree used twice counts twice, as it is hashed,
        compared and compiled twice. Iterative, and linear in the number of distinct nodes not yet seen."""
        root: tuple[Any, ...] = expression._node
        stack: list[tuple[tuple[Any, ...], bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self.known:
                continue
            children = [c for c in node[1:] if isinstance(c, tuple)] if node[0] not in ("p", "c") else []
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in children if id(c) not in self.known)
                continue
            size = 1 + sum(self.known[id(c)][1] for c in children)
            depth = 1 + max((self.known[id(c)][2] for c in children), default=0)
            self.known[id(node)] = (node, min(size, MAX_EXPRESSION_NODES + 1), depth)
        _, size, depth = self.known[id(root)]
        return size, depth
