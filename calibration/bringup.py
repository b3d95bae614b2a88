"""The bring-up graph: which experiment depends on which, when a result is stale, and what to run next.

A :class:`Node` is an experiment applied per qubit (or per coupled pair) with the nodes it needs first and a
staleness limit. :func:`plan` walks the graph in dependency order and keeps the node instances that are stale:
never run, older than their limit, or older than a node they depend on (so a re-run upstream invalidates what
was built on it, but a node's own later runs never loop back). :func:`calibrate` runs a plan, stores what
passed, retries a failed node once after its remedies (the readout optimisations), and skips only what
needs a failed node. :func:`check` runs the quick checks (Ramsey, fine
amplitude, readout), recalibrates only the values that moved beyond their tolerance, and retries a failed
readout check after its remedies too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.hints import hint
from qubitlab.calibration.snapshot import Snapshot
from qubitlab.errors import CalibrationError

DAY = 86400.0


@dataclass(frozen=True)
class Node:
    name: str
    scope: Literal["qubit", "pair"]
    depends: tuple[str, ...] = ()
    staleness: float = DAY
    tolerance: Mapping[str, float] = field(default_factory=dict)
    """For checks: parameter name -> largest change that is not drift (absolute, in the parameter's unit)."""
    optional: tuple[str, ...] = ()
    """Nodes that run first and make this one stale when they change, but whose failure does not block it (it
    then runs with the lab file's settings or the signal without a discriminator)."""
    remedies: tuple[str, ...] = ()
    """Nodes that can fix this one's failed gates: on failure they run (again) and this node is retried once."""


GRAPH: tuple[Node, ...] = (
    Node("resonator_spectroscopy", "qubit", (), 7 * DAY),
    Node("qubit_spectroscopy", "qubit", ("resonator_spectroscopy",), 7 * DAY),
    Node("rabi", "qubit", ("qubit_spectroscopy",)),
    Node("ramsey", "qubit", ("rabi",), tolerance={"frequency": 20e3}),
    Node("readout_frequency", "qubit", ("ramsey",), 7 * DAY),
    Node("readout_amplitude", "qubit", ("ramsey",), 7 * DAY, optional=("readout_frequency",)),
    Node("readout_duration", "qubit", ("ramsey",), 7 * DAY, optional=("readout_frequency", "readout_amplitude")),
    Node("readout_weights", "qubit", ("ramsey",), 7 * DAY,
         optional=("readout_frequency", "readout_amplitude", "readout_duration")),
    Node("readout", "qubit", ("ramsey",), tolerance={"readout_fidelity": 0.02},
         optional=("readout_frequency", "readout_amplitude", "readout_duration", "readout_weights"),
         remedies=("readout_frequency", "readout_amplitude", "readout_duration", "readout_weights")),
    Node("drag", "qubit", ("ramsey",), optional=("readout",)),
    Node("fine_amplitude", "qubit", ("drag",), tolerance={"x_amp": 0.004, "sx_amp": 0.002}),
    Node("t1", "qubit", ("ramsey",), optional=("readout",)),
    Node("t2_ramsey", "qubit", ("ramsey",), optional=("readout",)),
    Node("t2_echo", "qubit", ("fine_amplitude",)),
    Node("rb", "qubit", ("fine_amplitude", "readout")),
    Node("cross_resonance", "pair", ("fine_amplitude",)),
    Node("bell", "pair", ("cross_resonance",)),
)
"""The bring-up, in an order that respects every dependency."""

STRETCH: tuple[Node, ...] = (
    Node("stretch_1q", "qubit", ("fine_amplitude",)),
    Node("stretch_ecr", "pair", ("cross_resonance", "stretch_1q")),
)
"""Optional nodes, not in :data:`GRAPH` (``calibrate all``): the gates stretched for pulse-stretch ZNE
(:mod:`qubitlab.calibration.experiments.stretch`), run by ``qubitlab calibrate stretch``."""

CHECKS = ("ramsey", "fine_amplitude", "readout")
"""Quick checks of ``qubitlab calibrate check``, in order."""

Target = tuple[int, ...]


class Ledger(Protocol):
    """What the bring-up needs from the calibration store."""

    def last_success(self, node: str, target: Target) -> float | None:
        """UTC time (s) of the node's last run on ``target`` whose values were committed."""

    def record(self, outcome: Outcome, started: float) -> Snapshot | None:
        """Commit ``outcome`` (its updates if it passed; the run and its gates either way); return the snapshot
        the next experiment runs with (None: the current one with the outcome's updates applied)."""


@dataclass(frozen=True)
class Step:
    node: Node
    target: Target
    reason: str


def targets(node: Node, qubits: Sequence[int], couplings: Iterable[tuple[int, int]]) -> list[Target]:
    if node.scope == "qubit":
        return [(q,) for q in qubits]
    return [(c, t) for c, t in couplings if c in qubits and t in qubits]


def _deps(node: Node, target: Target, graph: Mapping[str, Node], *, optional: bool = True
          ) -> list[tuple[Node, Target]]:
    """The node instances ``(node, target)`` builds on (``optional=False``: only those whose failure blocks it):
    a pair node needs a qubit node on both of its qubits."""
    out: list[tuple[Node, Target]] = []
    for name in node.depends + (node.optional if optional else ()):
        dep = graph[name]
        if dep.scope == "qubit" and node.scope == "pair":
            out.extend((dep, (q,)) for q in target)
        else:
            out.append((dep, target))
    return out


def plan(ledger: Ledger, qubits: Sequence[int], couplings: Iterable[tuple[int, int]], *, now: float | None = None,
         force: bool = False, staleness: Mapping[str, float] | None = None,
         graph: Sequence[Node] = GRAPH) -> list[Step]:
    """The node instances to run, in order; a planned node makes everything after it that depends on it
    stale too."""
    now = time.time() if now is None else now
    by_name = {n.name: n for n in graph}
    pairs = [(c, t) for c, t in couplings]
    steps: list[Step] = []
    planned: set[tuple[str, Target]] = set()
    for node in graph:
        limit = (staleness or {}).get(node.name, node.staleness)
        for target in targets(node, qubits, pairs):
            reason = "forced" if force else _stale(ledger, node, target, by_name, planned, now, limit)
            if reason:
                steps.append(Step(node, target, reason))
                planned.add((node.name, target))
    return steps


def _stale(ledger: Ledger, node: Node, target: Target, graph: Mapping[str, Node], planned: set[tuple[str, Target]],
           now: float, limit: float) -> str:
    last = ledger.last_success(node.name, target)
    if last is None:
        return "never calibrated"
    if now - last > limit:
        return f"older than {limit / 3600:g} h"
    for dep, dep_target in _deps(node, target, graph):
        if (dep.name, dep_target) in planned:
            return f"{dep.name} is recalibrated"
        dep_last = ledger.last_success(dep.name, dep_target)
        if dep_last is not None and dep_last > last:
            return f"{dep.name} changed since"
    return ""


Runner = Callable[[Context, Node, Target], Outcome]
Progress = Callable[[Step, Outcome | None], None]


def calibrate(ctx: Context, ledger: Ledger, steps: Sequence[Step], run: Runner,
              progress: Progress | None = None) -> list[Outcome]:
    """Run ``steps``; commit each outcome. A failed step whose node has remedies runs them and is retried once;
    a step still failing skips only the steps that need it (not those for which it is optional); every failed
    outcome carries a hint (:mod:`qubitlab.calibration.hints`)."""
    graph = {**{n.name: n for n in (*GRAPH, *STRETCH)}, **{s.node.name: s.node for s in steps}}
    failed: set[tuple[str, Target]] = set()
    outcomes: list[Outcome] = []
    for step in steps:
        blocked = [d for d in _deps(step.node, step.target, graph, optional=False) if (d[0].name, d[1]) in failed]
        if blocked:
            failed.add((step.node.name, step.target))
            if progress:
                progress(step, None)
            continue
        outcome = _run_step(ctx, ledger, step, run, outcomes, progress)
        if not outcome.passed and step.node.remedies:
            for name in step.node.remedies:
                _run_step(ctx, ledger, Step(graph[name], step.target, f"remedy for {step.node.name}"), run,
                          outcomes, progress)
            outcome = _run_step(ctx, ledger, Step(step.node, step.target, "retry after its remedies"), run,
                                outcomes, progress)
        if not outcome.passed:
            failed.add((step.node.name, step.target))
    return outcomes


def _run_step(ctx: Context, ledger: Ledger, step: Step, run: Runner, outcomes: list[Outcome],
              progress: Progress | None) -> Outcome:
    """Run one step, attach a hint if it failed, commit it and advance ``ctx``."""
    started = time.time()
    try:
        outcome = run(ctx, step.node, step.target)
    except CalibrationError as exc:
        outcome = Outcome(step.node.name, step.target, {}, (Gate("experiment ran", False, str(exc)),),
                          message=str(exc), snapshot_id=ctx.snapshot.id)
    if not outcome.passed and not outcome.hint:
        outcome = replace(outcome, hint=hint(step.node.name, step.target, outcome.failed_gates))
    _advance(ctx, outcome, ledger.record(outcome, started))
    outcomes.append(outcome)
    if progress:
        progress(step, outcome)
    return outcome


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    drifted: dict[str, tuple[float, float]]
    """Key -> (stored value, value found) for changes beyond the node's tolerance."""


def check(ctx: Context, ledger: Ledger, qubits: Sequence[int], run: Runner,
          checks: Sequence[str] = CHECKS, progress: Progress | None = None) -> list[CheckResult]:
    """Run the quick checks; commit a check's values only where they moved beyond tolerance (drift). A check
    that fails and has remedies (the readout) runs them, committing what they find as :func:`calibrate` does,
    and is retried once."""
    by_name = {n.name: n for n in GRAPH}
    results = []
    for name in checks:
        node = by_name[name]
        for q in qubits:
            target = (q,)
            started = time.time()
            outcome = run(ctx, node, target)
            remedied = not outcome.passed and bool(node.remedies)
            if remedied:
                if progress:
                    progress(Step(node, target, "check"), outcome)
                for remedy in node.remedies:
                    _run_step(ctx, ledger, Step(by_name[remedy], target, f"remedy for the {name} check"), run, [],
                              progress)
                started = time.time()
                outcome = run(ctx, node, target)
                if not outcome.passed and not outcome.hint:
                    outcome = replace(outcome, hint=hint(name, target, outcome.failed_gates))
            drifted = {}
            for key, (value, _) in outcome.updates.items():
                parameter = key.split(".", 1)[1]
                tolerance = node.tolerance.get(parameter)
                old = ctx.snapshot.value(key, None)
                if tolerance is not None and old is not None and abs(value - old) > tolerance:
                    drifted[key] = (old, value)
            if (drifted or remedied) and outcome.passed:  # after remedies the readout itself moved: commit
                _advance(ctx, outcome, ledger.record(outcome, started))
            results.append(CheckResult(outcome, drifted))
            if progress:
                progress(Step(node, target, "check"), outcome)
    return results


def _advance(ctx: Context, outcome: Outcome, committed: Snapshot | None) -> None:
    """Give ``ctx`` the snapshot the next experiment runs with."""
    if committed is not None:
        ctx.snapshot = committed
    elif outcome.passed and outcome.updates:
        ctx.update(dict(outcome.updates))


def default_runner(ctx: Context, node: Node, target: Target) -> Outcome:
    """Run ``node``'s experiment from the experiments table on ``target``."""
    from qubitlab.calibration.experiments import EXPERIMENTS

    experiment: Any = EXPERIMENTS.get(node.name)
    if experiment is None:
        raise CalibrationError(f"no experiment registered for node {node.name!r}; registered: "
                               f"{', '.join(sorted(EXPERIMENTS))}")
    return experiment(ctx, *target)  # type: ignore[no-any-return]
