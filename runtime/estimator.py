"""EstimatorV2 on the lab's daemon, with qiskit-ibm-runtime's interface and V2 data model.

``EstimatorV2(mode=session).run([(circuit, observables, parameter_values, precision)])``: observables and
parameter values broadcast as Qiskit's ``EstimatorPub`` does (a (3, 1) parameter array against 4 observables gives
evs of shape (3, 4)); the worker groups the Pauli terms into qubit-wise commuting bases, runs every parameter set
in every basis as one program with ``ceil(1/precision^2)`` shots, and returns ``evs`` and ``stds``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from qubitlab.circuits.serialize import circuit_to_dict
from qubitlab.runtime.primitive import PrimitiveJob, as_circuit, encode_bindings, resolve_mode
from qubitlab.runtime.sampler import _job_metadata


class EstimatorV2:
    def __init__(self, mode: Any = None, options: Any = None) -> None:
        from qubitlab.runtime.primitives import EstimatorOptions

        self._service, self._session = resolve_mode(mode)
        self._options = options if isinstance(options, EstimatorOptions) else EstimatorOptions(**dict(options or {}))

    @property
    def options(self) -> Any:
        return self._options

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        from qubitlab.runtime.primitives import EstimatorPub, not_implemented

        unsupported = not_implemented(self._options)
        if unsupported:
            raise NotImplementedError(f"these options are accepted but not implemented yet: {', '.join(unsupported)}"
                                      "; set options.resilience_level = 0 for unmitigated expectation values")
        default = precision if precision is not None else self._options.default_precision
        encoded, shapes = [], []
        for pub in pubs:
            if isinstance(pub, tuple):
                pub = (as_circuit(pub[0]), *pub[1:])
            coerced = EstimatorPub.coerce(pub, default)
            names, values, _ = encode_bindings(coerced.circuit, coerced.parameter_values)
            observables = coerced.observables
            flat = [dict(o) for o in np.asarray(observables, dtype=object).reshape(-1)] if not hasattr(
                observables, "ravel") else [dict(o) for o in observables.ravel()]
            encoded.append({"circuit": circuit_to_dict(coerced.circuit), "parameters": names, "values": values,
                            "observables": flat, "observables_shape": list(observables.shape),
                            "precision": float(coerced.precision or default)})
            shapes.append(tuple(coerced.shape))
        options = self._options.to_dict()
        wire = {"default_shots": options.get("default_shots"), "default_precision": default,
                "resilience_level": options.get("resilience_level")}
        job = self._service.submit("estimator", {"pubs": encoded, "options": wire}, session=self._session,
                                   max_execution_time=options.get("max_execution_time"))
        return PrimitiveJob(job, lambda payload: _result(payload, shapes))


def _result(payload: Mapping[str, Any], shapes: list[tuple[int, ...]]) -> Any:
    from qubitlab.runtime.primitives import DataBin, PrimitiveResult, PubResult

    results = []
    for pub, shape in zip(payload["pubs"], shapes):
        metadata = dict(pub["metadata"])
        metadata["snapshot_id"] = payload.get("snapshot_id")
        data = DataBin(shape=shape, evs=np.asarray(pub["evs"]).reshape(shape),
                       stds=np.asarray(pub["stds"]).reshape(shape),
                       ensemble_standard_error=np.asarray(pub["ensemble_standard_error"]).reshape(shape))
        results.append(PubResult(data, metadata))
    return PrimitiveResult(results, _job_metadata(payload))
