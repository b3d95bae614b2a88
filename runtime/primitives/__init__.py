"""qubitlab.runtime.primitives: the client-side data model of the V2 primitives (SamplerV2, EstimatorV2).

Why it exists: PUBs, options and results are plain data both the client and the daemon handle; keeping them
apart from the primitives' transport lets either side validate a PUB or read a result without the other.
Follows Qiskit's ``qiskit.primitives.containers`` and qiskit-ibm-runtime's ``options`` (both Apache-2.0).
"""

from __future__ import annotations

from qubitlab.runtime.primitives.containers import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult

from qubitlab.runtime.primitives.options import EstimatorOptions, SamplerOptions, not_implemented
from qubitlab.runtime.primitives.pubs import (BindingsArray, EstimatorPub, ObservablesArray, SamplerPub,
                                             sorted_parameters)

__all__ = ["BindingsArray", "BitArray", "DataBin", "EstimatorOptions", "EstimatorPub", "ObservablesArray", "PrimitiveResult",
           "PubResult", "SamplerOptions", "SamplerPub", "SamplerPubResult", "not_implemented", "sorted_parameters"]
