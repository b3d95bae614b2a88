"""Full bring-up of a qubit from nothing but the lab file, then a drift check -- from Python, not the CLI.

What it shows: what ``qubitlab calibrate all`` and ``qubitlab calibrate check`` do, as library calls. The
bring-up graph (``calibration/bringup.py``) is planned against a fresh store (every node "never calibrated"),
run on the virtual lab and committed node by node: spectroscopy, Rabi, Ramsey, readout, DRAG, fine amplitude,
T1, T2*, T2 echo and randomized benchmarking of q0. Then the virtual device is made to drift by 200 kHz, and the
quick checks (Ramsey, fine amplitude, readout) find it and rewrite q0's frequency -- and nothing else. A second
plan finds nothing stale: the store remembers.

Run it: ``python examples/bringup_and_drift.py`` (about 30 s). Plots and the store go to
``$QUBITLAB_EXAMPLES_OUT`` (default: a new temporary folder); the last lines are ``RESULT q0_frequency_ghz=...``,
``RESULT q0_t1_us=...`` and ``RESULT drift_found_khz=...``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from qubitlab.calibration import bringup
from qubitlab.calibration.session import open_calibration

# From virtual_2q.yaml's device section: q0's line at 4.997 GHz (the file gives dressed frequencies; Ramsey
# resolves it to a few kHz, the range is +-200 kHz), T1 = 60 us (fitted from 1000 shots, +-20 %), and the 200 kHz
# drift this script applies (the Ramsey check resolves it to better than its 20 kHz tolerance).
EXPECT = {"q0_frequency_ghz": (4.9968, 4.9972), "q0_t1_us": (48.0, 72.0), "drift_found_khz": (180.0, 220.0)}

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))
DRIFT = 200e3


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lab_file = OUT / "virtual_2q.yaml"          # a copy: its store (.qubitlab/ next to it) starts empty
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with open_calibration(lab_file, out_dir=OUT, shots=1000) as session:
        steps = bringup.plan(session.ledger, [0], session.lab.couplings)
        print(f"{len(steps)} node runs planned:", ", ".join(s.node.name for s in steps))
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
        for outcome in outcomes:
            print(" ", outcome.summary())
        if not all(o.passed for o in outcomes):
            raise SystemExit("a bring-up node failed its quality gates (see above)")
        calibrated = session.store.snapshot()
        print("again:", len(bringup.plan(session.ledger, [0], session.lab.couplings)), "stale nodes")

        session.virtual.drift(0, frequency_shift=DRIFT)        # the fridge moves q0 by 200 kHz
        results = bringup.check(session.ctx, session.ledger, [0], bringup.default_runner)
        drifted = {key: found for r in results for key, found in r.drifted.items()}
        print("drifted:", {k: f"{old:.7g} -> {new:.7g}" for k, (old, new) in drifted.items()})
        changed = [c.key for c in calibrated.diff(session.store.snapshot())]
        print("keys the check changed in the store:", changed)
    old, new = drifted["q0.frequency"]
    print(f"RESULT q0_frequency_ghz={old / 1e9:.6f}")
    print(f"RESULT q0_t1_us={calibrated.value('q0.t1') * 1e6:.2f}")
    print(f"RESULT drift_found_khz={(new - old) / 1e3:.1f}")


if __name__ == "__main__":
    main()
