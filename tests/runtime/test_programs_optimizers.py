"""The ``vqe`` program's L-BFGS-B (parameter-shift gradients) and Nelder-Mead, through a real daemon on the
calibrated virtual two-qubit lab.

Expected values from physics, not from the program: ``RY(theta)|0>`` has ``<Z> = cos(theta)``, so the energy
landscape is ``cos``, its minimum ``-1`` at ``theta = pi``, and the exact gradient ``-sin(theta)``; the
parameter-shift rule ``(E(theta + pi/2) - E(theta - pi/2)) / 2`` equals it exactly for a Pauli rotation, so
every gradient L-BFGS-B was given must be ``-sin(theta)`` within shot noise. Two qubits, ``RY(a)`` and
``RY(b)`` under ``Z0 + Z1``: ``cos(a) + cos(b)``, minimum ``-2`` at ``(pi, pi)``.

Tolerances: ``precision`` fixes the shots, ``ceil(1 / precision**2)``, so one expectation value of a
unit-variance observable has standard error ``precision`` before readout correction; the correction divides
by ``1 - e01 - e10`` (assignment errors of a few percent here), bounded by ``READOUT_GAIN``. A gradient is half
the difference of two such estimates: standard error ``GAIN * precision / sqrt(2)``. ``GATE`` allows for the
stored single-qubit gate errors (a few 1e-3 per gate, two sx per RY) and the T1 decay during them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from daemon_lab import Lab, calibrated_daemon_in

from qubitlab.circuits import Circuit, Parameter

PRECISION = 0.02                                   # 2500 shots per expectation value
READOUT_GAIN = 1.3
GATE = 0.03


@pytest.fixture(scope="module")
def optimizer_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[Lab]:
    with calibrated_daemon_in(tmp_path_factory.mktemp("optimizers"), calibrated_2q[0]) as running:
        yield running


def run_vqe(lab: Lab, inputs: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with lab.service(timeout=300) as service:
        job = service.run_program("vqe", {"precision": PRECISION, **inputs}, {"estimator": {"resilience_level": 1}})
        streamed = list(job.stream(timeout=300))
        return job.result(timeout=120), streamed


def test_lbfgsb_gets_parameter_shift_gradients_equal_to_minus_sin_theta_and_reaches_cos_minimum(
        optimizer_daemon: Lab) -> None:
    theta = Parameter("theta")
    ansatz = Circuit(1, name="ry").ry(theta, 0)
    result, streamed = run_vqe(optimizer_daemon, {"ansatz": ansatz, "observable": {"Z": 1.0},
                                                  "optimizer": "L-BFGS-B", "maxiter": 12, "initial_point": [0.6]})
    noise = 4 * READOUT_GAIN * PRECISION
    assert streamed and all("gradient" in r for r in streamed), "every L-BFGS-B call publishes its gradient"
    for record in streamed:
        x = record["parameters"][0]
        # shot noise of a difference of two estimates, and a contrast loss of at most 1% scaling -sin(theta)
        assert record["gradient"][0] == pytest.approx(-math.sin(x), abs=noise / math.sqrt(2) + 0.01), record
        assert record["energy"] == pytest.approx(math.cos(x), abs=noise + GATE), record
    assert result["estimator_calls"] <= 12 + 1        # the budget, plus the answer measured once more
    final = float(np.asarray(result["parameters"])[0])
    assert math.cos(final) <= -0.99, final            # within 0.15 rad of pi (mod 2 pi)
    assert result["energy"] == pytest.approx(math.cos(final), abs=noise + GATE)
    assert result["energy"] <= -1 + noise + GATE
    worst = max(abs(r["gradient"][0] + math.sin(r["parameters"][0])) for r in streamed)
    print(f"L-BFGS-B: {len(streamed)} calls, theta {final:.4f}, E {result['energy']:.4f} +- {result['std']:.4f}, "
          f"largest gradient error {worst:.4f} ({result['message']})")


def test_nelder_mead_reaches_the_minimum_of_cos_a_plus_cos_b_on_two_qubits(optimizer_daemon: Lab) -> None:
    a, b = Parameter("a"), Parameter("b")
    ansatz = Circuit(2, name="ry_ry").ry(a, 0).ry(b, 1)
    result, streamed = run_vqe(optimizer_daemon, {"ansatz": ansatz, "observable": {"IZ": 1.0, "ZI": 1.0},
                                                  "optimizer": "Nelder-Mead", "maxiter": 40,
                                                  "initial_point": [2.0, 2.2]})
    noise = 4 * READOUT_GAIN * PRECISION * math.sqrt(2)     # two independent unit-variance terms
    for record in streamed:
        x = record["parameters"]
        assert record["energy"] == pytest.approx(math.cos(x[0]) + math.cos(x[1]), abs=noise + 2 * GATE), record
        assert "gradient" not in record
    assert len(streamed) <= 40 and result["estimator_calls"] == len(streamed) + 1
    final = np.asarray(result["parameters"], dtype=np.float64)
    assert result["parameter_names"] == ["a", "b"]
    assert float(np.sum(np.cos(final))) <= -1.9, final      # each angle within about 0.3 rad of pi
    assert result["energy"] <= -2 + noise + 2 * GATE
    print(f"Nelder-Mead: {len(streamed)} calls, (a, b) {final.round(4)}, E {result['energy']:.4f} +- "
          f"{result['std']:.4f} ({result['message']})")
