"""Values inside OpenPulse blocks: numbers (complex ones too), durations, defcal arguments and waveforms.

The circuit reader's arithmetic (:mod:`.qasm_limits`) refuses complex results on purpose; pulse amplitudes are
complex, so calibration blocks are evaluated here. Results are floats, complex numbers, :class:`Polar`
amplitudes (``r * exp(a im)``, kept apart for exact round trips), :class:`_Duration`s, parameter expressions
of defcal arguments, or pulses (the waveform kernels of :mod:`.openpulse`).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from openpulse import ast

from qubitlab.errors import PulseError
from qubitlab.pulse import library
from qubitlab.pulse.parameters import ParameterExpression

if TYPE_CHECKING:
    from qubitlab.circuits.openpulse import Calibrations

MAX_WAVEFORM_SAMPLES = 1 << 20
"""Longest waveform literal or kernel read (a million samples, far beyond any gate)."""
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {"exp": cmath.exp, "sin": math.sin, "cos": math.cos,
                                               "sqrt": math.sqrt}


def evaluate(cal: Calibrations, node: Any, scope: Mapping[str, Any]) -> Any:
    from qubitlab.circuits.openpulse import _CONSTANTS, _Duration

    if isinstance(node, (ast.IntegerLiteral, ast.FloatLiteral)):
        return float(node.value)
    if isinstance(node, ast.ImaginaryLiteral):
        return complex(0.0, node.value)
    if isinstance(node, ast.DurationLiteral):
        return _Duration(float(node.value), node.unit.name)
    if isinstance(node, ast.Identifier):
        if node.name in scope:
            return scope[node.name]
        if node.name in _CONSTANTS:
            return _CONSTANTS[node.name]
        raise cal.fail(node, f"{node.name!r} is not defined here; declare it, or use pi, tau, euler")
    if isinstance(node, ast.UnaryExpression) and node.op.name == "-":
        value = evaluate(cal, node.expression, scope)
        if isinstance(value, _Duration):
            raise cal.fail(node, "a duration cannot be negative")
        return _scalar(cal, node, value) * -1
    if isinstance(node, ast.BinaryExpression) and node.op.name in _BINARY:
        return _binary(cal, node, scope)
    if isinstance(node, ast.ArrayLiteral):
        return _literal(cal, node, scope)
    if isinstance(node, ast.FunctionCall):
        return _call(cal, node, scope)
    raise cal.fail(node, f"{type(node).__name__} is not supported in a calibration value; use numbers, "
                         "durations, + - * / **, exp/sin/cos/sqrt, waveform literals and kernels")


def _scalar(cal: Calibrations, node: Any, value: Any) -> Any:
    from qubitlab.circuits.openpulse import Polar

    if isinstance(value, Polar):
        return value.r * complex(math.cos(value.angle), math.sin(value.angle))
    if isinstance(value, (float, complex, ParameterExpression)):
        return value
    raise cal.fail(node, f"expected a number here, got {type(value).__name__}")


def _binary(cal: Calibrations, node: Any, scope: Mapping[str, Any]) -> Any:
    from qubitlab.circuits.openpulse import Polar

    op = node.op.name
    lhs, rhs = evaluate(cal, node.lhs, scope), evaluate(cal, node.rhs, scope)
    if op == "*" and isinstance(node.rhs, ast.FunctionCall) and node.rhs.name.name == "exp" and \
            isinstance(lhs, (float, ParameterExpression)):
        angle = _imaginary_argument(cal, node.rhs, scope)
        if angle is not None:
            return Polar(lhs, angle)
    a, b = _scalar(cal, node.lhs, lhs), _scalar(cal, node.rhs, rhs)
    try:
        out = _BINARY[op](a, b)
    except (ZeroDivisionError, OverflowError) as exc:
        raise cal.fail(node, f"{op}: {exc}") from None
    if isinstance(out, (float, complex)) and not cmath.isfinite(out):
        raise cal.fail(node, f"{op} gives a non-finite number")
    return out


def _imaginary_argument(cal: Calibrations, call: Any, scope: Mapping[str, Any]) -> float | None:
    """``a`` when ``call`` is ``exp(a im)`` with a real constant ``a``, else None."""
    (arg,) = call.arguments if len(call.arguments) == 1 else (None,)
    value = None if arg is None else evaluate(cal, arg, scope)
    if isinstance(value, complex) and value.real == 0.0:
        return value.imag
    return None


def _literal(cal: Calibrations, node: Any, scope: Mapping[str, Any]) -> library.Waveform:
    if len(node.values) > MAX_WAVEFORM_SAMPLES:
        raise cal.fail(node, f"a waveform literal has at most {MAX_WAVEFORM_SAMPLES:,} samples")
    samples = [complex(_scalar(cal, v, evaluate(cal, v, scope))) for v in node.values]
    return _waveform(cal, node, np.array(samples, dtype=np.complex128))


def _waveform(cal: Calibrations, node: Any, samples: np.ndarray) -> library.Waveform:
    try:
        return library.Waveform(samples)
    except PulseError as exc:
        raise cal.fail(node, str(exc)) from None


def _samples(cal: Calibrations, node: Any, value: Any) -> np.ndarray:
    if not isinstance(value, library.Pulse):
        raise cal.fail(node, f"expected a waveform, got {type(value).__name__}")
    if value.is_parameterized():
        raise cal.fail(node, "mix/sum need waveforms without defcal arguments in them")
    shape = value if isinstance(value, library.Waveform) else value.get_waveform()
    return np.asarray(shape.samples, dtype=np.complex128)


def _call(cal: Calibrations, node: Any, scope: Mapping[str, Any]) -> Any:
    from qubitlab.circuits.openpulse import KERNELS, _split_amp

    name, args = node.name.name, node.arguments
    if name in _FUNCTIONS and len(args) == 1:
        value = _scalar(cal, args[0], evaluate(cal, args[0], scope))
        try:
            return _FUNCTIONS[name](value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise cal.fail(node, f"{name}: {exc}") from None
    arity = {"gaussian": 3, "sech": 3, "gaussian_square": 4, "drag": 4, "constant": 2, "sine": 4, "mix": 2,
             "sum": 2, "phase_shift": 2, "scale": 2}
    if name not in arity:
        raise cal.fail(node, f"unknown function {name!r}; waveform kernels: {', '.join(KERNELS)}; "
                             "math: exp, sin, cos, sqrt")
    if len(args) != arity[name]:
        raise cal.fail(node, f"{name} takes {arity[name]} arguments, got {len(args)}")
    values = [evaluate(cal, a, scope) for a in args]
    try:
        if name in ("mix", "sum", "phase_shift", "scale"):
            return _combine(cal, node, name, values)
        amp, angle = _split_amp(values[0])
        d = cal.samples(args[1], scope)
        if d > MAX_WAVEFORM_SAMPLES:
            raise cal.fail(node, f"{name}: at most {MAX_WAVEFORM_SAMPLES:,} samples")
        if name == "constant":
            return library.Constant(d, amp, angle=angle)
        if name == "sine":
            if cal.dt is None:
                raise cal.fail(node, "sine needs the lab's dt to turn its frequency (Hz) into cycles per sample")
            return library.Sin(d, amp, phase=cal.real(args[3], scope), freq=cal.real(args[2], scope) * cal.dt,
                               angle=angle)
        if name == "gaussian_square":
            width, sigma = (_dt(cal, a, v) for a, v in zip(args[2:], values[2:]))
            return library.GaussianSquare(d, amp, sigma, width=width, angle=angle)
        sigma = _dt(cal, args[2], values[2])
        if name == "drag":
            return library.Drag(d, amp, sigma, cal.real(args[3], scope), angle=angle)
        cls = library.Gaussian if name == "gaussian" else library.Sech
        return cls(d, amp, sigma, angle=angle)
    except PulseError as exc:
        raise cal.fail(node, str(exc)) from None


def _dt(cal: Calibrations, node: Any, value: Any) -> float:
    """A shape width in samples of dt (may be fractional, e.g. sigma = 12.5dt)."""
    from qubitlab.circuits.openpulse import _TIME, _Duration

    if not isinstance(value, _Duration):
        raise cal.fail(node, "expected a duration such as 40dt")
    if value.unit == "dt":
        return value.value
    if cal.dt is None:
        raise cal.fail(node, f"a duration in {value.unit} needs the lab's dt; write it in dt")
    return value.value * _TIME[value.unit] / cal.dt


def _combine(cal: Calibrations, node: Any, name: str, values: list[Any]) -> library.Pulse:
    first = values[0]
    if name in ("phase_shift", "scale"):
        factor = _scalar(cal, node, values[1])
        if isinstance(first, library.ScalableSymbolicPulse) and isinstance(factor, float):
            params = dict(first.parameters)
            if name == "phase_shift":
                params["angle"] = params["angle"] + factor
            elif factor >= 0:
                params["amp"] = params["amp"] * factor
            else:
                params["amp"], params["angle"] = params["amp"] * -factor, params["angle"] + math.pi
            duration = params.pop("duration")
            return type(first)(duration, **params)
        multiplier = cmath.exp(1j * factor) if name == "phase_shift" else factor
        return _waveform(cal, node, _samples(cal, node, first) * multiplier)
    a, b = _samples(cal, node, first), _samples(cal, node, values[1])
    if len(a) != len(b):
        raise cal.fail(node, f"{name} needs waveforms of one length, got {len(a)} and {len(b)} samples")
    return _waveform(cal, node, a * b if name == "mix" else a + b)
