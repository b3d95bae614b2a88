"""Runtime: the lab's daemon and its clients -- wire protocol, durable jobs, worker, scheduler, sessions and
batches, CURVE keys, and the primitives' job kinds (the SamplerV2/EstimatorV2 client classes land with their
data model: branch primitives-client).

The client API mirrors qiskit-ibm-runtime's::

    from qubitlab.runtime import EstimatorV2, QubitlabService, Session

    service = QubitlabService("tcp://127.0.0.1:5555", key="alice.key_secret", server_key="server.key")
    with Session(service, max_time="1h") as session:
        job = session.submit("estimator", {"pubs": [...]})     # EstimatorV2 next
"""

from __future__ import annotations

from qubitlab.runtime.client import Batch, QubitlabService, RuntimeJob, Session
from qubitlab.runtime.jobstore import JobStatus

__all__ = ["Batch", "JobStatus", "QubitlabService", "RuntimeJob", "Session"]
