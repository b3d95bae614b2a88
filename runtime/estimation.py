"""The Sampler and Estimator inside the worker: PUBs in, bits or expectation values out, one program per PUB.

For each PUB the worker

1. reads the calibration snapshot once per job and builds (or reuses) the gate map from it;
2. translates and lowers the circuit once per measurement basis -- :class:`LoweredCircuit` keeps the
   parameters free, and is cached by the circuit's content and the snapshot id, so a variational loop that
   sends the same ansatz with new angles never lowers again;
3. binds every parameter set to every basis and compiles all of them as *one* program (one AWG sequence, a
   trigger per point), run with one ``Executor.run``;
4. decodes with the snapshot's discriminators (:mod:`qubitlab.drivers.decode`) and, for the Estimator,
   combines the terms of each observable per basis with the variance of the per-shot estimator (terms measured in
   the same basis share shots, so their covariance is included), then adds the independent bases.

Observables are grouped into qubit-wise commuting bases over the distinct Pauli terms of all of a PUB's
observables (fewest circuits); Qiskit's precision rule gives the shots per basis, ``ceil(1 / precision**2)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import CalibrationError, CircuitError, JobError
from qubitlab.runtime.mitigation import hooks as mitigation
from qubitlab.runtime.jobs import Outcome, WorkContext

MAX_POINTS = 100_000
"""Parameter sets x bases of one PUB (one program); more is refused with the figure."""


@dataclass
class Lowered:
    """A circuit lowered for one snapshot: its free parameters by name, and one lowering per basis."""

    parameters: dict[str, Any]
    by_basis: dict[str, Any] = field(default_factory=dict)


class PrimitiveCache:
    """Per worker: gate maps by snapshot id, lowered circuits by (content, snapshot id), least recently used."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.gate_maps: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self.lowered: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self.hits = self.misses = 0
        self.templates: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        """Compiled templates (:class:`qubitlab.pulse.bind.CompiledTemplate`) by snapshot, readout mode and the
        lowered schedules they hold (identity, checked on every hit: the template pins them)."""
        self.template_hits = self.template_misses = 0
        self.circuits: OrderedDict[str, Any] = OrderedDict()
        """Circuits read from wire documents, by the document's digest (read-only once made)."""
        self.fixed: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        """What a job derives from the snapshot alone (the discriminators), by what it was made for and the
        snapshot id: a variational loop's every call needs the same."""

    def derived(self, key: tuple[Any, ...], build: Any) -> Any:
        """``build()`` once per ``key`` (which must name the snapshot id), least recently used beyond 64."""
        if key in self.fixed:
            self.fixed.move_to_end(key)
            return self.fixed[key]
        value = self.fixed[key] = build()
        while len(self.fixed) > 64:
            self.fixed.popitem(last=False)
        return value

    def gate_map(self, lab: Any, snapshot: Any, qubits: Sequence[int]) -> tuple[Any, Any]:
        from qubitlab.calibration.gates import gate_map_from_snapshot
        from qubitlab.circuits import Target

        key = f"{snapshot.id}:{','.join(map(str, qubits))}"
        if key not in self.gate_maps:
            gate_map = gate_map_from_snapshot(lab, snapshot, qubits=qubits,
                                              pairs=_calibrated_pairs(lab, snapshot, qubits))
            self.gate_maps[key] = (gate_map, Target.from_lab(lab, gate_map))
            while len(self.gate_maps) > 8:
                self.gate_maps.popitem(last=False)
        self.gate_maps.move_to_end(key)
        return self.gate_maps[key]

    def lower(self, key: tuple[str, str, str], build: Any) -> Any:
        if key in self.lowered:
            self.hits += 1
            self.lowered.move_to_end(key)
            return self.lowered[key]
        self.misses += 1
        value = self.lowered[key] = build()
        while len(self.lowered) > self.size:
            self.lowered.popitem(last=False)
        return value


def _calibrated_pairs(lab: Any, snapshot: Any, qubits: Sequence[int]) -> list[tuple[int, int]]:
    from qubitlab.calibration.gates import PAIR_KEYS
    from qubitlab.calibration.parameters import pkey

    wanted = set(qubits)
    return [(c, t) for c, t in sorted(lab.control_channels().values())
            if {c, t} <= wanted and all(pkey(c, t, k) in snapshot for k in PAIR_KEYS)]


def _cache(ctx: WorkContext) -> PrimitiveCache:
    cache = getattr(ctx, "primitive_cache", None)
    if cache is None:
        cache = PrimitiveCache()
        ctx.primitive_cache = cache  # type: ignore[attr-defined]
    return cache


# -- inputs --------------------------------------------------------------------------------------------------------
def _circuit(pub: Mapping[str, Any], index: int, cache: PrimitiveCache | None = None) -> tuple[Any, str]:
    """The PUB's circuit and its document's digest; with ``cache``, a document seen before is not read again
    (a variational loop sends the same ansatz every iteration)."""
    from qubitlab.circuits.serialize import circuit_from_dict

    document = pub.get("circuit")
    try:
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:24]
    except (TypeError, ValueError):
        digest = ""                                        # not JSON-able: circuit_from_dict says why below
    found = cache.circuits.get(digest) if cache is not None and digest else None
    if found is not None:
        return found, digest
    try:
        circuit = circuit_from_dict(document)
    except CircuitError as exc:
        raise CircuitError(f"PUB {index}: {exc}") from None
    if cache is not None and digest:
        cache.circuits[digest] = circuit
        while len(cache.circuits) > cache.size:
            cache.circuits.popitem(last=False)
    return circuit, digest


def _values(pub: Mapping[str, Any], circuit: Any, index: int) -> tuple[list[str], NDArray[np.float64]]:
    names = pub.get("parameters", [])
    values = np.asarray(pub.get("values", np.zeros((0,))), dtype=np.float64)
    have = sorted(p.name for p in circuit.parameters)
    if not isinstance(names, list) or sorted(names) != have:
        raise CircuitError(f"PUB {index}: parameter names {names!r} do not match the circuit's {have}")
    if values.ndim == 0 or values.shape[-1] != len(names):
        if names or values.size:
            raise CircuitError(f"PUB {index}: parameter values of shape {values.shape} need a last axis of "
                               f"{len(names)} (one column per parameter)")
        values = np.zeros((0,))
    if not np.all(np.isfinite(values)):
        raise CircuitError(f"PUB {index}: parameter values must be finite")
    return names, values


def _prepared(ctx: WorkContext, circuit: Any, digest: str, basis: str, snapshot: Any,
              variant: Any = None) -> tuple[Any, dict[str, Any]]:
    """The circuit with ``basis``'s change of basis and measurements, lowered (cached); a mitigation
    ``variant`` (:class:`qubitlab.runtime.mitigation.Variant`) may rewrite the translated circuit."""
    from qubitlab.circuits import LoweredCircuit, translate

    cache = _cache(ctx)
    lab = ctx.opened.lab
    qubits = list(range(circuit.num_qubits))
    gate_map, target = cache.gate_map(lab, snapshot, qubits)

    def build() -> Lowered:
        measured = circuit if not basis else _with_basis(circuit, basis)
        translated = translate(measured, target)
        if variant is not None and variant.transform is not None:
            translated = variant.transform(translated)
        gates = gate_map
        if variant is not None and variant.gate_map is not None:
            gates = variant.gate_map(lab, snapshot, qubits, _calibrated_pairs(lab, snapshot, qubits))
        lowered = LoweredCircuit.build(translated, gates)
        return Lowered({p.name: p for p in measured.parameters}, {basis: lowered})

    key = digest if variant is None else f"{digest}:{variant.key}"
    entry: Lowered = cache.lower((key, basis, snapshot.id), build)
    return entry.by_basis[basis], entry.parameters


def _with_basis(circuit: Any, basis: str) -> Any:
    """``circuit`` followed by the rotation into ``basis`` (Qiskit label order) and a measurement of every qubit
    into the classical bit of the same index."""
    from qubitlab.circuits import Circuit
    from qubitlab.circuits.observables import MeasurementGroup

    if any(op.name == "measure" for op in circuit):
        raise CircuitError("an Estimator circuit must not measure; the Estimator adds the measurements")
    n = circuit.num_qubits
    out = Circuit(n, n, name=circuit.name)
    out.extend(circuit.data)
    for name, q in MeasurementGroup(basis, ()).basis_change():
        out.append(name, [q])
    out.barrier(*range(n))
    for q in range(n):
        out.measure(q, q)
    return out


Point = tuple[Any, dict[Any, float]]
"""A lowered schedule (shared, never copied) and the values of its parameters for one point of a program."""


def _run_points(ctx: WorkContext, points: list[Point], shots: int, snapshot: Any, timings: dict[str, float],
                meas_return: str = "single", rep_delay: float | None = None) -> dict[int, NDArray[np.complex128]]:
    if len(points) > MAX_POINTS:
        raise JobError(f"a PUB compiles to {len(points)} programs (parameter sets x bases); at most {MAX_POINTS}")
    opened = ctx.opened
    start = time.perf_counter()
    program = _compiled(ctx, points, snapshot, meas_return)
    timings["compile"] = timings.get("compile", 0.0) + time.perf_counter() - start
    ctx.check()
    if rep_delay is None:
        bringup = opened.lab.bringup
        rep_delay = bringup.rep_delay if bringup else 250e-6
    raw = opened.executor.run(program, shots=shots, rep_delay=rep_delay, snapshot_id=snapshot.id)
    for stage, seconds in raw.timings.items():
        timings[f"execute_{stage}"] = timings.get(f"execute_{stage}", 0.0) + float(seconds)
    return dict(raw.data)


def _compiled(ctx: WorkContext, points: list[Point], snapshot: Any, meas_return: str) -> Any:
    """The program of ``points``: the cached template of these lowered schedules rebound to the values (the pass
    list ran once, for the first job); a full compile when a parameter changes timing or a pulse's shape."""
    from qubitlab.calibration.frames import frames
    from qubitlab.drivers.payloads import MeasReturn
    from qubitlab.pulse.bind import CompiledTemplate, TemplateMismatch
    from qubitlab.pulse.compiler import compile

    opened = ctx.opened
    programs = tuple(p for p, _ in points)
    values = [v for _, v in points]
    mode = MeasReturn.AVERAGE if meas_return == "avg" else MeasReturn.SINGLE
    cache = _cache(ctx)
    key = (snapshot.id, mode, tuple(map(id, programs)))
    template = cache.templates.get(key)
    if template is not None and all(a is b for a, b in zip(template.programs, programs)):
        try:
            cache.template_hits += 1
            cache.templates.move_to_end(key)
            return template.bind(values)
        except TemplateMismatch:
            del cache.templates[key]
    used = sorted({c.name for s in programs[:1] for c in s.channels} | {c.name for s in programs[-1:]
                                                                        for c in s.channels})
    frame_map = frames(opened.lab, snapshot, channels=used)
    try:
        template, program = CompiledTemplate.build(programs, values, opened.connected, frame_map, meas_return=mode)
    except TemplateMismatch:
        bound = [p.assign_parameters(v, inplace=False) if v else p for p, v in points]
        return compile(bound, opened.connected, frame_map, meas_return=mode)
    cache.template_misses += 1
    cache.templates[key] = template
    while len(cache.templates) > 32:
        cache.templates.popitem(last=False)
    return program


def _bind_all(lowered: Any, parameters: Mapping[str, Any], names: list[str], flat: NDArray[np.float64]
              ) -> list[Point]:
    """One point per parameter set: the lowered schedule and its values (bound later, into the template)."""
    if not names:
        lowered.bind({})                                   # every parameter must have a value: refused here
        return [(lowered.schedule, {})]
    ordered = [parameters[n] for n in names]
    schedule_parameters = lowered.parameters
    unknown = [p.name for p in ordered if p not in schedule_parameters]
    if unknown or len(ordered) != len(schedule_parameters):
        lowered.bind(dict(zip(ordered, map(float, flat[0]))))   # names the unknown or missing parameters
    return [(lowered.schedule, dict(zip(ordered, row))) for row in flat.tolist()]


# -- the Sampler -----------------------------------------------------------------------------------------------------
def sampler(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    from qubitlab.drivers import decode

    snapshot = ctx.store.snapshot()
    options = inputs.get("options") or {}
    meas_type = options.get("meas_type", "classified")
    if meas_type not in ("classified", "kerneled", "avg_kerneled"):
        raise JobError(f"execution.meas_type {meas_type!r} must be classified, kerneled or avg_kerneled")
    rep_delay = _rep_delay(options)
    timings: dict[str, float] = {}
    results = []
    for index, pub in enumerate(_pubs(inputs)):
        started = time.time()
        circuit, digest = _circuit(pub, index, _cache(ctx))
        measured = _measured(circuit)
        if not measured:
            raise CircuitError(f"PUB {index}: the circuit has no measurements; the Sampler returns measured bits")
        registers = _registers(pub, circuit, index)
        names, values = _values(pub, circuit, index)
        shape = values.shape[:-1] if names else ()
        flat = values.reshape(-1, len(names)) if names else values
        shots = _shots(pub.get("shots"), index)
        lowered, parameters = _prepared(ctx, circuit, digest, "", snapshot)
        t0 = time.perf_counter()
        schedules = _bind_all(lowered, parameters, names, flat)
        timings["bind"] = timings.get("bind", 0.0) + time.perf_counter() - t0
        data = _run_points(ctx, schedules, shots, snapshot, timings,
                           "avg" if meas_type == "avg_kerneled" else "single", rep_delay)
        t0 = time.perf_counter()
        clbits = sorted(data)
        out: dict[str, Any] = {}
        if meas_type == "classified":
            joint = decode.JointDiscriminator.from_values(snapshot.to_values(), [measured[c] for c in clbits])
            found = joint.bits([data[c] for c in clbits])                       # (points, shots, measured)
            bits = np.zeros(found.shape[:-1] + (circuit.num_clbits,), dtype=np.uint8)  # unmeasured bits read 0
            bits[..., clbits] = found
            for name, members in registers.items():
                packed = decode.pack_bits(bits[..., list(members)])
                out[name] = {"array": packed.reshape(*shape, shots, packed.shape[-1]), "num_bits": len(members)}
        else:
            iq = np.stack([data[c] for c in clbits], axis=-1)                   # (points[, shots], measured)
            for name, members in registers.items():
                chosen = iq[..., [clbits.index(c) for c in members if c in measured]]
                out[name] = {"iq": chosen.reshape(*shape, *chosen.shape[1:])}
        timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - t0
        results.append({"registers": out, "metadata": {
            "shots": shots, "meas_type": meas_type, "circuit_metadata": {},
            "execution": {"execution_spans": [[started, time.time()]]}}})
    return Outcome({"pubs": results, "snapshot_id": snapshot.id, "cache": _cache_stats(ctx)}, timings, snapshot.id)


def _measured(circuit: Any) -> dict[int, int]:
    """Classical bit -> the qubit measured into it (the last measurement wins, as on hardware)."""
    return {int(op.clbits[0]): int(op.qubits[0]) for op in circuit if op.name == "measure"}


def _registers(pub: Mapping[str, Any], circuit: Any, index: int) -> dict[str, tuple[int, ...]]:
    """The PUB's classical registers (default: the circuit's own), each a list of its bits."""
    given = pub.get("registers")
    if given is None:
        return dict(circuit.cregs) or {"c": tuple(range(circuit.num_clbits))}
    if not isinstance(given, dict) or not given:
        raise CircuitError(f"PUB {index}: registers must map register names to lists of classical bits")
    out: dict[str, tuple[int, ...]] = {}
    for name, members in given.items():
        if not isinstance(name, str) or not isinstance(members, list) or not members or \
                not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < circuit.num_clbits
                        for c in members):
            raise CircuitError(f"PUB {index}: register {name!r} must list classical bits in "
                               f"0..{circuit.num_clbits - 1}, got {members!r}")
        out[name] = tuple(members)
    return out


def _rep_delay(options: Mapping[str, Any]) -> float | None:
    value = options.get("rep_delay")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1.0:
        raise JobError(f"execution.rep_delay must be seconds in [0, 1], got {value!r}")
    return float(value)


# -- the Estimator ---------------------------------------------------------------------------------------------------
def estimator(ctx: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    from qubitlab.circuits.observables import SparsePauliOp, group_qubit_wise
    from qubitlab.drivers import decode

    snapshot = ctx.store.snapshot()
    options = inputs.get("options") or {}
    zne_plan = mitigation.zne_plan(options)
    timings: dict[str, float] = {}
    results = []
    for index, pub in enumerate(_pubs(inputs)):
        started = time.time()
        circuit, digest = _circuit(pub, index, _cache(ctx))
        names, values = _values(pub, circuit, index)
        p_shape = values.shape[:-1] if names else ()
        flat = values.reshape(-1, len(names)) if names else values
        observables, o_shape = _observables(pub, circuit.num_qubits, index)
        try:
            shape = np.broadcast_shapes(o_shape, p_shape)
        except ValueError:
            raise CircuitError(f"PUB {index}: observables of shape {o_shape} and parameter values of shape "
                               f"{p_shape} do not broadcast") from None
        precision = pub.get("precision") or options.get("default_precision") or 0.015625
        if not isinstance(precision, (int, float)) or not 0 < precision <= 1:
            raise CircuitError(f"PUB {index}: precision must be in (0, 1], got {precision!r}")
        shots = int(options.get("default_shots") or math.ceil(1 / precision**2))
        labels = sorted({label for obs in observables for label in obs if set(label) != {"I"}})
        groups = group_qubit_wise(SparsePauliOp(labels)) if labels else []
        target = _target(ctx, circuit, snapshot)
        variants = mitigation.variants(zne_plan, circuit, digest, target, ctx.opened.lab,
                                       snapshot, _calibrated_pairs(ctx.opened.lab, snapshot,
                                                                   list(range(circuit.num_qubits))))
        variants = mitigation.decoupled(variants, options, _cache(ctx).gate_map(
            ctx.opened.lab, snapshot, list(range(circuit.num_qubits)))[0])
        trex = mitigation.trex_plan(options, circuit.num_qubits, shots, digest)
        masks: tuple[int | None, ...] = trex.masks if trex is not None else (None,)
        run_shots = trex.shots if trex is not None else shots
        schedules: list[Point] = []
        rows: dict[tuple[int, int, int], int] = {}
        assignment_at = learn_at = 0
        for v, variant in enumerate(variants):
            for g, group in enumerate(groups):
                for r in range(len(masks)):
                    lowered, parameters = _prepared(ctx, circuit, digest, group.basis, snapshot,
                                                    mitigation.randomized(variant, trex, r, target, digest))
                    t0 = time.perf_counter()
                    bound = _bind_all(lowered, parameters, names, flat)
                    timings["bind"] = timings.get("bind", 0.0) + time.perf_counter() - t0
                    rows[(v, g, r)] = len(schedules)
                    schedules.extend(bound)
        n_sets = max(1, int(np.prod(p_shape, dtype=np.int64))) if names else 1
        mitigate = _measure_mitigation(options) and (trex is None or not trex.correct)
        if mitigate and schedules:
            assignment_at = len(schedules)
            schedules.extend(_assignment_schedules(ctx, circuit.num_qubits, snapshot))
        if trex is not None and trex.correct and schedules:
            learn_at = len(schedules)
            schedules.extend(_learning_schedules(ctx, circuit.num_qubits, snapshot, trex))
        probs = np.zeros((0, 2**circuit.num_qubits))
        assignment = None
        if schedules:
            data = _run_points(ctx, schedules, run_shots, snapshot, timings, rep_delay=_rep_delay(options))
            t0 = time.perf_counter()
            n = circuit.num_qubits
            joint = _cache(ctx).derived(("discriminators", n, snapshot.id), lambda: (
                decode.JointDiscriminator.from_values(snapshot.to_values(), list(range(n)))))
            probs = decode.probabilities(joint.bits([data[q] for q in range(n)]))
            if mitigate:
                assignment = _assignment(probs[assignment_at:], circuit.num_qubits)
        else:
            t0 = time.perf_counter()
        where = {(v, g): rows[(v, g, 0)] for v in range(len(variants)) for g in range(len(groups))}
        if trex is not None and schedules:
            if trex.correct:
                trex.learn(probs[learn_at:])
            probs, where = _untwirled(trex, probs, rows, n_sets, len(variants), len(groups))
        term_group = {labels[t]: g for g, group in enumerate(groups) for t in group.terms}
        p_index = np.arange(n_sets).reshape(p_shape) if names else np.zeros((), dtype=np.int64)
        o_index = np.arange(len(observables)).reshape(o_shape)
        o_b, p_b = np.broadcast_arrays(o_index, p_index)
        per_variant = [_expectations(shape, observables, o_b, p_b, term_group,
                                     {g: where[(v, g)] for g in range(len(groups))}, probs, assignment,
                                     circuit.num_qubits, run_shots * len(masks),
                                     trex if trex is not None and trex.correct else None)
                      for v in range(len(variants))]
        evs, stds = per_variant[0]
        extra: dict[str, Any] = {}
        if zne_plan is not None:
            evs, stds, extra = mitigation.extrapolated(zne_plan, variants, per_variant, observables, o_b)
        used = extra.pop("extrapolator_used", None)
        timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - t0
        results.append({"evs": evs, "stds": stds, "ensemble_standard_error": stds, **extra, "metadata": {
            "shots": shots, "target_precision": float(precision), "num_bases": len(groups),
            "circuits_per_basis": n_sets, "resilience_level": options.get("resilience_level", 0),
            "measure_mitigation": "assignment matrices measured in the same program" if assignment is not None
            else ("TREX (measurement twirling, factors learned in the same program)"
                  if trex is not None and trex.correct else None),
            "trex": mitigation.trex_metadata(trex),
            "assignment_matrices": np.asarray(assignment) if assignment is not None else None,
            **mitigation.metadata(zne_plan, variants, options, assignment is not None, trex), "extrapolator_used": used,
            "execution": {"execution_spans": [[started, time.time()]]}}})
    return Outcome({"pubs": results, "snapshot_id": snapshot.id, "cache": _cache_stats(ctx)}, timings, snapshot.id)


def _target(ctx: WorkContext, circuit: Any, snapshot: Any) -> Any:
    return _cache(ctx).gate_map(ctx.opened.lab, snapshot, list(range(circuit.num_qubits)))[1]


def _expectations(shape: tuple[int, ...], observables: list[dict[str, float]], o_b: NDArray[np.int64],
                  p_b: NDArray[np.int64], term_group: Mapping[str, int], where: Mapping[int, int],
                  probs: NDArray[np.float64], assignment: NDArray[np.float64] | None, n: int,
                  shots: int, trex: Any = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each observable's value and standard error at every position of the PUB's shape, from the outcome
    probabilities of the bases starting at ``where[group]`` (one row per parameter set); readout corrected by
    the assignment matrices or by TREX's learned factors when given."""
    from qubitlab.drivers import decode

    prepared: dict[int, tuple[float, list[tuple[int, dict[str, float], Any, Any, Any]]]] = {}

    def terms_of(k: int) -> tuple[float, list[tuple[int, dict[str, float], Any, Any, Any]]]:
        """Observable k's identity part and, per basis, its terms with their outcome weights (readout
        corrected) and the weights' derivatives in the readout errors: the same at every parameter set."""
        if k not in prepared:
            constant = 0.0
            by_group: dict[int, dict[str, float]] = {}
            for label, coeff in observables[k].items():
                if set(label) == {"I"}:
                    constant += coeff
                else:
                    by_group.setdefault(term_group[label], {})[label] = coeff
            groups = []
            raws = np.array([_weights(terms, n) for terms in by_group.values()]).reshape(len(by_group), 2**n)
            corrected, derivatives = (raws, None) if assignment is None else \
                decode.corrected_weights_with_derivatives(raws, assignment)   # every basis from one inversion
            for j, (g, terms) in enumerate(by_group.items()):
                w = corrected[j] if trex is None else trex.weights(terms, n, _weights)
                groups.append((g, terms, w, w**2, None if derivatives is None else derivatives[:, :, j]))
            prepared[k] = (constant, groups)
        return prepared[k]

    readout_variance = None if assignment is None else \
        assignment[:, 1, :] * (1 - assignment[:, 1, :]) / shots        # binomial var of each P(1|c), (q, c)
    evs = np.zeros(shape)
    variances = np.zeros(shape)
    for pos in np.ndindex(shape):
        point = int(p_b[pos])
        value, groups = terms_of(int(o_b[pos]))
        variance = 0.0
        for g, terms, w, w2, derivatives in groups:
            p = probs[where[g] + point]
            mean = float(p @ w)
            value += mean
            variance += max(float(p @ w2) - mean**2, 0.0) / shots
            if derivatives is not None:                # the assignment matrices' own shot noise, first order
                variance += float(np.sum((derivatives @ p) ** 2 * readout_variance))
            if trex is not None:
                variance += trex.variance(p, terms, n, _weights)
        evs[pos], variances[pos] = value, variance
    return evs, np.sqrt(variances)


def _measure_mitigation(options: Mapping[str, Any]) -> bool:
    level = options.get("resilience_level", 0)
    explicit = (options.get("resilience") or {}).get("measure_mitigation", options.get("measure_mitigation"))
    return bool(explicit) if explicit is not None else bool(isinstance(level, int) and level >= 1)


def _assignment_schedules(ctx: WorkContext, n: int, snapshot: Any) -> list[Point]:
    """Every qubit prepared in |0>, then every qubit in |1>, measured like the PUB's circuits (lowered once)."""
    from qubitlab.circuits import Circuit

    out: list[Point] = []
    for name, excite in (("assignment_0", False), ("assignment_1", True)):
        circuit = Circuit(n, n, name=name)
        if excite:
            for q in range(n):
                circuit.x(q)
        circuit.barrier(*range(n))
        for q in range(n):
            circuit.measure(q, q)
        lowered, _ = _prepared(ctx, circuit, f"{name}:{n}", "", snapshot)
        out.append((lowered.schedule, {}))
    return out


def _learning_schedules(ctx: WorkContext, n: int, snapshot: Any, trex: Any) -> list[Point]:
    """TREX's learning circuits: |0...0> measured, each with one learning mask's X flips before readout."""
    from qubitlab.circuits import Circuit

    circuit = Circuit(n, n, name="trex_learning")
    circuit.barrier(*range(n))
    for q in range(n):
        circuit.measure(q, q)
    out: list[Point] = []
    for mask in trex.learning_masks:
        lowered, _ = _prepared(ctx, circuit, f"trex_learning:{n}", "", snapshot, mitigation.flipped(mask))
        out.append((lowered.schedule, {}))
    return out


def _untwirled(trex: Any, probs: NDArray[np.float64], rows: Mapping[tuple[int, int, int], int], n_sets: int,
               n_variants: int, n_groups: int) -> tuple[NDArray[np.float64], dict[tuple[int, int], int]]:
    """One block of ``n_sets`` rows per (variant, basis): the masks' probabilities with the flips undone,
    averaged; and where each block starts."""
    blocks: list[NDArray[np.float64]] = []
    where: dict[tuple[int, int], int] = {}
    for v in range(n_variants):
        for g in range(n_groups):
            where[(v, g)] = len(blocks) * n_sets
            blocks.append(trex.untwirled([probs[rows[(v, g, r)]:rows[(v, g, r)] + n_sets]
                                          for r in range(len(trex.masks))]))
    return (np.concatenate(blocks) if blocks else probs), where


def _assignment(probs: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Per-qubit ``M[measured, prepared]`` from the all-|0> and all-|1> outcome probabilities."""
    from qubitlab.drivers import decode

    outcomes = np.arange(2**n)
    matrices = []
    for q in range(n):
        one = (outcomes >> q) & 1
        p1_given_0, p1_given_1 = float(probs[0] @ one), float(probs[1] @ one)
        matrices.append(decode.assignment_matrix_1q(p1_given_0, p1_given_1))
    return np.asarray(matrices)


def _weights(terms: Mapping[str, float], n: int) -> NDArray[np.float64]:
    """Per outcome (index bit q = qubit q), the sum over ``terms`` of coeff * (-1)^(parity of its support)."""
    outcomes = np.arange(2**n, dtype=np.int64)
    w = np.zeros(2**n)
    for label, coeff in terms.items():
        mask = sum(1 << q for q in range(n) if label[n - 1 - q] != "I")
        parity = np.bitwise_count(outcomes & mask) & 1                 # popcount per outcome, vectorised
        w += coeff * (1 - 2 * parity.astype(np.float64))
    return w


def _observables(pub: Mapping[str, Any], n: int, index: int) -> tuple[list[dict[str, float]], tuple[int, ...]]:
    flat = pub.get("observables")
    shape = tuple(pub.get("observables_shape", (len(flat),) if isinstance(flat, list) else ()))
    if not isinstance(flat, list) or not flat or int(np.prod(shape, dtype=np.int64)) != len(flat):
        raise CircuitError(f"PUB {index}: observables must be a non-empty list matching observables_shape {shape}")
    out = []
    for k, obs in enumerate(flat):
        if not isinstance(obs, dict) or not obs:
            raise CircuitError(f"PUB {index}: observable {k} must map Pauli labels to real coefficients")
        for label, coeff in obs.items():
            if not isinstance(label, str) or len(label) != n or set(label) - set("IXYZ"):
                raise CircuitError(f"PUB {index}: observable {k} has label {label!r}; labels are {n} characters "
                                   "of I, X, Y, Z (qubit 0 rightmost)")
            if not isinstance(coeff, (int, float)) or not math.isfinite(coeff):
                raise CircuitError(f"PUB {index}: observable {k}'s coefficient of {label} must be a real number")
        out.append({str(label): float(c) for label, c in obs.items()})
    return out, shape


def _pubs(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pubs = inputs.get("pubs")
    if not isinstance(pubs, list) or not pubs or not all(isinstance(p, dict) for p in pubs):
        raise JobError("input 'pubs' must be a non-empty list of PUBs")
    return pubs


def _shots(value: Any, index: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000_000:
        raise CircuitError(f"PUB {index}: shots must be an integer in 1..10000000, got {value!r}")
    return value


def _cache_stats(ctx: WorkContext) -> dict[str, int]:
    cache = _cache(ctx)
    return {"lowered_hits": cache.hits, "lowered_misses": cache.misses, "template_hits": cache.template_hits,
            "template_misses": cache.template_misses}
