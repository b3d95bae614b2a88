"""The schema of calibrated parameters: what may be stored, in which unit, within which physical bounds.

The calibration store refuses anything this module does not know. Keeping the list explicit (a registry,
not free strings) means a typo such as ``q0.x_ampl`` is an error naming the valid names instead of a new,
silently unused parameter, and a value off by a power of ten (``5.1`` meant as GHz) is refused by its bounds.

Keys are written ``q0.frequency`` (qubit scope) or ``q0-q1.cr_amp`` (pair scope, ordered control-target).
Values are stored in SI base units (Hz, s, rad, or dimensionless); a value given with a unit (``5.0012 GHz``,
``--unit MHz``) is converted when the unit has the parameter's base unit and an SI prefix, and refused otherwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from qubitlab.config.models import LabConfig


class Scope(Enum):
    QUBIT = "qubit"
    PAIR = "pair"


@dataclass(frozen=True)
class ParameterSpec:
    """One calibrated parameter: its name, scope, SI unit (``""`` for dimensionless) and inclusive bounds."""

    name: str
    scope: Scope
    unit: str
    low: float | None
    high: float | None
    description: str

    def bounds_text(self) -> str:
        if self.low is None and self.high is None:
            return "any finite value"
        return f"{format_quantity(self.low, self.unit)} .. {format_quantity(self.high, self.unit)}"


_TAU = 2 * math.pi
KERNEL_KNOTS = 32
"""Knots of a stored matched filter (``readout_kernel_re00`` .. ``im31``): the store keeps scalars, and a readout
kernel is smooth on the resonator's time scale, so 32 complex knots (62 ns apart in a 2 us window) carry it."""


def _q(name: str, unit: str, low: float | None, high: float | None, description: str) -> ParameterSpec:
    return ParameterSpec(name, Scope.QUBIT, unit, low, high, description)


def _p(name: str, unit: str, low: float | None, high: float | None, description: str) -> ParameterSpec:
    return ParameterSpec(name, Scope.PAIR, unit, low, high, description)


PARAMETERS: dict[str, ParameterSpec] = {spec.name: spec for spec in (
    _q("frequency", "Hz", 1e8, 2e10, "qubit 0-1 transition frequency"),
    _q("anharmonicity", "Hz", -1e9, 0.0, "f12 - f01 (negative for a transmon)"),
    _q("resonator_frequency", "Hz", 1e9, 2e10, "readout resonator frequency (qubit in |0>)"),
    _q("readout_frequency", "Hz", 1e9, 2e10, "frequency the readout pulse is played at"),
    _q("readout_amp", "", 0.0, 1.0, "readout pulse amplitude, fraction of full scale"),
    _q("readout_duration", "s", 1e-8, 1e-4, "readout pulse duration"),
    _q("x_amp", "", 0.0, 1.0, "pi pulse amplitude, fraction of full scale"),
    _q("sx_amp", "", 0.0, 1.0, "pi/2 pulse amplitude, fraction of full scale"),
    _q("pulse_duration", "s", 4e-9, 1e-6, "single-qubit gate pulse duration"),
    _q("pulse_sigma", "s", 1e-9, 1e-6, "Gaussian sigma of single-qubit pulses"),
    _q("drag_beta", "s", -1e-7, 1e-7,
       "DRAG coefficient in seconds: Qiskit's beta (in samples) times dt; divide by dt to get the pulse's beta"),
    _q("t1", "s", 1e-7, 1e-1, "energy relaxation time"),
    _q("t2_ramsey", "s", 1e-7, 2e-1, "dephasing time from a Ramsey experiment (T2*)"),
    _q("t2_echo", "s", 1e-7, 2e-1, "dephasing time from a Hahn echo"),
    _q("iq0_re", "", None, None, "discriminator: real part of the |0> blob centre"),
    _q("iq0_im", "", None, None, "discriminator: imaginary part of the |0> blob centre"),
    _q("iq1_re", "", None, None, "discriminator: real part of the |1> blob centre"),
    _q("iq1_im", "", None, None, "discriminator: imaginary part of the |1> blob centre"),
    _q("readout_kernel_duration", "s", 1e-8, 1e-4,
       "readout window the matched-filter knots (readout_kernel_re00 ..) were measured for; the filter is used "
       "only while readout_duration equals it"),
    *(_q(f"readout_kernel_{part}{k:02d}", "", -1.0, 1.0,
         f"matched-filter integration weights: {'real' if part == 're' else 'imaginary'} part of knot {k} of "
         f"{KERNEL_KNOTS} (equally spaced over the window, linear between them, largest knot magnitude 1)")
      for k in range(KERNEL_KNOTS) for part in ("re", "im")),
    _q("readout_fidelity", "", 0.5, 1.0, "assignment fidelity 1 - (P(1|0) + P(0|1)) / 2"),
    _q("epc_1q", "", 0.0, 1.0, "error per Clifford from single-qubit randomized benchmarking"),
    _p("cr_amp", "", 0.0, 1.0, "cross-resonance drive amplitude on the control's line, fraction of full scale"),
    _p("cr_duration", "s", 1e-8, 1e-5, "cross-resonance pulse duration (each half of the echo)"),
    _p("cr_phase", "rad", -_TAU, _TAU, "cross-resonance drive phase"),
    _p("cr_sigma", "s", 1e-9, 1e-6, "Gaussian sigma of the CR rise and fall (16 ns when not stored)"),
    _p("cancel_amp", "", 0.0, 1.0, "target cancellation tone amplitude, fraction of full scale"),
    _p("cancel_phase", "rad", -_TAU, _TAU, "target cancellation tone phase"),
    _p("target_rz_before", "rad", -_TAU, _TAU,
       "virtual Z on the target before the ECR's pulses (with target_rz_after: cancels the target's Z rotation "
       "during the gate, from static ZZ and the CR's Stark shift)"),
    _p("target_rz_after", "rad", -_TAU, _TAU, "virtual Z on the target after the ECR's pulses"),
    _p("ecr_fidelity", "", 0.0, 1.0, "ECR gate fidelity (interleaved RB)"),
    _p("bell_fidelity", "", 0.0, 1.0, "Bell state fidelity after an ECR-based CNOT"),
)}
"""Every parameter the store accepts, by name."""

STRETCHABLE = ("x_amp", "sx_amp", "cr_amp", "cr_duration", "cr_phase", "cancel_amp", "cancel_phase",
               "target_rz_before", "target_rz_after")
"""Gate parameters with a pulse-stretched variant for zero-noise extrapolation: ``x_amp_s2`` is the x amplitude
of the gate stretched to 2x its duration, ``cr_amp_s1p5`` the CR amplitude at 1.5x (the factor after ``_s``,
with ``p`` for the decimal point; :func:`stretched_name`). Same unit and bounds as the plain parameter."""
_STRETCHED = re.compile(r"^(?P<base>[a-z0-9_]+)_s(?P<factor>[1-9]\d*(?:p\d*[1-9])?)$")


def stretched_name(name: str, factor: float) -> str:
    """``stretched_name("x_amp", 1.5) == "x_amp_s1p5"``; the plain name for ``factor == 1``."""
    if name not in STRETCHABLE:
        raise CalibrationError(f"{name!r} has no stretched variant; stretchable: {', '.join(STRETCHABLE)}")
    if not (math.isfinite(factor) and 1 <= factor <= 10 and round(factor, 3) == factor):
        raise CalibrationError(f"stretch factor {factor!r} for {name}: give a number in [1, 10] with at most 3 "
                               "decimals (e.g. 1.5, 2, 3)")
    if factor == 1:
        return name
    return f"{name}_s{f'{factor:.3f}'.rstrip('0').rstrip('.').replace('.', 'p')}"


def spec_of(name: str) -> ParameterSpec | None:
    """The spec of ``name``: a registered parameter, or a stretched variant of a :data:`STRETCHABLE` one."""
    spec = PARAMETERS.get(name)
    match = _STRETCHED.match(name) if spec is None else None
    if match is None or match["base"] not in STRETCHABLE or match["factor"] == "1":
        return spec
    base = PARAMETERS[match["base"]]
    factor = match["factor"].replace("p", ".")
    return ParameterSpec(name, base.scope, base.unit, base.low, base.high,
                         f"{base.description}, for the gate stretched {factor}x (zero-noise extrapolation)")

_PREFIXES: dict[str, int] = {"p": -12, "n": -9, "u": -6, "µ": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}
"""SI prefixes as powers of ten (exact decimal scaling: 5.0013 GHz is the float nearest 5001300000)."""
_SUGGESTED_PREFIXES = {"Hz": ("", "k", "M", "G"), "s": ("", "m", "u", "n")}
_DISPLAY_PREFIXES = {"Hz": ("GHz", "MHz", "kHz", "Hz"), "s": ("s", "ms", "us", "ns")}
_KEY = re.compile(r"^q(?P<a>\d+)(?:-q(?P<b>\d+))?\.(?P<name>[a-z0-9_]+)$")
_QUANTITY = re.compile(r"^\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|infinity|inf))"
                       r"\s*(?P<unit>[^\s\d].*?)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Topology:
    """The qubits and couplings keys are checked against (couplings may be listed in either order)."""

    qubits: tuple[int, ...]
    couplings: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, lab: LabConfig | Topology) -> Topology:
        if isinstance(lab, Topology):
            return lab
        return cls(tuple(lab.topology.qubits), tuple((a, b) for a, b in lab.topology.couplings))

    def pairs(self) -> list[tuple[int, int]]:
        """Every ordered (control, target) pair of coupled qubits."""
        ordered = {(a, b) for a, b in self.couplings} | {(b, a) for a, b in self.couplings}
        return sorted(ordered)


@dataclass(frozen=True, order=True)
class ParamKey:
    """A parsed key: the qubit(s) and the parameter name."""

    qubits: tuple[int, ...]
    name: str

    @property
    def text(self) -> str:
        return "-".join(f"q{q}" for q in self.qubits) + f".{self.name}"

    @property
    def qubits_text(self) -> str:
        return "-".join(str(q) for q in self.qubits)

    @property
    def spec(self) -> ParameterSpec:
        spec = spec_of(self.name)
        assert spec is not None, self.name
        return spec

    def __str__(self) -> str:
        return self.text


def _known(scope: Scope) -> str:
    stretchable = [name for name in STRETCHABLE if PARAMETERS[name].scope is scope]
    return ", ".join(name for name, spec in PARAMETERS.items() if spec.scope is scope) + \
        f"; stretched for ZNE: {', '.join(stretchable)} with a suffix _s<factor> (x_amp_s2, cr_amp_s1p5)"


def parse_key(key: str, lab: LabConfig | Topology | None = None) -> ParamKey:
    """``"q0.x_amp"`` -> ``ParamKey((0,), "x_amp")``, checked against the registry and, if given, the lab."""
    match = _KEY.match(key.strip())
    if match is None:
        raise CalibrationError(f"malformed key {key!r}: write q<qubit>.<parameter> (e.g. q0.frequency) or "
                               "q<control>-q<target>.<parameter> (e.g. q0-q1.cr_amp)")
    a, b, name = int(match["a"]), match["b"], match["name"]
    qubits = (a,) if b is None else (a, int(b))
    scope = Scope.QUBIT if b is None else Scope.PAIR
    spec = spec_of(name)
    if spec is None or spec.scope is not scope:
        where = f"qubit {a}" if scope is Scope.QUBIT else f"pair q{a}-q{b}"
        hint = ""
        if spec is not None:
            hint = f" ({name} is a {spec.scope.value} parameter)"
        raise CalibrationError(f"unknown parameter {name!r} for {where}{hint}; known: {_known(scope)}")
    if lab is not None:
        topology = Topology.of(lab)
        for q in qubits:
            if q not in topology.qubits:
                raise CalibrationError(f"no qubit {q} in {key!r}; qubits: "
                                       f"{', '.join(str(x) for x in topology.qubits)}")
        if scope is Scope.PAIR and qubits not in topology.pairs():
            pairs = ", ".join(f"q{x}-q{y}" for x, y in topology.pairs()) or "none"
            raise CalibrationError(f"q{a}-q{b} is not a coupled pair; pairs: {pairs}")
    return ParamKey(qubits, name)


def parse_quantity(text: str) -> tuple[float, str | None]:
    """``"5.0012 GHz"`` -> ``(5.0012, "GHz")``; ``"0.31"`` -> ``(0.31, None)``."""
    match = _QUANTITY.match(text)
    if match is None:
        raise CalibrationError(f"not a number: {text!r}; write e.g. 5.0012e9, or 5.0012 GHz with a unit")
    return float(match["number"]), match["unit"] or None


def unit_exponent(unit: str, spec: ParameterSpec, label: str = "") -> int:
    """The power of ten taking a value in ``unit`` to ``spec.unit``; refuses a unit of another base."""
    unit = unit.strip()
    if spec.unit == "":
        if unit in ("", "1"):
            return 0
        raise CalibrationError(f"{label or spec.name}: {spec.name} is dimensionless; got unit {unit!r} "
                               "(give no unit)")
    if unit.endswith(spec.unit) and unit[: -len(spec.unit)] in _PREFIXES:
        return _PREFIXES[unit[: -len(spec.unit)]]
    valid = ", ".join(f"{p}{spec.unit}" for p in _SUGGESTED_PREFIXES.get(spec.unit, ("", "m")))
    raise CalibrationError(f"{label or spec.name}: unit {unit!r} does not fit {spec.name} (measured in {spec.unit}); "
                           f"use {spec.unit} with an SI prefix: {valid}")


def to_si(value: float, unit: str | None, spec: ParameterSpec, label: str = "") -> float:
    """``value`` in ``unit`` as a float in ``spec.unit``, scaled in decimal so no digit is lost."""
    if unit is None:
        return value
    exponent = unit_exponent(unit, spec, label)
    if not math.isfinite(value):
        return value
    return value if exponent == 0 else float(Decimal(repr(value)).scaleb(exponent))


def check_value(key: ParamKey, value: float, unit: str | None = None) -> float:
    """``value`` (in ``unit``, default the parameter's SI unit) as a float in SI, refused if non-finite or out
    of bounds."""
    spec = key.spec
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CalibrationError(f"{key}: value {value!r} is not a number") from None
    number = to_si(number, unit, spec, str(key))
    if not math.isfinite(number):
        raise CalibrationError(f"{key}: value {value!r} is not finite; valid: {spec.bounds_text()}")
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        given = f"{value!r} {unit}" if unit is not None else format_quantity(number, spec.unit)
        hint = f" (a value without a unit is in {spec.unit})" if unit is None and spec.unit else ""
        raise CalibrationError(f"{key}: {given} is outside the physical bounds {spec.bounds_text()}{hint}")
    return number


def check_stderr(key: ParamKey, stderr: float | None, unit: str | None = None) -> float | None:
    """A standard error in SI: finite and not negative, or None."""
    if stderr is None:
        return None
    number = to_si(float(stderr), unit, key.spec, str(key))
    if not math.isfinite(number) or number < 0:
        raise CalibrationError(f"{key}: standard error {stderr!r} must be a finite number >= 0")
    return number


def format_quantity(value: float | None, unit: str) -> str:
    """A value for people: ``5.0012 GHz``, ``60 us``, ``0.3125``."""
    if value is None:
        return "-"
    for display in _DISPLAY_PREFIXES.get(unit, ()):
        factor = 10.0 ** _PREFIXES[display[: -len(unit)]]
        if abs(value) >= factor or display == _DISPLAY_PREFIXES[unit][-1]:
            return f"{value / factor:.6g} {display}"
    return f"{value:.6g}" + (f" {unit}" if unit else "")


def keys_for(topology: LabConfig | Topology, qubits: Sequence[int] | None = None) -> list[str]:
    """Every key a lab may hold (useful for listings and checks)."""
    topo = Topology.of(topology)
    keys = [f"q{q}.{n}" for q in (qubits or topo.qubits) for n, s in PARAMETERS.items() if s.scope is Scope.QUBIT]
    keys += [f"q{a}-q{b}.{n}" for a, b in topo.pairs() for n, s in PARAMETERS.items() if s.scope is Scope.PAIR]
    return keys


def qkey(qubit: int, name: str) -> str:
    """The key of qubit-scope parameter ``name`` of ``qubit`` (``qkey(0, "x_amp") == "q0.x_amp"``); a name the
    registry does not hold as a qubit parameter is an error here, where the typo is, not at the store."""
    spec = spec_of(name)
    if spec is None or spec.scope is not Scope.QUBIT:
        raise CalibrationError(f"unknown qubit parameter {name!r}; known: {_known(Scope.QUBIT)}")
    return f"q{qubit}.{name}"


def pkey(control: int, target: int, name: str) -> str:
    """The key of pair-scope parameter ``name`` (``pkey(0, 1, "cr_amp") == "q0-q1.cr_amp"``), checked likewise."""
    spec = spec_of(name)
    if spec is None or spec.scope is not Scope.PAIR:
        raise CalibrationError(f"unknown pair parameter {name!r}; known: {_known(Scope.PAIR)}")
    return f"q{control}-q{target}.{name}"
