"""The optimizers a program may name: scipy's COBYLA, Nelder-Mead and L-BFGS-B, and SPSA (written here).

Every estimator call is one *iteration*: it is published as it happens and counts against ``maxiter``, so a
program runs at most ``maxiter`` estimator calls whatever the method's own notion of an iteration. L-BFGS-B
gets its gradient by the parameter-shift rule, ``dE/dx_k = (E(x + pi/2 e_k) - E(x - pi/2 e_k)) / 2``, exact
when each parameter enters one Pauli rotation (RX/RY/RZ/RZZ with the parameter as its angle), measured with
``E(x)`` as one batch of ``2n + 1`` points. SPSA follows Spall (IEEE Trans. Aerosp. Electron. Syst. 34, 817
(1998)): gains ``a_k = a / (k + 1 + A)**0.602``, ``c_k = c / (k + 1)**0.101``, ``A = maxiter / 10``, a random
+-1 perturbation per step, both sides measured as one batch; ``a`` is calibrated from the first gradient so
the first step moves ``spsa_step`` (default 0.2 rad).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import JobError
OPTIMIZERS = ("COBYLA", "SPSA", "L-BFGS-B", "Nelder-Mead")


class Objective(Protocol):
    """What an optimizer drives: :class:`~qubitlab.runtime.programs.energy.Energy` in the worker, or a client's
    loop over estimator jobs (the benchmark's modes b and c run the same SPSA through it)."""

    calls: int
    history: list[dict[str, Any]]

    def __call__(self, points: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...

    def publish(self, parameters: NDArray[np.float64], energy: float, std: float, **extra: Any) -> None: ...


class _Budget(Exception):
    """``maxiter`` estimator calls are spent."""


def minimize(method: str, energy: Objective, x0: NDArray[np.float64], maxiter: int, *, seed: int = 0,
             settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Minimise ``energy`` from ``x0``; ``{"x", "message", "calls"}`` (x: the method's answer, or the best
    point seen when the budget ran out)."""
    settings = dict(settings or {})
    if method not in OPTIMIZERS:
        raise JobError(f"optimizer {method!r} is not known; choose one of {', '.join(OPTIMIZERS)}")
    try:
        if method == "SPSA":
            x, message = spsa(energy, x0, maxiter, seed=seed, step=float(settings.get("spsa_step", 0.2)),
                              c=float(settings.get("spsa_c", 0.1)))
        else:
            x, message = _scipy(method, energy, x0, maxiter, settings)
    except _Budget:
        x, message = _best(energy, x0), f"stopped after maxiter={maxiter} estimator calls"
    return {"x": np.asarray(x, dtype=np.float64), "message": message, "calls": energy.calls}


def _best(energy: Objective, x0: NDArray[np.float64]) -> NDArray[np.float64]:
    if not energy.history:
        return x0
    best = min(energy.history, key=lambda r: r["energy"])
    return np.asarray(best["parameters"], dtype=np.float64)


def _budgeted(energy: Objective, maxiter: int) -> Callable[[NDArray[np.float64]], tuple[NDArray[np.float64],
                                                                                       NDArray[np.float64]]]:
    def call(points: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if energy.calls >= maxiter:
            raise _Budget
        return energy(points)

    return call


def _scipy(method: str, energy: Objective, x0: NDArray[np.float64], maxiter: int,
           settings: Mapping[str, Any]) -> tuple[NDArray[np.float64], str]:
    from scipy.optimize import minimize as scipy_minimize

    call = _budgeted(energy, maxiter)

    def value(x: NDArray[np.float64]) -> float:
        evs, stds = call(np.asarray(x)[None, :])
        energy.publish(np.asarray(x), float(evs[0]), float(stds[0]))
        return float(evs[0])

    def value_and_gradient(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        n = len(x)
        shifts = np.vstack([x, *[x + s * np.pi / 2 * np.eye(n)[k] for k in range(n) for s in (1, -1)]])
        evs, stds = call(shifts)
        gradient = (evs[1::2] - evs[2::2]) / 2
        energy.publish(np.asarray(x), float(evs[0]), float(stds[0]), gradient=[float(g) for g in gradient])
        return float(evs[0]), gradient

    if method == "L-BFGS-B":
        found = scipy_minimize(value_and_gradient, x0, jac=True, method=method,
                               options={"maxiter": maxiter, "maxfun": maxiter})
    elif method == "COBYLA":
        found = scipy_minimize(value, x0, method=method,
                               options={"maxiter": maxiter, "rhobeg": float(settings.get("rhobeg", 0.5))})
    else:
        found = scipy_minimize(value, x0, method=method, options={"maxiter": maxiter, "maxfev": maxiter})
    return np.asarray(found.x, dtype=np.float64), str(found.message)


def spsa(energy: Objective, x0: NDArray[np.float64], maxiter: int, *, seed: int = 0, step: float = 0.2,
         c: float = 0.1, alpha: float = 0.602, gamma: float = 0.101) -> tuple[NDArray[np.float64], str]:
    """Spall's SPSA; each iteration measures ``x + c_k d`` and ``x - c_k d`` as one batch and publishes their
    mean (an estimate of ``E(x)``, with the mean's standard error)."""
    rng = np.random.default_rng(seed)
    x = np.array(x0, dtype=np.float64)
    big_a = 0.1 * maxiter
    a: float | None = None
    call = _budgeted(energy, maxiter)
    for k in range(maxiter):
        c_k = c / (k + 1) ** gamma
        delta = rng.choice([-1.0, 1.0], size=x.shape)
        evs, stds = call(np.vstack([x + c_k * delta, x - c_k * delta]))
        gradient = (evs[0] - evs[1]) / (2 * c_k) * delta
        energy.publish(x, float(evs.mean()), float(np.hypot(*stds) / 2))
        if a is None:                                  # Spall's rule: the first step has the size asked for
            magnitude = float(np.mean(np.abs(gradient)))
            a = step * (big_a + 1) ** alpha / magnitude if magnitude > 0 else step
        x = x - a / (k + 1 + big_a) ** alpha * gradient
    return x, f"SPSA: {maxiter} iterations"
