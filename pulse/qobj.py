"""PulseQobj import: the JSON that Qiskit 1.x ``assemble`` wrote, read into qubitlab ``Schedule``s.

Labs hold years of pulse programs as PulseQobj documents (arXiv:1809.03452); Qiskit 2.x cannot read them any
more. :func:`from_qobj` turns one into a :class:`QobjJob`: one :class:`~qubitlab.pulse.Schedule` per experiment
plus the run settings in SI units (``qubit_lo_freq``/``meas_lo_freq`` are GHz in the document, Hz here;
``rep_time``/``rep_delay`` are microseconds there, seconds here). Instructions: ``parametric_pulse``
(``gaussian``, ``gaussian_square``, ``drag``, ``constant``; the document's complex ``amp`` becomes ``amp`` and
``angle`` as in Qiskit >= 1.0), plays of ``pulse_library`` waveforms by name, ``fc`` (shift phase), ``setp``,
``shiftf``/``setf`` (GHz), ``delay`` and ``acquire`` (several qubits into their memory/register slots). Anything
else is refused with a :class:`PulseError` naming the experiment, the instruction's index and what is valid.

An acquire's ``kernels``/``discriminators`` (one for all its qubits, or one per qubit, as Qiskit's assemble
writes them) become the :class:`Kernel`/:class:`Discriminator` of each :class:`Acquire`, when qubitlab can
honour them: a kernel is a boxcar (``boxcar``/``hw_boxcar``, no params: the uniform window qubitlab integrates
with) or its own integration weights (params ``real`` and ``imag``, one value per digitizer sample of the
window); a discriminator, at ``meas_level`` 2 only, is the lab's calibrated nearest-centroid one
(``hw_centroid``/``centroid``, no params). Any other is refused by name, never dropped.
The export direction is :mod:`qubitlab.pulse.qobj_export`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qubitlab.drivers.payloads import MeasLevel, MeasReturn
from qubitlab.errors import PulseError
from qubitlab.pulse.channels import (
    AcquireChannel,
    Channel,
    ControlChannel,
    DriveChannel,
    MeasureChannel,
    MemorySlot,
    PulseChannel,
    RegisterSlot,
)
from qubitlab.pulse.instructions import (
    Acquire,
    Delay,
    Discriminator,
    Instruction,
    Kernel,
    Play,
    SetFrequency,
    SetPhase,
    ShiftFrequency,
    ShiftPhase,
)
from qubitlab.pulse.library import Constant, Drag, Gaussian, GaussianSquare, Pulse, Waveform
from qubitlab.pulse.schedule import Schedule

GHZ = 1e9
US = 1e-6
PARAMETRIC: dict[str, Any] = {
    "gaussian": Gaussian, "gaussian_square": GaussianSquare, "drag": Drag, "constant": Constant,
}
"""``pulse_shape`` of a ``parametric_pulse`` -> our class (Qiskit's ``ParametricPulseShapes``)."""
SHAPE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "gaussian": ("sigma",), "gaussian_square": ("sigma", "width"), "drag": ("sigma", "beta"), "constant": (),
}
_CHANNEL = re.compile(r"^([dum])(\d+)$")
_PULSE_CHANNELS: dict[str, type[PulseChannel]] = {"d": DriveChannel, "u": ControlChannel, "m": MeasureChannel}
FRAME_KINDS = ("fc", "setp", "shiftf", "setf", "delay", "acquire", "parametric_pulse")
BOXCAR_KERNELS = ("boxcar", "hw_boxcar")
"""Kernel names (without params) meaning the uniform window qubitlab integrates every acquisition with."""
WEIGHT_PARAMS = frozenset({"real", "imag"})
"""A kernel with exactly these params gives its own integration weights (the compiler's digitizer weights)."""
CENTROID_DISCRIMINATORS = ("hw_centroid", "centroid")
"""Discriminator names (without params) meaning the lab's calibrated nearest-centroid discriminator, the one
qubitlab classifies meas_level 2 with."""


@dataclass(frozen=True)
class QobjExperiment:
    """One experiment: its schedule, its header, and the LO frequencies (Hz) it overrides, if any."""

    schedule: Schedule
    header: dict[str, Any] = field(default_factory=dict)
    qubit_lo_freq: tuple[float, ...] | None = None
    meas_lo_freq: tuple[float, ...] | None = None


@dataclass(frozen=True)
class QobjJob:
    """A PulseQobj read into qubitlab: experiments and run settings (SI units, enums for modes)."""

    experiments: tuple[QobjExperiment, ...]
    shots: int = 1024
    meas_level: MeasLevel = MeasLevel.CLASSIFIED
    meas_return: MeasReturn = MeasReturn.AVERAGE
    memory_slots: int = 0
    qubit_lo_freq: tuple[float, ...] = ()
    """Drive LO per qubit, Hz."""
    meas_lo_freq: tuple[float, ...] = ()
    """Readout LO per qubit, Hz."""
    rep_time: float | None = None
    """Seconds per shot (the document's microseconds), when given."""
    rep_delay: float | None = None
    """Seconds between shots (the document's microseconds), when given."""
    qobj_id: str = "qubitlab"
    header: dict[str, Any] = field(default_factory=dict)
    extra_config: dict[str, Any] = field(default_factory=dict)
    """Other config keys, kept as they were (``init_qubits``, ``memory_slot_size``, ``memory``, ...)."""

    @property
    def schedules(self) -> list[Schedule]:
        return [e.schedule for e in self.experiments]

    def base_frequencies(self, index: int = 0) -> dict[Channel, float]:
        """Each drive and measure channel's LO (Hz) for experiment ``index``: ``d_q`` at ``qubit_lo_freq[q]``,
        ``m_q`` at ``meas_lo_freq[q]`` (control channels depend on the lab's wiring: add them yourself)."""
        experiment = self.experiments[index]
        qubit = experiment.qubit_lo_freq if experiment.qubit_lo_freq is not None else self.qubit_lo_freq
        meas = experiment.meas_lo_freq if experiment.meas_lo_freq is not None else self.meas_lo_freq
        out: dict[Channel, float] = {DriveChannel(q): f for q, f in enumerate(qubit)}
        out.update({MeasureChannel(q): f for q, f in enumerate(meas)})
        return out

    def frames(self, calibrated: Mapping[str, float], index: int = 0) -> dict[str, float]:
        """Frame frequency per channel name (Hz) to compile experiment ``index`` with: the ``calibrated`` frames,
        with each ``d<q>``/``m<q>`` the document sets (its LO frequencies) replaced by the document's value."""
        out = dict(calibrated)
        out.update({ch.name: f for ch, f in self.base_frequencies(index).items()})
        return out


class _Where:
    """Names the place in the document for error messages (and carries the document's ``meas_level``)."""

    def __init__(self, source: str, meas_level: Any = 2) -> None:
        self.source = source
        self.meas_level = meas_level

    def fail(self, where: str, what: str) -> PulseError:
        return PulseError(f"PulseQobj {self.source}: {where}: {what}")


def _number(value: Any, what: str, ctx: _Where, where: str, integer: bool = False) -> Any:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if integer:
        ok = ok and float(value).is_integer() and value >= 0
    if not ok:
        kind = "a non-negative integer" if integer else "a finite number"
        raise ctx.fail(where, f"{what} must be {kind}, got {value!r}")
    return int(value) if integer else float(value)


def _complex(value: Any, what: str, ctx: _Where, where: str) -> complex:
    """``[re, im]`` (JSON) or a number (``to_dict()`` without JSON encoding)."""
    if isinstance(value, complex):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return complex(_number(value[0], what, ctx, where), _number(value[1], what, ctx, where))
    return complex(_number(value, what, ctx, where))


def _get(mapping: Mapping[str, Any], key: str, ctx: _Where, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise ctx.fail(where, f"missing key {key!r}")
    return mapping[key]


def _pulse_channel(name: Any, ctx: _Where, where: str) -> PulseChannel:
    match = _CHANNEL.match(name) if isinstance(name, str) else None
    if match is None:
        raise ctx.fail(where, f"channel {name!r} is not a pulse channel; valid: d<n>, u<n>, m<n>")
    return _PULSE_CHANNELS[match.group(1)](int(match.group(2)))


def _library(config: Mapping[str, Any], ctx: _Where) -> dict[str, Waveform]:
    out: dict[str, Waveform] = {}
    for i, item in enumerate(config.get("pulse_library") or []):
        where = f"config.pulse_library[{i}]"
        name = _get(item, "name", ctx, where)
        raw = _get(item, "samples", ctx, where)
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ctx.fail(where, f"samples of {name!r} must be a list of [re, im] pairs")
        samples = np.array([_complex(s, f"sample {j} of {name!r}", ctx, where) for j, s in enumerate(raw)],
                           dtype=np.complex128)
        try:
            out[str(name)] = Waveform(samples, name=str(name))
        except PulseError as exc:
            raise ctx.fail(where, f"waveform {name!r}: {exc}") from exc
    return out


def _parametric(inst: Mapping[str, Any], ctx: _Where, where: str) -> Pulse:
    shape = _get(inst, "pulse_shape", ctx, where)
    if shape not in PARAMETRIC:
        raise ctx.fail(where, f"pulse_shape {shape!r} is not a Qiskit parametric pulse; valid: {sorted(PARAMETRIC)}")
    params = _get(inst, "parameters", ctx, where)
    known = {"duration", "amp", *SHAPE_PARAMETERS[shape]}
    unknown = sorted(set(params) - known) if isinstance(params, Mapping) else []
    if unknown:
        raise ctx.fail(where, f"{shape} has no parameter(s) {unknown}; valid: {sorted(known)}")
    amp = _complex(_get(params, "amp", ctx, where), "amp", ctx, where)
    values = {k: _number(_get(params, k, ctx, where), k, ctx, where) for k in SHAPE_PARAMETERS[shape]}
    duration = _number(_get(params, "duration", ctx, where), "duration", ctx, where, integer=True)
    try:
        made: Pulse = PARAMETRIC[shape](duration, abs(amp), angle=float(np.angle(amp)), **values)
        return made
    except PulseError as exc:
        raise ctx.fail(where, str(exc)) from exc


def _acquire(inst: Mapping[str, Any], ctx: _Where, where: str) -> list[Instruction]:
    duration = _number(_get(inst, "duration", ctx, where), "duration", ctx, where, integer=True)
    qubits = _get(inst, "qubits", ctx, where)
    slots = inst.get("memory_slot")
    registers = inst.get("register_slot")
    if not isinstance(qubits, list) or not qubits:
        raise ctx.fail(where, f"qubits must be a non-empty list of qubit indices, got {qubits!r}")
    for key, values in (("memory_slot", slots), ("register_slot", registers)):
        if values is not None and (not isinstance(values, list) or len(values) != len(qubits)):
            raise ctx.fail(where, f"{key} must list one slot per qubit ({len(qubits)}), got {values!r}")
    if slots is None and registers is None:
        raise ctx.fail(where, "an acquire needs memory_slot or register_slot")
    kernels = _options(inst, "kernels", len(qubits), ctx, where)
    discriminators = _options(inst, "discriminators", len(qubits), ctx, where)
    out: list[Instruction] = []
    for i, q in enumerate(qubits):
        mem = None if slots is None else MemorySlot(_number(slots[i], "memory_slot", ctx, where, integer=True))
        reg = None if registers is None else RegisterSlot(
            _number(registers[i], "register_slot", ctx, where, integer=True))
        kernel = None if kernels is None else _kernel(kernels[i], ctx, where)
        discriminator = None if discriminators is None else _discriminator(discriminators[i], ctx, where)
        out.append(Acquire(duration, AcquireChannel(_number(q, "qubit", ctx, where, integer=True)), mem, reg,
                           kernel=kernel, discriminator=discriminator))
    return out


def _options(inst: Mapping[str, Any], key: str, n: int, ctx: _Where, where: str) -> list[Mapping[str, Any]] | None:
    """An acquire's ``kernels``/``discriminators`` per qubit: one entry for all ``n`` qubits or one each."""
    values = inst.get(key)
    if values is None:
        return None
    if not isinstance(values, list) or len(values) not in (1, n) or not all(
            isinstance(v, Mapping) and isinstance(v.get("name"), str) and isinstance(v.get("params", {}), Mapping)
            for v in values):
        raise ctx.fail(where, f"{key} must list one {{name, params}} for all {n} qubit(s) or one per qubit, "
                              f"got {values!r}")
    return list(values) * n if len(values) == 1 else list(values)


def _kernel(option: Mapping[str, Any], ctx: _Where, where: str) -> Kernel:
    name, params = option["name"], dict(option.get("params") or {})
    if name in BOXCAR_KERNELS and not params:
        return Kernel(name)
    if set(params) == WEIGHT_PARAMS:
        real, imag = params["real"], params["imag"]
        if isinstance(real, list) and isinstance(imag, list) and len(real) == len(imag) > 0:
            return Kernel(name, real=[_number(v, f"kernel {name!r} real", ctx, where) for v in real],
                          imag=[_number(v, f"kernel {name!r} imag", ctx, where) for v in imag])
    raise ctx.fail(where, f"kernel {name!r} with params {sorted(params)} cannot be honoured; qubitlab integrates "
                          f"with a boxcar ({' or '.join(map(repr, BOXCAR_KERNELS))}, no params) or with the "
                          "kernel's own weights (params 'real' and 'imag': equal-length lists of numbers, one per "
                          "digitizer sample of the window)")


def _discriminator(option: Mapping[str, Any], ctx: _Where, where: str) -> Discriminator:
    name, params = option["name"], dict(option.get("params") or {})
    if ctx.meas_level != 2:
        raise ctx.fail(where, f"discriminator {name!r} with meas_level {ctx.meas_level!r}: a discriminator "
                              "classifies, so only meas_level 2 has one; drop it or ask meas_level 2")
    if name in CENTROID_DISCRIMINATORS and not params:
        return Discriminator(name)
    raise ctx.fail(where, f"discriminator {name!r} with params {sorted(params)} cannot be honoured; qubitlab "
                          "classifies by the nearest of the lab's calibrated |0> and |1> IQ centres: give "
                          f"{' or '.join(map(repr, CENTROID_DISCRIMINATORS))} without params, or none; to classify "
                          "your own way ask meas_level 1 and classify the IQ points")


def _frame(kind: str, key: str, scale: float) -> Callable[[Mapping[str, Any], _Where, str], list[Instruction]]:
    cls = {"fc": ShiftPhase, "setp": SetPhase, "shiftf": ShiftFrequency, "setf": SetFrequency}[kind]

    def convert(inst: Mapping[str, Any], ctx: _Where, where: str) -> list[Instruction]:
        value = _number(_get(inst, key, ctx, where), key, ctx, where) * scale
        return [cls(value, _pulse_channel(_get(inst, "ch", ctx, where), ctx, where))]

    return convert


def _delay(inst: Mapping[str, Any], ctx: _Where, where: str) -> list[Instruction]:
    duration = _number(_get(inst, "duration", ctx, where), "duration", ctx, where, integer=True)
    return [Delay(duration, _pulse_channel(_get(inst, "ch", ctx, where), ctx, where))]


_CONVERTERS: dict[str, Callable[[Mapping[str, Any], _Where, str], list[Instruction]]] = {
    "fc": _frame("fc", "phase", 1.0), "setp": _frame("setp", "phase", 1.0),
    "shiftf": _frame("shiftf", "frequency", GHZ), "setf": _frame("setf", "frequency", GHZ),
    "delay": _delay, "acquire": _acquire,
    "parametric_pulse": lambda inst, ctx, where: [Play(_parametric(inst, ctx, where),
                                                       _pulse_channel(_get(inst, "ch", ctx, where), ctx, where))],
}


def _instructions(inst: Mapping[str, Any], library: Mapping[str, Waveform], ctx: _Where,
                  where: str) -> list[Instruction]:
    name = _get(inst, "name", ctx, where)
    convert = _CONVERTERS.get(name)
    if convert is not None:
        return convert(inst, ctx, where)
    if name in library:
        return [Play(library[name], _pulse_channel(_get(inst, "ch", ctx, where), ctx, where))]
    raise ctx.fail(where, f"instruction {name!r} is neither one of {list(FRAME_KINDS)} nor a pulse_library name "
                          f"({len(library)} waveform(s)); qubitlab reads only these (no 'pv', 'snapshot')")


def _experiment(index: int, data: Mapping[str, Any], library: Mapping[str, Waveform],
                ctx: _Where) -> QobjExperiment:
    header = dict(data.get("header") or {})
    schedule = Schedule(name=header.get("name") or f"experiment{index}", metadata=dict(header.get("metadata") or {}))
    for i, inst in enumerate(_get(data, "instructions", ctx, f"experiments[{index}]")):
        label = inst.get("name") if isinstance(inst, Mapping) else repr(inst)
        where = f"experiments[{index}].instructions[{i}] ({label})"
        t0 = _number(_get(inst, "t0", ctx, where), "t0", ctx, where, integer=True)
        for item in _instructions(inst, library, ctx, where):
            try:
                schedule.insert(t0, item, inplace=True)
            except PulseError as exc:
                raise ctx.fail(where, str(exc)) from exc
    config = data.get("config") or {}
    return QobjExperiment(schedule, header, _frequencies(config, "qubit_lo_freq", ctx, index),
                          _frequencies(config, "meas_lo_freq", ctx, index))


def _frequencies(config: Mapping[str, Any], key: str, ctx: _Where, index: int | None = None) -> tuple[float, ...] | None:
    values = config.get(key)
    if values is None:
        return None
    where = "config" if index is None else f"experiments[{index}].config"
    if not isinstance(values, list):
        raise ctx.fail(where, f"{key} must be a list of GHz per qubit, got {values!r}")
    return tuple(_number(v, key, ctx, where) * GHZ for v in values)


_CONFIG_KEYS = {"shots", "meas_level", "meas_return", "memory_slots", "qubit_lo_freq", "meas_lo_freq",
                "rep_time", "rep_delay", "pulse_library", "parametric_pulses"}


def from_qobj(document: Mapping[str, Any], source: str = "document") -> QobjJob:
    """A PulseQobj dict (as ``json.load`` gives it, or ``PulseQobj.to_dict()``) read into a :class:`QobjJob`.

    What the checks below do not name precisely (a value of a shape no PulseQobj has, found by fuzzing) is still
    a :class:`PulseError` naming the document, never another exception."""
    try:
        return _from_qobj(document, source)
    except PulseError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise PulseError(f"PulseQobj {source}: malformed document ({type(exc).__name__}: {exc}); expected what "
                         "Qiskit 1.x's assemble() writes: config and experiments with their instructions") \
            from None


def _from_qobj(document: Mapping[str, Any], source: str) -> QobjJob:
    ctx = _Where(source)
    if not isinstance(document, Mapping) or document.get("type") != "PULSE":
        found = document.get("type") if isinstance(document, Mapping) else type(document).__name__
        raise ctx.fail("type", f"expected a PulseQobj ('type': 'PULSE'), got {found!r}")
    config = _get(document, "config", ctx, "top level")
    if not isinstance(config, Mapping):
        raise ctx.fail("config", f"must be an object of run settings, got {type(config).__name__}")
    if not isinstance(document.get("experiments"), list):
        raise ctx.fail("experiments", "must be a list of experiments")
    level = ctx.meas_level = config.get("meas_level", 2)          # the acquires' discriminators need it
    if level not in (0, 1, 2):
        raise ctx.fail("config.meas_level", f"must be 0, 1 or 2, got {level!r}")
    library = _library(config, ctx)
    experiments = tuple(_experiment(i, e, library, ctx) for i, e in enumerate(_get(document, "experiments", ctx,
                                                                                 "top level")))
    ret = config.get("meas_return", "avg")
    if ret not in ("avg", "single"):
        raise ctx.fail("config.meas_return", f"must be 'avg' or 'single', got {ret!r}")
    rep_time, rep_delay = config.get("rep_time"), config.get("rep_delay")
    return QobjJob(
        experiments=experiments,
        shots=_number(config.get("shots", 1024), "shots", ctx, "config", integer=True),
        meas_level=MeasLevel(level), meas_return=MeasReturn(ret),
        memory_slots=_number(config.get("memory_slots", 0), "memory_slots", ctx, "config", integer=True),
        qubit_lo_freq=_frequencies(config, "qubit_lo_freq", ctx) or (),
        meas_lo_freq=_frequencies(config, "meas_lo_freq", ctx) or (),
        rep_time=None if rep_time is None else _number(rep_time, "rep_time", ctx, "config") * US,
        rep_delay=None if rep_delay is None else _number(rep_delay, "rep_delay", ctx, "config") * US,
        qobj_id=str(document.get("qobj_id", "qubitlab")), header=dict(document.get("header") or {}),
        extra_config={k: v for k, v in config.items() if k not in _CONFIG_KEYS},
    )


def load_qobj(path: str | Path) -> QobjJob:
    """A PulseQobj JSON file read into a :class:`QobjJob` (errors name the file)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PulseError(f"PulseQobj {path}: cannot read it as JSON: {exc}") from exc
    return from_qobj(document, source=str(path))
