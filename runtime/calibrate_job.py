"""The ``calibrate`` job kind: ``qubitlab calibrate all|check`` run inside the daemon's worker.

While a daemon owns a lab, nothing else may open its instruments; the command line hands the bring-up (or the
drift check) to the daemon instead, as a job in the same queue and on the same calibration store. The worker
runs exactly what the command would have run -- :func:`~qubitlab.calibration.bringup.plan` and
:func:`~qubitlab.calibration.bringup.calibrate`, or :func:`~qubitlab.calibration.bringup.check` -- on its
already-open instruments, writes the same HTML report, and returns plain data::

    {"mode": "all", "planned": 11, "outcomes": ["rabi q0: q0.x_amp = ...", ...], "skipped": [...],
     "drifted": [[key, old, new], ...], "passed": True, "failed": 0, "report": "/.../report.html", "snapshot_id": "..."}

Cancel and the time limit take effect between experiments (each node checks the abort flag first); what the
finished experiments committed stays committed, as after an interrupted ``qubitlab calibrate all``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qubitlab.errors import JobError

if TYPE_CHECKING:
    from qubitlab.calibration.bringup import Node, Step, Target
    from qubitlab.calibration.context import Context
    from qubitlab.calibration.experiment import Outcome as RunOutcome
    from qubitlab.calibration.session import LabSession
    from qubitlab.runtime.jobs import Outcome, WorkContext

MODES = ("all", "check")


def _inputs(inputs: Mapping[str, Any], lab_qubits: Sequence[int]) -> tuple[str, list[int], bool, int]:
    """``mode``, ``qubits`` (None: all of the lab's), ``force`` and ``shots``, checked."""
    mode = inputs.get("mode", "all")
    if mode not in MODES:
        raise JobError(f"calibrate input 'mode' must be one of {', '.join(MODES)}, got {mode!r}")
    qubits = inputs.get("qubits")
    if qubits is None:
        qubits = list(lab_qubits)
    if not isinstance(qubits, list) or not qubits or \
            not all(isinstance(q, int) and not isinstance(q, bool) and q in lab_qubits for q in qubits):
        raise JobError(f"calibrate input 'qubits' must be a non-empty list of the lab's qubits {list(lab_qubits)}, "
                       f"got {qubits!r}")
    force = inputs.get("force", False)
    if not isinstance(force, bool):
        raise JobError(f"calibrate input 'force' must be true or false, got {force!r}")
    shots = inputs.get("shots", 1000)
    if not isinstance(shots, int) or isinstance(shots, bool) or not 1 <= shots <= 100_000:
        raise JobError(f"calibrate input 'shots' must be an integer in [1, 100000], got {shots!r}")
    return str(mode), qubits, force, shots


def calibrate(work: WorkContext, inputs: Mapping[str, Any]) -> Outcome:
    """Bring-up (``mode: all``) or drift check (``mode: check``) on the worker's instruments and store."""
    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import lab_session
    from qubitlab.runtime.jobs import Outcome

    mode, qubits, force, shots = _inputs(inputs, work.opened.lab.qubits)
    session = lab_session(work.opened, work.store, shots=shots)
    before = dict(session.ctx.values)

    def run(ctx: Context, node: Node, target: Target) -> RunOutcome:
        work.check()                                   # the safe point: between two experiments
        return bringup.default_runner(ctx, node, target)

    skipped: list[str] = []

    def progress(step: Step, outcome: RunOutcome | None) -> None:
        if outcome is None:
            skipped.append(f"{step.node.name} " + "-".join(f"q{q}" for q in step.target) + ": a dependency failed")

    result: dict[str, Any] = {"mode": mode, "qubits": qubits}
    if mode == "all":
        staleness = session.lab.bringup.staleness if session.lab.bringup else {}
        steps = bringup.plan(session.ledger, qubits, session.lab.couplings, force=force, staleness=staleness)
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, run, progress)
        result.update(planned=len(steps), drifted=[])
        title = f"Bring-up of {session.lab.name}"
    else:
        results = bringup.check(session.ctx, session.ledger, qubits, run, progress=progress)
        outcomes = [r.outcome for r in results]
        result.update(planned=len(outcomes),
                      drifted=[[key, old, new] for r in results for key, (old, new) in r.drifted.items()])
        title = f"Drift check of {session.lab.name}"
    report = _report(session, outcomes, before, title)
    snapshot = work.store.snapshot()
    result.update(outcomes=[o.summary() for o in outcomes], skipped=skipped,
                  passed=all(o.passed for o in outcomes), failed=sum(not o.passed for o in outcomes), report=str(report.resolve()), snapshot_id=snapshot.id)
    return Outcome(result, snapshot_id=snapshot.id)


def _report(session: LabSession, outcomes: Sequence[RunOutcome], before: Mapping[str, float], title: str) -> Path:
    """The HTML report of this job's runs in the session's output folder (what ``qubitlab calibrate`` writes)."""
    from qubitlab.calibration.report import write_report

    snapshot = session.store.snapshot()
    values = {key: (entry.value, entry.stderr) for key, entry in snapshot.items()}
    units = {key.split(".", 1)[-1]: entry.unit for key, entry in snapshot.items()}
    return write_report(session.ctx.out_dir / "report.html", title, outcomes, values, before, units)
