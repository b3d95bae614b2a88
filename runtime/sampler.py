"""SamplerV2 on the lab's daemon, with qiskit-ibm-runtime's interface and V2 data model.

``SamplerV2(mode=session).run([(circuit, parameter_values, shots)]).result()[0].data.meas.get_counts()``: PUBs are
coerced as Qiskit does (:class:`~qubitlab.runtime.primitives.SamplerPub`), each PUB's parameter sets run as one
compiled program on the worker, and the bits come back as one :class:`~qubitlab.runtime.primitives.BitArray`
per classical register (``execution.meas_type="kerneled"``/``"avg_kerneled"``: complex IQ arrays instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from qubitlab.circuits.serialize import circuit_to_dict
from qubitlab.runtime.primitive import PrimitiveJob, as_circuit, encode_bindings, resolve_mode


class SamplerV2:
    def __init__(self, mode: Any = None, options: Any = None) -> None:
        from qubitlab.runtime.primitives import SamplerOptions

        self._service, self._session = resolve_mode(mode)
        self._options = options if isinstance(options, SamplerOptions) else SamplerOptions(**dict(options or {}))

    @property
    def options(self) -> Any:
        return self._options

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        from qubitlab.runtime.primitives import SamplerPub, not_implemented

        unsupported = not_implemented(self._options)
        if unsupported:
            raise NotImplementedError(f"these options are accepted but not implemented yet: {', '.join(unsupported)}")
        default = shots if shots is not None else self._options.default_shots
        encoded, shapes = [], []
        for pub in pubs:
            pub = _with_circuit(pub)
            coerced = SamplerPub.coerce(pub, default)
            names, values, shape = encode_bindings(coerced.circuit, coerced.parameter_values)
            encoded.append({"circuit": circuit_to_dict(coerced.circuit), "parameters": names, "values": values,
                            "shots": int(coerced.shots or default),
                            "registers": {_register_name(coerced.circuit): list(range(coerced.circuit.num_clbits))}})
            shapes.append(shape)
        options = self._options.to_dict()
        wire_options = {"meas_type": options.get("execution", {}).get("meas_type", "classified")}
        job = self._service.submit("sampler", {"pubs": encoded, "options": wire_options}, session=self._session,
                                   max_execution_time=options.get("max_execution_time"))
        return PrimitiveJob(job, lambda payload: _result(payload, shapes))


def _with_circuit(pub: Any) -> Any:
    if isinstance(pub, tuple):
        return (as_circuit(pub[0]), *pub[1:])
    return as_circuit(pub)


def _register_name(circuit: Any) -> str:
    return str(getattr(circuit, "creg_name", None) or "meas")


def _result(payload: Mapping[str, Any], shapes: list[tuple[int, ...]]) -> Any:
    from qubitlab.runtime.primitives import BitArray, DataBin, PrimitiveResult, SamplerPubResult

    results = []
    for pub, shape in zip(payload["pubs"], shapes):
        fields: dict[str, Any] = {}
        for name, register in pub["registers"].items():
            if "array" in register:
                fields[name] = BitArray(np.asarray(register["array"], dtype=np.uint8), int(register["num_bits"]))
            else:
                fields[name] = np.asarray(register["iq"])
        metadata = dict(pub["metadata"])
        metadata["snapshot_id"] = payload.get("snapshot_id")
        results.append(SamplerPubResult(DataBin(shape=shape, **fields), metadata))
    return PrimitiveResult(results, _job_metadata(payload))


def _job_metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    job = payload.get("job") or {}
    return {"version": 2, "snapshot_id": payload.get("snapshot_id"), "job_id": job.get("job_id"),
            "timings": job.get("timings", {}), "created": job.get("created"), "started": job.get("started"),
            "finished": job.get("finished"), "fetched": payload.get("fetched"), "submitted": payload.get("submitted"),
            "cache": payload.get("cache", {})}
