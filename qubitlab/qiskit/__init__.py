"""The Qiskit 2.x bridge (``pip install qubitlab[qiskit]``): Qiskit circuits, a calibrated ``BackendV2`` and
Qiskit's V2 primitives on a qubitlab daemon, so a qiskit-ibm-runtime script runs after changing its imports::

    from qubitlab.qiskit import QiskitRuntimeService, Session, EstimatorV2   # was: from qiskit_ibm_runtime ...

It lives in the shell (``qubitlab/qiskit/``) rather than in a layer: it sits above the runtime, like the CLI,
and it is the only place that imports Qiskit.
"""

from __future__ import annotations

try:
    import qiskit  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("qubitlab.qiskit needs Qiskit 2.x: pip install 'qubitlab[qiskit]'") from exc

from qubitlab.qiskit.backend import Backend, target_from_properties
from qubitlab.qiskit.convert import from_qiskit
from qubitlab.qiskit.primitives import EstimatorV2, RuntimeJobV2, SamplerV2
from qubitlab.qiskit.service import Batch, QiskitRuntimeService, Session

__all__ = ["Backend", "Batch", "EstimatorV2", "QiskitRuntimeService", "RuntimeJobV2", "SamplerV2", "Session",
           "from_qiskit", "target_from_properties"]
