"""What every program shares: reading its inputs, and an observable's value at a batch of parameter points.

:class:`Energy` calls the worker's own estimator (:func:`qubitlab.runtime.estimation.estimator`) with one PUB
per call, the points as its parameter array, so a batch (SPSA's two perturbations, a parameter-shift gradient)
is one program on the AWG. The estimator's :class:`~qubitlab.runtime.estimation.PrimitiveCache` lowers the
circuit once per measurement basis and snapshot and compiles it once into a
:class:`~qubitlab.pulse.bind.CompiledTemplate`; the first call fills both, every later call only binds the new
values into the compiled program (no lowering, no pass list).
:meth:`Energy.publish` sends one iteration to the client and stores it in the history the result returns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import CircuitError, JobError
from qubitlab.runtime.jobs import Aborted, WorkContext

MAX_ITERATIONS = 100_000


def integer(inputs: Mapping[str, Any], key: str, default: int, low: int, high: int, program: str) -> int:
    value = inputs.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise JobError(f"{program}: input {key!r} must be an integer in {low}..{high}, got {value!r}")
    return value


def terms(value: Any, n: int, program: str, key: str = "observable") -> dict[str, float]:
    """Pauli terms ``{label: coefficient}`` (Qiskit label order, qubit 0 rightmost), checked."""
    if not isinstance(value, Mapping) or not value:
        raise JobError(f"{program}: input {key!r} must map Pauli labels to real coefficients, got {value!r}")
    out = {}
    for label, coeff in value.items():
        if not isinstance(label, str) or len(label) != n or set(label) - set("IXYZ"):
            raise JobError(f"{program}: {key} label {label!r} must be {n} characters of I, X, Y, Z "
                           "(one per qubit of the circuit, qubit 0 rightmost)")
        if isinstance(coeff, bool) or not isinstance(coeff, (int, float)) or not math.isfinite(coeff):
            raise JobError(f"{program}: {key} coefficient of {label} must be a real number, got {coeff!r}")
        out[label] = float(coeff)
    return out


def circuit(document: Any, program: str) -> Any:
    from qubitlab.circuits.serialize import circuit_from_dict

    try:
        return circuit_from_dict(document)
    except CircuitError as exc:
        raise CircuitError(f"{program}: input 'ansatz'/'circuit': {exc}") from None


def parameter_names(circ: Any, given: Any, program: str) -> list[str]:
    """The order of a point's coordinates: ``given`` (the circuit's parameter names) or Qiskit's sorted order."""
    from qubitlab.runtime.primitives import sorted_parameters

    have = [p.name for p in sorted_parameters(circ)]
    if given is None:
        return have
    if not isinstance(given, list) or sorted(map(str, given)) != sorted(have):
        raise JobError(f"{program}: input 'parameters' {given!r} must list the circuit's parameters {have}")
    return [str(g) for g in given]


def point(value: Any, n: int, program: str, key: str = "initial_point") -> NDArray[np.float64]:
    x = np.asarray(value, dtype=np.float64) if value is not None else np.zeros(n)
    if x.shape != (n,) or not np.all(np.isfinite(x)):
        raise JobError(f"{program}: input {key!r} must be {n} finite numbers (one per parameter), got {value!r}")
    return x


@dataclass
class Energy:
    """``observable`` on ``document`` at batches of points, through the worker's estimator."""

    ctx: WorkContext
    document: Mapping[str, Any]
    names: list[str]
    observable: dict[str, float]
    options: Mapping[str, Any]
    precision: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    cache: list[dict[str, int]] = field(default_factory=list)
    """The estimator's lowering-cache counters after each call (hits grow, misses stop after the first)."""
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_id: str | None = None
    """The calibration snapshot of the last call (the estimator reads the current one per call)."""
    _mark: float = field(default_factory=time.perf_counter)
    _simulated: float = 0.0
    _executed: float = 0.0

    def __call__(self, points: Sequence[Any] | NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expectation values and their standard errors, one per row of ``points``."""
        from qubitlab.runtime.estimation import estimator

        self.check()
        values = np.asarray(points, dtype=np.float64).reshape(-1, len(self.names))
        pub: dict[str, Any] = {"circuit": self.document, "parameters": self.names, "values": values,
                               "observables": [self.observable], "observables_shape": []}
        if self.precision is not None:
            pub["precision"] = self.precision
        outcome = estimator(self.ctx, {"pubs": [pub], "options": dict(self.options)})
        self.calls += 1
        self.snapshot_id = outcome.snapshot_id
        self.cache.append(dict(outcome.result.get("cache") or {}))
        for stage, seconds in outcome.timings.items():
            self.timings[stage] = self.timings.get(stage, 0.0) + float(seconds)
        self._simulated += simulation_seconds(outcome.timings)
        self._executed += execute_seconds(outcome.timings)
        result = outcome.result["pubs"][0]
        return np.asarray(result["evs"], dtype=np.float64).reshape(-1), \
            np.asarray(result["stds"], dtype=np.float64).reshape(-1)

    def check(self) -> None:
        """Cancel, time limit, or the daemon gone: stop at this safe point (between iterations)."""
        self.ctx.check()

    def publish(self, parameters: NDArray[np.float64], energy: float, std: float, **extra: Any) -> None:
        """One iteration: to the client now (stored by the daemon), and into the result's history."""
        now = time.perf_counter()
        record = {"iteration": len(self.history) + 1, "parameters": [float(v) for v in parameters],
                  "energy": float(energy), "std": float(std), "seconds": now - self._mark,
                  "simulation_seconds": self._simulated, "execute_seconds": self._executed, **extra}
        self._mark, self._simulated, self._executed = now, 0.0, 0.0
        self.history.append(record)
        self.ctx.report(record)

    def history_arrays(self) -> dict[str, Any]:
        h = self.history
        return {"iteration": np.array([r["iteration"] for r in h], dtype=np.int64),
                "energy": np.array([r["energy"] for r in h]), "std": np.array([r["std"] for r in h]),
                "parameters": np.array([r["parameters"] for r in h]).reshape(len(h), len(self.names)),
                "seconds": np.array([r["seconds"] for r in h]),
                "simulation_seconds": np.array([r["simulation_seconds"] for r in h])}


def simulation_seconds(timings: Mapping[str, float]) -> float:
    """The acquisition's share of an estimator call: on the virtual lab the physics simulation (as benchmark R3
    counts it); everything else in an iteration is host overhead."""
    return float(timings.get("execute_acquire", 0.0))


def execute_seconds(timings: Mapping[str, float]) -> float:
    """All the executor's stages (configure, upload, arm, acquire, fetch, stop, station snapshot)."""
    return float(sum(v for k, v in timings.items() if k.startswith("execute_") and k != "execute_waveforms_uploaded"))


def estimator_options(inputs: Mapping[str, Any], program: str) -> dict[str, Any]:
    options = inputs.get("estimator_options") or {}
    if not isinstance(options, Mapping):
        raise JobError(f"{program}: input 'estimator_options' must be a map of EstimatorV2 wire options "
                       "(default_shots, default_precision, resilience_level, measure_mitigation, rep_delay)")
    return dict(options)


__all__ = ["Aborted", "Energy", "circuit", "estimator_options", "integer", "parameter_names", "point", "terms"]
