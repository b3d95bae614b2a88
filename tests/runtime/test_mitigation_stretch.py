"""Pulse-stretch ZNE through a real daemon on a virtual_2q whose store holds the gates stretched 2x.

The Estimator must play the stretched calibrations (the applied noise factor is the ECR's duration ratio,
exactly 2 on the 16-sample CR grid), lose signal at 2x only as a longer gate does, and report what it ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from calibrated_lab import copy_calibrated
from daemon_lab import Lab, started

from qubitlab.circuits import Circuit
from qubitlab.runtime import EstimatorV2


@pytest.fixture(scope="module")
def stretched_daemon(calibrated_2q: tuple[Path, list[Any]], tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[Lab]:
    from qubitlab.calibration import bringup
    from qubitlab.calibration.experiments.stretch import runner
    from qubitlab.calibration.session import open_calibration

    folder = tmp_path_factory.mktemp("stretch_zne")
    lab_file = copy_calibrated(calibrated_2q[0], folder)
    with open_calibration(lab_file) as session:
        steps = [bringup.Step(node, target, "test") for node in bringup.STRETCH
                 for target in bringup.targets(node, session.lab.qubits, session.lab.couplings)]
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, runner((2.0,)))
    assert all(o.passed for o in outcomes), [o.summary() for o in outcomes]
    running = started(folder, lab_file)
    try:
        yield running
    finally:
        running.daemon.stop()


def test_pulse_stretch_zne_plays_the_stretched_calibrations(stretched_daemon: Lab) -> None:
    circuit = Circuit(2).h(0).cx(0, 1)                                  # |Phi+>: <ZZ> = <XX> = 1, <YY> = -1
    options = {"resilience_level": 2, "twirling": {"enable_gates": False},
               "resilience": {"zne": {"amplifier": "pulse_stretch", "noise_factors": (1.0, 2.0),
                                      "extrapolator": "linear"}}}
    with stretched_daemon.service() as service:
        pub = EstimatorV2(mode=service, options=options).run([(circuit, ["ZZ", "XX", "YY"])],
                                                             precision=0.01).result(timeout=600)[0]
        missing = {**options, "resilience": {"zne": {**options["resilience"]["zne"],  # type: ignore[dict-item]
                                                     "noise_factors": (1.0, 3.0)}}}
        from qubitlab.errors import JobError

        with pytest.raises(JobError, match=r"q0-q1\.cr_amp_s3.*--factors 3"):
            EstimatorV2(mode=service, options=missing).run([(circuit, ["ZZ"])], precision=0.05).result(timeout=600)
    zne = pub.metadata["zne"]
    assert zne["amplifier"] == "pulse_stretch" and zne["pulse_stretch"].startswith("calibrated per factor")
    # (2 x 352 + 80) / (2 x 176 + 40) samples: the ECR twice as long, exactly
    assert zne["noise_factors_applied"] == [1.0, 2.0]
    at = np.abs(pub.data.evs_noise_factors)                             # (3 observables, 2 factors)
    stds = pub.data.stds_noise_factors
    # one ECR more of decoherence at 2x: each correlator loses between 0 and a few percent (T2 ~ 45 us, the
    # extra 0.39 us costs ~0.9 % per qubit), never a coherent error of the size a wrong stretched gate makes
    loss = at[:, 0] - at[:, 1]
    assert np.all(loss > -3 * np.hypot(stds[:, 0], stds[:, 1])), (at, stds)
    assert np.all(loss < 0.04 + 3 * np.hypot(stds[:, 0], stds[:, 1])), (at, stds)
    assert np.all(np.abs(pub.data.evs - np.array([1.0, 1.0, -1.0])) <= 4 * pub.data.stds + 0.02), (
        pub.data.evs, pub.data.stds)
