"""Calibration benchmark: the full bring-up of ``virtual_2q.yaml`` from nothing but the lab file.

The lab file is copied into a temporary folder (so its calibration store starts empty), the virtual lab is
started in-process, and ``calibrate all`` runs every node of the graph on both qubits and the pair. Timed:
wall clock of the whole bring-up (one run; it is long). Target 60 s. Reference: the sum of the physics time
the virtual digitizer reports, i.e. what a perfectly fast host would still spend.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Row, Timing

ROOT = Path(__file__).resolve().parents[1]


def run(repeat: int = 1) -> list[Row]:
    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import open_calibration

    samples, physics, failed = [], [], 0
    for _ in range(max(1, repeat)):
        with tempfile.TemporaryDirectory(prefix="qubitlab-bench-") as tmp:
            lab_file = Path(tmp) / "virtual_2q.yaml"
            shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
            start = time.perf_counter()
            with open_calibration(lab_file) as session:
                digitizer = session.virtual.instruments["digitizer"]
                spent = [0.0]
                steps = bringup.plan(session.ledger, session.lab.qubits, session.lab.couplings)
                original = session.ctx.executor.run

                def timed_run(*args, **kwargs):  # type: ignore[no-untyped-def]
                    result = original(*args, **kwargs)
                    spent[0] += digitizer.compute_seconds
                    return result

                session.ctx.executor.run = timed_run  # type: ignore[method-assign]
                outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
                failed += sum(not o.passed for o in outcomes)
            samples.append(time.perf_counter() - start)
            physics.append(spent[0])
    reference = Timing(tuple(physics))
    return [
        Row("calibrate", "reference: physics time inside the bring-up", reference),
        Row("calibrate", "full bring-up of virtual_2q (calibrate all)", Timing(tuple(samples)), target=60.0,
            reference=reference.median, reference_name="physics", extra={"failed_runs": failed}),
    ]
