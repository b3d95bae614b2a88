"""``QiskitRuntimeService``, ``Session`` and ``Batch`` shaped as qiskit-ibm-runtime's, over the lab's daemon.

A qiskit-ibm-runtime script changes only its imports: ``QiskitRuntimeService()`` (address and keys from
``QUBITLAB_DAEMON`` / ``QUBITLAB_KEY`` / ``QUBITLAB_SERVER_KEY``, as the IBM one reads a saved account),
``service.least_busy(operational=True, simulator=False)`` / ``backend()`` / ``backends()`` return the bridge's
Qiskit ``Backend`` (its ``Target`` calibrated), ``service.jobs()`` gives job handles (``job_id()``,
``status()``, ``details()``, ``metrics()``) in the order the daemon lists them, and
``Session(backend=backend)`` / ``Batch(backend=backend)`` are the native ones (they take the backend's service).
"""

from __future__ import annotations

from typing import Any

from qubitlab.errors import JobError
from qubitlab.qiskit.backend import Backend
from qubitlab.runtime.client import Batch, QubitlabService, RuntimeJob, Session

__all__ = ["Batch", "QiskitRuntimeService", "Session"]

IBM_ONLY = ("channel", "token", "instance", "url", "name", "proxies", "verify", "private_endpoint")
"""qiskit-ibm-runtime account arguments: accepted when None, refused otherwise (qubitlab has no IBM account)."""


class QiskitRuntimeService(QubitlabService):
    """The lab's daemon as qiskit-ibm-runtime's service (``QubitlabService`` underneath)."""

    def __init__(self, address: str | None = None, **kwargs: Any) -> None:
        given = sorted(k for k in IBM_ONLY if kwargs.pop(k, None) is not None)
        if given:
            raise JobError(f"QiskitRuntimeService: {', '.join(given)} are IBM Quantum account settings; qubitlab "
                           "connects to a lab daemon: give address= (or QUBITLAB_DAEMON) and key=/server_key=")
        super().__init__(address, **kwargs)

    def backend(self, name: str | None = None, instance: str | None = None) -> Backend:
        return Backend(super().backend(name))

    def backends(self, name: str | None = None, **filters: Any) -> list[Backend]:  # type: ignore[override]
        return [self.backend(name)]

    def least_busy(self, min_num_qubits: int | None = None, **filters: Any) -> Backend:
        backend = self.backend()
        if min_num_qubits is not None and backend.num_qubits < min_num_qubits:
            raise JobError(f"least_busy(min_num_qubits={min_num_qubits}): lab {backend.name!r} has only "
                           f"{backend.num_qubits} qubits")
        return backend

    def jobs(self, limit: int = 100, **filters: Any) -> list[RuntimeJob]:  # type: ignore[override]
        """Your jobs as handles, as qiskit-ibm-runtime's ``jobs()`` returns ``RuntimeJobV2`` objects
        (its filters, such as ``pending=``, are accepted; the daemon lists at most ``limit``)."""
        return [RuntimeJob(self, str(record["job_id"])) for record in super().jobs(limit)]
