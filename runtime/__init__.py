"""Runtime: the lab's daemon and its clients -- wire protocol, durable jobs, worker, scheduler, sessions and
batches, CURVE keys, and the V2 primitives.

The client API mirrors qiskit-ibm-runtime's::

    from qubitlab.runtime import EstimatorV2, QubitlabService, Session

    service = QubitlabService("tcp://127.0.0.1:5555", key="alice.key_secret", server_key="server.key")
    with Session(backend=service.backend()) as session:
        estimator = EstimatorV2(mode=session)
        evs = estimator.run([(circuit, observables, parameter_values)]).result()[0].data.evs
"""

from __future__ import annotations

from qubitlab.runtime.client import Backend, Batch, QubitlabService, RuntimeJob, Session
from qubitlab.runtime.estimator import EstimatorV2
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.primitive import PrimitiveJob
from qubitlab.runtime.primitives import (BitArray, DataBin, EstimatorOptions, PrimitiveResult, PubResult,
                                         SamplerOptions, SamplerPubResult)
from qubitlab.runtime.sampler import SamplerV2

__all__ = ["Backend", "Batch", "BitArray", "DataBin", "EstimatorOptions", "EstimatorV2", "JobStatus",
           "PrimitiveJob", "PrimitiveResult", "PubResult", "QubitlabService", "RuntimeJob", "SamplerOptions",
           "SamplerPubResult", "SamplerV2", "Session"]
