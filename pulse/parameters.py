"""Parameters and parameter expressions for pulse programs (and, later, circuits).

Qiskit Pulse took its ``Parameter`` from ``qiskit.circuit`` (symengine-backed). qubitlab keeps its own small
expression tree so the pulse layer needs no Qiskit and so binding is cheap: an expression compiles once to a
closure, and programs bind values into a flat table instead of rebuilding (or deep-copying) their tree.

The public behaviour follows Qiskit's: ``Parameter(name)`` is unique by identity (a uuid), arithmetic builds
expressions, ``bind``/``assign``/``subs`` return new expressions, ``float(expr)`` works once every parameter
is bound, and ``ParameterVector("theta", 3)`` holds ``theta[0] .. theta[2]``.
"""

from __future__ import annotations

import cmath
import math
import numbers
import uuid as uuid_module
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Union, overload

Number = Union[int, float, complex]
ParameterValueType = Union["ParameterExpression", int, float, complex]

# A node is a tuple: ("p", Parameter) | ("c", number) | (unary op, node) | (binary op, node, node).
Node = tuple[Any, ...]
Evaluator = Callable[[Mapping["Parameter", Any]], Any]

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _real_or_complex(fn_real: Callable[[float], float], fn_complex: Callable[[complex], complex]) -> Callable[[Any], Any]:
    def apply(x: Any) -> Any:
        if isinstance(x, complex):
            return fn_complex(x)
        try:
            return fn_real(x)
        except ValueError:  # e.g. log(-1), arcsin(2): continue in the complex plane as Qiskit does
            return fn_complex(complex(x))

    return apply


_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda a: -a,
    "abs": abs,
    "sin": _real_or_complex(math.sin, cmath.sin),
    "cos": _real_or_complex(math.cos, cmath.cos),
    "tan": _real_or_complex(math.tan, cmath.tan),
    "arcsin": _real_or_complex(math.asin, cmath.asin),
    "arccos": _real_or_complex(math.acos, cmath.acos),
    "arctan": _real_or_complex(math.atan, cmath.atan),
    "exp": _real_or_complex(math.exp, cmath.exp),
    "log": _real_or_complex(math.log, cmath.log),
    "sqrt": _real_or_complex(math.sqrt, cmath.sqrt),
    "conj": lambda a: a.conjugate(),
    "sign": lambda a: (a > 0) - (a < 0) if not isinstance(a, complex) else (a / abs(a) if a else 0),
}


def is_number(value: object) -> bool:
    """True for plain numbers (Python or numpy scalars), False for expressions, bools and anything else."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _simplify_number(value: Any) -> Number:
    """numpy scalars become Python numbers; complex values with a zero imaginary part become real."""
    if isinstance(value, complex) or (hasattr(value, "imag") and not isinstance(value, (int, float))):
        c = complex(value)
        return c.real if c.imag == 0 else c
    if isinstance(value, int):
        return int(value)
    return float(value)


class ParameterExpression:
    """An arithmetic expression of :class:`Parameter` objects and numbers."""

    __slots__ = ("_node", "_parameters", "_evaluator", "_hash")

    def __init__(self, node: Node, parameters: frozenset[Parameter]) -> None:
        self._node = node
        self._parameters = parameters
        self._evaluator: Evaluator | None = None
        self._hash: int | None = None

    # -- construction ---------------------------------------------------------------------------------------
    @staticmethod
    def _lift(value: ParameterValueType) -> tuple[Node, frozenset[Parameter]]:
        if isinstance(value, ParameterExpression):
            return value._node, value._parameters
        if is_number(value):
            return ("c", _simplify_number(value)), frozenset()
        raise TypeError(f"cannot combine a parameter expression with {type(value).__name__} {value!r}")

    def _binary(self, op: str, other: object, reverse: bool = False) -> ParameterExpression:
        if not (isinstance(other, ParameterExpression) or is_number(other)):
            return NotImplemented  # type: ignore[no-any-return]
        a, pa = self._node, self._parameters
        b, pb = self._lift(other)  # type: ignore[arg-type]
        if reverse:
            a, b = b, a
        if a[0] == "c" and b[0] == "c":
            return ParameterExpression(("c", _simplify_number(_BINARY[op](a[1], b[1]))), frozenset())
        return ParameterExpression((op, a, b), pa | pb)

    def _unary(self, op: str) -> ParameterExpression:
        if self._node[0] == "c":
            return ParameterExpression(("c", _simplify_number(_UNARY[op](self._node[1]))), frozenset())
        return ParameterExpression((op, self._node), self._parameters)

    def __add__(self, other: object) -> ParameterExpression:
        return self._binary("+", other)

    def __radd__(self, other: object) -> ParameterExpression:
        return self._binary("+", other, reverse=True)

    def __sub__(self, other: object) -> ParameterExpression:
        return self._binary("-", other)

    def __rsub__(self, other: object) -> ParameterExpression:
        return self._binary("-", other, reverse=True)

    def __mul__(self, other: object) -> ParameterExpression:
        return self._binary("*", other)

    def __rmul__(self, other: object) -> ParameterExpression:
        return self._binary("*", other, reverse=True)

    def __truediv__(self, other: object) -> ParameterExpression:
        if is_number(other) and other == 0:
            raise ZeroDivisionError("division of a parameter expression by zero")
        return self._binary("/", other)

    def __rtruediv__(self, other: object) -> ParameterExpression:
        return self._binary("/", other, reverse=True)

    def __pow__(self, other: object) -> ParameterExpression:
        return self._binary("**", other)

    def __rpow__(self, other: object) -> ParameterExpression:
        return self._binary("**", other, reverse=True)

    def __neg__(self) -> ParameterExpression:
        return self._unary("neg")

    def __pos__(self) -> ParameterExpression:
        return self

    def __abs__(self) -> ParameterExpression:
        return self._unary("abs")

    def abs(self) -> ParameterExpression:
        return self._unary("abs")

    def sin(self) -> ParameterExpression:
        return self._unary("sin")

    def cos(self) -> ParameterExpression:
        return self._unary("cos")

    def tan(self) -> ParameterExpression:
        return self._unary("tan")

    def arcsin(self) -> ParameterExpression:
        return self._unary("arcsin")

    def arccos(self) -> ParameterExpression:
        return self._unary("arccos")

    def arctan(self) -> ParameterExpression:
        return self._unary("arctan")

    def exp(self) -> ParameterExpression:
        return self._unary("exp")

    def log(self) -> ParameterExpression:
        return self._unary("log")

    def sqrt(self) -> ParameterExpression:
        return self._unary("sqrt")

    def conjugate(self) -> ParameterExpression:
        return self._unary("conj")

    def sign(self) -> ParameterExpression:
        return self._unary("sign")

    # -- inspection -----------------------------------------------------------------------------------------
    @property
    def parameters(self) -> set[Parameter]:
        """The unbound parameters in this expression (a new set each call, as in Qiskit)."""
        return set(self._parameters)

    def is_real(self) -> bool | None:
        """True if bound and real, False if bound and complex, None while parameters are unbound."""
        if self._parameters:
            return None
        return not isinstance(self._node[1], complex)

    def numeric(self) -> Number:
        """The value of a fully bound expression (int, float or complex)."""
        if self._parameters:
            raise TypeError(f"expression {self} has unbound parameters {sorted(p.name for p in self._parameters)}")
        value: Number = self._node[1]
        return value

    # -- binding --------------------------------------------------------------------------------------------
    def evaluate(self, values: Mapping[Parameter, Any]) -> Any:
        """Value with ``values`` for the parameters (all must be present); compiled once, then fast.

        A number when ``values`` holds numbers; an expression where a value is itself an expression.
        """
        if self._evaluator is None:
            self._evaluator = _compile(self._node)
        out = self._evaluator(values)
        return out if isinstance(out, ParameterExpression) else _simplify_number(out)

    def bind(self, parameter_values: Mapping[Parameter, Number], allow_unknown_parameters: bool = False) -> ParameterExpression:
        """A new expression with numeric values for (some of) the parameters."""
        for param, value in parameter_values.items():
            if not is_number(value):
                raise TypeError(f"bind() takes numbers; {param} was given {value!r} (use subs() for expressions)")
        return self.subs(parameter_values, allow_unknown_parameters=allow_unknown_parameters)

    def assign(self, parameter: Parameter, value: ParameterValueType) -> ParameterExpression:
        """A new expression with ``parameter`` replaced by a number or another expression."""
        return self.subs({parameter: value})

    def subs(self, parameter_map: Mapping[Parameter, ParameterValueType], allow_unknown_parameters: bool = False) -> ParameterExpression:
        """A new expression with parameters replaced by numbers or expressions."""
        if not allow_unknown_parameters:
            unknown = [p for p in parameter_map if p not in self._parameters]
            if unknown:
                raise ValueError(
                    f"cannot bind {', '.join(map(str, unknown))}: not in expression {self} "
                    f"(its parameters are {sorted(p.name for p in self._parameters)})"
                )
        relevant = {p: v for p, v in parameter_map.items() if p in self._parameters}
        if not relevant:
            return self
        node = _substitute(self._node, relevant)
        params = frozenset().union(*(_node_parameters(node),))
        return ParameterExpression(node, params)

    # -- conversions ----------------------------------------------------------------------------------------
    def _unbound_error(self, kind: str) -> TypeError:
        names = ", ".join(sorted(p.name for p in self._parameters))
        return TypeError(f"ParameterExpression with unbound parameters ({names}) cannot be cast to {kind}")

    def __float__(self) -> float:
        if self._parameters:
            raise self._unbound_error("a float")
        value = self._node[1]
        if isinstance(value, complex):
            if value.imag != 0:
                raise TypeError(f"expression {self} is complex ({value}) and cannot be cast to a float")
            value = value.real
        return float(value)

    def __complex__(self) -> complex:
        if self._parameters:
            raise self._unbound_error("a complex")
        return complex(self._node[1])

    def __int__(self) -> int:
        if self._parameters:
            raise self._unbound_error("an int")
        return int(self._node[1].real if isinstance(self._node[1], complex) else self._node[1])

    # -- comparison -----------------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, ParameterExpression):
            return self._node == other._node
        if is_number(other):
            return not self._parameters and self._node[1] == other
        return False

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._node)
        return self._hash

    def __str__(self) -> str:
        return _format(self._node)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


class Parameter(ParameterExpression):
    """A named, unbound value; two parameters with the same name are still different parameters."""

    __slots__ = ("_name", "_uuid")

    def __init__(self, name: str, *, uuid: uuid_module.UUID | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a parameter needs a non-empty string name, got {name!r}")
        self._name = name
        self._uuid = uuid or uuid_module.uuid4()
        super().__init__(("p", self), frozenset((self,)))

    @property
    def name(self) -> str:
        return self._name

    @property
    def uuid(self) -> uuid_module.UUID:
        return self._uuid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameter) and self._uuid == other._uuid

    def __hash__(self) -> int:
        return hash(self._uuid)

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"Parameter({self._name})"

    def __copy__(self) -> Parameter:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        return self

    def __reduce__(self) -> Any:
        return (_rebuild_parameter, (self._name, str(self._uuid)))


def _rebuild_parameter(name: str, uid: str) -> Parameter:
    return Parameter(name, uuid=uuid_module.UUID(uid))


class ParameterVectorElement(Parameter):
    """One element ``name[i]`` of a :class:`ParameterVector`."""

    __slots__ = ("_vector", "_index")

    def __init__(self, vector: ParameterVector, index: int, *, uuid: uuid_module.UUID | None = None) -> None:
        super().__init__(f"{vector.name}[{index}]", uuid=uuid)
        self._vector = vector
        self._index = index

    @property
    def vector(self) -> ParameterVector:
        return self._vector

    @property
    def index(self) -> int:
        return self._index


class ParameterVector:
    """A named list of parameters ``name[0] .. name[length-1]``."""

    def __init__(self, name: str, length: int = 0) -> None:
        if not isinstance(length, int) or length < 0:
            raise ValueError(f"ParameterVector {name!r}: length must be a non-negative int, got {length!r}")
        self._name = name
        self._root_uuid = uuid_module.uuid4()
        self._params = [self._element(i) for i in range(length)]

    def _element(self, i: int) -> ParameterVectorElement:
        uid = uuid_module.UUID(int=(self._root_uuid.int + i) & ((1 << 128) - 1))
        return ParameterVectorElement(self, i, uuid=uid)

    @property
    def name(self) -> str:
        return self._name

    @property
    def params(self) -> list[ParameterVectorElement]:
        return list(self._params)

    def index(self, value: Parameter) -> int:
        return self._params.index(value)  # type: ignore[arg-type]

    def resize(self, length: int) -> None:
        if length <= len(self._params):
            del self._params[length:]
        else:
            self._params.extend(self._element(i) for i in range(len(self._params), length))

    @overload
    def __getitem__(self, key: int) -> ParameterVectorElement: ...
    @overload
    def __getitem__(self, key: slice) -> list[ParameterVectorElement]: ...
    def __getitem__(self, key: int | slice) -> ParameterVectorElement | list[ParameterVectorElement]:
        return self._params[key]

    def __iter__(self) -> Iterator[ParameterVectorElement]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __str__(self) -> str:
        return f"{self._name}, {[str(p) for p in self._params]}"

    def __repr__(self) -> str:
        return f"ParameterVector(name={self._name!r}, length={len(self._params)})"


# -- helpers on nodes ---------------------------------------------------------------------------------------
def _compile(node: Node) -> Evaluator:
    kind = node[0]
    if kind == "c":
        value = node[1]
        return lambda values: value
    if kind == "p":
        param = node[1]

        def lookup(values: Mapping[Parameter, Number]) -> Number:
            try:
                return values[param]
            except KeyError:
                raise KeyError(f"no value for parameter {param.name}") from None

        return lookup
    if kind in _BINARY:
        fn2, left, right = _BINARY[kind], _compile(node[1]), _compile(node[2])
        return lambda values: fn2(left(values), right(values))
    fn1, arg = _UNARY[kind], _compile(node[1])

    def unary(values: Mapping[Parameter, Number]) -> Any:
        x = arg(values)
        return x._unary(kind) if isinstance(x, ParameterExpression) else fn1(x)

    return unary


def _substitute(node: Node, mapping: Mapping[Parameter, ParameterValueType]) -> Node:
    kind = node[0]
    if kind == "c":
        return node
    if kind == "p":
        if node[1] in mapping:
            return ParameterExpression._lift(mapping[node[1]])[0]
        return node
    args = [_substitute(child, mapping) for child in node[1:]]
    if all(a[0] == "c" for a in args):
        fn: Callable[..., Any] = _BINARY[kind] if kind in _BINARY else _UNARY[kind]
        return ("c", _simplify_number(fn(*(a[1] for a in args))))
    return (kind, *args)


def _node_parameters(node: Node) -> frozenset[Parameter]:
    if node[0] == "p":
        return frozenset((node[1],))
    if node[0] == "c":
        return frozenset()
    return frozenset().union(*(_node_parameters(child) for child in node[1:]))


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 3}


def _format(node: Node, parent: int = 0) -> str:
    kind = node[0]
    if kind == "p":
        return str(node[1].name)
    if kind == "c":
        return repr(node[1]) if not isinstance(node[1], float) else f"{node[1]:g}" if abs(node[1]) >= 1e-4 else repr(node[1])
    if kind in _BINARY:
        prec = _PRECEDENCE[kind]
        text = f"{_format(node[1], prec)} {kind} {_format(node[2], prec + 1)}"
        return f"({text})" if prec < parent else text
    if kind == "neg":
        return f"-{_format(node[1], 3)}"
    return f"{kind}({_format(node[1])})"


def node_of(expr: ParameterExpression) -> Node:
    """The expression's node tree (for serialisation)."""
    return expr._node


def expression_from_node(node: Node) -> ParameterValueType:
    """Rebuild an expression (or a number) from a node tree made of known node kinds."""
    if node[0] == "c":
        value: Number = node[1]
        return value
    if node[0] == "p":
        param: Parameter = node[1]
        return param
    if node[0] not in _BINARY and node[0] not in _UNARY:
        raise ValueError(f"unknown expression node kind {node[0]!r}")
    return ParameterExpression(node, _node_parameters(node))


def resolve(value: Any, table: Mapping[Parameter, Any]) -> Any:
    """``value`` with every parameter found in ``table`` substituted; numbers pass through unchanged.

    Returns a plain number when the expression is fully bound, else a (partially bound) expression.
    """
    if not isinstance(value, ParameterExpression):
        return value
    params = value._parameters
    if not params:
        return value._node[1]
    try:
        out = value.evaluate(table)
    except KeyError:
        relevant = {p: table[p] for p in params if p in table}
        return value.subs(relevant) if relevant else value
    if isinstance(out, ParameterExpression) and not out._parameters:
        return out._node[1]
    return out
