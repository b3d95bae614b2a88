"""One Estimator iteration of the main job's H2 ansatz in a session, end to end, and its host overhead.

The workload is the main job's: the 4-parameter RY-CX-RY ansatz, the 5-term H2 Hamiltonian (2 qubit-wise
commuting bases: ZZ-type and XX), 4000 shots per basis (``options.default_shots``), resilience level 0 and 1
(level 1 adds the two assignment circuits), new angles every iteration as an optimizer sends them. The device
is the virtual two-qubit lab brought up in a temporary folder first (not timed). Beside each row: the
simulation time, which is the worker's ``execute_acquire`` stage (the digitizer waiting on the physics); the
host overhead is the iteration's wall time minus that.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._harness import Row, Timing

ROOT = Path(__file__).resolve().parents[1]


def h2_rows(iterations: int = 20) -> list[Row]:
    sys.path.insert(0, str(ROOT / "tests"))
    from calibrated_lab import bring_up
    from daemon_lab import started

    from qubitlab.circuits.observables import SparsePauliOp
    from qubitlab.main_job import H2_TERMS, ansatz
    from qubitlab.runtime import EstimatorV2, Session

    folder = Path(tempfile.mkdtemp(prefix="qubitlab-bench-h2-"))
    rows: list[Row] = []
    try:
        lab_file, _ = bring_up(folder)
        lab = started(folder, lab_file)
        try:
            circuit, _ = ansatz()
            hamiltonian = SparsePauliOp(list(H2_TERMS), list(H2_TERMS.values()))
            rng = np.random.default_rng(3)
            with lab.service(timeout=120) as service, Session(service) as session:
                for level in (0, 1):
                    estimator = EstimatorV2(mode=session, options={"default_shots": 4000,
                                                                   "resilience_level": level})
                    estimator.run([(circuit, hamiltonian, rng.uniform(-1, 1, 4))]).result(timeout=300)  # warm
                    walls, sims, compiles, decodes = [], [], [], []
                    for _ in range(iterations):
                        start = time.perf_counter()
                        job = estimator.run([(circuit, hamiltonian, rng.uniform(-1, 1, 4))])
                        result = job.result(timeout=300)
                        walls.append(time.perf_counter() - start)
                        timings = job.details()["timings"]
                        sims.append(float(timings.get("execute_acquire", 0.0)))
                        compiles.append(float(timings.get("compile", 0.0)))   # a template rebind (pulse.bind)
                        decodes.append(float(timings.get("decode", 0.0)))
                    assert result[0].metadata["num_bases"] == 2 and result[0].metadata["shots"] == 4000
                    overhead = tuple(w - s for w, s in zip(walls, sims))
                    rows.append(Row("runtime", f"H2 Estimator iteration in a session, level {level} (5 terms, "
                                    "2 bases, 4000 shots)", Timing(tuple(walls)),
                                    extra={"simulation_median_s": statistics.median(sims),
                                           "compile_median_s": statistics.median(compiles),
                                           "decode_median_s": statistics.median(decodes)}))
                    rows.append(Row("runtime", f"H2 iteration host overhead (all but the simulation), level "
                                    f"{level}", Timing(overhead), target=20e-3))
        finally:
            lab.daemon.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows
