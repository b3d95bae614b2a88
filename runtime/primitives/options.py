"""SamplerOptions and EstimatorOptions: qiskit-ibm-runtime's option names, defaults and validation.

Why it exists: a Qiskit Runtime script sets ``estimator.options.resilience_level = 0`` or
``options.twirling.enable_gates = True``; the same names must work here, a wrong name or value must fail at
assignment (listing the valid names or values), and an option qubitlab accepts but does not yet implement
must be refused by the primitive (:func:`not_implemented`), never silently ignored. Names, defaults and
checks follow qiskit-ibm-runtime's ``options/`` (Apache-2.0): where it leaves a value ``Unset`` for the
server to choose by ``resilience_level``, the value here is ``None`` with the same meaning. ZNE gains our own
amplifier ``"pulse_stretch"`` (stretching pulses in time, which a pulse-level lab can do).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from qubitlab.errors import ConfigError

Auto = Literal["auto"]
Extrapolator = Literal["linear", "exponential", "double_exponential", "polynomial_degree_1",
                       "polynomial_degree_2", "polynomial_degree_3", "polynomial_degree_4", "polynomial_degree_5",
                       "polynomial_degree_6", "polynomial_degree_7", "fallback"]
REQUIRED_FACTORS = {"linear": 2, "exponential": 2, "double_exponential": 4, "fallback": 1,
                    **{f"polynomial_degree_{k}": k + 1 for k in range(1, 8)}}
"""Noise factors each extrapolator needs (zne_options.py)."""
MAX_RESILIENCE_LEVEL = 2


def _describe(error: ValidationError, group: _Group, assigning: str | None = None) -> str:
    """One line per problem: the option's dotted name, what was wrong, and the valid names or values."""
    model = type(group)
    prefix = group._prefix if getattr(group, "__pydantic_private__", None) else ""
    lines = []
    for problem in error.errors():
        path = [str(p) for p in problem["loc"]] or ([assigning] if assigning else [])
        name = prefix + ".".join(path) if path else model.__name__
        if problem["type"] in ("extra_forbidden", "no_such_attribute"):
            owner = _model_at(model, path[:-1])
            valid = ", ".join(owner.model_fields) if owner else "?"
            lines.append(f"{name}: unknown option; valid names here: {valid}")
        elif problem["loc"]:
            lines.append(f"{name}: {problem['msg']} (got {problem.get('input')!r})")
        else:
            lines.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
    return f"{model.__name__}: " + "; ".join(lines)


def _model_at(model: type[BaseModel], path: list[str]) -> type[BaseModel] | None:
    for part in path:
        field = model.model_fields.get(part)
        sub = field.annotation if field else None
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return None
        model = sub
    return model


_BUILDING: list[str] = []
"""Groups under construction (pydantic builds nested groups through their ``__init__``)."""


class _Group(BaseModel):
    """Base of every options model: unknown names and bad values raise :class:`ConfigError` at once, naming
    the option by its dotted name from the top (``twirling.strategy``); a refused assignment changes nothing."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    _prefix: str = PrivateAttr(default="")

    def __init__(self, **data: Any) -> None:
        outermost = not _BUILDING
        _BUILDING.append(type(self).__name__)   # nested groups are built inside: let pydantic add their path
        try:
            super().__init__(**data)
        except ValidationError as error:
            if not outermost:
                raise
            raise ConfigError(_describe(error, self)) from None
        finally:
            _BUILDING.pop()
        self._name_children()

    def _name_children(self) -> None:
        for name in type(self).model_fields:
            child = getattr(self, name)
            if isinstance(child, _Group):
                child._prefix = f"{self._prefix}{name}."
                child._name_children()

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        old = dict(self.__dict__)
        try:
            super().__setattr__(name, value)
        except ValidationError as error:
            self.__dict__.clear()
            self.__dict__.update(old)   # an after-validator runs once the value is in place: undo it
            raise ConfigError(_describe(error, self, name)) from None
        self._name_children()

    def update(self, **kwargs: Any) -> None:
        """Set several options at once; a nested group takes a dict of its own options (merged)."""
        for name, value in kwargs.items():
            current = getattr(self, name) if name in type(self).model_fields else None
            if isinstance(current, _Group) and isinstance(value, dict):
                current.update(**value)
            else:
                setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dicts, lists, numbers, strings, None) for the wire."""
        return self.model_dump(mode="json")

    def flat(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """``(dotted name, value)`` of every leaf option."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, _Group):
                yield from value.flat(f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", value


class ExecutionOptions(_Group):
    """execution_options.py: ``init_qubits`` (default True), ``rep_delay`` (s; None = the lab's default)."""

    init_qubits: bool = True
    rep_delay: float | None = Field(default=None, ge=0)


class SamplerExecutionOptions(ExecutionOptions):
    """sampler_execution_options.py: adds ``meas_type`` (default ``"classified"``)."""

    meas_type: Literal["classified", "kerneled", "avg_kerneled"] = "classified"


class DynamicalDecouplingOptions(_Group):
    """dynamical_decoupling_options.py."""

    enable: bool = False
    sequence_type: Literal["XX", "XpXm", "XY4"] = "XX"
    extra_slack_distribution: Literal["middle", "edges"] = "middle"
    scheduling_method: Literal["alap", "asap"] = "alap"
    skip_reset_qubits: bool = False


class TwirlingOptions(_Group):
    """twirling_options.py; ``enable_gates``/``enable_measure`` None = chosen by the primitive and
    resilience level (the Sampler: off; the Estimator: measure twirling from level 1, gates from level 2)."""

    enable_gates: bool | None = None
    enable_measure: bool | None = None
    num_randomizations: int | Auto = "auto"
    shots_per_randomization: int | Auto = "auto"
    strategy: Literal["active", "active-accum", "active-circuit", "all"] = "active-accum"

    @field_validator("num_randomizations", "shots_per_randomization")
    @classmethod
    def _at_least_one(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be an integer >= 1 or 'auto'")
        return value


class MeasureNoiseLearningOptions(_Group):
    """measure_noise_learning_options.py."""

    num_randomizations: int = Field(default=32, ge=1)
    shots_per_randomization: int | Auto = "auto"

    @field_validator("shots_per_randomization")
    @classmethod
    def _at_least_one(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be an integer >= 1 or 'auto'")
        return value


class ZneOptions(_Group):
    """zne_options.py, plus the amplifier ``"pulse_stretch"``."""

    amplifier: Literal["gate_folding", "gate_folding_front", "gate_folding_back", "pea", "pulse_stretch"] = \
        "gate_folding"
    noise_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    extrapolator: Extrapolator | tuple[Extrapolator, ...] = ("exponential", "linear")
    extrapolated_noise_factors: tuple[float, ...] | None = None

    @field_validator("noise_factors")
    @classmethod
    def _factors(cls, factors: tuple[float, ...]) -> tuple[float, ...]:
        if not factors or any(f < 1 for f in factors):
            raise ValueError("noise factors must all be >= 1")
        return factors

    @model_validator(mode="after")
    def _enough_factors(self) -> ZneOptions:
        names = (self.extrapolator,) if isinstance(self.extrapolator, str) else self.extrapolator
        for name in names:
            if len(self.noise_factors) < REQUIRED_FACTORS[name]:
                raise ValueError(f"extrapolator {name} requires at least {REQUIRED_FACTORS[name]} noise_factors, "
                                 f"got {len(self.noise_factors)}")
        return self


class ResilienceOptions(_Group):
    """resilience_options.py (V2); None = chosen by ``resilience_level`` (measure mitigation from level 1,
    ZNE at level 2)."""

    measure_mitigation: bool | None = None
    measure_noise_learning: MeasureNoiseLearningOptions = Field(default_factory=MeasureNoiseLearningOptions)
    zne_mitigation: bool | None = None
    zne: ZneOptions = Field(default_factory=ZneOptions)
    pec_mitigation: bool = False

    @model_validator(mode="after")
    def _not_both(self) -> ResilienceOptions:
        if self.pec_mitigation and self.zne_mitigation:
            raise ValueError("pec_mitigation and zne_mitigation cannot both be enabled; set one to False")
        return self


class SamplerOptions(_Group):
    """sampler_options.py (V2) and options.py's ``max_execution_time`` (s, None = no limit)."""

    default_shots: int = Field(default=4096, ge=1)
    execution: SamplerExecutionOptions = Field(default_factory=SamplerExecutionOptions)
    dynamical_decoupling: DynamicalDecouplingOptions = Field(default_factory=DynamicalDecouplingOptions)
    twirling: TwirlingOptions = Field(default_factory=TwirlingOptions)
    max_execution_time: int | None = Field(default=None, ge=1)


class EstimatorOptions(_Group):
    """estimator_options.py (V2) and options.py's ``max_execution_time``."""

    default_precision: float = Field(default=0.015625, gt=0)
    default_shots: int | None = Field(default=None, ge=0)
    resilience_level: int = Field(default=1, ge=0, le=MAX_RESILIENCE_LEVEL)
    seed_estimator: int | None = None
    execution: ExecutionOptions = Field(default_factory=ExecutionOptions)
    resilience: ResilienceOptions = Field(default_factory=ResilienceOptions)
    twirling: TwirlingOptions = Field(default_factory=TwirlingOptions)
    dynamical_decoupling: DynamicalDecouplingOptions = Field(default_factory=DynamicalDecouplingOptions)
    max_execution_time: int | None = Field(default=None, ge=1)


IMPLEMENTED = frozenset({"default_shots", "default_precision", "max_execution_time", "resilience_level",
                         "execution.rep_delay", "execution.meas_type", "resilience.measure_mitigation",
                         "resilience.zne_mitigation", "resilience.zne.noise_factors", "resilience.zne.extrapolator",
                         "resilience.zne.amplifier", "resilience.zne.extrapolated_noise_factors",
                         "twirling.enable_measure", "twirling.enable_gates", "twirling.num_randomizations",
                         "twirling.shots_per_randomization",
                         "resilience.measure_noise_learning.num_randomizations",
                         "resilience.measure_noise_learning.shots_per_randomization",
                         "dynamical_decoupling.enable", "dynamical_decoupling.sequence_type",
                         "dynamical_decoupling.extra_slack_distribution", "dynamical_decoupling.skip_reset_qubits"})
"""Options the daemon honours today (the rest of each group is filled by the mitigation work)."""
ESTIMATOR_ONLY = frozenset({"twirling.enable_measure", "twirling.enable_gates", "twirling.num_randomizations",
                            "twirling.shots_per_randomization", "dynamical_decoupling.enable",
                            "dynamical_decoupling.sequence_type", "dynamical_decoupling.extra_slack_distribution",
                            "dynamical_decoupling.skip_reset_qubits"})
"""Implemented by the Estimator only (the Sampler does not twirl yet): refused on SamplerOptions."""


def not_implemented(options: SamplerOptions | EstimatorOptions) -> list[str]:
    """Dotted names of options set to something qubitlab does not implement yet: any option outside
    :data:`IMPLEMENTED` set away from its default (an explicit off, False, counts as the default, except
    ``execution.init_qubits=False``: qubits are always initialised, by waiting ``rep_delay``).
    ``resilience_level=2`` runs readout mitigation and ZNE; its gate twirling is not implemented yet and the
    result's metadata says so (``techniques``)."""
    defaults = dict(type(options)().flat())
    done = IMPLEMENTED - ESTIMATOR_ONLY if isinstance(options, SamplerOptions) else IMPLEMENTED
    out = [name for name, value in options.flat()
           if name not in done and value != defaults[name]
           and (value is not False or name == "execution.init_qubits")]
    return out
