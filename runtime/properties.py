"""The calibrated properties a client needs to describe the lab as a Qiskit ``Target``, sent with ``backend()``.

A client of the daemon has no lab file and no calibration store, yet a Qiskit transpiler needs each gate's
duration and error, T1/T2 and the readout error. :func:`backend_properties` reads them, as plain data, from the
current snapshot and the gate map built from it: durations in seconds (the gate map's schedules times ``dt``),
``x``/``sx`` errors per gate (Qiskit's convention) from single-qubit RB's error per Clifford (``epc_1q``) over
:data:`PULSES_PER_CLIFFORD`, ``ecr`` errors
from interleaved RB (``1 - ecr_fidelity``, else ``1 - bell_fidelity``, which bounds it from above), readout
errors ``1 - readout_fidelity``. A value the snapshot lacks is ``None``, never invented.
"""

from __future__ import annotations

from typing import Any

from qubitlab.errors import QubitlabError

PULSES_PER_CLIFFORD = 20 / 24
"""Physical pulses (``x`` or ``sx``) in the average single-qubit Clifford as qubitlab's RB runs them (translated
to rz/sx/x, rz virtual and free): of the 24 Cliffords the 4 that keep Z need none, the 4 that flip Z one ``x``,
the 16 that take Z to the equator one ``sx`` (calibration/experiments/rb.py reports the same count). Errors add
to first order, so the error per pulse is ``epc_1q / PULSES_PER_CLIFFORD`` (not RB's textbook 1.875 gates per
Clifford, which counts the X/Y/X/2/Y/2 generator set)."""


def _value(snapshot: Any, key: str) -> float | None:
    entry = snapshot.get(key)
    return None if entry is None else float(entry.value)


def _error(snapshot: Any, key: str) -> float | None:
    fidelity = _value(snapshot, key)
    return None if fidelity is None else max(0.0, 1.0 - fidelity)


def backend_properties(lab: Any, snapshot: Any) -> dict[str, Any]:
    """``{"qubits": [{qubit, t1, t2, frequency, readout_error}], "gates": [{name, qubits, duration, error}]}``;
    ``gates`` is empty when the snapshot cannot build a gate map yet (an uncalibrated lab)."""
    from qubitlab.calibration.gates import gate_map_from_snapshot

    qubits = []
    for q in lab.topology.qubits:
        t2 = _value(snapshot, f"q{q}.t2_echo")
        qubits.append({"qubit": int(q), "t1": _value(snapshot, f"q{q}.t1"),
                       "t2": t2 if t2 is not None else _value(snapshot, f"q{q}.t2_ramsey"),
                       "frequency": _value(snapshot, f"q{q}.frequency"),
                       "readout_error": _error(snapshot, f"q{q}.readout_fidelity")})
    try:
        gate_map = gate_map_from_snapshot(lab, snapshot)
    except QubitlabError:                 # an uncalibrated lab: no gate map yet, so no gates
        return {"qubits": qubits, "gates": []}
    gates = []
    for name, members in gate_map.calibrated():
        duration = float(gate_map.get(name, members).schedule.duration) * float(lab.dt)
        if name in ("x", "sx"):
            epc = _value(snapshot, f"q{members[0]}.epc_1q")
            error = None if epc is None else min(1.0, epc / PULSES_PER_CLIFFORD)
        elif name == "measure":
            error = _error(snapshot, f"q{members[0]}.readout_fidelity")
        else:
            pair = "-".join(f"q{q}" for q in members)
            error = _error(snapshot, f"{pair}.ecr_fidelity")
            error = error if error is not None else _error(snapshot, f"{pair}.bell_fidelity")
        gates.append({"name": name, "qubits": [int(q) for q in members], "duration": duration, "error": error})
    return {"qubits": qubits, "gates": gates}
