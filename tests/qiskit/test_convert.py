"""QuantumCircuit -> qubitlab Circuit: the unitary is Qiskit's own (``qiskit.quantum_info.Operator``, an
independent reference) up to a global phase; parameters, expressions, registers and delays keep their meaning;
what qubitlab cannot run is refused naming the instruction."""

from __future__ import annotations

import math

import numpy as np
import pytest

qiskit = pytest.importorskip("qiskit", reason="the qiskit extra is not installed (pip install 'qubitlab[qiskit]')")

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.circuit import Parameter, ParameterVector  # noqa: E402
from qiskit.quantum_info import Operator  # noqa: E402

from qubitlab.errors import CircuitError  # noqa: E402
from qubitlab.qiskit import from_qiskit  # noqa: E402


def equal_up_to_phase(a: np.ndarray, b: np.ndarray) -> bool:
    k = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    phase = a[k] / b[k]
    return bool(abs(abs(phase) - 1) < 1e-9 and np.allclose(a, phase * b, atol=1e-9))


def test_standard_gates_give_qiskits_unitary() -> None:
    qc = QuantumCircuit(3)
    qc.h(0); qc.x(1); qc.y(2); qc.z(0); qc.s(1); qc.sdg(2); qc.t(0); qc.tdg(1); qc.sx(2); qc.sxdg(0); qc.id(1)
    qc.rx(0.3, 0); qc.ry(-1.1, 1); qc.rz(2.5, 2); qc.u(0.4, 0.5, 0.6, 0); qc.p(0.7, 1)
    qc.cx(0, 1); qc.cz(1, 2); qc.ecr(2, 0); qc.swap(0, 2); qc.rzz(0.9, 1, 2)
    # qubitlab's to_matrix and Qiskit's Operator both put qubit 0 at the least significant index
    assert equal_up_to_phase(from_qiskit(qc).to_matrix(), Operator(qc).data)


def test_parameters_and_expressions_bind_to_the_same_unitary() -> None:
    a, v = Parameter("a"), ParameterVector("θ", 2)
    qc = QuantumCircuit(2)
    qc.rx(2 * a + v[1], 0); qc.ry(v[0].sin() - a / 3, 1); qc.rz(v[1] ** 2, 0); qc.cx(0, 1); qc.u(a, -a, v[0].exp(), 1)
    values = {a: 0.37, v[0]: -0.8, v[1]: 1.3}
    converted = from_qiskit(qc)
    assert sorted(p.name for p in converted.parameters) == ["a", "θ[0]", "θ[1]"]
    by_name = {p.name: p for p in converted.parameters}
    bound = converted.assign_parameters({by_name[str(k.name)]: x for k, x in values.items()})
    assert equal_up_to_phase(bound.to_matrix(), Operator(qc.assign_parameters(values)).data)


def test_registers_measurements_barriers_and_delays_are_kept() -> None:
    qc = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(1, "alpha"), ClassicalRegister(2, "beta"))
    qc.h(0); qc.barrier(); qc.delay(160, 1); qc.delay(40, 0, unit="ns"); qc.measure(0, 2); qc.measure(1, 0); qc.reset(0)
    out = from_qiskit(qc)
    assert out.cregs == {"alpha": (0,), "beta": (1, 2)}
    assert [(op.name, op.qubits, op.clbits, op.unit) for op in out.data] == [
        ("h", (0,), (), None), ("barrier", (0, 1), (), None), ("delay", (1,), (), "dt"), ("delay", (0,), (), "ns"),
        ("measure", (0,), (2,), None), ("measure", (1,), (0,), None), ("reset", (0,), (), None)]
    assert [op.params for op in out.data if op.name == "delay"] == [(160.0,), (40.0,)]


def test_unsupported_instructions_are_refused_naming_them() -> None:
    qc = QuantumCircuit(3)
    qc.h(0); qc.ccx(0, 1, 2)
    with pytest.raises(CircuitError, match=r"instruction 1 \(ccx\): qubitlab has no 'ccx'; valid: .*ecr.*transpile"):
        from_qiskit(qc)
    flow = QuantumCircuit(1, 1)
    with flow.if_test((flow.clbits[0], 1)):
        flow.x(0)
    with pytest.raises(CircuitError, match=r"instruction 0 \(if_else\)"):
        from_qiskit(flow)


def test_a_pi_rotation_expression_evaluates_like_qiskit() -> None:
    a = Parameter("a")
    qc = QuantumCircuit(1)
    qc.rz(math.pi * a.cos() + abs(a), 0)
    out = from_qiskit(qc)
    (p,) = out.parameters
    assert float(out.data[0].params[0].bind({p: 0.25}).numeric()) == pytest.approx(math.pi * math.cos(0.25) + 0.25)


def test_rb_pulses_per_clifford_is_what_the_translation_gives() -> None:
    """The count behind the Target's x/sx error per gate (runtime/properties.py): the 24 single-qubit Cliffords
    translated to rz/sx/x for a calibrated lab hold 20 x/sx pulses (4 keep Z: none, 4 flip Z: one x, 16 take Z
    to the equator: one sx)."""
    from pathlib import Path

    from qubitlab import load_lab
    from qubitlab.circuits import Circuit, GateMap, Target, clifford_group, translate
    from qubitlab.runtime.properties import PULSES_PER_CLIFFORD

    lab = load_lab(Path(__file__).resolve().parents[2] / "lab_configs" / "virtual_2q.yaml")
    gate_map = GateMap.from_lab(lab)
    from qubitlab import pulse

    for name in ("x", "sx", "measure"):
        for q in (0, 1):
            gate_map.add(name, (q,), pulse.ScheduleBlock(name=f"{name}{q}"))
    target = Target.from_lab(lab, gate_map)
    group = clifford_group(1)
    pulses = 0
    for i in range(group.size):
        circuit = Circuit(2)
        for step in group.gates(i):
            getattr(circuit, step[0])(*step[1])
        pulses += sum(op.name in ("sx", "x") for op in translate(circuit, target))
    assert group.size == 24 and pulses == 20 and PULSES_PER_CLIFFORD == pytest.approx(pulses / 24, rel=1e-15)
