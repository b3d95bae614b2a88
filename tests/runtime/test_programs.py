"""Server-side programs (vqe, qaoa, sweep) through a real daemon on the calibrated virtual two-qubit lab.

Expected values come from outside the program: H2's exact ground energy by diagonalising the 4x4 Hamiltonian
built here from Kronecker products; the bound on the VQE's error from the variational principle and the stored
gate fidelities (a state of fidelity F with the ground state has E - E0 <= (1 - F)(Emax - E0)); MaxCut optima
by brute force; a sweep's <Z> against cos(theta). Streaming, cancel and a daemon restart are checked on the job
store's own records, read back through a restarted daemon.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from calibrated_lab import copy_calibrated
from daemon_lab import Lab, calibrated_daemon_in, started

from qubitlab.circuits import Circuit, Parameter
from qubitlab.errors import JobError
from qubitlab.main_job import H2_TERMS, ansatz
from qubitlab.runtime import QubitlabService
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.launch import start_daemon

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0])}


@pytest.fixture(scope="module")
def programs_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Lab]:
    with calibrated_daemon_in(tmp_path_factory.mktemp("programs"), calibrated_2q[0]) as running:
        yield running


def spectrum(terms: dict[str, float]) -> np.ndarray:
    """Eigenvalues of sum c P (label[0] acts on the highest qubit, Qiskit's order), from Kronecker products."""
    matrix = sum(c * np.kron(PAULI[label[0]], PAULI[label[1]]) for label, c in terms.items())
    return np.linalg.eigvalsh(matrix)


def stored(lab: Lab) -> Any:
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore

    with CalibrationStore.for_lab(load_lab(lab.lab_file)) as store:
        return store.snapshot()


def vqe_inputs(maxiter: int, optimizer: str = "COBYLA") -> dict[str, Any]:
    circuit, _ = ansatz()
    return {"ansatz": circuit, "observable": H2_TERMS, "optimizer": optimizer, "maxiter": maxiter,
            "initial_point": [0.1, 0.1, 0.1, 0.1], "optimizer_settings": {"rhobeg": 0.5}}


def test_vqe_reaches_the_exact_h2_energy_within_the_stored_gate_errors_and_streams_in_order(
        programs_daemon: Lab) -> None:
    levels = spectrum(H2_TERMS)
    exact, highest = levels[0], levels[-1]
    snapshot = stored(programs_daemon)
    # the ansatz: one CX and four RY (two sx each); readout is corrected (resilience_level 1)
    infidelity = (1 - snapshot["q0-q1.bell_fidelity"].value) + 2 * snapshot["q0-q1.bell_fidelity"].stderr \
        + 8 * max(snapshot[f"q{q}.epc_1q"].value for q in (0, 1))
    with programs_daemon.service(timeout=120) as service:
        job = service.run_program("vqe", vqe_inputs(100), {"estimator": {"resilience_level": 1}})
        seen, running_when_first = [], None
        for record in job.stream(timeout=120):
            if running_when_first is None:
                running_when_first = job.status() is JobStatus.RUNNING
            seen.append(record)
        result = job.result(timeout=60)
    assert running_when_first, "the first iteration must reach the client while the program still runs"
    assert [r["iteration"] for r in seen] == list(range(1, len(seen) + 1)) and 10 <= len(seen) <= 100
    assert np.allclose(result["history"]["energy"], [r["energy"] for r in seen])
    error = result["energy"] - exact
    sigma = result["std"]
    assert -3 * sigma <= error <= infidelity * (highest - exact) + 3 * sigma, (result["energy"], exact, infidelity)
    first, last = result["cache"]["first"], result["cache"]["last"]
    bases = first["lowered_misses"]                      # the first call lowered each basis (and readout) once
    assert last["lowered_misses"] == bases, "no iteration may lower the ansatz again"
    assert last["lowered_hits"] - first["lowered_hits"] == bases * (result["estimator_calls"] - 1)
    # compiled once: every later call rebinds the same template (pulse.bind), none runs the pass list again
    assert last["template_misses"] == first["template_misses"], "no iteration may compile the ansatz again"
    assert last["template_hits"] - first["template_hits"] == result["estimator_calls"] - 1


def test_cancel_stops_a_running_vqe_within_one_iteration_and_keeps_its_history(programs_daemon: Lab) -> None:
    with programs_daemon.service(timeout=60) as service:
        job = service.run_program("vqe", vqe_inputs(5000))
        stream = job.stream(timeout=60)
        for _ in range(3):
            next(stream)
        counted = len(list(_stored(service, job.job_id())))
        job.cancel()
        job.wait(timeout=30)
        assert job.status() is JobStatus.CANCELLED
        history = list(service.job(job.job_id()).stream(timeout=10))
        with pytest.raises(JobError, match="cancelled"):
            job.result()
    assert [r["iteration"] for r in history] == list(range(1, len(history) + 1))
    assert counted <= len(history) <= counted + 2      # the iteration under way when the abort arrived, at most
    shown = jobs_show(programs_daemon.daemon.address, programs_daemon, job.job_id(), "--json")
    progress = json.loads(shown)["progress"]
    assert [r["energy"] for r in progress] == pytest.approx([r["energy"] for r in history])


def _stored(service: QubitlabService, job_id: str) -> list[Any]:
    from qubitlab.runtime.protocol import MsgType

    return list(service.request(MsgType.STREAM, {"job_id": job_id, "after": 0}).content["records"])


def test_a_daemon_killed_during_a_program_leaves_it_error_with_its_history_readable(
        calibrated_2q: tuple[Path, list[Any]], tmp_path: Path) -> None:
    lab = started(tmp_path, copy_calibrated(calibrated_2q[0], tmp_path))
    with lab.service(timeout=60) as service:
        job = service.run_program("vqe", vqe_inputs(5000))
        stream = job.stream(timeout=60)
        before = [next(stream) for _ in range(3)]
        stream.close()
    lab.daemon.kill()                                  # kill -9 mid-program: the worker stops at its next check
    restarted = start_daemon(lab.lab_file, keys_dir=lab.daemon.keys_dir)
    try:
        assert lab.daemon.server_key is not None
        with QubitlabService(restarted.address, key=lab.keys["alice"], server_key=lab.daemon.server_key,
                             timeout=60) as service:
            again = service.job(job.job_id())
            details = again.details()
            history = list(again.stream(timeout=10))
        shown = json.loads(jobs_show(restarted.address, lab, job.job_id(), "--json"))
        table = jobs_show(restarted.address, lab, job.job_id())
    finally:
        restarted.stop()
    assert details["status"] == "ERROR" and "history" in details["error"], details
    assert details["attempts"] == 1, "a program is not re-run after a daemon crash"
    assert history[:3] == before and [r["iteration"] for r in history] == list(range(1, len(history) + 1))
    assert shown["job"]["status"] == "ERROR", shown
    assert [r["energy"] for r in shown["progress"]] == pytest.approx([r["energy"] for r in history])
    assert "ERROR" in table and f"program progress: {len(history)} iterations" in table, table


def jobs_show(address: str, lab: Lab, job_id: str, *flags: str) -> str:
    """What ``qubitlab jobs show JOB`` prints, run as a separate process (as an operator types it)."""
    assert lab.daemon.server_key is not None
    shown = subprocess.run([sys.executable, "-m", "qubitlab", "jobs", "show", job_id, "--address", address,
                            "--key", str(lab.keys["alice"]), "--server-key", str(lab.daemon.server_key), *flags],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def max_cut(n: int, edges: list[tuple[int, int]]) -> int:
    return max(sum(1 for i, j in edges if (k >> i) & 1 != (k >> j) & 1) for k in range(2**n))


def test_qaoa_p1_finds_the_cut_of_a_two_node_graph(programs_daemon: Lab) -> None:
    edges = [(0, 1)]
    with programs_daemon.service(timeout=120) as service:
        job = service.run_program("qaoa", {"graph": {"nodes": 2, "edges": [list(e) for e in edges]}, "p": 1,
                                           "optimizer": "COBYLA", "maxiter": 40, "shots": 512},
                                  {"estimator": {"resilience_level": 1}})
        result = job.result(timeout=120)
    best = max_cut(2, edges)
    assert result["max_cut"] == best == 1
    assert result["cut"] in ("01", "10") and result["cut_value"] == best
    assert result["expected_cut"] / best >= 0.9, result["expected_cut"]
    optimal = sum(result["counts"].get(bits, 0) for bits in ("01", "10")) / 512
    assert optimal >= 0.9, result["counts"]             # <C> >= 0.9 needs P(cut) >= 0.9 on a single edge


def test_sweep_gives_cos_theta_over_a_grid_in_order(programs_daemon: Lab) -> None:
    theta = Parameter("theta")
    circuit = Circuit(1, name="ry_sweep").ry(theta, 0)
    grid = np.linspace(0, math.pi, 5)[:, None]
    with programs_daemon.service(timeout=120) as service:
        job = service.run_program("sweep", {"circuit": circuit, "observables": [{"Z": 1.0}, {"X": 1.0}],
                                            "values": grid, "chunk": 2}, {"estimator": {"resilience_level": 1}})
        streamed = list(job.stream(timeout=60))
        result = job.result(timeout=60)
    evs, stds = np.asarray(result["evs"]), np.asarray(result["stds"])
    expected = np.stack([np.cos(grid[:, 0]), np.sin(grid[:, 0])], axis=1)
    assert evs.shape == (5, 2)
    assert np.all(np.abs(evs - expected) <= 4 * stds + 0.02), (evs, expected)
    assert [r["parameters"][0] for r in streamed] == pytest.approx(list(grid[:, 0]))


def test_a_sweep_without_observables_streams_counts_that_follow_sin_squared(programs_daemon: Lab) -> None:
    """RX(theta) on q0, measured: P(1) = sin^2(theta / 2) seen through the readout, so at every point it lies
    within the stored readout error (1 - readout_fidelity, a mean of P(1|0) and P(0|1), so x2 for either one)
    of the ideal value, 4 sigma of shot noise added; counts per point sum to the shots."""
    from qubitlab import load_lab
    from qubitlab.calibration import CalibrationStore

    theta = Parameter("theta")
    circuit = Circuit(1, 1, name="rx_sweep").rx(theta, 0).measure(0, 0)
    grid = np.linspace(0, math.pi, 5)[:, None]
    shots = 2000
    with programs_daemon.service(timeout=120) as service:
        job = service.run_program("sweep", {"circuit": circuit, "values": grid, "chunk": 3, "shots": shots})
        streamed = list(job.stream(timeout=60))
        result = job.result(timeout=60)
    with CalibrationStore.for_lab(load_lab(programs_daemon.lab_file)) as store:
        error = 2 * (1 - store.snapshot()["q0.readout_fidelity"].value)
    assert [r["iteration"] for r in streamed] == [1, 2, 3, 4, 5] and result["shots"] == shots
    assert [r["counts"] for r in streamed] == result["counts"]
    for value, point in zip(grid[:, 0], result["counts"]):
        (register, counts), = point.items()
        assert sum(counts.values()) == shots and set(counts) <= {"0", "1"}
        p1 = counts.get("1", 0) / shots
        assert abs(p1 - math.sin(value / 2) ** 2) <= error + 4 * math.sqrt(0.25 / shots), (value, p1, error)


def test_bad_program_inputs_fail_with_errors_that_say_what_is_valid(programs_daemon: Lab) -> None:
    with programs_daemon.service(timeout=60) as service:
        with pytest.raises(JobError, match="SPSA"):
            service.run_program("vqe", {**vqe_inputs(5), "optimizer": "Adam"}).result(timeout=60)
        with pytest.raises(JobError, match="4 finite numbers"):
            service.run_program("vqe", {**vqe_inputs(5), "initial_point": [0.0]}).result(timeout=60)
        with pytest.raises(JobError, match="edge"):
            service.run_program("qaoa", {"graph": {"nodes": 2, "edges": [[0, 0]]}}).result(timeout=60)
        with pytest.raises(JobError, match="no measurements; give 'observables'"):
            service.run_program("sweep", {"circuit": Circuit(1).rx(Parameter("t"), 0), "values": [[0.1]]}
                                ).result(timeout=60)
        with pytest.raises(JobError, match="unknown options"):
            service.run_program("vqe", vqe_inputs(5), {"shots": 10})
