"""The pulse library: ``Waveform`` and the parametric pulses of Qiskit Pulse 1.4 (``Gaussian``, ``Drag``, ...).

Each parametric pulse is a small class holding its parameters (numbers or parameter expressions); the
numerics live in :mod:`qubitlab.pulse.shapes`, which reproduces Qiskit 1.4's samples exactly. Sampling goes
through a content-keyed cache of the *unit-amplitude* envelope: a pulse's samples are ``amp * e^{i angle}``
times that envelope, so a 100-point amplitude sweep samples its shape once, and a pulse repeated 1000 times
in a schedule is sampled once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qubitlab.errors import PulseError
import qubitlab.pulse.shapes as shapes
from qubitlab.pulse.cache import DEFAULT_CACHE, CompileCache, cache_or_default
from qubitlab.pulse.parameters import Parameter, ParameterExpression, is_number, resolve

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ComplexArray = NDArray[np.complex128]


def _cached_envelope(cache: CompileCache | None, key: tuple[Any, ...], sample: Any, duration: int,
                     params: dict[str, Any]) -> ComplexArray:
    """The samples of a shape, sampled once per distinct content (read-only; kept in ``cache``)."""

    def make() -> ComplexArray:
        samples = np.asarray(sample(duration, **params), dtype=np.complex128)
        samples.setflags(write=False)
        return samples

    return cache_or_default(cache).get("envelope", key, make)


_CHECK_MEMO: dict[tuple[Any, ...], str | None] = {}
"""Verdicts of the parameter checks by content (pulse type, duration, values): a pulse built 1000 times in a
schedule is checked once. Content-keyed, so never wrong; bounded by clearing (the verdict is cheap to redo)."""
_CHECK_MEMO_LIMIT = 16384


def _verdict(pulse_type: str, limit_amplitude: bool, duration: int, params: dict[str, Any]) -> str | None:
    """Why these parameter values are refused, or None: finite numbers, then the shape's own constraints."""
    for name, value in params.items():
        if not np.isfinite(value):
            return f"{name}={value} is not a finite number; give a finite {name}"
    spec = shapes.SHAPES[pulse_type]
    message = spec.check_constraints(duration, **params)
    if message is None and limit_amplitude:
        message = spec.check_amplitude(duration, **params)
    return message


def clear_sample_cache() -> None:
    """Forget every envelope in the default cache (for benchmarks that measure cold sampling)."""
    DEFAULT_CACHE.clear("envelope")


def _duration_value(duration: object, owner: str) -> int | ParameterExpression:
    if isinstance(duration, ParameterExpression):
        if duration.parameters:
            return duration
        duration = duration.numeric()
    if isinstance(duration, (int, np.integer)) and not isinstance(duration, bool):
        if duration < 0:
            raise PulseError(f"{owner}: duration must be a non-negative integer number of samples (dt), got {duration}")
        return int(duration)
    if isinstance(duration, float) and duration.is_integer() and duration >= 0:
        return int(duration)
    raise PulseError(f"{owner}: duration must be a non-negative integer number of samples (dt), got {duration!r}")


class Pulse:
    """Base of every pulse: a ``duration`` in samples of ``dt`` and an optional ``name``."""

    limit_amplitude: ClassVar[bool] = True
    """Class-wide default for refusing |samples| > 1 (as in Qiskit; set per pulse with ``limit_amplitude=``)."""

    __slots__ = ("_duration", "name", "_limit_amplitude")

    def __init__(self, duration: int | ParameterExpression, name: str | None, limit_amplitude: bool | None) -> None:
        self._duration = duration if type(duration) is int and duration >= 0 else _duration_value(
            duration, type(self).__name__)
        self.name = name
        self._limit_amplitude = type(self).limit_amplitude if limit_amplitude is None else bool(limit_amplitude)

    @property
    def duration(self) -> int | ParameterExpression:
        return self._duration

    @property
    def parameters(self) -> dict[str, Any]:
        raise NotImplementedError

    def is_parameterized(self) -> bool:
        raise NotImplementedError

    def get_waveform(self) -> Waveform:
        raise NotImplementedError

    @property
    def content_key(self) -> tuple[Any, ...]:
        """Pulses with equal keys sample alike (identity for pulses without a cheaper key)."""
        return ("pulse", id(self))

    def envelope(self, table: Mapping[Parameter, Any], cache: CompileCache | None = None
                 ) -> tuple[ComplexArray, complex]:
        """``(unit_samples, coefficient)`` with parameters taken from ``table``; samples = coefficient * unit.
        Sampled shapes are kept in ``cache`` (the default cache when None)."""
        raise NotImplementedError

    def draw(self) -> Figure:
        """A matplotlib figure of the sampled envelope (real and imaginary parts)."""
        from qubitlab.pulse.draw import draw_waveform

        return draw_waveform(self.get_waveform())


class Waveform(Pulse):
    """A pulse given by its complex samples, one per ``dt``."""

    __slots__ = ("_samples", "epsilon")

    def __init__(
        self,
        samples: ArrayLike,
        name: str | None = None,
        epsilon: float = 1e-7,
        limit_amplitude: bool | None = None,
    ) -> None:
        array = np.array(samples, dtype=np.complex128, copy=True).reshape(-1)
        super().__init__(array.size, name, limit_amplitude)
        self.epsilon = epsilon
        finite = np.isfinite(array)
        if not finite.all():
            bad = int(np.argmin(finite))
            raise PulseError(f"Waveform{'' if name is None else ' ' + repr(name)}: sample {bad} is {array[bad]}, "
                             "not a finite number; give finite samples")
        if self._limit_amplitude:
            array = self._clip(array, epsilon)
        array.setflags(write=False)
        self._samples = array

    def _clip(self, samples: ComplexArray, epsilon: float) -> ComplexArray:
        """Samples within ``epsilon`` above unit norm are brought to norm 1 (float rounding, as Qiskit does);
        anything larger is refused."""
        norms = np.abs(samples)
        over = norms > 1.0
        if not over.any():
            return samples
        if np.any(norms > 1.0 + epsilon):
            worst = int(np.argmax(norms))
            raise PulseError(
                f"Waveform{'' if self.name is None else ' ' + repr(self.name)}: sample {worst} has norm "
                f"{norms[worst]:.6g} > 1 (+{epsilon:g}); scale the samples to |s| <= 1 or pass limit_amplitude=False"
            )
        samples[over] = samples[over] / norms[over]
        still = np.abs(samples) > 1.0
        samples[still] *= 1 - epsilon
        return samples

    @property
    def samples(self) -> ComplexArray:
        return self._samples

    @property
    def parameters(self) -> dict[str, Any]:
        return {}

    def is_parameterized(self) -> bool:
        return False

    def get_waveform(self) -> Waveform:
        return self

    def envelope(self, table: Mapping[Parameter, Any], cache: CompileCache | None = None
                 ) -> tuple[ComplexArray, complex]:
        return self._samples, 1.0 + 0j

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Waveform)
            and self._samples.shape == other._samples.shape
            and bool(np.allclose(self._samples, other._samples, rtol=0, atol=self.epsilon))
        )

    def __hash__(self) -> int:
        return hash((self._samples.size, self._samples[:8].tobytes()))

    def __repr__(self) -> str:
        opt = f", name={self.name!r}" if self.name else ""
        return f"Waveform(array({np.array2string(self._samples, threshold=8)}){opt})"


class SymbolicPulse(Pulse):
    """A pulse given by a shape from :mod:`qubitlab.pulse.shapes` and its parameters.

    Subclasses fix ``pulse_type``; parameters are reachable as attributes (``pulse.sigma``) and, together with
    ``duration``, through :attr:`parameters` -- the same interface as Qiskit's ``SymbolicPulse``.
    """

    pulse_type: ClassVar[str] = ""
    _scalable: ClassVar[bool] = False
    __slots__ = ("_params", "_parameterized", "_content_key")

    def __init__(
        self,
        duration: int | ParameterExpression,
        params: dict[str, Any],
        name: str | None = None,
        limit_amplitude: bool | None = None,
    ) -> None:
        super().__init__(duration, name, limit_amplitude)
        parameterized = isinstance(self._duration, ParameterExpression)
        for pname, value in params.items():
            kind = type(value)
            if kind is float or kind is int or kind is bool:
                continue
            if isinstance(value, ParameterExpression):
                parameterized = True
            elif not is_number(value):
                raise PulseError(
                    f"{self.pulse_type}: parameter {pname} must be a number or a Parameter, got {value!r}"
                )
            elif isinstance(value, complex) and pname in ("amp", "active_amp"):
                raise PulseError(
                    f"{self.pulse_type}: complex {pname}={value} is not supported (as in Qiskit >= 1.0); "
                    f"give amp={abs(value):.6g} and angle={np.angle(value):.6g} instead"
                )
        self._params = params
        self._parameterized = parameterized
        self._content_key: tuple[Any, ...] | None = None
        if not parameterized:
            self._check(self._duration, params)  # type: ignore[arg-type]

    # -- Qiskit-compatible interface --------------------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Any]:
        return {"duration": self._duration, **self._params}

    def __getattr__(self, item: str) -> Any:
        # Only reached for names that are not slots or class attributes: the pulse's own parameters.
        try:
            return object.__getattribute__(self, "_params")[item]
        except (KeyError, AttributeError):
            raise AttributeError(f"{type(self).__name__} has no attribute or parameter {item!r}") from None

    def is_parameterized(self) -> bool:
        return self._parameterized

    @property
    def content_key(self) -> tuple[Any, ...]:
        """Equal for pulses with equal type and parameters (expressions included): they sample alike."""
        if self._content_key is None:
            self._content_key = (self.pulse_type, self._limit_amplitude, self._duration, *self._params.values())
        return self._content_key

    def validate_parameters(self) -> None:
        """Refuse invalid parameter values, naming the pulse and the value (skipped while unbound)."""
        if not self._parameterized:
            self._check(self._duration, self._params)  # type: ignore[arg-type]

    def _check(self, duration: int, params: dict[str, Any]) -> None:
        key = (self.pulse_type, self._limit_amplitude, duration, *params.values())
        try:
            message = _CHECK_MEMO[key]
        except KeyError:
            message = _verdict(self.pulse_type, self._limit_amplitude, duration, params)
            if len(_CHECK_MEMO) >= _CHECK_MEMO_LIMIT:
                _CHECK_MEMO.clear()
            _CHECK_MEMO[key] = message
        if message is not None:
            raise PulseError(f"{self._describe(duration, params)}: {message}")

    def _describe(self, duration: Any, params: Mapping[str, Any]) -> str:
        args = ", ".join(f"{k}={v}" for k, v in params.items())
        label = f"{self.pulse_type}(duration={duration}, {args})"
        return f"{label} named {self.name!r}" if self.name else label

    # -- sampling ---------------------------------------------------------------------------------------------
    def resolved(self, table: Mapping[Parameter, Any]) -> tuple[int, dict[str, Any]]:
        """Duration and parameters with ``table`` applied; refuses anything left unbound."""
        duration = resolve(self._duration, table) if isinstance(self._duration, ParameterExpression) else self._duration
        params = {k: resolve(v, table) for k, v in self._params.items()}
        unbound = [k for k, v in (("duration", duration), *params.items()) if isinstance(v, ParameterExpression)]
        if unbound:
            raise PulseError(
                f"{self._describe(duration, params)}: parameters {unbound} are unbound; "
                "assign them with assign_parameters() before sampling or rendering"
            )
        duration = _duration_value(duration, self.pulse_type)
        assert isinstance(duration, int)
        return duration, {k: float(v) if type(v) is int else v for k, v in params.items()}

    def resolved_partially(self, table: Mapping[Parameter, Any]) -> tuple[int | None, dict[str, Any]]:
        """Like :meth:`resolved`, but ``(None, {})`` while some parameter is still unbound."""
        duration = resolve(self._duration, table)
        params = {k: resolve(v, table) for k, v in self._params.items()}
        if isinstance(duration, ParameterExpression) or any(isinstance(v, ParameterExpression) for v in params.values()):
            return None, {}
        checked = _duration_value(duration, self.pulse_type)
        assert isinstance(checked, int)
        return checked, {k: float(v) if type(v) is int else v for k, v in params.items()}

    def envelope(self, table: Mapping[Parameter, Any], cache: CompileCache | None = None
                 ) -> tuple[ComplexArray, complex]:
        if not self._parameterized:
            return self._envelope_of(self._duration, self._params, cache)  # type: ignore[arg-type]
        duration, params = self.resolved(table)
        self._check(duration, params)
        return self._envelope_of(duration, params, cache)

    def _envelope_of(self, duration: int, params: dict[str, Any], cache: CompileCache | None = None
                     ) -> tuple[ComplexArray, complex]:
        spec = shapes.SHAPES[self.pulse_type]
        if self._scalable:
            amp, angle = params["amp"], params["angle"]
            rest = {k: v for k, v in params.items() if k not in ("amp", "angle")}
            key = (self.pulse_type, duration, *rest.values())
            unit = _cached_envelope(cache, key, spec.sample, duration, {**rest, "amp": 1.0, "angle": 0.0})
            coefficient = complex(amp) if angle == 0 else complex(amp * np.exp(1j * angle))
            return unit, coefficient
        key = (self.pulse_type, duration, *params.values())
        samples = _cached_envelope(cache, key, spec.sample, duration, params)
        return samples, 1.0 + 0j

    def get_waveform(self) -> Waveform:
        """The sampled pulse (midpoint sampling, exactly Qiskit 1.4's samples)."""
        if self.is_parameterized():
            unbound = sorted(p.name for v in self.parameters.values() if isinstance(v, ParameterExpression) for p in v.parameters)
            raise PulseError(f"{self._describe(self._duration, self._params)}: cannot sample with unbound parameters {unbound}")
        unit, coefficient = self._envelope_of(int(self._duration), self._params)
        samples = unit * coefficient if coefficient != 1 else unit.copy()
        # Qiskit passes every sampled pulse through Waveform's clipping of |s| in (1, 1 + 1e-7]
        return Waveform(shapes.clip_to_unit(samples), name=self.name, limit_amplitude=False)

    def assign(self, table: Mapping[Parameter, Any]) -> SymbolicPulse:
        """A copy with ``table`` applied to its parameters (itself when nothing changes)."""
        if not self.is_parameterized():
            return self
        new = object.__new__(type(self))
        new._duration = resolve(self._duration, table)
        if not isinstance(new._duration, ParameterExpression):
            new._duration = _duration_value(new._duration, self.pulse_type)
        new.name = self.name
        new._limit_amplitude = self._limit_amplitude
        new._params = {k: resolve(v, table) for k, v in self._params.items()}
        new._content_key = None
        new._parameterized = isinstance(new._duration, ParameterExpression) or any(
            isinstance(v, ParameterExpression) for v in new._params.values()
        )
        new.validate_parameters()
        return new

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SymbolicPulse)
            and self.pulse_type == other.pulse_type
            and self._duration == other._duration
            and self._params == other._params
        )

    def __hash__(self) -> int:
        return hash((self.pulse_type, self._duration, tuple(self._params.items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._params.items())
        name = f", name={self.name!r}" if self.name else ""
        return f"{self.pulse_type}(duration={self._duration}, {args}{name})"


class ScalableSymbolicPulse(SymbolicPulse):
    """A symbolic pulse whose samples are ``amp * exp(i*angle)`` times a unit shape."""

    _scalable = True
    __slots__ = ()


def _angle(angle: Any) -> Any:
    return 0.0 if angle is None else angle


class Gaussian(ScalableSymbolicPulse):
    """Lifted Gaussian: ``amp e^{i angle} (g(t) - g(-1)) / (1 - g(-1))``, ``g`` centred, width ``sigma``."""

    pulse_type = "Gaussian"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, angle: Any = 0.0, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        super().__init__(duration, {"amp": amp, "sigma": sigma, "angle": _angle(angle)}, name, limit_amplitude)


class GaussianSquare(ScalableSymbolicPulse):
    """A flat top of ``width`` samples with lifted-Gaussian rise and fall (or give ``risefall_sigma_ratio``)."""

    pulse_type = "GaussianSquare"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, width: Any = None, angle: Any = 0.0,
                 risefall_sigma_ratio: Any = None, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        width = _resolve_width(self.pulse_type, duration, sigma, width, risefall_sigma_ratio)
        super().__init__(duration, {"amp": amp, "sigma": sigma, "width": width, "angle": _angle(angle)}, name,
                         limit_amplitude)


class GaussianSquareDrag(ScalableSymbolicPulse):
    """GaussianSquare whose rise and fall carry a DRAG correction ``beta``."""

    pulse_type = "GaussianSquareDrag"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, beta: Any, width: Any = None, angle: Any = 0.0,
                 risefall_sigma_ratio: Any = None, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        width = _resolve_width(self.pulse_type, duration, sigma, width, risefall_sigma_ratio)
        super().__init__(duration, {"amp": amp, "sigma": sigma, "width": width, "beta": beta,
                                    "angle": _angle(angle)}, name, limit_amplitude)


class GaussianSquareEcho(SymbolicPulse):
    """Echoed GaussianSquare (two halves of opposite sign) plus an active-cancellation tone."""

    pulse_type = "gaussian_square_echo"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, width: Any = None, angle: Any = 0.0,
                 active_amp: Any = 0.0, active_angle: Any = 0.0, risefall_sigma_ratio: Any = None,
                 name: str | None = None, limit_amplitude: bool | None = None) -> None:
        width = _resolve_width(self.pulse_type, duration, sigma, width, risefall_sigma_ratio)
        super().__init__(duration, {"amp": amp, "sigma": sigma, "width": width, "angle": _angle(angle),
                                    "active_amp": _angle(active_amp), "active_angle": _angle(active_angle)},
                         name, limit_amplitude)


def gaussian_square_echo(*args: Any, **kwargs: Any) -> GaussianSquareEcho:
    """Qiskit's spelling of :class:`GaussianSquareEcho`."""
    return GaussianSquareEcho(*args, **kwargs)


class GaussianDeriv(ScalableSymbolicPulse):
    """Derivative of an (unlifted) Gaussian."""

    pulse_type = "GaussianDeriv"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, angle: Any = 0.0, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        super().__init__(duration, {"amp": amp, "sigma": sigma, "angle": _angle(angle)}, name, limit_amplitude)


class Drag(ScalableSymbolicPulse):
    """Lifted Gaussian plus ``i beta`` times its derivative (Derivative Removal by Adiabatic Gate)."""

    pulse_type = "Drag"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, beta: Any, angle: Any = 0.0, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        super().__init__(duration, {"amp": amp, "sigma": sigma, "beta": beta, "angle": _angle(angle)}, name,
                         limit_amplitude)


class Constant(ScalableSymbolicPulse):
    """A flat pulse ``amp e^{i angle}``."""

    pulse_type = "Constant"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, angle: Any = 0.0, name: str | None = None,
                 limit_amplitude: bool | None = None) -> None:
        super().__init__(duration, {"amp": amp, "angle": _angle(angle)}, name, limit_amplitude)


class _Periodic(ScalableSymbolicPulse):
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, phase: Any, freq: Any = None, angle: Any = 0.0,
                 name: str | None = None, limit_amplitude: bool | None = None) -> None:
        if freq is None:
            freq = shapes.default_freq(duration) if is_number(duration) else 1 / duration
        super().__init__(duration, {"amp": amp, "phase": phase, "freq": freq, "angle": _angle(angle)}, name,
                         limit_amplitude)


class Sin(_Periodic):
    """``amp e^{i angle} sin(2 pi freq t + phase)``; ``freq`` defaults to one period over the pulse."""

    pulse_type = "Sin"
    __slots__ = ()


class Cos(_Periodic):
    """``amp e^{i angle} cos(2 pi freq t + phase)``."""

    pulse_type = "Cos"
    __slots__ = ()


class Square(_Periodic):
    """A square wave between ``-amp`` and ``amp``."""

    pulse_type = "Square"
    __slots__ = ()


class Sawtooth(_Periodic):
    """A sawtooth wave between ``-amp`` and ``amp``."""

    pulse_type = "Sawtooth"
    __slots__ = ()


class Triangle(_Periodic):
    """A triangle wave between ``-amp`` and ``amp``."""

    pulse_type = "Triangle"
    __slots__ = ()


class Sech(ScalableSymbolicPulse):
    """Hyperbolic secant, lifted to zero at the ends unless ``zero_ends=False``."""

    pulse_type = "Sech"
    __slots__ = ()

    def __init__(self, duration: Any, amp: Any, sigma: Any, angle: Any = 0.0, name: str | None = None,
                 zero_ends: bool | None = True, limit_amplitude: bool | None = None) -> None:
        super().__init__(duration, {"amp": amp, "sigma": sigma, "angle": _angle(angle),
                                    "zero_ends": bool(zero_ends)}, name, limit_amplitude)


def _resolve_width(pulse_type: str, duration: Any, sigma: Any, width: Any, ratio: Any) -> Any:
    if width is None and ratio is None:
        raise PulseError(f"{pulse_type}: give either width or risefall_sigma_ratio (neither was given)")
    if width is not None and ratio is not None:
        raise PulseError(f"{pulse_type}: give either width or risefall_sigma_ratio, not both")
    if width is not None:
        return width
    if all(is_number(x) for x in (duration, sigma, ratio)):
        return shapes.width_from_risefall_sigma_ratio(duration, sigma, ratio)
    return duration - 2.0 * sigma * ratio


PULSE_TYPES: dict[str, type[SymbolicPulse]] = {
    cls.pulse_type: cls
    for cls in (Gaussian, GaussianSquare, GaussianSquareDrag, GaussianSquareEcho, GaussianDeriv, Drag, Constant,
                Sin, Cos, Square, Sawtooth, Triangle, Sech)
}
"""Symbolic pulse classes by ``pulse_type``: the only ones the JSON format may name."""
