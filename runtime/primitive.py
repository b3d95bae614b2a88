"""What SamplerV2 and EstimatorV2 share on the client: the execution mode, PUB encoding and the job handle.

``mode`` is a :class:`~qubitlab.runtime.client.Session`, a :class:`~qubitlab.runtime.client.Batch`, or a
:class:`~qubitlab.runtime.client.QubitlabService` (job mode), as in qiskit-ibm-runtime. Circuits are qubitlab
:class:`~qubitlab.circuits.Circuit`\\ s or OpenQASM 3 text (``input`` parameters become circuit parameters).
A PUB goes over the wire as the circuit's JSON document, its parameter names in Qiskit's order (sorted by name)
and the values as one float array whose last axis holds them; the worker answers with arrays that
:class:`PrimitiveJob` turns into the V2 result containers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from qubitlab.errors import CircuitError, JobError
from qubitlab.runtime.client import Batch, QubitlabService, RuntimeJob, Session


def resolve_mode(mode: Any) -> tuple[QubitlabService, str | None]:
    """The service and session id for ``mode`` (a Session/Batch, a service, or a backend dict from one)."""
    if isinstance(mode, (Session, Batch)):
        return mode.service, mode.session_id
    if isinstance(mode, QubitlabService):
        return mode, None
    service = getattr(mode, "service", None)
    if isinstance(service, QubitlabService):
        return service, None
    raise JobError(f"mode must be a Session, a Batch or a QubitlabService, got {type(mode).__name__}; qubitlab "
                   "has no local mode: start a daemon (the virtual lab is one command away)")


def as_circuit(circuit: Any) -> Any:
    from qubitlab.circuits import Circuit
    from qubitlab.circuits.qasm import circuit_from_qasm3

    if isinstance(circuit, Circuit):
        return circuit
    if isinstance(circuit, str):
        return circuit_from_qasm3(circuit)
    raise CircuitError(f"a PUB's circuit must be a qubitlab Circuit or OpenQASM 3 text, got {type(circuit).__name__}")


def encode_bindings(circuit: Any, bindings: Any) -> tuple[list[str], np.ndarray, tuple[int, ...]]:
    """Parameter names (sorted, Qiskit's order), values ``(*shape, n)`` and the bindings' shape."""
    parameters = sorted(circuit.parameters, key=lambda p: p.name)
    names = [p.name for p in parameters]
    shape = tuple(bindings.shape)
    if not names:
        return [], np.zeros((0,)), shape
    values = np.asarray(bindings.as_array(parameters), dtype=np.float64)
    return names, values, shape


class PrimitiveJob:
    """A submitted primitive job (``job.result()`` is a ``PrimitiveResult``), wrapping a :class:`RuntimeJob`."""

    def __init__(self, job: RuntimeJob, build: Callable[[Mapping[str, Any]], Any]) -> None:
        self._job = job
        self._build = build
        self._result: Any = None
        self.submitted = time.time()

    def job_id(self) -> str:
        return self._job.job_id()

    def status(self) -> Any:
        return self._job.status()

    def done(self) -> bool:
        return self._job.done()

    def cancel(self) -> Any:
        return self._job.cancel()

    def metrics(self) -> dict[str, Any]:
        return self._job.metrics()

    def details(self) -> dict[str, Any]:
        """The daemon's record of the job: state times, stage timings, snapshot id."""
        return self._job.details()

    def result(self, timeout: float | None = None) -> Any:
        if self._result is None:
            payload = self._job.result(timeout)
            self._result = self._build({**payload, "job": self._job.details(), "fetched": time.time(),
                                        "submitted": self.submitted})
        return self._result
