"""Pulse-stretch ZNE against gate-folding ZNE and no mitigation, over several device seeds (issue 17).

Not a timing suite: for each device seed a virtual_2q is brought up from its lab file (``calibrate all``),
its stretched gates are calibrated (nodes ``stretch_1q`` and ``stretch_ecr``, :data:`FACTORS`), and a daemon
serves it. Each setting runs the Bell pair through 5 CX (5 ECRs; the ideal state is the Bell state) and the H2
ansatz at its exact optimum (1 ECR; the exact angles and energy are found here with numpy from the circuit's
unitary and the Hamiltonian's matrix, independent of the device and the Estimator). The figure is the
absolute error against the exact value, the mean over seeds with its standard error across seeds.
``QUBITLAB_ZNE_STRETCH_LAB=<folder>`` keeps the brought-up labs there (one sub-folder per seed) and reuses them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from benchmarks._harness import Row, Timing

SEEDS = (1234, 7, 2026)
FACTORS = (1.5, 2.0, 3.0)
QUAD = ("polynomial_degree_2", "linear")
NO_TWIRL = {"enable_gates": False}
SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("level 0 (raw)", {"resilience_level": 0}),
    ("level 1 (readout)", {"resilience_level": 1}),
    ("fold 1,3,5 quadratic", {"resilience_level": 2, "twirling": NO_TWIRL,
                              "resilience": {"zne": {"noise_factors": (1.0, 3.0, 5.0), "extrapolator": QUAD}}}),
    ("stretch 1,2,3 quadratic", {"resilience_level": 2, "twirling": NO_TWIRL, "resilience": {"zne": {
        "amplifier": "pulse_stretch", "noise_factors": (1.0, 2.0, 3.0), "extrapolator": QUAD}}}),
    ("stretch 1,1.5,2 linear", {"resilience_level": 2, "twirling": NO_TWIRL, "resilience": {"zne": {
        "amplifier": "pulse_stretch", "noise_factors": (1.0, 1.5, 2.0), "extrapolator": "linear"}}}),
    ("stretch 1,1.5,2,3 quadratic", {"resilience_level": 2, "twirling": NO_TWIRL, "resilience": {"zne": {
        "amplifier": "pulse_stretch", "noise_factors": (1.0, 1.5, 2.0, 3.0), "extrapolator": QUAD}}}),
]


def h2_optimum() -> tuple[Any, float]:
    """The H2 ansatz bound at the angles of its exact minimum, and the exact ground energy (Ha)."""
    from qubitlab.circuits.observables import SparsePauliOp
    from qubitlab.main_job import H2_TERMS, ansatz, exact_ground_energy

    circuit, theta = ansatz()
    matrix = SparsePauliOp(list(H2_TERMS), list(H2_TERMS.values())).to_matrix()

    def energy(x: Any) -> float:
        state = circuit.assign_parameters(dict(zip(theta, x))).to_matrix()[:, 0]
        return float(np.real(state.conj() @ matrix @ state))

    best = min((minimize(energy, np.array(start), method="BFGS") for start in
                ([0.1, 0.1, 0.1, 0.1], [3.0, 0.2, 0.1, -0.2], [1.0, -1.0, 0.5, 0.5])), key=lambda r: r.fun)
    exact = exact_ground_energy()
    assert abs(best.fun - exact) < 1e-8, (best.fun, exact)
    return circuit.assign_parameters(dict(zip(theta, best.x))), exact


def workloads() -> list[tuple[str, Any, Any, float]]:
    """(name, circuit, observable, exact value): <ZZ> + <XX> - <YY> of the 5-CX Bell pair (exact 3), H2's
    energy at the optimum."""
    from qubitlab.circuits import Circuit
    from qubitlab.circuits.observables import SparsePauliOp
    from qubitlab.main_job import H2_TERMS

    bell = Circuit(2).h(0)
    for _ in range(5):
        bell.cx(0, 1)
    h2, exact = h2_optimum()
    return [("bell 5 cx (ZZ+XX-YY)", bell, SparsePauliOp(["ZZ", "XX", "YY"], [1.0, 1.0, -1.0]), 3.0),
            ("H2 at optimum (Ha)", h2, SparsePauliOp(list(H2_TERMS), list(H2_TERMS.values())), exact)]


def brought_up(folder: Path, seed: int) -> Path:
    """virtual_2q with device seed ``seed`` in ``folder``, brought up and its stretched gates calibrated."""
    from qubitlab.calibration import bringup
    from qubitlab.calibration.experiments import stretch
    from qubitlab.calibration.session import open_calibration

    lab_file = folder / "virtual_2q.yaml"
    if (folder / "stretched.done").exists():
        return lab_file
    root = Path(__file__).resolve().parents[1]
    text = (root / "lab_configs" / "virtual_2q.yaml").read_text()
    lab_file.write_text(text.replace("seed: 1234", f"seed: {seed}", 1))
    with open_calibration(lab_file) as session:
        steps = bringup.plan(session.ledger, session.lab.qubits, session.lab.couplings)
        steps += [bringup.Step(node, target, "benchmark") for node in bringup.STRETCH
                  for target in bringup.targets(node, session.lab.qubits, session.lab.couplings)]
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, stretch.runner(FACTORS))
    failed = [o.summary() for o in outcomes if not o.passed]
    if failed:
        print(f"seed {seed}: {len(failed)} calibration runs failed: " + " | ".join(failed), file=sys.stderr)
    (folder / "stretched.done").write_text("ok\n")
    return lab_file


def measure(lab_file: Path, precision: float) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(workload, setting) -> (|error|, reported std, seconds) on one brought-up lab, through a daemon."""
    from qubitlab.runtime import EstimatorV2
    from qubitlab.runtime.client import QubitlabService
    from qubitlab.runtime.keys import server_keys
    from qubitlab.runtime.launch import client_key, start_daemon

    keys_dir = lab_file.parent / "keys"
    server_keys(keys_dir)
    key = client_key(keys_dir, f"bench{os.getpid()}", folder=lab_file.parent / "client_keys")
    daemon = start_daemon(lab_file, keys_dir=keys_dir)
    out = {}
    try:
        assert daemon.server_key is not None
        with QubitlabService(daemon.address, key=key, server_key=daemon.server_key, timeout=60) as service:
            for name, circuit, observable, exact in workloads():
                for setting, options in SETTINGS:
                    t0 = time.perf_counter()
                    pub = EstimatorV2(mode=service, options=options).run(
                        [(circuit, observable)], precision=precision).result(timeout=1200)[0]
                    value, std = float(np.asarray(pub.data.evs)), float(np.asarray(pub.data.stds))
                    out[(name, setting)] = (abs(value - exact), std, time.perf_counter() - t0)
                    print(f"  {name:22s} {setting:30s} ev {value:+.4f} (exact {exact:+.4f}) +- {std:.4f}",
                          flush=True)
    finally:
        daemon.stop()
    return out


def run(repeat: int = 1, precision: float = 0.01, seeds: tuple[int, ...] = SEEDS) -> list[Row]:
    keep = os.environ.get("QUBITLAB_ZNE_STRETCH_LAB")
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="qubitlab-zne-stretch-"))
    found = []
    for seed in seeds:
        folder = base / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        print(f"seed {seed}: bring-up and stretched gates in {folder}", flush=True)
        found.append(measure(brought_up(folder, seed), precision))
    rows = []
    for (name, setting) in found[0]:
        errors = np.array([f[(name, setting)][0] for f in found])
        stds = np.array([f[(name, setting)][1] for f in found])
        mean, sem = float(errors.mean()), float(errors.std(ddof=1) / np.sqrt(len(errors))) if len(errors) > 1 else 0.0
        rows.append(Row("zne_stretch", f"{name}: {setting}", Timing(tuple(f[(name, setting)][2] for f in found)),
                        extra={"abs_error_per_seed": errors.tolist(), "mean_abs_error": mean,
                               "sem_across_seeds": sem, "mean_reported_std": float(stds.mean()),
                               "seeds": list(seeds), "precision": precision}))
        print(f"{name:22s} {setting:30s} |error| {mean:.4f} +- {sem:.4f} (per seed "
              + ", ".join(f"{e:.4f}" for e in errors) + f"; reported std {stds.mean():.4f})")
    if not keep:
        shutil.rmtree(base, ignore_errors=True)
    return rows
