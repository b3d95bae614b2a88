"""Circuits as plain JSON-able data: what a client sends the daemon, and what the daemon's job store keeps.

The document names every parameter by id and name in one table (the pulse layer's encoding, so expressions such
as ``2*theta + 0.1`` and vector elements travel exactly) and lists the operations in order. Reading checks the
structure and rebuilds the circuit through :meth:`Circuit.append`, so a document gets the same validation as a
circuit built in Python: a malformed or hostile one is a :class:`CircuitError`, never a crash.
"""

from __future__ import annotations

from typing import Any

from qubitlab.circuits.circuit import Circuit
from qubitlab.errors import CircuitError, PulseError
from qubitlab.pulse.serialize import ValueReader, ValueWriter

FORMAT = "qubitlab.circuit"
VERSION = 1
MAX_OPERATIONS = 1_000_000


def circuit_to_dict(circuit: Circuit) -> dict[str, Any]:
    writer = ValueWriter()
    ops = [{"name": op.name, "qubits": list(op.qubits), "params": [writer.value(p) for p in op.params],
            "clbits": list(op.clbits), "unit": op.unit} for op in circuit]
    return {"format": FORMAT, "version": VERSION, "name": circuit.name, "num_qubits": circuit.num_qubits,
            "num_clbits": circuit.num_clbits, "cregs": {k: list(v) for k, v in circuit.cregs.items()},
            "parameters": writer.parameter_table(), "ops": ops}


def circuit_from_dict(data: Any) -> Circuit:
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise CircuitError(f"not a {FORMAT} document of version {VERSION}")
    ops = data.get("ops")
    num_qubits, num_clbits = data.get("num_qubits"), data.get("num_clbits")
    if not isinstance(num_qubits, int) or not isinstance(num_clbits, int) or isinstance(num_qubits, bool) \
            or isinstance(num_clbits, bool) or not isinstance(ops, list):
        raise CircuitError("a circuit document needs integer num_qubits, num_clbits and a list of ops")
    if len(ops) > MAX_OPERATIONS:
        raise CircuitError(f"a circuit document may hold at most {MAX_OPERATIONS} operations, got {len(ops)}")
    name = data.get("name")
    try:
        reader = ValueReader(data.get("parameters") or [])
        circuit = Circuit(num_qubits, num_clbits, name=name if isinstance(name, str) else None)
        for index, op in enumerate(ops):
            if not isinstance(op, dict) or not isinstance(op.get("name"), str):
                raise CircuitError(f"operation {index} must be an object with a name")
            circuit.append(op["name"], [int(q) for q in op.get("qubits", [])],
                           [reader.value(p) for p in op.get("params", [])],
                           [int(c) for c in op.get("clbits", [])], op.get("unit"))
        cregs = data.get("cregs")
        if cregs is not None:
            if not isinstance(cregs, dict) or not all(isinstance(v, list) for v in cregs.values()):
                raise CircuitError("a circuit document's cregs must map register names to lists of bit indices")
            circuit.set_registers(cregs)
    except CircuitError:
        raise
    except (PulseError, KeyError, TypeError, ValueError) as exc:
        raise CircuitError(f"malformed circuit document: {type(exc).__name__}: {exc}") from None
    return circuit
