"""EstimatorV2 on the lab's daemon, with qiskit-ibm-runtime's interface and V2 data model.

``EstimatorV2(mode=session).run([(circuit, observables, parameter_values, precision)])``: observables and
parameter values broadcast as Qiskit's ``EstimatorPub`` does (a (3, 1) parameter array against 4 observables
gives evs of shape (3, 4)); the worker groups the Pauli terms into qubit-wise commuting bases, runs every
parameter set in every basis as one program with ``ceil(1 / precision**2)`` shots per basis (or
``options.default_shots`` when set), and returns ``evs``, ``stds`` and ``ensemble_standard_error``.
``resilience_level`` 1 (the default, as in Qiskit Runtime) corrects readout with assignment matrices measured in
the same program; 0 returns raw expectation values.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from qubitlab.circuits.serialize import circuit_to_dict
from qubitlab.runtime.primitive import PrimitiveJob, encode_bindings, job_metadata, listed_pubs, options_of, \
    refuse_unimplemented, resolve_mode
from qubitlab.runtime.primitives import DataBin, EstimatorOptions, EstimatorPub, PrimitiveResult, PubResult


MITIGATION_FIELDS = ("evs_extrapolated", "stds_extrapolated", "evs_noise_factors", "stds_noise_factors",
                     "ensemble_stds_noise_factors")
"""Qiskit Runtime's extra data fields when ZNE runs (shapes ``(*shape, ...)``)."""


class EstimatorV2:
    """Expectation values of observables on circuits run on the lab, a PUB at a time."""

    def __init__(self, mode: Any = None, options: EstimatorOptions | Mapping[str, Any] | None = None) -> None:
        self._service, self._session = resolve_mode(mode)
        self._options: EstimatorOptions = options_of(options, EstimatorOptions)

    @property
    def mode(self) -> Any:
        return self._session or self._service

    @property
    def options(self) -> EstimatorOptions:
        return self._options

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        """Submit the PUBs as one job; ``precision`` is the default for a PUB that gives none
        (then ``options.default_precision``)."""
        refuse_unimplemented(self._options)
        default = precision if precision is not None else self._options.default_precision
        coerced = [EstimatorPub.coerce(pub, default, index=k) for k, pub in enumerate(listed_pubs(pubs))]
        encoded = []
        for pub in coerced:
            names, values = encode_bindings(pub.circuit, pub.parameter_values)
            observables = pub.observables
            encoded.append({"circuit": circuit_to_dict(pub.circuit), "parameters": names, "values": values,
                            "observables": [dict(o) for o in observables.array.reshape(-1)],
                            "observables_shape": list(observables.shape),
                            "precision": float(pub.precision or default)})
        options = self._options
        wire = {"default_shots": options.default_shots, "default_precision": default,
                "resilience_level": options.resilience_level, "resilience": options.resilience.to_dict(), "twirling": options.twirling.to_dict(),
                "dynamical_decoupling": options.dynamical_decoupling.to_dict(),
                "rep_delay": options.execution.rep_delay}
        submitted = time.time()
        job = self._service.submit("estimator", {"pubs": encoded, "options": wire}, session=self._session,
                                   max_execution_time=options.max_execution_time)
        shapes = [tuple(pub.shape) for pub in coerced]
        return PrimitiveJob(job, lambda payload: _result(payload, shapes), submitted)


def _result(payload: Mapping[str, Any], shapes: list[tuple[int, ...]]) -> PrimitiveResult:
    results = []
    for pub, shape in zip(payload["pubs"], shapes):
        metadata = dict(pub["metadata"])
        metadata["snapshot_id"] = payload.get("snapshot_id")
        data = DataBin(shape=shape, evs=np.asarray(pub["evs"], dtype=np.float64).reshape(shape),
                       stds=np.asarray(pub["stds"], dtype=np.float64).reshape(shape),
                       ensemble_standard_error=np.asarray(pub["ensemble_standard_error"],
                                                          dtype=np.float64).reshape(shape),
                       **{name: np.asarray(pub[name], dtype=np.float64) for name in MITIGATION_FIELDS if name in pub})
        results.append(PubResult(data, metadata))
    return PrimitiveResult(results, job_metadata(payload))
