"""A parameter grid as a server-side program: counts of a Rabi-like sweep, and expectation values vs an angle.

What it shows: ``run_program("sweep", ...)`` runs any parameterised circuit over a grid of values inside the
worker, a chunk of points per program on the AWG (the circuit lowered once, each chunk bound into the compiled
program), and streams every point as it is measured. Two modes: a circuit that measures and no observables
gives counts per point (a Sampler PUB per chunk); an unmeasured circuit with ``observables`` gives their
expectation values per point (one Estimator PUB per chunk for all observables together, readout corrected at
``resilience_level`` 1). The calibrated virtual lab and a daemon on an ephemeral 127.0.0.1 port come from
``examples/_calibrated.py`` (which stops the daemon by its pid).

Run it: ``python examples/sweep_program.py`` (about 50 s on its own, most of it the bring-up). The store and keys
go to ``$QUBITLAB_EXAMPLES_OUT`` (default: a new temporary folder); the last lines are ``RESULT p1_at_0=...``,
``RESULT p1_at_pi=...``, ``RESULT max_error_zx=...`` and ``RESULT streamed=...``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from _calibrated import calibrated_lab, daemon, output_folder
from _plots import figure, save

from qubitlab.circuits import Circuit, Parameter

# RX(theta)|0> has P(1) = sin^2(theta / 2): 0 at theta = 0 and 1 at pi, seen through q0's readout, whose
# assignment errors on the virtual two-qubit lab are below a few percent (P(1|0) near 0 with the matched
# filter, P(0|1) mostly T1 decay during the readout): so P(1) reads below 0.08 at 0 and above 0.9 at pi. RY(theta)|0> has <Z> = cos(theta), <X> = sin(theta); corrected for
# readout, they deviate by the gates' small errors and the shot noise (4096 shots a basis: sigma ~0.016), so
# the largest deviation over 9 points stays below 0.08. 13 + 9 points are streamed, each once.
RABI_POINTS, ANGLE_POINTS, SHOTS = 13, 9, 2000
EXPECT = {"p1_at_0": (0.0, 0.08), "p1_at_pi": (0.9, 1.0), "max_error_zx": (0.0, 0.08), "streamed": (22, 22)}
PLOT = "sweep_program.png"


def main() -> None:
    out = output_folder()
    lab_file = calibrated_lab(out)
    theta = Parameter("theta")
    rabi = Circuit(1, 1, name="rx_sweep").rx(theta, 0).measure(0, 0)
    rotation = Circuit(1, name="ry_sweep").ry(theta, 0)
    rabi_grid = np.linspace(0, 2 * math.pi, RABI_POINTS)[:, None]
    angle_grid = np.linspace(0, math.pi, ANGLE_POINTS)[:, None]
    streamed = 0
    with daemon(lab_file) as service:
        counts_job = service.run_program("sweep", {"circuit": rabi, "values": rabi_grid, "shots": SHOTS, "chunk": 7})
        for record in counts_job.stream(timeout=300):
            streamed += 1
            (counts,) = record["counts"].values()
            print(f"  theta {record['parameters'][0]:5.3f}  counts {counts}")
        counts = [next(iter(point.values())) for point in counts_job.result(timeout=60)["counts"]]
        values_job = service.run_program("sweep", {"circuit": rotation, "values": angle_grid,
                                                   "observables": [{"Z": 1.0}, {"X": 1.0}]},
                                         {"estimator": {"resilience_level": 1}})
        for record in values_job.stream(timeout=300):
            streamed += 1
            z, x = record["evs"]
            print(f"  theta {record['parameters'][0]:5.3f}  <Z> {z:+.4f}  <X> {x:+.4f}")
        result = values_job.result(timeout=60)
    p1 = np.array([c.get("1", 0) / SHOTS for c in counts])
    evs = np.asarray(result["evs"])
    ideal = np.stack([np.cos(angle_grid[:, 0]), np.sin(angle_grid[:, 0])], axis=1)
    plot(rabi_grid[:, 0], p1, angle_grid[:, 0], evs, np.asarray(result["stds"]), out)
    print(f"RESULT p1_at_0={p1[0]:.4f}")
    print(f"RESULT p1_at_pi={p1[RABI_POINTS // 2]:.4f}")
    print(f"RESULT max_error_zx={float(np.max(np.abs(evs - ideal))):.4f}")
    print(f"RESULT streamed={streamed}")


def plot(rabi: np.ndarray, p1: np.ndarray, angles: np.ndarray, evs: np.ndarray, stds: np.ndarray, out: Path
         ) -> None:
    fig = figure(width=9.0)
    left, right = fig.subplots(1, 2)
    fine = np.linspace(rabi[0], rabi[-1], 200)
    left.plot(fine, np.sin(fine / 2) ** 2, "k--", lw=1, label=r"$\sin^2(\theta/2)$")
    left.plot(rabi, p1, "o", ms=4, label="P(1), counts per point")
    left.set_xlabel(r"RX angle $\theta$ (rad)")
    left.set_ylabel("P(1)")
    left.legend()
    fine = np.linspace(angles[0], angles[-1], 200)
    for k, (name, ideal) in enumerate((("Z", np.cos), ("X", np.sin))):
        right.plot(fine, ideal(fine), "k--", lw=1)
        right.errorbar(angles, evs[:, k], yerr=stds[:, k], fmt="o", ms=4, capsize=2, label=f"<{name}>")
    right.set_xlabel(r"RY angle $\theta$ (rad)")
    right.set_ylabel("expectation value (readout corrected)")
    right.legend()
    save(fig, out, PLOT)


if __name__ == "__main__":
    main()
