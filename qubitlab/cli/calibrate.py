"""``qubitlab calibrate all|stretch|check|report``: the bring-up and its upkeep from the command line.

``all`` plans the graph (skipping nodes whose values are fresh unless ``--force``), runs it with a progress
display, stores what passed its quality gates, and writes the HTML report; ``check`` runs the quick checks and
recalibrates only what drifted; ``stretch`` calibrates the gates stretched for pulse-stretch ZNE (optional
nodes, not part of ``all``); ``report`` writes the report of the runs recorded since a time. ``all`` and
``check`` exit with status 1 when any experiment failed a gate (nothing of it was stored).

When a runtime daemon owns the lab (a live ``<store>/daemon.lock``), ``all`` and ``check`` never open the
instruments: they submit a ``calibrate`` job to the daemon (same queue, same store), follow it, and print what
it returns; without a client key the daemon lets in, they refuse and say how to get one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from qubitlab.calibration.bringup import Progress, Step
    from qubitlab.calibration.experiment import Outcome
    from qubitlab.calibration.session import LabSession
    from qubitlab.calibration.snapshot import Snapshot
    from qubitlab.cli.runtime import Link
    from qubitlab.runtime.client import RuntimeJob

T = TypeVar("T")
CALIBRATE_PRIORITY = 10
"""Through a daemon, calibration goes ahead of ordinary (priority 0) jobs; an active session still keeps the
device until it ends."""

LAB_OPTION = click.option("--lab", "lab_file", required=True,
                          type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The lab file.")
KEY_OPTION = click.option("--key", "key_file", default=None,
                          type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="When a daemon runs for the lab: your .key_secret (default "
                               "<keys>/clients/<user>.key_secret).")
SHOTS_OPTION = click.option("--shots", type=click.IntRange(1, 100_000), default=1000, show_default=True,
                            help="Shots per experiment point.")


@click.group("calibrate")
def calibrate_group() -> None:
    """Bring a device up from the lab file's guesses, check it for drift, report."""


def _qubits(text: str | None, lab_qubits: list[int]) -> list[int]:
    """``--qubits 0,1`` as a list, checked against the lab's qubits."""
    if text is None:
        return lab_qubits
    try:
        chosen = [int(q) for q in text.split(",") if q.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r}: give qubit indices like 0,1; the lab has {lab_qubits}") from None
    unknown = [q for q in chosen if q not in lab_qubits]
    if unknown:
        raise click.BadParameter(f"no qubit {unknown[0]} in the lab; qubits: {lab_qubits}")
    return chosen


@calibrate_group.command("all")
@LAB_OPTION
@click.option("--force", is_flag=True, help="Run every node, fresh or not.")
@click.option("--qubits", default=None, help="Only these qubits (and the pairs among them), e.g. 0,1.")
@SHOTS_OPTION
@KEY_OPTION
def calibrate_all(lab_file: Path, force: bool, qubits: str | None, shots: int, key_file: Path | None) -> None:
    """Take the device from the lab file's guesses to a calibrated gate set (as a job of the lab's daemon when
    one runs)."""
    from rich.console import Console

    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import open_calibration

    if _through_daemon(lab_file, key_file, {"mode": "all", "qubits": qubits, "force": force, "shots": shots}):
        return
    console = Console()
    with open_calibration(lab_file, shots=shots) as session:
        chosen = _qubits(qubits, session.lab.qubits)
        staleness = session.lab.bringup.staleness if session.lab.bringup else {}
        before = dict(session.ctx.values)
        steps = bringup.plan(session.ledger, chosen, session.lab.couplings, force=force, staleness=staleness)
        console.print(f"{len(steps)} experiment runs planned" + ("" if steps else ": everything is fresh"))
        outcomes = _run_with_progress(console, len(steps), lambda progress: bringup.calibrate(
            session.ctx, session.ledger, steps, bringup.default_runner, progress))
        report = _report(session, outcomes, before, f"Bring-up of {session.lab.name}")
    _finish(console, outcomes, report)


@calibrate_group.command("stretch")
@LAB_OPTION
@click.option("--factors", default="1.5,2,3", show_default=True,
              help="Stretch factors (> 1) to calibrate, e.g. 1.5,2,3.")
@click.option("--qubits", default=None, help="Only these qubits (and the pairs among them), e.g. 0,1.")
@SHOTS_OPTION
def calibrate_stretch(lab_file: Path, factors: str, qubits: str | None, shots: int) -> None:
    """Calibrate the gates stretched for pulse-stretch ZNE (resilience.zne.amplifier 'pulse_stretch'): nodes
    stretch_1q and stretch_ecr for each factor, after whatever of the bring-up is stale."""
    from rich.console import Console

    from qubitlab.calibration import bringup
    from qubitlab.calibration.experiments.stretch import runner
    from qubitlab.calibration.session import open_calibration
    from qubitlab.config.loader import load_lab
    from qubitlab.errors import CalibrationError
    from qubitlab.runtime.daemon import read_lock

    try:
        chosen_factors = tuple(float(f) for f in factors.split(",") if f.strip())
        run = runner(chosen_factors)
    except (ValueError, CalibrationError) as exc:
        raise click.BadParameter(f"--factors {factors!r}: {exc}") from None
    holder = read_lock(load_lab(lab_file).store_path())
    if holder is not None:
        raise click.ClickException(f"the daemon (pid {holder['pid']}) owns {lab_file}'s instruments; stop it and "
                                   "run 'qubitlab calibrate stretch' again (it does not run as a daemon job)")
    console = Console()
    with open_calibration(lab_file, shots=shots) as session:
        chosen = _qubits(qubits, session.lab.qubits)
        staleness = session.lab.bringup.staleness if session.lab.bringup else {}
        before = dict(session.ctx.values)
        steps = bringup.plan(session.ledger, chosen, session.lab.couplings, staleness=staleness)
        steps += [bringup.Step(node, target, "requested") for node in bringup.STRETCH
                  for target in bringup.targets(node, chosen, session.lab.couplings)]
        console.print(f"{len(steps)} experiment runs planned (stretch factors {', '.join(map(str, chosen_factors))})")
        outcomes = _run_with_progress(console, len(steps), lambda progress: bringup.calibrate(
            session.ctx, session.ledger, steps, run, progress))
        report = _report(session, outcomes, before, f"Stretched gates of {session.lab.name}")
    _finish(console, outcomes, report)


@calibrate_group.command("check")
@LAB_OPTION
@click.option("--qubits", default=None, help="Only these qubits, e.g. 0,1.")
@SHOTS_OPTION
@KEY_OPTION
def calibrate_check(lab_file: Path, qubits: str | None, shots: int, key_file: Path | None) -> None:
    """Quick checks (Ramsey, fine amplitude, readout); recalibrate only what drifted (as a job of the lab's
    daemon when one runs)."""
    from rich.console import Console

    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import open_calibration

    if _through_daemon(lab_file, key_file, {"mode": "check", "qubits": qubits, "shots": shots}):
        return
    console = Console()
    with open_calibration(lab_file, shots=shots) as session:
        chosen = _qubits(qubits, session.lab.qubits)
        before = dict(session.ctx.values)
        results = _run_with_progress(console, len(bringup.CHECKS) * len(chosen), lambda progress: bringup.check(
            session.ctx, session.ledger, chosen, bringup.default_runner, progress=progress))
        for result in results:
            for key, (old, new) in result.drifted.items():
                console.print(f"drift: {key} {old:.7g} -> {new:.7g} (recalibrated)")
        if not any(r.drifted for r in results):
            console.print("no drift beyond tolerance: nothing changed")
        outcomes = [r.outcome for r in results]
        report = _report(session, outcomes, before, f"Drift check of {session.lab.name}")
    _finish(console, outcomes, report)


@calibrate_group.command("report")
@LAB_OPTION
@click.option("--since", default=None, help="Runs finished after this ISO time (default: the last 24 hours).")
def calibrate_report(lab_file: Path, since: str | None) -> None:
    """Write the HTML report of the runs recorded since --since and the current values; print its path."""
    import datetime

    from rich.console import Console

    from qubitlab.calibration.report import outcomes_from_store, write_report
    from qubitlab.calibration.store import CalibrationStore
    from qubitlab.cli.cal import parse_time
    from qubitlab.config.loader import load_lab
    from qubitlab.errors import CalibrationError

    lab = load_lab(lab_file)
    try:
        start = parse_time(since) if since else \
            datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    except CalibrationError as exc:
        raise click.BadParameter(str(exc)) from None
    with CalibrationStore.for_lab(lab) as store:
        outcomes = outcomes_from_store(store, start)
        snapshot = store.snapshot()
        before = store.snapshot(start)
        values, units = _values_units(snapshot)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = write_report(lab.store_path() / "reports" / stamp / "report.html", f"Calibration of {lab.name}",
                            outcomes, values, {k: e.value for k, e in before.items()}, units)
    Console().print(f"{len(outcomes)} runs since {start.isoformat()}; report: {path.resolve()}")


def _through_daemon(lab_file: Path, key_file: Path | None, inputs: dict[str, Any]) -> bool:
    """When a daemon owns the lab's instruments, run ``inputs`` as a ``calibrate`` job there and print what it
    found (True); False when no daemon runs. Without a usable client key this refuses: the instruments stay
    the daemon's."""
    from rich.console import Console

    from qubitlab.cli.runtime import lab_link
    from qubitlab.config.loader import load_lab

    link = lab_link(lab_file, key_file)
    if link is None:
        return False
    inputs = {**inputs, "qubits": _qubits(inputs["qubits"], load_lab(lab_file).qubits)}
    console = Console()
    result, job_id = _submit_and_follow(console, link, inputs)
    if result["mode"] == "all":
        console.print(f"{result['planned']} experiment runs planned" + ("" if result["planned"] else
                                                                          ": everything is fresh"))
    for line in result["skipped"]:
        console.print(f"[yellow]skipped[/] {line}")
    for summary in result["outcomes"]:
        console.print(summary)
    for drift_key, old, new in result["drifted"]:
        console.print(f"drift: {drift_key} {old:.7g} -> {new:.7g} (recalibrated)")
    if result["mode"] == "check" and not result["drifted"]:
        console.print("no drift beyond tolerance: nothing changed")
    console.print(f"job {job_id} done; snapshot {result['snapshot_id']}")
    console.print(f"report: {result['report']}")
    if not result["passed"]:
        raise click.ClickException(f"{result['failed']} of {len(result['outcomes'])} experiment runs failed a "
                                   "quality gate; nothing of them was stored (see the report)")
    return True


def _submit_and_follow(console: Console, link: Link, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Submit a ``calibrate`` job, print each run as it lands in the store, and return the job's result and id."""
    from qubitlab.cli.runtime import service
    from qubitlab.errors import JobError

    with service(link, 10.0) as client:
        job = client.submit("calibrate", inputs, priority=CALIBRATE_PRIORITY, max_execution_time=6 * 3600.0)
        console.print(f"calibrate job {job.job_id()} submitted to the daemon at {link.address} "
                      f"(pid {link.pid}, priority {CALIBRATE_PRIORITY})")
        try:
            details = _follow(console, job, link)
        except KeyboardInterrupt:
            console.print(f"the job {job.job_id()} goes on in the daemon; stop it with 'qubitlab jobs cancel "
                          f"{job.job_id()} --lab {link.lab_file}'")
            raise click.Abort() from None
        if details["status"] != "DONE":
            raise click.ClickException(f"calibrate job {job.job_id()} ended {details['status']}: {details['error']}")
        result = job.result(timeout=10.0)
    if not isinstance(result, dict):
        raise JobError(f"calibrate job {job.job_id()} returned {type(result).__name__}, not its summary")
    return result, job.job_id()


def _follow(console: Console, job: RuntimeJob, link: Link) -> dict[str, Any]:
    """Poll the job until it ends; while it runs, print each experiment run the store records."""
    import datetime

    from qubitlab.calibration.store import CalibrationStore
    from qubitlab.config.loader import load_lab

    assert link.lab_file is not None
    job_id, status, seen = job.job_id(), "", set()
    with CalibrationStore.for_lab(load_lab(link.lab_file)) as store, console.status("waiting") as spinner:
        while True:
            details = job.details()
            final = details["status"] in ("DONE", "ERROR", "CANCELLED")
            if details["status"] != status and not final:
                console.print(f"job {job_id}: {details['status']}")
            if details["started"] is not None:
                since = datetime.datetime.fromtimestamp(details["started"], datetime.timezone.utc)
                for run in store.runs(since):
                    if run.run_id not in seen:
                        seen.add(run.run_id)
                        colour = "green" if run.status.value == "succeeded" else "red"
                        console.print(f"[{colour}]{run.experiment}: {run.status.value}[/]")
            if final:
                console.print(f"job {job_id}: {details['status']}")
                return dict(details)
            status = details["status"]
            spinner.update(f"job {job_id} {status}, {len(seen)} experiment runs recorded")
            time.sleep(0.5)


def _run_with_progress(console: Console, total: int, work: Callable[[Progress], T]) -> T:
    """``work(progress)`` with a progress bar of ``total`` steps; each finished step prints its summary."""
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Bar(*columns, console=console, transient=False) as bar:
        task = bar.add_task("calibrating", total=total)

        def step(step: Step, outcome: Outcome | None) -> None:
            who = "-".join(f"q{q}" for q in step.target)
            bar.advance(task)
            if outcome is None:
                bar.console.print(f"[yellow]skipped[/] {step.node.name} {who}: a dependency failed")
            else:
                colour = "green" if outcome.passed else "red"
                bar.console.print(f"[{colour}]{outcome.summary()}[/]")

        return work(step)


def _report(session: LabSession, outcomes: Sequence[Outcome], before: Mapping[str, float], title: str) -> Path:
    """The HTML report of this command's runs, in the session's output folder."""
    from qubitlab.calibration.report import write_report

    values, units = _values_units(session.store.snapshot())
    return write_report(session.ctx.out_dir / "report.html", title, outcomes, values, before, units)


def _values_units(snapshot: Snapshot) -> tuple[dict[str, tuple[float, float | None]], dict[str, str]]:
    """A snapshot as the report wants it: key -> (value, stderr), and parameter name -> unit."""
    values = {key: (entry.value, entry.stderr) for key, entry in snapshot.items()}
    units = {key.split(".", 1)[-1]: entry.unit for key, entry in snapshot.items()}
    return values, units


def _finish(console: Console, outcomes: Sequence[Outcome], report: Path) -> None:
    """Print the report's path; exit status 1 when any run failed its gates."""
    failed = [o for o in outcomes if not o.passed]
    console.print(f"report: {report.resolve()}")
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(outcomes)} experiment runs failed a quality gate; "
                                   "nothing of them was stored (see the report)")
