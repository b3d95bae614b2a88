"""The ``sweep`` program: expectation values of any circuit over a parameter grid, streamed chunk by chunk.

Inputs: ``circuit`` (an unmeasured circuit document), ``observables`` (a list of ``{Pauli label: coefficient}``
maps), ``values`` (``(points, parameters)``: one row per grid point), ``parameters`` (the columns' names;
default Qiskit's sorted order), ``chunk`` (points per estimator call, default 16), ``estimator_options``,
``precision``. Each chunk is one program on the AWG (the circuit lowered once, bound per point); each point is
published as an iteration with its parameters and the first observable's value as ``energy`` (all of them in
``evs``). The result holds ``evs`` and ``stds`` of shape ``(points, observables)``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from qubitlab.errors import JobError
from qubitlab.runtime.jobs import Outcome, WorkContext
from qubitlab.runtime.programs import energy as shared
from qubitlab.runtime.programs.vqe import _precision

MAX_POINTS = 100_000


def run(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    started = time.perf_counter()
    circuit = shared.circuit(inputs.get("circuit"), "sweep")
    names = shared.parameter_names(circuit, inputs.get("parameters"), "sweep")
    observables = inputs.get("observables")
    if not isinstance(observables, list) or not observables:
        raise JobError("sweep: input 'observables' must be a non-empty list of {Pauli label: coefficient} maps")
    checked = [shared.terms(o, circuit.num_qubits, "sweep", f"observables[{k}]") for k, o in enumerate(observables)]
    grid = np.asarray(inputs.get("values"), dtype=np.float64)
    if grid.ndim != 2 or grid.shape[1] != len(names) or not 1 <= grid.shape[0] <= MAX_POINTS \
            or not np.all(np.isfinite(grid)):
        raise JobError(f"sweep: input 'values' must be a (points, {len(names)}) array of finite numbers (columns "
                       f"{names}, 1..{MAX_POINTS} points), got shape {grid.shape}")
    chunk = shared.integer(inputs, "chunk", 16, 1, 10_000, "sweep")
    options, precision = shared.estimator_options(inputs, "sweep"), _precision(inputs)
    each = [shared.Energy(ctx, inputs["circuit"], names, obs, options, precision) for obs in checked]
    evs = np.zeros((grid.shape[0], len(checked)))
    stds = np.zeros_like(evs)
    for start in range(0, grid.shape[0], chunk):
        rows = slice(start, start + chunk)
        for k, energy in enumerate(each):
            evs[rows, k], stds[rows, k] = energy(grid[rows])
        for index in range(*rows.indices(grid.shape[0])):
            each[0].publish(grid[index], evs[index, 0], stds[index, 0], evs=[float(v) for v in evs[index]])
    timings: dict[str, float] = {"program": time.perf_counter() - started}
    for energy in each:
        for stage, seconds in energy.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    result = {"program": "sweep", "parameter_names": names, "values": grid, "evs": evs, "stds": stds,
              "points": int(grid.shape[0]), "cache": {"first": each[0].cache[0], "last": each[-1].cache[-1]},
              "snapshot_id": each[-1].snapshot_id}
    return Outcome(result, timings, each[-1].snapshot_id)
