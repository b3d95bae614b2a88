"""Mitigation benchmark: the Estimator's absolute error at resilience levels 0, 1 and 2 on the issue's circuits.

Why it exists: issue 17 is done when, on Bell (virtual_2q), GHZ-3 (virtual_5q's qubits 0-1-2) and the H2 energy
at the optimum, level 1 has at most 0.5x and level 2 at most 0.35x the absolute error of level 0, averaged over
device seeds. Each row is one (circuit, setting) through a real daemon. The truth is computed here with numpy,
independent of the device and of the Estimator: the circuit's unitary for Bell and GHZ-3, and for H2 the exact
4x4 ground energy, with the ansatz angles at the exact optimum found classically (so the ansatz reaches it).

Seeds are the virtual lab's noise seeds (``device.seed``): each lab is brought up once, then for every seed its
calibration store is copied and the lab file's seed replaced, so the device (and its calibration) is the same
and the shot noise, readout and decoherence draws differ. ``--repeat N`` sets the number of seeds (default 3; ``QUBITLAB_MITIGATION_SEEDS=1234,1335`` names them);
``QUBITLAB_MITIGATION_CIRCUITS=bell,h2`` (the bounded fast variant) skips the GHZ-3 lab's bring-up;
``QUBITLAB_MITIGATION_LAB=<folder>`` keeps the brought-up labs there to skip the bring-ups next time;
``QUBITLAB_MITIGATION_PRECISION`` sets the Estimator's precision (default 0.01).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks._harness import Row, Timing

ROOT = Path(__file__).resolve().parents[1]
FEW = {"num_randomizations": 4}
"""Level 2's gate twirling with 4 randomizations: the default 32 x 3 noise factors x the bases overruns the
virtual digitizer's acquisition timeout."""
SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("level 0", {"resilience_level": 0}),
    ("level 1 (TREX)", {"resilience_level": 1, "twirling": {"enable_measure": True}}),
    ("level 1, assignment matrices", {"resilience_level": 1, "twirling": {"enable_measure": False}}),
    ("level 2 (twirled x4)", {"resilience_level": 2, "twirling": FEW}),
    ("level 2 (twirled x4), quadratic", {"resilience_level": 2, "twirling": FEW, "resilience": {
        "zne": {"extrapolator": ("polynomial_degree_2", "linear")}}}),
]
PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0])}


def _ry(theta: float) -> Any:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -s], [s, c]])


def h2_state(t: Any) -> Any:
    """The main job's ansatz (RY, RY, CX 0->1, RY, RY) on |00>, written out here (qubit 0 least significant)."""
    cx = np.array([[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=float)  # control 0, target 1
    state = np.kron(_ry(t[1]), _ry(t[0])) @ np.array([1.0, 0, 0, 0])
    return np.kron(_ry(t[3]), _ry(t[2])) @ (cx @ state)


def h2_optimum() -> tuple[list[float], float]:
    """Angles that reach the exact ground energy (classical minimisation), and that energy (diagonalised)."""
    from scipy.optimize import minimize

    from qubitlab.main_job import H2_TERMS

    matrix = operator(H2_TERMS)
    exact = float(np.linalg.eigvalsh(matrix)[0])
    best = min((minimize(lambda t: float(h2_state(t) @ matrix @ h2_state(t)), x0, method="BFGS")
                for x0 in ([0, 0, math.pi, 0], [0.3, -0.2, 2.8, 0.1])), key=lambda r: r.fun)
    assert abs(best.fun - exact) < 1e-9, (best.fun, exact)
    return [float(v) for v in best.x], exact


def operator(terms: dict[str, float]) -> Any:
    total = 0
    for label, coeff in terms.items():
        m = np.array([[1.0]])
        for letter in label:                                # label's first letter is the highest qubit
            m = np.kron(m, PAULI[letter])
        total = total + coeff * m
    return np.real(total)


def ideal(circuit: Any, label: str) -> float:
    state = circuit.to_matrix()[:, 0]
    m = np.array([[1.0]])
    for letter in label:
        m = np.kron(m, PAULI[letter])
    return float(np.real(state.conj() @ m @ state))


def cases(names: list[str]) -> list[tuple[str, str, Any, Any, list[float]]]:
    """(name, lab, circuit, observables, truths): Bell on virtual_2q, H2 at its optimum, GHZ-3 on 0-1-2."""
    from qubitlab.circuits import Circuit
    from qubitlab.circuits.observables import SparsePauliOp
    from qubitlab.main_job import H2_TERMS

    out: list[tuple[str, str, Any, Any, list[float]]] = []
    if "bell" in names:
        bell = Circuit(2).h(0).cx(0, 1)
        out.append(("Bell", "virtual_2q", bell, ["ZZ", "XX", "YY"], [ideal(bell, p) for p in ("ZZ", "XX", "YY")]))
    if "h2" in names:
        t, exact = h2_optimum()
        h2 = Circuit(2).ry(t[0], 0).ry(t[1], 1).cx(0, 1).ry(t[2], 0).ry(t[3], 1)
        out.append(("H2 energy", "virtual_2q", h2, SparsePauliOp(list(H2_TERMS), list(H2_TERMS.values())), [exact]))
    if "ghz3" in names:
        ghz = Circuit(3).h(0).cx(0, 1).cx(1, 2)
        labels = ["IZZ", "ZZI", "XXX"]
        out.append(("GHZ-3", "virtual_5q_line3", ghz, labels, [ideal(ghz, p) for p in labels]))
    return out


def _brought_up(folder: Path, lab: str) -> Path:
    """``lab`` brought up once in ``folder`` (kept when it is already there): ``calibrate all`` on virtual_2q,
    or on virtual_5q cut to its line 0-1-2 (tests/calibration/test_bringup_hard_devices.py's cut)."""
    from qubitlab.calibration import bringup
    from qubitlab.calibration.session import open_calibration

    lab_file = folder / lab / f"{lab}.yaml"
    if (lab_file.parent / ".qubitlab" / "calibration.sqlite").exists():
        return lab_file
    lab_file.parent.mkdir(parents=True, exist_ok=True)
    if lab == "virtual_2q":
        shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    else:
        sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "calibration")]
        from test_bringup_hard_devices import three_qubit_line

        data = three_qubit_line()
        data["name"] = lab
        lab_file.write_text(yaml.safe_dump(data, sort_keys=False))
    t0 = time.perf_counter()
    with open_calibration(lab_file) as session:
        steps = bringup.plan(session.ledger, session.lab.qubits, session.lab.couplings)
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
    print(f"  bring-up of {lab}: {time.perf_counter() - t0:.0f} s, {len(outcomes)} steps", flush=True)
    return lab_file


def _seeded(lab_file: Path, seed: int, folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from calibrated_lab import copy_calibrated

    folder.mkdir(parents=True, exist_ok=True)
    target = copy_calibrated(lab_file, folder)
    data = yaml.safe_load(target.read_text())
    data["device"]["seed"] = seed
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def _errors(lab_file: Path, work: list[tuple[str, str, Any, Any, list[float]]], precision: float
            ) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(case, setting) -> (mean |error| over the observables, its Estimator std, seconds) on one seeded lab."""
    from qubitlab.runtime import EstimatorV2
    from qubitlab.runtime.client import QubitlabService
    from qubitlab.runtime.keys import server_keys
    from qubitlab.runtime.launch import client_key, start_daemon

    keys_dir = lab_file.parent / "keys"
    server_keys(keys_dir)
    key = client_key(keys_dir, f"bench{os.getpid()}", folder=lab_file.parent / "client_keys")
    daemon = start_daemon(lab_file, keys_dir=keys_dir)
    out: dict[tuple[str, str], tuple[float, float, float]] = {}
    try:
        assert daemon.server_key is not None
        with QubitlabService(daemon.address, key=key, server_key=daemon.server_key, timeout=60) as service:
            for name, _, circuit, observables, truth in work:
                for setting, options in SETTINGS:
                    t0 = time.perf_counter()
                    data = EstimatorV2(mode=service, options=options).run(
                        [(circuit, observables)], precision=precision).result(timeout=1200)[0].data
                    err = np.abs(np.atleast_1d(np.asarray(data.evs, dtype=float)) - truth)
                    std = np.atleast_1d(np.asarray(data.stds, dtype=float))
                    out[(name, setting)] = (float(err.mean()), float(np.sqrt(np.sum(std**2))) / len(std),
                                            time.perf_counter() - t0)
                    print(f"  {lab_file.parent.name:24s} {name:10s} {setting:34s} |error| {err.mean():.4f} "
                          f"(std {out[(name, setting)][1]:.4f})", flush=True)
    finally:
        daemon.stop()
    return out


def run(repeat: int = 3, precision: float = 0.01) -> list[Row]:
    precision = float(os.environ.get("QUBITLAB_MITIGATION_PRECISION", precision))
    names = os.environ.get("QUBITLAB_MITIGATION_CIRCUITS", "bell,h2,ghz3").split(",")
    keep = os.environ.get("QUBITLAB_MITIGATION_LAB")
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="qubitlab-mitigation-"))
    work = cases(names)
    chosen = os.environ.get("QUBITLAB_MITIGATION_SEEDS")
    seeds = [int(v) for v in chosen.split(",")] if chosen else [1234 + 101 * k for k in range(max(1, repeat))]
    per_seed: list[dict[tuple[str, str], tuple[float, float, float]]] = []
    for seed in seeds:
        found: dict[tuple[str, str], tuple[float, float, float]] = {}
        for lab in sorted({w[1] for w in work}):
            lab_file = _seeded(_brought_up(folder, lab), seed, folder / f"{lab}-seed{seed}")
            found.update(_errors(lab_file, [w for w in work if w[1] == lab], precision))
        per_seed.append(found)
    return _rows(work, seeds, per_seed, precision)


def _rows(work: list[tuple[str, str, Any, Any, list[float]]], seeds: list[int],
          per_seed: list[dict[tuple[str, str], tuple[float, float, float]]], precision: float) -> list[Row]:
    """Mean over the seeds of each |error|, its error bar (the seeds' standard error, or the Estimator's std
    over sqrt(seeds) when larger), and the ratios to level 0 with propagated error bars."""
    rows: list[Row] = []
    for name, lab, *_ in work:
        base = None
        for setting, _ in SETTINGS:
            errs = np.array([s[(name, setting)][0] for s in per_seed])
            stds = np.array([s[(name, setting)][1] for s in per_seed])
            mean = float(errs.mean())
            bar = max(float(errs.std(ddof=1) / math.sqrt(len(errs))) if len(errs) > 1 else 0.0,
                      float(np.sqrt(np.mean(stds**2)) / math.sqrt(len(errs))))
            if base is None:
                base = (mean, bar)
            ratio = mean / base[0]
            ratio_bar = ratio * math.hypot(bar / mean if mean else 0.0, base[1] / base[0])
            rows.append(Row("mitigation", f"{name}: {setting}",
                            Timing(tuple(s[(name, setting)][2] for s in per_seed)), extra={
                                "lab": lab, "seeds": seeds, "precision": precision, "abs_error": mean,
                                "abs_error_bar": bar, "per_seed": errs.tolist(), "ratio_to_level_0": ratio,
                                "ratio_bar": ratio_bar}))
            print(f"{name:10s} {setting:34s} |error| {mean:.4f} +- {bar:.4f}   x level 0: {ratio:.2f} +- "
                  f"{ratio_bar:.2f}", flush=True)
    return rows
