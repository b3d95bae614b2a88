"""What SamplerV2 and EstimatorV2 share on the client: the execution mode, option checks, PUB encoding and the
job handle.

``mode`` is a :class:`~qubitlab.runtime.client.Session`, a :class:`~qubitlab.runtime.client.Batch`, a
:class:`~qubitlab.runtime.client.QubitlabService` or a backend from one (job mode), as in qiskit-ibm-runtime.
A PUB goes over the wire as its circuit's JSON document, the circuit's parameter names in the order of the
values' last axis (:func:`~qubitlab.runtime.primitives.sorted_parameters`, Qiskit's order) and the values as one
float array; the worker answers with arrays that :class:`PrimitiveJob` turns into the V2 result containers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.circuits import Circuit
from qubitlab.errors import CircuitError, JobError
from qubitlab.runtime.client import Batch, QubitlabService, RuntimeJob, Session
from qubitlab.runtime.primitives import BindingsArray, EstimatorOptions, SamplerOptions, not_implemented, \
    sorted_parameters


def resolve_mode(mode: Any) -> tuple[QubitlabService, str | None]:
    """The service and session id for ``mode`` (a Session/Batch, a service, or a backend from one)."""
    if isinstance(mode, (Session, Batch)):
        return mode.service, mode.session_id
    if isinstance(mode, QubitlabService):
        return mode, None
    service = getattr(mode, "service", None)
    if isinstance(service, QubitlabService):
        return service, None
    raise JobError(f"mode must be a Session, a Batch, a QubitlabService or a backend from one, got "
                   f"{type(mode).__name__}; qubitlab has no local mode: start a daemon (`qubitlab daemon start`, "
                   "or qubitlab.runtime.launch.start_daemon on the virtual lab)")


def options_of(given: Any, kind: type[SamplerOptions] | type[EstimatorOptions]) -> Any:
    """An options object of ``kind`` from None, an instance, or a (nested) dict of option names."""
    if isinstance(given, kind):
        return given
    if given is None:
        return kind()
    if isinstance(given, Mapping):
        return kind(**dict(given))
    raise JobError(f"options must be a {kind.__name__} or a dict of its fields, got {type(given).__name__}")


def refuse_unimplemented(options: SamplerOptions | EstimatorOptions) -> None:
    """Raise NotImplementedError naming every option that is set but not implemented (never ignored)."""
    unsupported = not_implemented(options)
    if unsupported:
        raise NotImplementedError(f"{type(options).__name__}: these options are accepted but not implemented "
                                  f"yet: {', '.join(unsupported)}; reset them to their defaults to run")


def listed_pubs(pubs: Iterable[Any]) -> list[Any]:
    """``run()``'s PUBs as a list; a bare circuit (a common slip) or an empty list is refused."""
    if isinstance(pubs, (Circuit, str)):
        raise CircuitError("run() takes a list of PUBs: write run([circuit]), not run(circuit)")
    out = list(pubs)
    if not out:
        raise CircuitError("run() needs at least one PUB")
    return out


def encode_bindings(circuit: Circuit, bindings: BindingsArray) -> tuple[list[str], NDArray[np.float64]]:
    """Parameter names (Qiskit's order) and the values ``(*shape, n)``; no names and an empty array when the
    circuit has no parameters."""
    names = [p.name for p in sorted_parameters(circuit)]
    if not names:
        return [], np.zeros((0,))
    return names, np.ascontiguousarray(bindings.as_array(names), dtype=np.float64)


def job_metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The PrimitiveResult's metadata: snapshot id, job id, state times and the worker's stage timings (s)."""
    job = payload.get("job") or {}
    return {"version": 2, "snapshot_id": payload.get("snapshot_id"), "job_id": job.get("job_id"),
            "timings": dict(job.get("timings") or {}), "created": job.get("created"),
            "started": job.get("started"), "finished": job.get("finished"), "submitted": payload.get("submitted"),
            "fetched": payload.get("fetched"), "cache": dict(payload.get("cache") or {})}


class PrimitiveJob:
    """A submitted primitive job (``job.result()`` is a ``PrimitiveResult``), wrapping a :class:`RuntimeJob`."""

    def __init__(self, job: RuntimeJob, build: Callable[[Mapping[str, Any]], Any], submitted: float) -> None:
        self._job = job
        self._build = build
        self._result: Any = None
        self.submitted = submitted

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
        """The daemon's record of the job: state, times, stage timings and snapshot id."""
        return self._job.details()

    def result(self, timeout: float | None = None) -> Any:
        if self._result is None:
            payload = self._job.result(timeout)
            self._result = self._build({**payload, "job": self._job.details(), "fetched": time.time(),
                                        "submitted": self.submitted})
        return self._result

    def __repr__(self) -> str:
        return f"<PrimitiveJob {self.job_id()}>"
