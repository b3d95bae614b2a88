"""The HTML report of a calibration: every plot, every value with its error, what changed, every failed gate.

One self-contained file (plots linked relative to it, so the folder can be copied or served as it is),
written at the end of ``qubitlab calibrate all|check`` and by ``qubitlab calibrate report``.
"""

from __future__ import annotations

import datetime
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qubitlab.calibration.experiment import Outcome

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; text-align: left; } .failed { color: #b00020; } .passed { color: #1b5e20; }
figure { display: inline-block; margin: 0.5em; } img { max-width: 620px; border: 1px solid #ddd; }
"""


def outcomes_from_store(store: Any, since: datetime.datetime | None = None) -> list[Outcome]:
    """The experiment runs recorded in ``store`` since ``since``, as outcomes (for a report written later)."""
    from qubitlab.calibration.fitting import Gate
    from qubitlab.calibration.records import RunKind

    out = []
    for run in store.runs(since, RunKind.EXPERIMENT):
        ok = run.status.value == "succeeded"
        name, _, who = run.experiment.partition(" ")
        qubits = tuple(int(q[1:]) for q in who.split("-") if q.startswith("q") and q[1:].isdigit())
        gates = (Gate("quality gates", ok, run.message or ("passed" if ok else "failed")),)
        out.append(Outcome(name, qubits, {}, gates, plot=Path(run.plot_path) if run.plot_path else None,
                           dataset=int(run.dataset_id) if run.dataset_id and run.dataset_id.isdigit() else None,
                           message=run.message))
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.7g}{(' ' + unit) if unit else ''}"


def write_report(path: Path, title: str, outcomes: Sequence[Outcome], values: Mapping[str, tuple[float, float | None]],
                 before: Mapping[str, float], units: Mapping[str, str] | None = None) -> Path:
    """Write the report to ``path``; ``values`` are the current values with standard errors, ``before`` the
    values of the previous snapshot (for the "what changed" table)."""
    units = units or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for key in sorted(set(values) | set(before)):
        now = values.get(key)
        old = before.get(key)
        unit = units.get(key.split(".", 1)[-1], "")
        changed = now is not None and (old is None or now[0] != old)
        rows.append(f"<tr><td>{html.escape(key)}</td><td>{_fmt(now[0] if now else None, unit)}</td>"
                    f"<td>{_fmt(now[1] if now else None)}</td><td>{_fmt(old, unit)}</td>"
                    f"<td>{'changed' if changed else ''}</td></tr>")
    runs = []
    figures = []
    for outcome in outcomes:
        who = ",".join(f"q{q}" for q in outcome.qubits)
        status = "passed" if outcome.passed else "failed"
        gates = "<br>".join(html.escape(str(g)) for g in outcome.gates if not g.passed) or "all gates passed"
        found = ", ".join(f"{k} = {v:.6g}" for k, (v, _) in outcome.updates.items()) or "-"
        runs.append(f"<tr class='{status}'><td>{html.escape(outcome.experiment)}</td><td>{who}</td>"
                    f"<td>{status}</td><td>{html.escape(found)}</td><td>{gates}</td>"
                    f"<td>{outcome.dataset if outcome.dataset is not None else '-'}</td></tr>")
        if outcome.plot is not None:
            link = os.path.relpath(outcome.plot, path.parent)
            figures.append(f"<figure><img src='{html.escape(link)}' alt='{html.escape(outcome.experiment)}'>"
                           f"<figcaption>{html.escape(outcome.summary())}</figcaption></figure>")
    failed = sum(not o.passed for o in outcomes)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    document = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{stamp}: {len(outcomes)} experiment runs, {failed} failed a quality gate (nothing stored from those).</p>
<h2>Runs</h2>
<table><tr><th>experiment</th><th>target</th><th>status</th><th>proposed</th><th>failed gates</th><th>dataset</th></tr>
{''.join(runs)}</table>
<h2>Values</h2>
<table><tr><th>parameter</th><th>value</th><th>std. error</th><th>before</th><th></th></tr>
{''.join(rows)}</table>
<h2>Plots</h2>
{''.join(figures)}
</body></html>
"""
    path.write_text(document)
    return path
