"""SamplerV2 on the lab's daemon, with qiskit-ibm-runtime's interface and V2 data model.

``SamplerV2(mode=session).run([(circuit, parameter_values, shots)]).result()[0].data.meas.get_counts()``: PUBs are
coerced as Qiskit does (:class:`~qubitlab.runtime.primitives.SamplerPub`), each PUB's parameter sets run as one
compiled program on the worker, and the bits come back as one :class:`~qubitlab.runtime.primitives.BitArray`
per classical register of the circuit (``execution.meas_type="kerneled"`` / ``"avg_kerneled"``: complex IQ
arrays instead, per shot or averaged, as Qiskit Runtime returns them).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from qubitlab.circuits.serialize import circuit_to_dict
from qubitlab.runtime.primitive import PrimitiveJob, encode_bindings, job_metadata, listed_pubs, options_of, \
    refuse_unimplemented, resolve_mode
from qubitlab.runtime.primitives import BitArray, DataBin, PrimitiveResult, SamplerOptions, SamplerPub, \
    SamplerPubResult


class SamplerV2:
    """Bits (or IQ points) of circuits run on the lab, a PUB at a time."""

    def __init__(self, mode: Any = None, options: SamplerOptions | Mapping[str, Any] | None = None) -> None:
        self._service, self._session = resolve_mode(mode)
        self._options: SamplerOptions = options_of(options, SamplerOptions)

    @property
    def mode(self) -> Any:
        return self._session or self._service

    @property
    def options(self) -> SamplerOptions:
        return self._options

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        """Submit the PUBs as one job; ``shots`` is the default for a PUB that gives none
        (then ``options.default_shots``)."""
        refuse_unimplemented(self._options)
        default = shots if shots is not None else self._options.default_shots
        coerced = [SamplerPub.coerce(pub, default, index=k) for k, pub in enumerate(listed_pubs(pubs))]
        encoded = []
        for pub in coerced:
            names, values = encode_bindings(pub.circuit, pub.parameter_values)
            encoded.append({"circuit": circuit_to_dict(pub.circuit), "parameters": names, "values": values,
                            "shots": int(pub.shots or default)})  # the document carries the registers
        execution = self._options.execution
        wire = {"meas_type": execution.meas_type, "rep_delay": execution.rep_delay}
        submitted = time.time()
        job = self._service.submit("sampler", {"pubs": encoded, "options": wire}, session=self._session,
                                   max_execution_time=self._options.max_execution_time)
        shapes = [pub.shape for pub in coerced]
        return PrimitiveJob(job, lambda payload: _result(payload, shapes), submitted)


def _result(payload: Mapping[str, Any], shapes: list[tuple[int, ...]]) -> PrimitiveResult:
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
    return PrimitiveResult(results, job_metadata(payload))
