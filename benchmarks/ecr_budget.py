"""The error budget of a calibrated lab's ECRs: process tomography on the virtual device, without shots.

Why it exists: a Bell fidelity or a mitigated expectation value says that a gate is off, not which term makes
it so. This reads each calibrated ECR's process from the virtual device's populations at the acquisition (the
dressed basis, as the readout sees it; no shots, no readout error): 16 inputs prepared by the calibrated 1q
gates (|0>, |1>, |+>, |+i> per qubit) times 9 measurement bases, linear inversion to the Pauli transfer matrix,
its average gate fidelity against the ideal ECR, the nearest unitary and its error generator
``i log(U_ideal^dag U)`` in the Pauli basis (first letter the control), the leakage out of the qubit levels,
and the best fidelity extra Z rotations on the target before and after the gate would give. Run once with the
device's T1/T2 and once with T1 = T2 = 1 s, so that the second shows the coherent error alone. The preparation
and basis-change gates set a floor of ~1e-3 (fidelities a little above 1).

``python -m benchmarks.ecr_budget LAB_FILE [C,T ...]`` (a brought-up lab: its file beside ``.qubitlab/``);
not a suite of ``python -m benchmarks`` (it needs a calibrated lab, and times nothing).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg as sl
from scipy.optimize import minimize

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]], complex), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0]).astype(complex)}
LETTERS = "IXYZ"
PREPARE = {"0": (), "1": ("x",), "+": ("h",), "i": ("h", "s")}
STATES = {"0": [1, 0], "1": [0, 1], "+": [1, 1], "i": [1, 1j]}
BASIS = {"X": ("h",), "Y": ("sdg", "h"), "Z": ()}


def pauli(control: str, target: str) -> Any:
    return np.kron(PAULI[target], PAULI[control])          # the control is bit 0


def quiet(lab: Any) -> Any:
    from qubitlab.config.device import DeviceConfig

    section = lab.device.model_dump()
    for p in section["qubits"].values():
        p["t1"], p["t2"] = 1.0, 1.0
    return lab.model_copy(update={"device": DeviceConfig.model_validate(section)})


def populations(lab: Any, snapshot: Any, circuits: list[Any], pair: tuple[int, int], coherent: bool) -> Any:
    """Per circuit, the populations of the pair's four qubit states (index bit 0 = control) and the leakage."""
    from qubitlab.calibration.gates import gate_map_from_snapshot
    from qubitlab.calibration.values import CalibratedValues
    from qubitlab.circuits import Target, lower
    from qubitlab.drivers.mock.physics.drive import LoState
    from qubitlab.drivers.mock.physics.engine import VirtualDevice
    from qubitlab.drivers.payloads import AwgProgram, DigitizerProgram
    from qubitlab.pulse.compiler import compile

    gm = gate_map_from_snapshot(lab, snapshot)
    compiled = compile([lower(c, gm, Target.from_lab(lab, gm)) for c in circuits], lab,
                       CalibratedValues(lab, snapshot).frames())
    awgs = {n: p for n, p in compiled.payloads.items() if isinstance(p, AwgProgram)}
    digitizer = next(p for p in compiled.payloads.values() if isinstance(p, DigitizerProgram))
    los = {line.lo: LoState(line.lo_frequency, line.lo_power) for line in lab.wiring.lines.values()}
    device, levels = VirtualDevice(quiet(lab) if coherent else lab), lab.device.levels
    out = []
    for point in range(len(circuits)):
        volts = {n: {o: a.played(o, point).astype(np.float64) * a.full_scale_vpp[o] / 2 for o in a.outputs}
                 for n, a in awgs.items()}
        begin = min(w.start for w in digitizer.windows if w.point == point) / digitizer.sample_rate
        qubits, pops = next((q, p) for q, p in device.populations(volts, los, begin).items() if pair[0] in q)
        if pair[1] not in qubits:
            raise RuntimeError(f"ECR{pair}: the virtual device did not evolve the pair together ({qubits})")
        table = pops.reshape([levels] * len(qubits))
        axes = [qubits.index(q) for q in pair]
        kept = tuple(i for i in range(len(qubits)) if i not in axes)
        joint = table.sum(axis=kept) if kept else table     # [control level, target level] ...
        joint = joint.T if axes[0] > axes[1] else joint     # ... whatever the group's order
        out.append((joint[:2, :2].T.reshape(-1), 1 - joint[:2, :2].sum()))  # index = control + 2 target
    return out


def process(lab: Any, snapshot: Any, pair: tuple[int, int], coherent: bool) -> tuple[Any, float]:
    """The ECR's Pauli transfer matrix (rows and columns over ``pauli(a, b)``, a on the control) and the mean
    leakage over the inputs."""
    from qubitlab.circuits import Circuit

    c, t = pair
    width = max(lab.topology.qubits) + 1
    circuits, inputs, bases = [], [], []
    for pc, pt in itertools.product(PREPARE, repeat=2):
        for bc, bt in itertools.product("XYZ", repeat=2):
            qc = Circuit(width, width)
            for name in PREPARE[pc]:
                getattr(qc, name)(c)
            for name in PREPARE[pt]:
                getattr(qc, name)(t)
            qc.barrier(*range(width)).ecr(c, t).barrier(*range(width))
            for q, b in ((c, bc), (t, bt)):
                for name in BASIS[b]:
                    getattr(qc, name)(q)
            circuits.append(qc.barrier(c, t).measure(c, c).measure(t, t))
            inputs.append((pc, pt))
            bases.append((bc, bt))
    found = populations(lab, snapshot, circuits, pair, coherent)
    rows_in, rows_out, leaks = [], [], []
    for k in range(0, len(circuits), 9):
        expect: dict[tuple[str, str], list[float]] = {}
        for (probs, leak), (bc, bt) in zip(found[k:k + 9], bases[k:k + 9]):
            leaks.append(leak)
            for on_c, on_t in itertools.product((0, 1), repeat=2):
                sign = np.array([(-1) ** ((i & 1) * on_c + (i >> 1) * on_t) for i in range(4)])
                expect.setdefault((bc if on_c else "I", bt if on_t else "I"), []).append(float(sign @ probs))
        rows_out.append([np.mean(expect[(a, b)]) for a in LETTERS for b in LETTERS])
        pc, pt = inputs[k]
        states = [np.outer(v, np.conj(v)) / np.vdot(v, v).real for v in (np.array(STATES[pc], complex),
                                                                          np.array(STATES[pt], complex))]
        rho = np.kron(states[1], states[0])
        rows_in.append([np.trace(pauli(a, b) @ rho).real for a in LETTERS for b in LETTERS])
    return np.array(rows_out).T @ np.linalg.inv(np.array(rows_in).T), float(np.mean(leaks))


def ptm(u: Any) -> Any:
    return np.array([[np.trace(pauli(a, b) @ u @ pauli(x, y) @ u.conj().T).real / 4 for x in LETTERS for y in LETTERS]
                     for a in LETTERS for b in LETTERS])


def budget(matrix: Any, ideal: Any) -> tuple[float, dict[str, float], float, tuple[float, float]]:
    """Average gate fidelity, error generator (rad per Pauli, |c| >= 0.005), the best fidelity with extra
    target Zs and those Zs."""
    target = ptm(ideal)

    def fidelity(m: Any) -> float:
        return (4 * np.trace(target.T @ m) / 16 + 1) / 5

    basis = [pauli(a, b) for a in LETTERS for b in LETTERS]
    choi = sum(np.kron(np.outer(np.eye(4)[i], np.eye(4)[j]), sum(
        (matrix @ np.array([np.trace(p @ np.outer(np.eye(4)[i], np.eye(4)[j])) for p in basis]))[k] * basis[k]
        for k in range(16)) / 4) for i in range(4) for j in range(4))
    vector = np.linalg.eigh(choi)[1][:, -1]
    unitary = np.array([vector[i * 4:(i + 1) * 4] for i in range(4)]).T
    w = ideal.conj().T @ unitary
    w = w * np.conj(np.trace(w)) / abs(np.trace(w))
    left, _, right = np.linalg.svd(w)
    generator = 1j * sl.logm(left @ right)
    terms = {a + b: float(np.trace(pauli(a, b) @ generator).real / 4) for a in LETTERS for b in LETTERS}

    def rz(angle: float) -> Any:
        return ptm(np.kron(np.diag([np.exp(-0.5j * angle), np.exp(0.5j * angle)]), np.eye(2)))

    best = minimize(lambda v: -fidelity(rz(v[1]) @ matrix @ rz(v[0])), np.zeros(2), method="Nelder-Mead")
    big = {k: round(v, 4) for k, v in terms.items() if k != "II" and abs(v) >= 0.005}
    return fidelity(matrix), big, -float(best.fun), (float(best.x[0]), float(best.x[1]))


def main(argv: list[str]) -> int:
    from qubitlab import load_lab
    from qubitlab.calibration.store import CalibrationStore
    from qubitlab.circuits import Circuit

    lab_file = Path(argv[0])
    lab = load_lab(lab_file)
    with CalibrationStore(lab_file.parent / ".qubitlab" / "calibration.sqlite", lab) as store:
        snapshot = store.snapshot()
    pairs = [tuple(int(q) for q in p.split(",")) for p in argv[1:]] or list(lab.couplings)
    ideal = Circuit(2).ecr(0, 1).to_matrix()
    for pair in pairs:
        for coherent in (True, False):
            matrix, leak = process(lab, snapshot, pair, coherent)   # type: ignore[arg-type]
            fidelity, terms, best, zs = budget(matrix, ideal)
            print(f"ECR{pair} {'without' if coherent else 'with'} decoherence: average gate fidelity {fidelity:.4f}, "
                  f"leakage {leak:.1e}; best with target Zs {best:.4f} at {zs[0]:+.3f} / {zs[1]:+.3f} rad; "
                  f"error generator (rad) {terms}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
