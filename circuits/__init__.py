"""qubitlab.circuits: gate-level circuits, Pauli observables, OpenQASM 3 input, Cliffords, and lowering to pulses.

Sits above ``qubitlab.pulse`` (circuit parameters are the pulse layer's ``Parameter``) and below
``qubitlab.calibration`` (which fills the :class:`GateMap` from calibrated values). The path of a circuit:

    Circuit ──translate(circuit, Target.from_lab(lab, gate_map))──▶ Circuit of rz, sx, x, ecr, measure, ...
            ──lower(circuit, gate_map)──▶ ScheduleBlock    (or LoweredCircuit.build(...).bind(values))

``lower(circuit, gate_map, target=Target.from_lab(lab, gate_map))`` does both steps.
"""

from __future__ import annotations

from qubitlab.circuits.circuit import Circuit, Operation, ParamValue
from qubitlab.circuits.clifford import Clifford, CliffordGroup, clifford_group
from qubitlab.circuits.gate_map import GateEntry, GateMap, frame_channels_from_lab, measure_groups_from_lab
from qubitlab.circuits.gates import GATES, gate_matrix
from qubitlab.circuits.lowering import LoweredCircuit, instructions_of, lower
from qubitlab.circuits.observables import MeasurementGroup, SparsePauliOp, group_qubit_wise
from qubitlab.circuits.translate import Target, translate
from qubitlab.pulse.parameters import Parameter, ParameterExpression, ParameterVector


def circuit_from_qasm3(text: str, name: str | None = None) -> Circuit:
    """Read gate-level OpenQASM 3 (see :mod:`qubitlab.circuits.qasm`); the parser is imported on first use."""
    from qubitlab.circuits.qasm import circuit_from_qasm3 as read

    return read(text, name)


__all__ = [
    "GATES",
    "Circuit",
    "Clifford",
    "CliffordGroup",
    "GateEntry",
    "GateMap",
    "LoweredCircuit",
    "MeasurementGroup",
    "Operation",
    "ParamValue",
    "Parameter",
    "ParameterExpression",
    "ParameterVector",
    "SparsePauliOp",
    "Target",
    "circuit_from_qasm3",
    "clifford_group",
    "frame_channels_from_lab",
    "gate_matrix",
    "group_qubit_wise",
    "instructions_of",
    "lower",
    "measure_groups_from_lab",
    "translate",
]
