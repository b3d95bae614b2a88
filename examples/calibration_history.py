"""Calibration history, diff and rollback: the store keeps every value it ever had, and can go back.

What it shows: a good calibration is committed (values with errors, fit quality and the run that produced
them), then a bad recalibration overwrites two values. The history of ``q0.x_amp`` lists both, newest first,
each with its run; the diff between the good snapshot and now names exactly the two keys; a rollback to the
good snapshot's id appends the old values (deleting nothing) and the current snapshot id equals the good one
again. A value outside the physical bounds is refused with a message that names the key and the bounds, and
nothing is written. These are the calls behind ``qubitlab cal history|diff|rollback``. No instruments needed.

Run it: ``python examples/calibration_history.py`` (about 2 s). The store goes to ``$QUBITLAB_EXAMPLES_OUT``
(default: a new temporary folder); the last lines are ``RESULT history_rows=3``, ``RESULT changed_keys=2``
and ``RESULT rollback_restored=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from qubitlab import load_lab
from qubitlab.calibration import CalibrationStore, RunInfo, Update
from qubitlab.errors import CalibrationError

# Exact by construction: x_amp is written three times (good run, bad run, rollback); the bad run changes two
# keys; after the rollback the current snapshot's id is the good one's (ids hash content only).
EXPECT = {"history_rows": (3, 3), "changed_keys": (2, 2), "rollback_restored": (1, 1)}

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))

GOOD = {"q0.frequency": (4.997e9, 700.0), "q0.x_amp": (0.2440, 0.0001), "q0.sx_amp": (0.1220, 0.00005),
        "q0.t1": (6.1e-5, 0.9e-6)}
"""What a bring-up of virtual_2q's q0 finds (see examples/bringup_and_drift.py), value and standard error."""
BAD = {"q0.x_amp": (0.2710, 0.004), "q0.sx_amp": (0.1355, 0.002)}
"""A recalibration that went wrong (fitted on a bad day; it passed its gates but the gates were too loose)."""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lab_file = OUT / "virtual_2q.yaml"
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with CalibrationStore.for_lab(load_lab(lab_file)) as store:
        store.commit([Update(k, v, stderr=e, fit_quality={"r2": 0.998}) for k, (v, e) in GOOD.items()],
                     RunInfo("bring-up q0"))
        good = store.snapshot()
        print(f"good calibration: snapshot {good.id}, {len(good)} values")
        store.commit([Update(k, v, stderr=e, fit_quality={"r2": 0.91}) for k, (v, e) in BAD.items()],
                     RunInfo("rabi q0"))
        print(f"after the bad run: snapshot {store.snapshot().id}")

        changes = good.diff(store.snapshot())
        for change in changes:
            assert change.old is not None and change.new is not None
            print(f"  diff {change.key}: {change.old.value:.6g} -> {change.new.value:.6g} ({change.kind.value})")

        try:
            store.set("q0.x_amp", 1.7, reason="typo")
        except CalibrationError as exc:
            print(f"refused: {exc}")

        rollback_run = store.rollback(good.id, reason="the Rabi of this morning was fitted on a bad day")
        restored = store.snapshot()
        print(f"rollback run {rollback_run}: snapshot {restored.id}")
        history = store.history("q0.x_amp")
        for record in history:
            print(f"  history q0.x_amp = {record.value:.6g} +- {record.stderr:.2g}  run {record.run.experiment!r}"
                  f" ({record.run.kind.value})")
    print(f"RESULT history_rows={len(history)}")
    print(f"RESULT changed_keys={len(changes)}")
    print(f"RESULT rollback_restored={int(restored.id == good.id)}")


if __name__ == "__main__":
    main()
