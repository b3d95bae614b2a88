"""Issue 22: ``calibrate all`` on harder devices drawn at random (seeded) from realistic ranges, two-qubit and a
three-qubit line with two CR pairs. Each bring-up takes about a minute, so they are marked slow; the bounded
variants run the readout chain of one drawn device on one qubit, and the cross-resonance of seed 33's pair.

Ranges (the issue's): qubit frequencies 4-6 GHz with neighbour detunings 80-400 MHz, anharmonicity -200 to
-350 MHz, T1 15-150 us, T2 10-150 us (at most 2 T1), dispersive shift 0.4-2 MHz, readout noise up to twice the
shipped labs' 0.6, bring-up ranges offset from the truth by up to a third of their width. Each drive LO sits in
the middle of the frequencies its line plays (its qubit's and its CR targets'), as a lab would set it;
frequency collisions (``COLLISION``) are not drawn. The
generated lab files start the readout at ``readout_amp: 0.25`` (virtual_2q: 0.1): at 0.1, a device with chi
0.4 MHz and twice the noise fails qubit spectroscopy's fit before any readout node runs (the failure's hint
says to raise bringup.readout_amp).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.linalg as sl
import yaml
from scipy.optimize import least_squares
from coherence import coherence_limit
from physics_lab import lo_states
from readout_limit import readout_limit
from two_qubit_values import ECR_CHECKS, ecr_check_programs, quick_context
from virtual_rig import started_rig

from qubitlab.calibration import bringup
from qubitlab.calibration.experiments import cross_resonance
from qubitlab.calibration.gates import build_gate_map
from qubitlab.calibration.session import open_calibration
from qubitlab.calibration.two_qubit import lowered
from qubitlab.circuits import Circuit
from qubitlab.config import LabConfig, load_lab
from qubitlab.config.device import DeviceConfig
from qubitlab.drivers.mock.physics.engine import VirtualDevice
from qubitlab.drivers.payloads import AwgProgram, DigitizerProgram
from qubitlab.pulse.compiler import compile

ROOT = Path(__file__).resolve().parents[2]
READOUT_NODES = ("resonator_spectroscopy", "qubit_spectroscopy", "rabi", "ramsey", "readout_frequency",
                 "readout_amplitude", "readout_duration", "readout")


def _frequencies(rng: np.random.Generator, n: int) -> list[float]:
    while True:
        f = [float(rng.uniform(4.3e9, 5.7e9))]
        for _ in range(n - 1):
            f.append(f[-1] + float(rng.choice([-1, 1]) * rng.uniform(80e6, 400e6)))
        spread_ok = all(max(f[max(q - 1, 0):q + 2]) - min(f[max(q - 1, 0):q + 2]) < 650e6 for q in range(n))
        distinct = all(abs(a - b) > 80e6 for i, a in enumerate(f) for b in f[i + 1:])
        if all(4e9 <= x <= 6e9 for x in f) and spread_ok and distinct:
            return f


def _resonators(rng: np.random.Generator, n: int) -> list[float]:
    while True:
        r = sorted(float(x) for x in rng.uniform(7.03e9, 7.17e9, n))
        if min(np.diff(r), default=1e9) > 30e6:
            return r


COLLISION = 30e6
"""A coupled pair whose one qubit's 1-2 line lies within this of the other's 0-1 line is a frequency collision
(Hertzberg et al., npj Quantum Inf. 7, 129 (2021)): the CR tone drives the control's 1-2 transition and no CR
gate exists; such devices are not fabricated on purpose, so the draw avoids them."""


def _anharmonicities(rng: np.random.Generator, freqs: list[float], pairs: list[tuple[int, int]]) -> list[float]:
    while True:
        alpha = [float(rng.uniform(-3.5e8, -2.0e8)) for _ in freqs]
        if all(abs(freqs[a] + alpha[a] - freqs[b]) > COLLISION and abs(freqs[b] + alpha[b] - freqs[a]) > COLLISION
               for a, b in pairs):
            return alpha


def draw(base: dict[str, Any], seed: int) -> dict[str, Any]:
    """``base``'s wiring with a device drawn from the issue's ranges and bring-up ranges around the truth."""
    rng = np.random.default_rng(seed)
    qubits = sorted(base["device"]["qubits"])
    freqs, resonators = _frequencies(rng, len(qubits)), _resonators(rng, len(qubits))
    pairs = [(qubits.index(a), qubits.index(b)) for a, b in base["topology"]["couplings"]]
    alphas = _anharmonicities(rng, freqs, pairs)
    for i, q in enumerate(qubits):
        t1 = float(rng.uniform(15e-6, 150e-6))
        p = base["device"]["qubits"][q]
        p.update(frequency=freqs[i], anharmonicity=alphas[i], t1=t1,
                 t2=float(rng.uniform(10e-6, min(150e-6, 2 * t1))), resonator_frequency=resonators[i],
                 dispersive_shift=-float(rng.uniform(0.4e6, 2.0e6)),
                 resonator_linewidth=float(rng.uniform(1.5e6, 2.5e6)),
                 readout_noise=float(rng.uniform(0.6, 1.2)), rabi_per_volt=float(rng.uniform(5e9, 7e9)))
        qubit_width, resonator_width = 50e6, 25e6
        qc = p["frequency"] + rng.uniform(-1, 1) * qubit_width / 3
        rc = p["resonator_frequency"] + rng.uniform(-1, 1) * resonator_width / 3
        base["bringup"]["qubits"][q] = {"resonator_range": [rc - resonator_width / 2, rc + resonator_width / 2],
                                        "qubit_range": [qc - qubit_width / 2, qc + qubit_width / 2]}
        played = [freqs[i]] + [freqs[qubits.index(c["target"])] for c in base["wiring"]["channels"].values()
                               if c.get("control") == q]
        base["wiring"]["lines"][f"q{q}_drive"]["lo_frequency"] = (min(played) + max(played)) / 2
    for coupling in base["device"]["couplings"]:
        coupling["j"] = float(rng.uniform(2.5e6, 4e6))
    base["bringup"]["readout_amp"] = 0.25
    base["device"]["seed"] = seed
    return base


def three_qubit_line() -> dict[str, Any]:
    """virtual_5q cut down to its first three qubits: a line 0-1-2 with the pairs (0, 1) and (1, 2)."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "lab_configs" / "virtual_5q.yaml").read_text())
    keep = {0, 1, 2}
    data["name"] = "random_3q"
    data["topology"]["qubits"] = sorted(keep)
    data["topology"]["couplings"] = [[0, 1], [1, 2]]
    for q in (3, 4):
        del data["wiring"]["lines"][f"q{q}_drive"], data["instruments"][f"lo_q{q}"], data["limits"]["los"][f"lo_q{q}"]
        del data["device"]["qubits"][q], data["bringup"]["qubits"][q]
    data["wiring"]["channels"] = {k: c for k, c in data["wiring"]["channels"].items()
                                  if int(k[1:]) < 3 and (k[0] != "u" or {c["control"], c["target"]} <= keep)}
    data["device"]["couplings"] = [c for c in data["device"]["couplings"] if set(c["qubits"]) <= keep]
    data["device"]["crosstalk"] = [x for x in data["device"].get("crosstalk", [])
                                   if {x["line"], x["reaches"]} <= keep]
    return data


def two_qubits() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "lab_configs" / "virtual_2q.yaml").read_text())
    data["name"] = "random_2q"
    return data


def bring_up(lab_file: Path, nodes: tuple[str, ...] | None = None, qubits: list[int] | None = None
             ) -> tuple[dict[str, float], list[str], LabConfig]:
    with open_calibration(lab_file) as session:
        graph = [n for n in bringup.GRAPH if nodes is None or n.name in nodes]
        steps = bringup.plan(session.ledger, qubits or session.lab.qubits,
                             session.lab.couplings if nodes is None else [], graph=graph)
        outcomes = bringup.calibrate(session.ctx, session.ledger, steps, bringup.default_runner)
        values = {key: entry.value for key, entry in session.store.snapshot().items()}
        lab = session.lab
    return values, [o.summary() for o in outcomes if not o.passed], lab


def assert_qubit(values: dict[str, float], lab: LabConfig, q: int, *, full: bool) -> None:
    assert lab.device is not None and lab.bringup is not None
    p = lab.device.qubits[q]
    assert abs(values[f"q{q}.frequency"] - p.frequency) < 50e3, q
    assert abs(values[f"q{q}.resonator_frequency"] - p.resonator_frequency) < 200e3, q
    chosen = [values[f"q{q}.{k}"] for k in ("readout_frequency", "readout_amp", "readout_duration")]
    fidelity = values[f"q{q}.readout_fidelity"]
    boxcar, _ = readout_limit(lab, q, *chosen)
    if uniform_kernel(values, q):
        assert abs(fidelity - boxcar) <= 0.01, (q, fidelity, boxcar)
    else:  # the readout_weights node kept a matched filter: between the boxcar's limit and the matched filter's
        matched, _ = readout_limit(lab, q, *chosen, matched=True)
        assert boxcar - 0.01 <= fidelity <= matched + 0.01, (q, fidelity, boxcar, matched)
    if not full:
        return
    assert values[f"q{q}.t1"] == pytest.approx(p.t1, rel=0.15), q
    assert values[f"q{q}.t2_ramsey"] == pytest.approx(p.t2, rel=0.15), q
    assert values[f"q{q}.t2_echo"] == pytest.approx(p.t2, rel=0.15), q  # the engine's dephasing is white (Lindblad)
    assert 0 < values[f"q{q}.epc_1q"] <= 1.5 * coherence_limit(p.t1, p.t2, lab.bringup.pulse_duration), q


def uniform_kernel(values: dict[str, float], q: int) -> bool:
    """Whether the readout integrates with the boxcar: no kernel stored, one measured for another readout
    duration (then the gate map does not use it), or 32 equal knots."""
    if values.get(f"q{q}.readout_kernel_duration") != values[f"q{q}.readout_duration"]:
        return True
    knots = [complex(values[f"q{q}.readout_kernel_re{i:02d}"], values[f"q{q}.readout_kernel_im{i:02d}"])
             for i in range(32) if f"q{q}.readout_kernel_re{i:02d}" in values]
    return not knots or all(abs(k - knots[0]) <= 1e-9 * abs(knots[0]) for k in knots)


def bell_limit(values: dict[str, float], lab: LabConfig, pair: tuple[int, int]) -> float:
    """Coherence limit of the Bell state: both qubits decay and dephase through the ECR (two CR halves and
    the echo's x) and the control's sx: 1 - sum_q t (1/T1 + 1/T2) / 4 to first order (Bell-state fidelity
    under amplitude damping and dephasing)."""
    assert lab.device is not None and lab.bringup is not None
    t = 2 * values[f"q{pair[0]}-q{pair[1]}.cr_duration"] + 2 * lab.bringup.pulse_duration
    return 1 - sum(t * (1 / lab.device.qubits[q].t1 + 1 / lab.device.qubits[q].t2) / 4 for q in pair)


def run_device(tmp_path: Path, data: dict[str, Any]) -> None:
    lab_file = tmp_path / f"{data['name']}.yaml"
    lab_file.write_text(yaml.safe_dump(data, sort_keys=False))
    values, failed, lab = bring_up(lab_file)
    assert not failed, failed
    for q in lab.qubits:
        assert_qubit(values, lab, q, full=True)
    for c, t in lab.couplings:
        limit = bell_limit(values, lab, (c, t))
        print(f"{data['name']} seed {data['device']['seed']}: pair ({c}, {t}) Bell coherence limit {limit:.4f}, "
              f"found {values[f'q{c}-q{t}.bell_fidelity']:.4f}")
        assert values[f"q{c}-q{t}.bell_fidelity"] >= min(0.95, limit - 0.02), (c, t, limit)


def test_the_readout_chain_of_a_drawn_device(tmp_path: Path) -> None:
    """Bounded variant: one drawn device (weakest dispersive shift of the seeds below), qubit 0, the nodes up
    to the readout."""
    data = draw(two_qubits(), 31)
    lab_file = tmp_path / "random_2q.yaml"
    lab_file.write_text(yaml.safe_dump(data, sort_keys=False))
    values, failed, lab = bring_up(lab_file, READOUT_NODES, [0])
    assert not failed, failed
    assert_qubit(values, lab, 0, full=False)


def test_half_the_dispersive_shift_and_twice_the_noise(tmp_path: Path) -> None:
    """The issue's "0.5x chi, 2x noise" device (virtual_2q's): qubit spectroscopy, run before any readout
    optimisation at the lab file's readout_amp 0.1, used to fail its R^2 gate at 200 shots; it now rescans
    with more shots, and the readout chain reaches its limit on both qubits' frequencies and the readout."""
    data = two_qubits()
    for p in data["device"]["qubits"].values():
        p["dispersive_shift"] = 0.5 * float(p["dispersive_shift"])
        p["readout_noise"] = 2 * float(p["readout_noise"])
    lab_file = tmp_path / "half_chi.yaml"
    lab_file.write_text(yaml.safe_dump(data, sort_keys=False))
    values, failed, lab = bring_up(lab_file, READOUT_NODES, [0])
    assert not failed, failed
    assert_qubit(values, lab, 0, full=False)


def test_the_cross_resonance_of_seed_33(tmp_path: Path) -> None:
    """Bounded variant of seed 33's pair: cross_resonance alone (frequencies from the truth, x amplitudes from
    Rabi), checked on the virtual device's populations (no shots) after ECRs from |00> and |10>. Ideal: the
    control flips, the target's <Z> is 0 and its <Y> is -1 / +1. A ZX angle off by a fraction e per half turns
    the target by pi/2 (1 + e) instead: <Z> = sin(pi e / 2), 0.12 for the 0.7295 rad the linear update ended
    at, 0.08 at the gate's 5 %; T1 and T2 over the ~0.4 us take about 1 % off <Y>."""
    lab_file = tmp_path / "random_2q.yaml"
    lab_file.write_text(yaml.safe_dump(draw(two_qubits(), 33), sort_keys=False))
    with started_rig(load_lab(lab_file)) as rig:
        ctx = quick_context(rig, tmp_path)
        outcome = cross_resonance.run(ctx, 0, 1)
        assert outcome.passed, outcome.summary()
        ctx.update(dict(outcome.updates))
        assert ctx.value("q0-q1.cr_duration") > 128e-9       # the linear choice; ZX saturates below pi/4 there
        compiled = compile(ecr_check_programs(ctx, build_gate_map(ctx)), ctx.lab, ctx.frames())
        awg = compiled.payloads["awg"]
        digitizer = next(p for p in compiled.payloads.values() if isinstance(p, DigitizerProgram))
        assert isinstance(awg, AwgProgram)
        device = VirtualDevice(ctx.lab)
        for point, (start, basis) in enumerate(ECR_CHECKS):
            volts = {o: awg.played(o, point).astype(np.float64) * awg.full_scale_vpp[o] / 2 for o in awg.outputs}
            begin = min(w.start for w in digitizer.windows if w.point == point) / digitizer.sample_rate
            levels = device.populations({"awg": volts}, lo_states(ctx.lab), begin)[(0, 1)].reshape(3, 3)
            target = 1 - 2 * float(np.sum(levels[:, 1:]))
            assert float(np.sum(levels[1 - start])) > 0.97, (start, levels)           # the control flipped
            if basis == "Z":
                assert abs(target) < 0.08, (start, target)
            else:
                assert target == pytest.approx(-1 if start == 0 else 1, abs=0.05), (start, target)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_harder_random_two_qubit_device(tmp_path: Path, seed: int) -> None:
    """Seed 33's pair is 370 MHz apart with the control's alpha -296 MHz: the CR tone sits 74 MHz from the
    control's 1-2 line, ZX saturates with the amplitude, and the cross-resonance node lengthens its halves."""
    run_device(tmp_path, draw(two_qubits(), seed))


@pytest.mark.slow
def test_a_harder_random_three_qubit_line(tmp_path: Path) -> None:
    run_device(tmp_path, draw(three_qubit_line(), 41))


def test_the_drawn_devices_are_inside_the_issues_ranges() -> None:
    for data in [draw(two_qubits(), s) for s in (31, 32, 33)] + [draw(three_qubit_line(), 41)]:
        lab = load_lab_from(data)
        assert lab.device is not None
        f = [lab.device.qubits[q].frequency for q in lab.qubits]
        assert all(4e9 <= x <= 6e9 for x in f)
        assert all(80e6 <= abs(f[a] - f[b]) <= 400e6 for a, b in lab.couplings)
        for p in lab.device.qubits.values():
            assert 15e-6 <= p.t1 <= 150e-6 and 10e-6 <= p.t2 <= min(150e-6, 2 * p.t1)
            assert 0.4e6 <= -p.dispersive_shift <= 2e6 and p.readout_noise <= 1.2
            assert -350e6 <= p.anharmonicity <= -200e6
        for a, b in lab.couplings:
            qa, qb = lab.device.qubits[a], lab.device.qubits[b]
            assert abs(qa.frequency + qa.anharmonicity - qb.frequency) > COLLISION
            assert abs(qb.frequency + qb.anharmonicity - qa.frequency) > COLLISION
        assert math.isfinite(sum(f))


def load_lab_from(data: dict[str, Any]) -> LabConfig:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lab.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return load_lab(path)


def _quiet(lab: LabConfig) -> LabConfig:
    """``lab`` without decoherence (T1 = T2 = 1 s): what is left of a gate's error is coherent."""
    assert lab.device is not None
    section = lab.device.model_dump()
    for p in section["qubits"].values():
        p["t1"], p["t2"] = 1.0, 1.0
    return lab.model_copy(update={"device": DeviceConfig.model_validate(section)})


def _ideal_checks(before: float, after: float) -> np.ndarray:
    """The target's <X>, <Y>, <Z> after ``rz(after) ECR rz(before)`` (rz on the target) from |c, 0> and |c, +>
    (c = 0, 1), written out here: ECR = RZX(pi/4) (X on the control) RZX(-pi/4) in time order (Qiskit's)."""
    x, y, z = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])
    zx = np.kron(x, z)                                  # Z on the control (bit 0), X on the target (bit 1)
    ecr = sl.expm(0.5j * math.pi / 4 * zx) @ np.kron(np.eye(2), x) @ sl.expm(-0.5j * math.pi / 4 * zx)
    rz = [np.kron(np.diag([np.exp(-0.5j * a), np.exp(0.5j * a)]), np.eye(2)) for a in (before, after)]
    u = rz[1] @ ecr @ rz[0]
    out = []
    for c, t in ((0, "0"), (1, "0"), (0, "+"), (1, "+")):
        target = np.array([1.0, 0.0]) if t == "0" else np.array([1.0, 1.0]) / math.sqrt(2)
        state = u @ np.kron(target, np.array([1.0 - c, float(c)]))
        out.append([float(np.real(np.conj(state) @ np.kron(p, np.eye(2)) @ state)) for p in (x, y, z)])
    return np.array(out)


def test_the_ecr_of_seed_41s_second_pair_has_its_target_frame_right(tmp_path: Path) -> None:
    """Bounded variant of the seed-41 line's pair (1, 2): 0.46 MHz of static ZZ (the control's 1-2 line 48 MHz
    from the target) and 128-ns halves. The tomography's model put the target's virtual Zs 0.15 rad off (its
    Bell fidelity was 1 % under the coherence limit); the calibration now measures them on the gate.

    cross_resonance alone (frequencies from the truth, x amplitudes from Rabi), then the ECR played on the same
    device without decoherence, from |c, 0> and |c, +>, read from its populations (no shots): the Z rotations
    before and after the gate that best explain the target's <X>, <Y>, <Z> against the ideal ECR (written out in
    the test) must be zero within 0.05 rad (the calibration's shot noise is ~0.01 rad; its other coherent
    errors, an IY of ~0.04 rad, are not Z rotations)."""
    lab_file = tmp_path / "random_3q.yaml"
    lab_file.write_text(yaml.safe_dump(draw(three_qubit_line(), 41), sort_keys=False))
    control, target = 1, 2
    with started_rig(load_lab(lab_file)) as rig:
        ctx = quick_context(rig, tmp_path)
        outcome = cross_resonance.run(ctx, control, target)
        assert outcome.passed, outcome.summary()
        ctx.update(dict(outcome.updates))
        gm = build_gate_map(ctx, pairs=[(control, target)], qubits=[control, target])
        circuits = []
        for c, t in ((0, "0"), (1, "0"), (0, "+"), (1, "+")):
            for basis in ((("h",),), (("sdg",), ("h",)), ()):
                qc = Circuit(3, 3)
                if c:
                    qc.x(control)
                if t == "+":
                    qc.h(target)
                qc.ecr(control, target)
                for (name,) in basis:
                    qc.append(name, [target])
                circuits.append(lowered(ctx, gm, qc.barrier(control, target).measure(control, control)
                                        .measure(target, target)))
        compiled = compile(circuits, ctx.lab, ctx.frames())
    awgs = {name: p for name, p in compiled.payloads.items() if isinstance(p, AwgProgram)}
    digitizer = next(p for p in compiled.payloads.values() if isinstance(p, DigitizerProgram))
    device = VirtualDevice(_quiet(ctx.lab))
    found = []
    for point in range(len(circuits)):
        volts = {name: {o: a.played(o, point).astype(np.float64) * a.full_scale_vpp[o] / 2 for o in a.outputs}
                 for name, a in awgs.items()}
        begin = min(w.start for w in digitizer.windows if w.point == point) / digitizer.sample_rate
        groups = device.populations(volts, lo_states(ctx.lab), begin)
        qubits, levels = next((q, p) for q, p in groups.items() if target in q)
        levels = levels.reshape([3] * len(qubits))
        excited = np.moveaxis(levels, qubits.index(target), 0)[1:].sum()
        found.append(1 - 2 * float(excited))
    checks = np.array(found).reshape(4, 3)
    fit = least_squares(lambda p: (p[2] * _ideal_checks(p[0], p[1]) - checks).ravel(), [0.0, 0.0, 1.0])
    before, after, _ = fit.x
    assert abs(before) <= 0.05 and abs(after) <= 0.05, (before, after, checks)
