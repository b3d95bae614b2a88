"""``SamplerV2`` / ``EstimatorV2`` implementing Qiskit's ``BaseSamplerV2`` / ``BaseEstimatorV2`` on the daemon.

A Qiskit user hands Qiskit PUBs (``QuantumCircuit``, ``SparsePauliOp`` or Pauli labels, parameter arrays) and
gets Qiskit's own ``PrimitiveResult`` / ``DataBin`` / ``BitArray`` back. The PUBs are coerced by Qiskit itself
(``qiskit.primitives.containers``), so broadcasting and validation are Qiskit's; each circuit is converted with
:func:`~qubitlab.qiskit.convert.from_qiskit` (parameter values follow ``circuit.parameters``, matched by name)
and the job runs through the native primitives (:mod:`qubitlab.runtime.sampler`, :mod:`.estimator`), whose
options (``default_shots``, ``resilience_level``, ``dynamical_decoupling``, ...) are the ones
qiskit-ibm-runtime scripts set, honoured or refused by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from qiskit.primitives import BaseEstimatorV2, BasePrimitiveJob, BaseSamplerV2
from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub as QiskitEstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub as QiskitSamplerPub
from qiskit.providers import JobStatus as QiskitJobStatus

from qubitlab.circuits import Circuit
from qubitlab.qiskit.convert import Converter, from_qiskit
from qubitlab.runtime.estimator import EstimatorV2 as NativeEstimator
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.primitive import PrimitiveJob
from qubitlab.runtime.primitives import BindingsArray, EstimatorOptions, EstimatorPub, ObservablesArray, \
    SamplerOptions, SamplerPub
from qubitlab.runtime.sampler import SamplerV2 as NativeSampler

_STATUS = {JobStatus.QUEUED: QiskitJobStatus.QUEUED, JobStatus.RUNNING: QiskitJobStatus.RUNNING,
           JobStatus.DONE: QiskitJobStatus.DONE, JobStatus.CANCELLED: QiskitJobStatus.CANCELLED,
           JobStatus.ERROR: QiskitJobStatus.ERROR}


class RuntimeJobV2(BasePrimitiveJob):  # type: ignore[misc]  # qiskit ships no type information
    """A primitive job on the daemon whose ``result()`` is Qiskit's ``PrimitiveResult``."""

    def __init__(self, job: PrimitiveJob, convert: Any) -> None:
        super().__init__(job.job_id())
        self._job = job
        self._convert = convert
        self._result: Any = None

    def result(self, timeout: float | None = None) -> Any:
        if self._result is None:
            self._result = self._convert(self._job.result(timeout))
        return self._result

    def status(self) -> Any:
        return _STATUS.get(self._job.status(), QiskitJobStatus.INITIALIZING)

    def done(self) -> bool:
        return bool(self.status() is QiskitJobStatus.DONE)

    def running(self) -> bool:
        return bool(self.status() is QiskitJobStatus.RUNNING)

    def cancelled(self) -> bool:
        return bool(self.status() is QiskitJobStatus.CANCELLED)

    def in_final_state(self) -> bool:
        return bool(self._job.done())

    def cancel(self) -> Any:
        return self._job.cancel()

    def metrics(self) -> dict[str, Any]:
        return self._job.metrics()


def _bindings(circuit: Any, values: Any, shape: tuple[int, ...]) -> BindingsArray:
    """Qiskit's BindingsArray as qubitlab's, values matched to parameters by name."""
    parameters = list(circuit.parameters)
    if not parameters:
        return BindingsArray(shape=shape)
    names = tuple(str(p.name) for p in parameters)
    return BindingsArray({names: np.asarray(values.as_array(parameters), dtype=np.float64)})


def _native_circuit(circuit: Any) -> Circuit:
    return from_qiskit(circuit, Converter())


class SamplerV2(BaseSamplerV2):  # type: ignore[misc]  # qiskit ships no type information
    """Qiskit's ``BaseSamplerV2`` on the lab: ``SamplerV2(mode=session).run([isa_circuit])``."""

    def __init__(self, mode: Any = None, options: SamplerOptions | Mapping[str, Any] | None = None) -> None:
        self._native = NativeSampler(mode=mode, options=options)

    @property
    def mode(self) -> Any:
        return self._native.mode

    @property
    def options(self) -> SamplerOptions:
        return self._native.options

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> RuntimeJobV2:
        default = shots if shots is not None else self.options.default_shots
        coerced = [QiskitSamplerPub.coerce(pub, default) for pub in pubs]
        native = [SamplerPub(_native_circuit(pub.circuit), _bindings(pub.circuit, pub.parameter_values,
                                                                      pub.shape), pub.shots, index=k)
                  for k, pub in enumerate(coerced)]
        return RuntimeJobV2(self._native.run(native), _sampler_result)


def _sampler_result(result: Any) -> Any:
    pubs = []
    for pub in result:
        fields = {name: BitArray(np.asarray(value.array), value.num_bits) if hasattr(value, "num_bits") else value
                  for name, value in pub.data.items()}
        pubs.append(SamplerPubResult(DataBin(shape=pub.data.shape, **fields), dict(pub.metadata)))
    return PrimitiveResult(pubs, dict(result.metadata))


class EstimatorV2(BaseEstimatorV2):  # type: ignore[misc]  # qiskit ships no type information
    """Qiskit's ``BaseEstimatorV2`` on the lab: ``EstimatorV2(mode=session).run([(isa_circuit, observable)])``."""

    def __init__(self, mode: Any = None, options: EstimatorOptions | Mapping[str, Any] | None = None) -> None:
        self._native = NativeEstimator(mode=mode, options=options)

    @property
    def mode(self) -> Any:
        return self._native.mode

    @property
    def options(self) -> EstimatorOptions:
        return self._native.options

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> RuntimeJobV2:
        default = precision if precision is not None else self.options.default_precision
        coerced = [QiskitEstimatorPub.coerce(pub, default) for pub in pubs]
        native = []
        for k, pub in enumerate(coerced):
            observables = ObservablesArray.coerce(pub.observables.tolist())
            native.append(EstimatorPub(_native_circuit(pub.circuit), observables,
                                       _bindings(pub.circuit, pub.parameter_values, pub.parameter_values.shape),
                                       pub.precision, index=k))
        return RuntimeJobV2(self._native.run(native), _estimator_result)


def _estimator_result(result: Any) -> Any:
    pubs = [PubResult(DataBin(shape=pub.data.shape, **dict(pub.data.items())), dict(pub.metadata))
            for pub in result]
    return PrimitiveResult(pubs, dict(result.metadata))
