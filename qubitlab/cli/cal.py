"""``qubitlab cal``: read and edit a lab's calibration store from the shell.

Operators look at the current values (``show``), how one value got there (``history``), set one by hand with
a reason (``set``), compare two states (``diff``), go back to an earlier one (``rollback``) and move snapshots
between stores (``export``/``import``). Every command takes ``--lab LAB.yaml``; the store is the lab's
``.qubitlab/calibration.sqlite`` (or its ``store.path``). Input is checked before the store is touched; errors
print one line and exit non-zero with nothing written. Times are ISO 8601; a time without a zone is UTC.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qubitlab.cli.values import decimal, quantity
from qubitlab.errors import CalibrationError

if TYPE_CHECKING:
    from rich.table import Table

    from qubitlab.calibration import CalibrationStore, Snapshot
    from qubitlab.config.models import LabConfig

_SNAPSHOT_ID = re.compile(r"^[0-9a-f]{16}$")
_WIDTH = 160

lab_option = click.option("--lab", "lab_file", required=True,
                          type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="The lab file; its calibration store is .qubitlab/ next to it (or its store.path).")


@click.group("cal")
def cal_group() -> None:
    """Show, edit, compare, roll back, export and import calibrated values."""


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is taken as UTC."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CalibrationError(f"{text!r} is neither a snapshot id (16 hex digits), 'now', nor an ISO 8601 time "
                               "such as 2025-03-01T14:00:00+00:00") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _open(lab_file: Path | LabConfig) -> tuple[LabConfig, CalibrationStore]:
    """The lab (loaded unless given) and its store; the store folder is created when missing."""
    from qubitlab.calibration import CalibrationStore
    from qubitlab.config.loader import load_lab

    lab = load_lab(lab_file) if isinstance(lab_file, Path) else lab_file
    return lab, CalibrationStore.for_lab(lab)


def _resolve(store: CalibrationStore, ref: str) -> Snapshot:
    """A snapshot from ``now``, a snapshot id, or a time."""
    if ref == "now":
        return store.snapshot()
    if _SNAPSHOT_ID.match(ref):
        return store.snapshot_by_id(ref)
    return store.snapshot(parse_time(ref))


def _quantity(value: float | None, unit: str) -> str:
    from qubitlab.calibration.parameters import format_quantity

    return format_quantity(value, unit)


def _age(timestamp: float) -> str:
    seconds = max(0.0, time.time() - timestamp)
    for size, label in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.1f} {label}"
    return f"{seconds:.0f} s"


def _table(title: str, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def _print(table: Table) -> None:
    from rich.console import Console

    Console(width=_WIDTH).print(table)


@cal_group.command("show")
@lab_option
@click.option("--at", "at", default=None, help="Show the values current at this ISO 8601 time (default: now).")
def show(lab_file: Path, at: str | None) -> None:
    """The current calibrated values (or those current at --at)."""
    when = parse_time(at) if at is not None else None
    lab, store = _open(lab_file)
    with store:
        snapshot = store.snapshot(when)
    if not snapshot:
        click.echo(f"no calibrated values in {store.path}" + (f" at {when.isoformat()}" if when else ""))
        return
    table = _table(f"{lab.name}: snapshot {snapshot.id}, {len(snapshot)} values at "
                   f"{snapshot.taken_at.isoformat(timespec='seconds')}", "key", "value", "stderr", "age", "experiment")
    for key, entry in snapshot.items():
        table.add_row(key, _quantity(entry.value, entry.unit), _quantity(entry.stderr, entry.unit),
                      _age(entry.timestamp), entry.experiment)
    _print(table)


@cal_group.command("history")
@lab_option
@click.argument("key")
def history(lab_file: Path, key: str) -> None:
    """Every value KEY (e.g. q0.x_amp) ever had, newest first."""
    lab, store = _open(lab_file)
    with store:
        records = store.history(key)
    if not records:
        click.echo(f"{key} was never set in {store.path}")
        return
    table = _table(f"{lab.name}: history of {key}", "time (UTC)", "value", "stderr", "state", "run", "experiment",
                   "reason")
    for r in records:
        state = "removed" if r.removed else ("current" if r.current else "superseded")
        table.add_row(r.time.isoformat(timespec="seconds"), _quantity(r.value, r.unit), _quantity(r.stderr, r.unit),
                      state, f"{r.run.kind.value} {r.run.run_id}", r.run.experiment, r.reason)
    _print(table)


@cal_group.command("set", context_settings={"ignore_unknown_options": True})
@lab_option
@click.argument("key")
@click.argument("value")
@click.option("--unit", default=None, help="Unit of VALUE and --stderr: Hz, kHz, MHz, GHz for frequencies; s, ms, "
                                           "us, ns for times (default: SI, i.e. Hz or s).")
@click.option("--stderr", "stderr_text", default=None, metavar="NUMBER",
              help="Standard error, a decimal number in the same unit as VALUE.")
@click.option("--reason", required=True, help="Why the value is set by hand (kept in the history).")
def set_value(lab_file: Path, key: str, value: str, unit: str | None, stderr_text: str | None, reason: str) -> None:
    """Set KEY to VALUE by hand: 'cal set q0.frequency 5.0012e9', '... 5.0012 --unit GHz' or '... "5.0012 GHz"'.

    VALUE is a decimal number (no hexadecimal, no digit separators), optionally followed by a unit of KEY;
    anything else after the number is refused.
    """
    from qubitlab.calibration.parameters import check_stderr, check_value, parse_key
    from qubitlab.config.loader import load_lab

    lab = load_lab(lab_file)
    parsed = parse_key(key, lab)
    number, inline_unit = quantity(value, parsed)
    if inline_unit is not None and unit is not None:
        raise CalibrationError(f"value {value!r} carries a unit and --unit {unit} is given too; give one")
    unit = unit if unit is not None else inline_unit
    stderr = None if stderr_text is None else decimal(stderr_text, f"{parsed}: --stderr")
    check_value(parsed, number, unit)                       # refuse before the store is opened
    check_stderr(parsed, stderr, unit)
    _, store = _open(lab)
    with store:
        before = store.current(parsed.text)
        run_id = store.set(parsed.text, number, unit=unit, stderr=stderr, reason=reason)
        after = store.current(parsed.text)
        snapshot_id = store.snapshot().id
    assert after is not None
    was = _quantity(before.value, before.unit) if before is not None else "unset"
    click.echo(f"{parsed} = {_quantity(after.value, after.unit)} (was {was}); run {run_id}; snapshot {snapshot_id}")


@cal_group.command("diff")
@lab_option
@click.argument("a")
@click.argument("b", default="now")
def diff(lab_file: Path, a: str, b: str) -> None:
    """What changed from A to B; each a snapshot id, an ISO 8601 time or 'now' (B defaults to now)."""
    for ref in (a, b):
        if ref != "now" and not _SNAPSHOT_ID.match(ref):
            parse_time(ref)
    _, store = _open(lab_file)
    with store:
        old, new = _resolve(store, a), _resolve(store, b)
    changes = old.diff(new)
    if not changes:
        click.echo(f"no differences between {old.id} and {new.id}")
        return
    table = _table(f"{old.id} -> {new.id}: {len(changes)} changes", "key", "change", "old", "new")
    for c in changes:
        table.add_row(c.key, c.kind.value, _quantity(c.old.value, c.old.unit) if c.old else "-",
                      _quantity(c.new.value, c.new.unit) if c.new else "-")
    _print(table)


@cal_group.command("rollback")
@lab_option
@click.argument("snapshot")
@click.option("--reason", default="", help="Why (kept in the run's message).")
def rollback(lab_file: Path, snapshot: str, reason: str) -> None:
    """Make SNAPSHOT (an id, or an ISO 8601 time) current again; the history keeps everything."""
    when = None if _SNAPSHOT_ID.match(snapshot) else parse_time(snapshot)
    _, store = _open(lab_file)
    with store:
        target = store.snapshot_by_id(snapshot) if when is None else store.save_snapshot(when)
        changes = store.snapshot().diff(target)
        run_id = store.rollback(target.id, reason=reason)
        now = store.snapshot().id
    click.echo(f"rolled back to snapshot {target.id}: {len(changes)} keys written "
               f"({', '.join(c.key for c in changes) or 'none'}); run {run_id}; current snapshot {now}")


@cal_group.command("export")
@lab_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export(lab_file: Path, file: Path) -> None:
    """Write the current snapshot, with units, errors and provenance, to FILE (JSON).

    FILE is replaced atomically (a failed export leaves no half file) and gets the mode your umask gives a new
    file (0o644 under the usual umask 022).
    """
    _, store = _open(lab_file)
    with store:
        snapshot = store.export_json(file)
    click.echo(f"exported snapshot {snapshot.id} ({len(snapshot)} values) to {file}")


@cal_group.command("import")
@lab_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(lab_file: Path, file: Path) -> None:
    """Make the values in FILE (from 'cal export') current; everything is checked before anything is written.

    FILE must be UTF-8 JSON of at most 4 MiB, nested at most 8 levels, with at most 50000 objects and arrays,
    no key repeated within an object and no NaN or Infinity; every key, unit and value is then checked against
    the lab and the parameter bounds.
    """
    from qubitlab.calibration import exchange

    exchange.read(file)                                     # a malformed file is refused before the store opens
    _, store = _open(lab_file)
    with store:
        before = store.snapshot()
        run_id = store.import_json(file)
        after = store.snapshot()
    click.echo(f"imported {file}: {len(before.diff(after))} keys written; run {run_id}; current snapshot {after.id}")
