"""Circuit documents: a round trip keeps every operation and parameter expression; malformed ones are refused."""

from __future__ import annotations

import json

import pytest

from qubitlab.circuits import Circuit, Parameter
from qubitlab.circuits.serialize import circuit_from_dict, circuit_to_dict
from qubitlab.errors import CircuitError


def test_round_trip_keeps_operations_and_expressions() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    qc = Circuit(2, name="ansatz").ry(theta, 0).rz(2 * theta + 0.1, 1).cx(0, 1).rx(phi, 1).barrier(0, 1)
    qc.delay(40, 0, unit="ns").measure_all()
    back = circuit_from_dict(json.loads(json.dumps(circuit_to_dict(qc))))
    assert str(back) == str(qc) and back.num_clbits == qc.num_clbits and back.name == "ansatz"
    names = {p.name: p for p in back.parameters}
    bound = back.assign_parameters({names["theta"]: 0.5, names["phi"]: -1.0})
    assert [op.params for op in bound if op.params][:2] == [(0.5,), (pytest.approx(1.1),)]


@pytest.mark.parametrize("doc", [None, {"format": "x"}, {"format": "qubitlab.circuit", "version": 1},
                                 {"format": "qubitlab.circuit", "version": 1, "num_qubits": 1, "num_clbits": 0,
                                  "ops": [{"name": "h", "qubits": [3]}]},
                                 {"format": "qubitlab.circuit", "version": 1, "num_qubits": 1, "num_clbits": 0,
                                  "ops": [{"name": "rz", "qubits": [0], "params": [{"expr": ["p", "nope"]}]}]},
                                 {"format": "qubitlab.circuit", "version": 1, "num_qubits": 1, "num_clbits": 0,
                                  "ops": [{"name": "frobnicate", "qubits": [0]}]}])
def test_malformed_documents_are_circuit_errors(doc: object) -> None:
    with pytest.raises(CircuitError):
        circuit_from_dict(doc)
