"""The ``sweep`` program: any circuit over a parameter grid, streamed chunk by chunk, as expectation values or
as counts.

Inputs: ``circuit``, ``values`` (``(points, parameters)``: one row per grid point), ``parameters`` (the columns'
names; default Qiskit's sorted order), ``chunk`` (points per primitive call, default 16), and either

- ``observables`` (a list of ``{Pauli label: coefficient}`` maps; the circuit unmeasured), ``estimator_options``
  and ``precision``: each chunk is one Estimator PUB whose parameter values ``(chunk, 1, n)`` broadcast against
  the observables ``(K,)``, so every observable of every point is measured by one program on the AWG in the
  fewest qubit-wise commuting bases of all of them. Each point is published with its parameters, the first
  observable's value as ``energy`` and all of them in ``evs``; the result holds ``evs`` and ``stds`` of shape
  ``(points, K)``;
- or no observables (the circuit measures): each chunk is one Sampler PUB of ``shots`` shots (default 1024) per
  point; each point is published with its ``counts`` per classical register, and the result holds
  ``counts``: one ``{register: {bitstring: shots}}`` per point (bitstrings with bit 0 rightmost, as Qiskit's).

Either way the circuit is lowered once and each chunk binds its points into the compiled program.
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
    from qubitlab.runtime import estimation

    started = time.perf_counter()
    circuit = shared.circuit(inputs.get("circuit"), "sweep")
    names = shared.parameter_names(circuit, inputs.get("parameters"), "sweep")
    if not names:
        raise JobError("sweep: the circuit has no parameters to sweep over; run it with SamplerV2 or EstimatorV2")
    observables = inputs.get("observables")
    sampling = observables is None
    checked: list[dict[str, float]] = []
    if isinstance(observables, list) and observables:
        checked = [shared.terms(o, circuit.num_qubits, "sweep", f"observables[{k}]") for k, o in enumerate(observables)]
    elif not sampling:
        raise JobError("sweep: input 'observables' must be a non-empty list of {Pauli label: coefficient} maps "
                       "(or left out, for counts of a circuit that measures)")
    measures = any(op.name == "measure" for op in circuit)
    if sampling and not measures:
        raise JobError("sweep: the circuit has no measurements; give 'observables' for expectation values, or "
                       "measure the circuit for counts")
    grid = np.asarray(inputs.get("values"), dtype=np.float64)
    if grid.ndim != 2 or grid.shape[1] != len(names) or not 1 <= grid.shape[0] <= MAX_POINTS \
            or not np.all(np.isfinite(grid)):
        raise JobError(f"sweep: input 'values' must be a (points, {len(names)}) array of finite numbers (columns "
                       f"{names}, 1..{MAX_POINTS} points), got shape {grid.shape}")
    chunk = shared.integer(inputs, "chunk", 16, 1, 10_000, "sweep")
    shots = shared.integer(inputs, "shots", 1024, 1, 10_000_000, "sweep") if sampling else 0
    options, precision = shared.estimator_options(inputs, "sweep"), _precision(inputs)
    timings: dict[str, float] = {}
    caches: list[dict[str, int]] = []
    snapshot_id: str | None = None
    evs = np.zeros((grid.shape[0], len(checked)))
    stds = np.zeros_like(evs)
    counts: list[dict[str, dict[str, int]]] = []
    mark = time.perf_counter()
    for start in range(0, grid.shape[0], chunk):
        ctx.check()
        rows = grid[start:start + chunk]
        pub: dict[str, Any] = {"circuit": inputs["circuit"], "parameters": names}
        if sampling:
            pub.update(values=rows, shots=shots)
            outcome = estimation.sampler(ctx, {"pubs": [pub], "options": {}})
            found = _counts(outcome.result["pubs"][0]["registers"], len(rows))
        else:
            pub.update(values=rows[:, None, :], observables=checked, observables_shape=[len(checked)])
            if precision is not None:
                pub["precision"] = precision
            outcome = estimation.estimator(ctx, {"pubs": [pub], "options": dict(options)})
            result = outcome.result["pubs"][0]
            evs[start:start + len(rows)] = np.asarray(result["evs"], dtype=np.float64).reshape(len(rows), -1)
            stds[start:start + len(rows)] = np.asarray(result["stds"], dtype=np.float64).reshape(len(rows), -1)
        snapshot_id = outcome.snapshot_id
        caches.append(dict(outcome.result.get("cache") or {}))
        for stage, seconds in outcome.timings.items():
            timings[stage] = timings.get(stage, 0.0) + float(seconds)
        now = time.perf_counter()
        for offset, values in enumerate(rows):
            index = start + offset
            record: dict[str, Any] = {"iteration": index + 1, "parameters": [float(v) for v in values],
                                      "seconds": (now - mark) / len(rows),
                                      "simulation_seconds": shared.simulation_seconds(outcome.timings) / len(rows)}
            if sampling:
                counts.append(found[offset])
                record["counts"] = found[offset]
            else:
                record.update(energy=float(evs[index, 0]), std=float(stds[index, 0]),
                              evs=[float(v) for v in evs[index]])
            ctx.report(record)
        mark = now
    timings["program"] = time.perf_counter() - started
    out: dict[str, Any] = {"program": "sweep", "parameter_names": names, "values": grid, "points": int(grid.shape[0]),
                           "cache": {"first": caches[0], "last": caches[-1]}, "snapshot_id": snapshot_id}
    out.update({"counts": counts, "shots": shots} if sampling else {"evs": evs, "stds": stds})
    return Outcome(out, timings, snapshot_id)


def _counts(registers: Mapping[str, Any], points: int) -> list[dict[str, dict[str, int]]]:
    """Per point, ``{register: {bitstring: shots}}`` from the Sampler's packed registers."""
    from qubitlab.runtime.primitives import BitArray

    arrays = {name: BitArray(np.asarray(reg["array"], dtype=np.uint8).reshape(points, *np.shape(reg["array"])[-2:]),
                             int(reg["num_bits"])) for name, reg in registers.items()}
    return [{name: bits.get_counts(p) for name, bits in arrays.items()} for p in range(points)]
