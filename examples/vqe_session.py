"""H2 VQE in a session: the variational loop on the client, every energy an EstimatorV2 job on the daemon.

What it shows: the main job's chemistry at small scale -- H2 at 0.735 Angstrom, 2 qubits, 5 Pauli terms (the
coefficients and their source are in ``qubitlab.main_job``), a 4-parameter RY-CX-RY ansatz, scipy's COBYLA --
with ``Session`` keeping the device for this loop (no other job runs between two iterations).

Run it: ``python examples/vqe_session.py`` (about 60 s with the bring-up it starts with). Last line:
``RESULT energy_error_mha=<|E - E_exact| in mHa>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _calibrated import calibrated_lab, daemon, output_folder
from _plots import figure, save
from scipy.optimize import minimize

from qubitlab.circuits.observables import SparsePauliOp
from qubitlab.main_job import H2_TERMS, ansatz, exact_ground_energy
from qubitlab.runtime import EstimatorV2, Session

# Chemical accuracy is 1.6 mHa; with readout correction and 10,000 shots per basis the statistical error of one
# energy is ~2 mHa, and 50 COBYLA steps from the Hartree-Fock point get within a few mHa of the minimum: 20 mHa
# is the primitives issue's bound at level 0, met here at level 1 with room.
EXPECT = {"energy_error_mha": (0.0, 20.0)}
PLOT = "vqe_session.png"


def main() -> None:
    out = output_folder()
    lab_file = calibrated_lab(out)
    circuit, _ = ansatz()
    hamiltonian = SparsePauliOp(list(H2_TERMS), list(H2_TERMS.values()))
    energies: list[float] = []
    with daemon(lab_file) as service, Session(service, max_time="10m") as session:
        estimator = EstimatorV2(mode=session)
        estimator.options.default_precision = 0.01                  # 10,000 shots per basis: less noise for COBYLA

        def energy(x: np.ndarray) -> float:
            value = float(estimator.run([(circuit, hamiltonian, x)]).result()[0].data.evs)
            energies.append(value)
            return value

        # start near the Hartree-Fock state |01> (qubit 0 excited: the IZ term's +0.398 wants <Z0> = -1):
        # ry(pi) on qubit 0 after the CX, everything else at 0
        x0 = np.array([0.05, -0.05, np.pi - 0.1, 0.05])
        result = minimize(energy, x0, method="COBYLA", options={"maxiter": 50, "rhobeg": 0.3})
        final = energy(result.x)
    exact = exact_ground_energy()
    print(f"{len(energies)} energies; final {final:.5f} Ha, exact {exact:.5f} Ha")
    plot(energies, exact, out)
    print(f"RESULT energy_error_mha={abs(final - exact) * 1e3:.2f}")


def plot(energies: list[float], exact: float, out: Path) -> None:
    fig = figure()
    axis = fig.add_subplot()
    axis.plot(range(1, len(energies) + 1), energies, "o-", ms=3, lw=1, label="EstimatorV2 in a Session")
    axis.axhline(exact, color="k", lw=1, ls="--", label=f"exact ground energy {exact:.4f} Ha")
    axis.set_xlabel("energy evaluation (one job each)")
    axis.set_ylabel("energy (Ha)")
    axis.legend()
    save(fig, out, PLOT)


if __name__ == "__main__":
    main()
