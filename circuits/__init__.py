"""qubitlab.circuits: gate-level circuits, Pauli observables, OpenQASM 3 input, Cliffords, and lowering to pulses.

Sits above ``qubitlab.pulse`` (circuit parameters are the pulse layer's ``Parameter``) and below
``qubitlab.calibration`` (which fills the :class:`GateMap` from calibrated values). The path of a circuit:

    Circuit ──translate(circuit, Target.from_lab(lab, gate_map))──▶ Circuit of rz, sx, x, ecr, measure, ...
            ──lower(circuit, gate_map)──▶ ScheduleBlock    (or LoweredCircuit.build(...).bind(values))
"""

from __future__ import annotations

from qubitlab.circuits.circuit import Circuit, Operation, ParamValue
from qubitlab.circuits.gate_map import GateEntry, GateMap, frame_channels_from_lab
from qubitlab.circuits.gates import GATES, gate_matrix
from qubitlab.circuits.lowering import LoweredCircuit, instructions_of, lower
from qubitlab.circuits.translate import Target, translate
from qubitlab.pulse.parameters import Parameter, ParameterExpression, ParameterVector

__all__ = [
    "GATES",
    "Circuit",
    "GateEntry",
    "GateMap",
    "LoweredCircuit",
    "Operation",
    "ParamValue",
    "Parameter",
    "ParameterExpression",
    "ParameterVector",
    "Target",
    "frame_channels_from_lab",
    "gate_matrix",
    "instructions_of",
    "lower",
    "translate",
]
