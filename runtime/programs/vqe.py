"""The ``vqe`` program: minimise an observable's expectation value over an ansatz's parameters, in the worker.

Inputs (plain data): ``ansatz`` (a :func:`~qubitlab.circuits.serialize.circuit_to_dict` document, unmeasured),
``observable`` (``{Pauli label: coefficient}``), ``optimizer`` (COBYLA, SPSA, L-BFGS-B or Nelder-Mead;
:mod:`.optimizers`), ``maxiter`` (estimator calls), ``initial_point`` (default zeros), ``parameters`` (the
order of the point's coordinates; default Qiskit's sorted order), ``estimator_options`` (EstimatorV2's wire
options), ``precision`` and ``seed``, ``optimizer_settings`` (``rhobeg``, ``spsa_step``, ``spsa_c``).

The answer is measured once more at the optimizer's point, so the reported energy is not the luckiest of many
noisy estimates; the result carries the whole history and the estimator's cache counters (first and last
call), which show the ansatz was lowered once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from qubitlab.errors import JobError
from qubitlab.runtime.jobs import Outcome, WorkContext
from qubitlab.runtime.programs import energy as shared
from qubitlab.runtime.programs.optimizers import minimize


def run(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    started = time.perf_counter()
    circuit = shared.circuit(inputs.get("ansatz"), "vqe")
    names = shared.parameter_names(circuit, inputs.get("parameters"), "vqe")
    if not names:
        raise JobError("vqe: the ansatz has no parameters to optimise")
    energy = shared.Energy(ctx, inputs["ansatz"], names, shared.terms(inputs.get("observable"), circuit.num_qubits,
                                                                      "vqe"),
                           shared.estimator_options(inputs, "vqe"), _precision(inputs))
    return optimise(energy, inputs, "vqe", started)


def optimise(energy: shared.Energy, inputs: Mapping[str, Any], program: str, started: float,
             extra: Mapping[str, Any] | None = None) -> Outcome:
    """Run the optimizer named in ``inputs`` on ``energy``, measure the answer once more, and return it all."""
    maxiter = shared.integer(inputs, "maxiter", 100, 1, shared.MAX_ITERATIONS, program)
    seed = shared.integer(inputs, "seed", 0, 0, 2**32 - 1, program)
    x0 = shared.point(inputs.get("initial_point"), len(energy.names), program)
    settings = inputs.get("optimizer_settings") or {}
    if not isinstance(settings, Mapping):
        raise JobError(f"{program}: input 'optimizer_settings' must be a map (rhobeg, spsa_step, spsa_c)")
    found = minimize(str(inputs.get("optimizer", "COBYLA")), energy, x0, maxiter, seed=seed, settings=settings)
    evs, stds = energy([found["x"]])
    snapshot_id = energy.snapshot_id
    result = {"program": program, "optimizer": str(inputs.get("optimizer", "COBYLA")),
              "parameter_names": energy.names, "parameters": found["x"], "energy": float(evs[0]),
              "std": float(stds[0]), "iterations": len(energy.history), "estimator_calls": energy.calls,
              "message": found["message"], "history": energy.history_arrays(),
              "cache": {"first": energy.cache[0], "last": energy.cache[-1]}, "snapshot_id": snapshot_id,
              **(extra or {})}
    timings = {**energy.timings, "program": time.perf_counter() - started}
    return Outcome(result, timings, snapshot_id)


def _precision(inputs: Mapping[str, Any]) -> float | None:
    value = inputs.get("precision")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise JobError(f"input 'precision' must be a number in (0, 1] (shots per basis: ceil(1/precision**2)), "
                       f"got {value!r}")
    return float(value)
