"""Runtime: the lab's daemon and its clients -- wire protocol, durable jobs, worker, scheduler, sessions and
batches, CURVE keys, and the SamplerV2/EstimatorV2 primitives.

The client API mirrors qiskit-ibm-runtime's::

    from qubitlab.runtime import EstimatorV2, QubitlabService, Session

    service = QubitlabService("tcp://127.0.0.1:5555", key="alice.key_secret", server_key="server.key")
    with Session(service, max_time="1h") as session:
        evs = EstimatorV2(mode=session).run([(circuit, observables, values)]).result()[0].data.evs
"""

from __future__ import annotations

from qubitlab.runtime.client import Batch, QubitlabService, RuntimeJob, Session
from qubitlab.runtime.estimator import EstimatorV2
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.sampler import SamplerV2

__all__ = ["Batch", "EstimatorV2", "JobStatus", "QubitlabService", "RuntimeJob", "SamplerV2", "Session"]
