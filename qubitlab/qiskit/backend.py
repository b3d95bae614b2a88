"""``Backend(BackendV2)``: the lab behind a daemon as Qiskit 2.x sees a device, its ``Target`` calibrated.

``qiskit.transpile(circuit, backend)`` and ``generate_preset_pass_manager(backend=backend)`` read everything from
the ``Target``: the basis (``rz``, ``sx``, ``x``, ``ecr``, ``measure``, ``delay``), the ``ecr`` directions the
gate map calibrated (the coupling map), each gate's duration and error, T1/T2 and frequency per qubit, readout
errors and ``dt``. These come from the daemon's ``backend()`` reply, which reads the current calibration
snapshot (:mod:`qubitlab.runtime.properties`); circuits transpiled for it run on the lab as they are. Circuits
are run with the bridge's ``SamplerV2``/``EstimatorV2`` (``backend.run`` is refused, as on IBM's devices).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qiskit.circuit import Delay, Measure, Parameter
from qiskit.circuit.library import ECRGate, RZGate, SXGate, XGate
from qiskit.providers import BackendV2, Options
from qiskit.providers.backend import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

from qubitlab.errors import JobError
from qubitlab.runtime.client import Backend as NativeBackend

GATES: dict[str, Any] = {"x": XGate(), "sx": SXGate(), "ecr": ECRGate(), "measure": Measure()}
"""The lab's calibrated operations by gate-map name, as Qiskit instructions."""


def target_from_properties(content: Mapping[str, Any]) -> Target:
    """A Qiskit ``Target`` from a daemon ``backend()`` reply (``dt``, qubits, ``properties``)."""
    properties = content.get("properties") or {}
    qubits = sorted(int(q) for q in content.get("qubits") or [])
    if qubits != list(range(len(qubits))):
        raise JobError(f"backend {content.get('name')!r}: qubits {qubits} are not numbered 0..n-1; a Qiskit "
                       "Target needs contiguous indices")
    described = {int(q["qubit"]): q for q in properties.get("qubits") or []}
    qubit_properties = [QubitProperties(t1=described.get(q, {}).get("t1"), t2=described.get(q, {}).get("t2"),
                                        frequency=described.get(q, {}).get("frequency")) for q in qubits]
    target = Target(description=str(content.get("name")), num_qubits=len(qubits), dt=float(content["dt"]),
                    qubit_properties=qubit_properties)
    target.add_instruction(RZGate(Parameter("theta")),
                           {(q,): InstructionProperties(duration=0.0, error=0.0) for q in qubits})
    by_name: dict[str, dict[tuple[int, ...], InstructionProperties]] = {}
    for gate in properties.get("gates") or []:
        if gate["name"] in GATES:
            by_name.setdefault(gate["name"], {})[tuple(int(q) for q in gate["qubits"])] = \
                InstructionProperties(duration=float(gate["duration"]), error=gate.get("error"))
    if not by_name:
        raise JobError(f"backend {content.get('name')!r} has no calibrated gates yet: run `qubitlab calibrate "
                       "all` on the lab before transpiling for it")
    for name in ("x", "sx", "ecr", "measure"):
        if name in by_name:
            target.add_instruction(GATES[name], by_name[name])
    target.add_instruction(Delay(Parameter("t")), {(q,): None for q in qubits})
    return target


class Backend(BackendV2):  # type: ignore[misc]  # qiskit ships no type information
    """A lab behind a qubitlab daemon, as a Qiskit ``BackendV2`` (``backend.service`` is its connection)."""

    def __init__(self, native: NativeBackend) -> None:
        super().__init__(name=native.name, description=f"qubitlab lab {native.name}",
                         backend_version=str(native.get("version")))
        self.native = native
        self.service = native.service
        self._target = target_from_properties(native)

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> None:
        return None

    @property
    def snapshot_id(self) -> str | None:
        """The calibration snapshot the target was read from."""
        value = self.native.get("snapshot_id")
        return None if value is None else str(value)

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=4096)

    def run(self, run_input: Any, **options: Any) -> Any:
        raise JobError(f"backend {self.name!r}: backend.run is not offered (as on IBM's devices since 2024); run "
                       "circuits with qubitlab.qiskit.SamplerV2(mode=backend) or EstimatorV2(mode=backend)")

    def __repr__(self) -> str:
        return f"<qubitlab.qiskit.Backend {self.name!r}: {self.num_qubits} qubits, snapshot {self.snapshot_id}>"
