"""Parameters and expressions: identity, arithmetic, binding, conversion errors, vectors."""

from __future__ import annotations

import math
import pickle

import pytest

from qubitlab.pulse import Parameter, ParameterExpression, ParameterVector


def test_parameters_are_unique_by_identity_not_name() -> None:
    a1, a2 = Parameter("a"), Parameter("a")
    assert a1 != a2 and a1 == a1
    assert len({a1, a2}) == 2
    assert pickle.loads(pickle.dumps(a1)) == a1


def test_arithmetic_builds_expressions_and_evaluates() -> None:
    a, b = Parameter("a"), Parameter("b")
    expr = (2 * a + b / 4 - 1) ** 2
    assert expr.parameters == {a, b}
    assert float(expr.bind({a: 1.0, b: 4.0})) == pytest.approx((2 + 1 - 1) ** 2)
    assert expr.evaluate({a: 0.5, b: 0.0}) == pytest.approx(0.0)
    assert (1 - a).evaluate({a: 3.0}) == -2.0
    assert (3 / a).evaluate({a: 2.0}) == 1.5
    assert (-a).evaluate({a: 2.0}) == -2.0


def test_functions() -> None:
    t = Parameter("t")
    cases = [
        (t.sin(), math.sin), (t.cos(), math.cos), (t.tan(), math.tan), (t.exp(), math.exp),
        (t.log(), math.log), (t.arctan(), math.atan), (t.sqrt(), math.sqrt),
    ]
    for expr, fn in cases:
        assert expr.evaluate({t: 0.7}) == pytest.approx(fn(0.7), rel=1e-15)
    assert abs(t).evaluate({t: -2.0}) == 2.0


def test_partial_binding_and_substitution() -> None:
    a, b, c = Parameter("a"), Parameter("b"), Parameter("c")
    expr = a * b + c
    partial = expr.bind({a: 2.0})
    assert partial.parameters == {b, c}
    swapped = partial.subs({b: 3 * c})
    assert swapped.parameters == {c}
    assert float(swapped.bind({c: 1.0})) == pytest.approx(7.0)
    assert expr.assign(c, 1.0).parameters == {a, b}


def test_binding_unknown_parameters_is_refused_unless_allowed() -> None:
    a, z = Parameter("a"), Parameter("z")
    with pytest.raises(ValueError, match="not in expression"):
        (2 * a).bind({z: 1.0})
    assert (2 * a).bind({z: 1.0}, allow_unknown_parameters=True).parameters == {a}


def test_casting_unbound_expressions_fails_clearly() -> None:
    a = Parameter("a")
    with pytest.raises(TypeError, match=r"unbound parameters \(a\)"):
        float(a + 1)
    with pytest.raises(TypeError, match="complex"):
        float((a * 1j).bind({a: 1.0}))
    assert complex((a * 1j).bind({a: 2.0})) == 2j
    assert int((a + 0.4).bind({a: 2.0})) == 2


def test_equality_and_strings() -> None:
    a = Parameter("a")
    assert (a + 1) == (a + 1)
    assert (a + 1) != (a + 2)
    assert (a + 1).bind({a: 1.0}) == 2.0
    assert str(2 * a + 1) == "2 * a + 1"
    assert str((a + 1) * 2) == "(a + 1) * 2"
    assert isinstance(a + 1, ParameterExpression)


def test_parameter_vector() -> None:
    v = ParameterVector("theta", 3)
    assert len(v) == 3 and [p.name for p in v] == ["theta[0]", "theta[1]", "theta[2]"]
    assert v[1].index == 1 and v[1].vector is v
    assert v[0:2] == [v[0], v[1]]
    v.resize(5)
    assert len(v) == 5 and v[4].name == "theta[4]"
    with pytest.raises(ValueError, match="non-negative int"):
        ParameterVector("x", -1)


def test_parameter_name_must_be_a_string() -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        Parameter("")
