"""Translation to rz/sx/x/ecr: every rule checked by comparing unitaries (reference matrices from the test helper)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from circuit_reference import RX, RY, RZ, S, T, U, circuit_unitary, equal_up_to_phase, reference

from qubitlab import load_lab
from qubitlab.circuits import GATES, Circuit, GateMap, Parameter, Target, translate
from qubitlab.circuits.synthesis import euler_angles
from qubitlab.errors import CircuitError

ROOT = Path(__file__).resolve().parents[2]
NATIVE = {"rz", "sx", "x", "ecr", "measure", "barrier", "delay"}
BOTH = Target.make(couplings=[(0, 1)], ecr_directions=[(0, 1), (1, 0)])
FORWARD = Target.make(couplings=[(0, 1)], ecr_directions=[(0, 1)])
BACKWARD = Target.make(couplings=[(0, 1)], ecr_directions=[(1, 0)])


def _check(qc: Circuit, target: Target) -> Circuit:
    out = translate(qc, target)
    assert {op.name for op in out} <= NATIVE
    for op in out:
        if op.name == "ecr":
            assert op.qubits in target.ecr_directions
    assert equal_up_to_phase(circuit_unitary(out, qc.num_qubits), circuit_unitary(qc, qc.num_qubits))
    return out


@pytest.mark.parametrize("name", sorted(n for n in GATES if GATES[n].num_qubits == 1))
@pytest.mark.parametrize("seed", range(5))
def test_single_qubit_gates_translate_exactly(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    qc = Circuit(1).append(name, (0,), list(rng.uniform(-2 * math.pi, 2 * math.pi, GATES[name].num_params)))
    out = _check(qc, BOTH)
    assert len(out) <= 5


@pytest.mark.parametrize("name", sorted(n for n in GATES if GATES[n].num_qubits == 2))
@pytest.mark.parametrize("target", [FORWARD, BACKWARD, BOTH], ids=["0->1", "1->0", "both"])
@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_qubit_gates_translate_exactly_in_either_ecr_direction(name: str, target: Target,
                                                                    order: tuple[int, int]) -> None:
    angles = [0.731] * GATES[name].num_params
    _check(Circuit(2).append(name, order, angles), target)


@pytest.mark.parametrize("seed", range(10))
def test_random_circuits_translate_exactly_and_merge_single_qubit_runs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    names = sorted(GATES)
    qc = Circuit(3)
    for _ in range(25):
        name = names[rng.integers(len(names))]
        spec = GATES[name]
        qubits = [0, 1] if spec.num_qubits == 2 else [int(rng.integers(3))]
        if spec.num_qubits == 2 and rng.random() < 0.5:
            qubits = [2, 1] if rng.random() < 0.5 else [1, 0]
        qc.append(name, qubits, list(rng.uniform(-4, 4, spec.num_params)))
    target = Target.make(couplings=[(0, 1), (1, 2)], ecr_directions=[(0, 1), (2, 1)])
    out = _check(qc, target)
    # Merging: at most five single-qubit gates (rz sx rz sx rz) between two non-single-qubit operations per qubit.
    run = {q: 0 for q in range(3)}
    for op in out:
        if op.name in ("rz", "sx", "x"):
            run[op.qubits[0]] += 1
            assert run[op.qubits[0]] <= 5
        else:
            for q in op.qubits:
                run[q] = 0


@pytest.mark.parametrize("name", ["rx", "ry", "rz", "u", "rzz"])
def test_parameterised_gates_translate_to_expressions_that_bind_exactly(name: str) -> None:
    params = [Parameter(f"p{k}") for k in range(GATES[name].num_params)]
    qubits = (0, 1) if GATES[name].num_qubits == 2 else (0,)
    qc = Circuit(2).h(0).append(name, qubits, params).sx(1)
    out = translate(qc, BOTH)
    assert out.parameters == set(params)
    rng = np.random.default_rng(3)
    for _ in range(4):
        values = {p: float(v) for p, v in zip(params, rng.uniform(-4, 4, len(params)))}
        bound_out, bound_in = out.assign_parameters(values), qc.assign_parameters(values)
        assert equal_up_to_phase(circuit_unitary(bound_out, 2), circuit_unitary(bound_in, 2))


def test_zxzxz_identity_holds_for_random_angles() -> None:
    # U(theta, phi, lam) = RZ(phi + pi) SX RZ(theta + pi) SX RZ(lam), checked with the reference matrices.
    rng = np.random.default_rng(11)
    for theta, phi, lam in rng.uniform(-4, 4, (20, 3)):
        built = (reference("rz", [phi + math.pi]) @ reference("sx") @ reference("rz", [theta + math.pi])
                 @ reference("sx") @ reference("rz", [lam]))
        assert equal_up_to_phase(built, reference("u", [theta, phi, lam]))
        assert equal_up_to_phase(reference("u", euler_angles(reference("u", [theta, phi, lam]))),
                                 reference("u", [theta, phi, lam]))


def test_numeric_special_cases_use_fewer_pulses() -> None:
    assert [op.name for op in translate(Circuit(1).rz(0.3, 0).z(0).s(0), BOTH)] == ["rz"]
    assert [op.name for op in translate(Circuit(1).h(0), BOTH)] == ["rz", "sx", "rz"]
    assert [op.name for op in translate(Circuit(1).y(0), BOTH)] == ["x", "rz"]  # Y = RZ(pi) X up to phase
    assert len(translate(Circuit(1).h(0).h(0), BOTH)) == 0
    no_x = Target.make(basis=("rz", "sx", "ecr"), couplings=[(0, 1)])
    assert [op.name for op in translate(Circuit(1).x(0), no_x)] == ["sx", "sx"]


def test_uncoupled_qubits_are_refused_naming_the_coupling_map() -> None:
    target = Target.make(couplings=[(0, 1), (1, 2)])
    with pytest.raises(CircuitError, match=r"not coupled; coupling map: \[\(0, 1\), \(1, 2\)\]"):
        translate(Circuit(3).cx(0, 2), target)


def test_reset_is_refused_on_a_device_without_reset() -> None:
    with pytest.raises(CircuitError, match="does not support mid-circuit reset"):
        translate(Circuit(1).x(0).reset(0), BOTH)


def test_target_from_the_virtual_lab_and_from_a_gate_map() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    target = Target.from_lab(lab)
    assert target.basis == frozenset({"rz", "sx", "x", "ecr"})
    assert target.ecr_directions == {(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3)}
    from qubitlab import pulse
    with pulse.build() as ecr:
        pulse.play(pulse.Constant(100, 0.1), pulse.ControlChannel(1))
    gate_map = GateMap.from_lab(lab).add("ecr", (1, 0), ecr)
    assert Target.from_lab(lab, gate_map).ecr_directions == {(1, 0)}
    out = translate(Circuit(2).cx(0, 1), Target.from_lab(lab, gate_map))
    assert [op.qubits for op in out if op.name == "ecr"] == [(1, 0)]


_TH = Parameter("th")
_PH = Parameter("ph")


def _bound_unitary(qc: Circuit, values: dict[Parameter, float]) -> np.ndarray:
    used = {p: v for p, v in values.items() if p in qc.parameters}
    return circuit_unitary(qc.assign_parameters(used), qc.num_qubits)


@pytest.mark.parametrize("build, reference_of, sx_count", [
    # H RX(t) H = RZ(t): no pulse at all.
    (lambda: Circuit(1).h(0).rx(_TH, 0).h(0), lambda t, p: RZ(t), 0),
    # Neighbouring rz's, numeric and parameterised: one rz of the sum.
    (lambda: Circuit(1).rz(0.3, 0).rz(_TH, 0).rz(0.2, 0), lambda t, p: RZ(t + 0.5), 0),
    (lambda: Circuit(1).rz(_TH, 0).rz(_PH, 0), lambda t, p: RZ(t + p), 0),
    # A lone rotation and one with numeric neighbours folded in: two sx, like ZXZXZ.
    (lambda: Circuit(1).rx(_TH, 0), lambda t, p: RX(t), 2),
    (lambda: Circuit(1).ry(_TH, 0), lambda t, p: RY(t), 2),
    (lambda: Circuit(1).rz(0.7, 0).rx(_TH, 0).rz(0.4, 0), lambda t, p: RZ(0.4) @ RX(t) @ RZ(0.7), 2),
    (lambda: Circuit(1).s(0).ry(_TH, 0).t(0), lambda t, p: T @ RY(t) @ S, 2),
    (lambda: Circuit(1).u(_TH, _PH, 0.3, 0), lambda t, p: U(t, p, 0.3), 2),
    (lambda: Circuit(1).u(_TH, _PH, _TH - _PH, 0), lambda t, p: U(t, p, t - p), 2),
])
def test_parameterised_gates_merge_with_their_neighbours(build: Callable[[], Circuit],
                                                         reference_of: Callable[[float, float], np.ndarray],
                                                         sx_count: int) -> None:
    qc = build()
    out = translate(qc, Target.make())
    assert {op.name for op in out} <= {"rz", "sx"}
    assert out.count_ops().get("sx", 0) == sx_count
    adjacent_rz = [a.name == b.name == "rz" for a, b in zip(out.data, out.data[1:])]
    assert not any(adjacent_rz)   # one qubit: no two rz in a row
    for t, p in ((0.0, 0.0), (0.37, -1.2), (2.9, 0.8), (-math.pi, math.pi / 3)):
        expected = reference_of(t, p)
        assert equal_up_to_phase(_bound_unitary(out, {_TH: t, _PH: p}), expected)
        assert equal_up_to_phase(_bound_unitary(qc, {_TH: t, _PH: p}), expected)  # the reference is right


def test_a_measurement_emits_every_pending_gate_first() -> None:
    """Pending gates of other qubits come before a measurement, so measurements written one after the other
    stay next to each other (a readout group measures together); the unitary before them is unchanged."""
    qc = Circuit(2, 2).sx(0).x(1).measure(1, 1).measure(0, 0)
    out = translate(qc, Target.make(couplings=[(0, 1)]))
    names = [op.name for op in out]
    assert names[-2:] == ["measure", "measure"] and "measure" not in names[:-2]
    assert equal_up_to_phase(circuit_unitary(list(out)[:-2], 2), circuit_unitary(Circuit(2).sx(0).x(1), 2))
