"""VQE as a server-side program: the optimizer loop runs in the daemon's worker, next to the instruments.

What it shows: one ``run_program("vqe", ...)`` job instead of one job per iteration. The client sends data
only -- the ansatz's circuit document, the observable's Pauli terms, the optimizer's name, ``maxiter``, an
initial point, estimator options -- and ``job.stream()`` yields each iteration (iteration, parameters,
energy, std) the moment the worker publishes it; ``job.result()`` is the final answer, measured once more at
the optimizer's point, with the whole history and the estimator's cache counters (the ansatz is lowered once,
then only bound). The calibrated virtual lab and a daemon on an ephemeral 127.0.0.1 port come from
``examples/_calibrated.py`` (which stops the daemon by its pid); the program minimises ``H = 0.6 Z + 0.8 X`` on
q0 with an ``RY(theta)`` ansatz by SPSA.

Run it: ``python examples/vqe_program.py`` (about 50 s on its own, most of it the bring-up). The store and keys go to
``$QUBITLAB_EXAMPLES_OUT`` (default: a new temporary folder); the last lines are ``RESULT energy=<Ha>`` and
``RESULT streamed=<iterations>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _calibrated import calibrated_lab, daemon, output_folder
from _plots import figure, save

from qubitlab.circuits import Circuit, Parameter

# H = 0.6 Z + 0.8 X has eigenvalues +-sqrt(0.6**2 + 0.8**2) = +-1 exactly; RY(theta)|0> reaches the ground state
# (theta = pi + atan2(0.8, 0.6)). Readout is corrected (resilience_level 1) and q0's gates err ~3e-4 each, so the
# answer lies within 3 standard errors (4096 shots per basis: ~0.01) of -1, never much below it (variational).
# SPSA runs exactly MAXITER iterations and each is streamed once.
MAXITER = 30
EXPECT = {"energy": (-1.04, -0.95), "streamed": (30, 30)}
TERMS = {"Z": 0.6, "X": 0.8}
PLOT = "vqe_program.png"


def main() -> None:
    out = output_folder()
    lab_file = calibrated_lab(out)
    theta = Parameter("theta")
    ansatz = Circuit(1, name="ry").ry(theta, 0)
    with daemon(lab_file) as service:
        job = service.run_program("vqe", {"ansatz": ansatz, "observable": TERMS, "optimizer": "SPSA",
                                          "maxiter": MAXITER, "initial_point": [0.5]},
                                  {"estimator": {"resilience_level": 1}})
        streamed = 0
        history: list[tuple[float, float]] = []
        for record in job.stream(timeout=300):
            streamed += 1
            history.append((record["energy"], record["std"]))
            print(f"  iteration {record['iteration']:3d}  theta {record['parameters'][0]:+.4f}  "
                  f"E {record['energy']:+.5f} +- {record['std']:.5f}  ({record['seconds'] * 1e3:.0f} ms)")
        result = job.result(timeout=60)
    exact = -float(np.hypot(*TERMS.values()))
    cache = result["cache"]
    print(f"energy {result['energy']:+.5f} +- {result['std']:.5f} (exact {exact:+.5f}); lowered "
          f"{cache['last']['lowered_misses']} times, reused {cache['last']['lowered_hits']} times")
    plot(history, exact, out)
    print(f"RESULT energy={result['energy']:.5f}")
    print(f"RESULT streamed={streamed}")


def plot(history: list[tuple[float, float]], exact: float, out: Path) -> None:
    fig = figure()
    axis = fig.add_subplot()
    energy, std = np.array(history).T
    axis.errorbar(np.arange(1, len(energy) + 1), energy, yerr=std, fmt="o-", ms=3, lw=1, capsize=2,
                  label="streamed by the worker (SPSA)")
    axis.axhline(exact, color="k", lw=1, ls="--", label=f"exact {exact:+.3f} Ha")
    axis.set_xlabel("iteration")
    axis.set_ylabel("energy (Ha)")
    axis.legend()
    save(fig, out, PLOT)


if __name__ == "__main__":
    main()
