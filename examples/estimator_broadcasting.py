"""EstimatorV2 with broadcasting: one PUB, a sweep of angles against several observables, one program.

What it shows: Qiskit's broadcasting rules -- parameter values of shape (5, 1) (the last axis of the array holds
the circuit's one parameter) against observables of shape (2,) give ``evs`` of shape (5, 2) -- and that all
5 x 2 bases run as one compiled program on the device, readout corrected (``resilience_level`` 1, the
default). It compares <Z> and <X> of ry(theta)|0> with cos(theta) and sin(theta).

Run it: ``python examples/estimator_broadcasting.py`` (about 50 s with the bring-up it starts with).
Last line: ``RESULT max_error=<largest |ev - closed form|>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _calibrated import calibrated_lab, daemon, output_folder
from _plots import figure, save

from qubitlab.circuits import Circuit, Parameter
from qubitlab.runtime import EstimatorV2

# At precision 0.02 each ev has a standard error of ~0.02 (a little more after readout correction), so
# 3 sigma is ~0.06; calibrated gates add errors of order 1e-3. An uncorrected or wrongly broadcast result is off
# by 0.05-2.
EXPECT = {"max_error": (0.0, 0.07)}
PLOT = "estimator_broadcasting.png"


def main() -> None:
    out = output_folder()
    lab_file = calibrated_lab(out)
    theta = Parameter("theta")
    circuit = Circuit(1).ry(theta, 0)
    angles = np.linspace(0, np.pi, 5).reshape(5, 1, 1)             # bindings shape (5, 1), one parameter
    with daemon(lab_file) as service:
        estimator = EstimatorV2(mode=service)                       # job mode: no session needed for one job
        pub = estimator.run([(circuit, ["Z", "X"], angles)], precision=0.02).result()[0]
    evs = pub.data.evs
    ideal = np.stack([np.cos(angles[:, 0, 0]), np.sin(angles[:, 0, 0])], axis=1)
    for t, (z, x), (z0, x0) in zip(angles[:, 0, 0], evs, ideal):
        print(f"theta {t:.3f}: <Z> {z:+.3f} (cos {z0:+.3f})  <X> {x:+.3f} (sin {x0:+.3f})")
    print(f"evs shape {evs.shape}, {pub.metadata['shots']} shots per basis, {pub.metadata['num_bases']} bases")
    plot(angles[:, 0, 0], evs, pub.data.stds, out)
    print(f"RESULT max_error={float(np.max(np.abs(evs - ideal))):.4f}")


def plot(angles: np.ndarray, evs: np.ndarray, stds: np.ndarray, out: Path) -> None:
    fig = figure()
    axis = fig.add_subplot()
    fine = np.linspace(0, np.pi, 200)
    for column, (label, ideal) in enumerate((("<Z>", np.cos), ("<X>", np.sin))):
        line = axis.plot(fine, ideal(fine), "-", lw=1, label=f"{label} ideal")[0]
        axis.errorbar(angles, evs[:, column], yerr=stds[:, column], fmt="o", ms=4, capsize=3,
                      color=line.get_color(), label=f"{label} measured (one PUB, evs[:, {column}])")
    axis.set_xlabel("theta (rad) of ry(theta)|0>")
    axis.set_ylabel("expectation value")
    axis.legend(fontsize=8)
    save(fig, out, PLOT)


if __name__ == "__main__":
    main()
