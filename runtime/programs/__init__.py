"""Server-side programs: variational loops that run inside the worker, next to the instruments.

A client sends a program's name and plain data (circuit documents, Pauli terms, an optimizer's name, numbers),
never code; the registry below is the whole list of what may run. A program is one job: while it runs, the
worker runs nothing else, so it owns the device for its whole run as a session would, without a network round
trip per iteration. Each iteration calls the server-side estimator (:mod:`qubitlab.runtime.estimation`), whose
per-worker cache keeps the lowered ansatz, so only binding, compiling the bound schedule and executing repeat;
each iteration is published with :meth:`~qubitlab.runtime.jobs.WorkContext.report` (the daemon stores it and
``job.stream()`` yields it), and the job checks for cancel between iterations.

- ``vqe``: minimise an observable's expectation value over an ansatz's parameters (:mod:`.vqe`);
- ``qaoa``: MaxCut of a weighted graph with a depth-``p`` QAOA circuit built here (:mod:`.qaoa`);
- ``sweep``: any circuit over a parameter grid, in chunks: expectation values (one Estimator PUB per
  chunk for all observables) or counts (one Sampler PUB per chunk) (:mod:`.sweep`).
"""

from __future__ import annotations

from qubitlab.runtime.jobs import JobKind
from qubitlab.runtime.programs import qaoa, sweep, vqe

PROGRAMS: dict[str, JobKind] = {"vqe": vqe.run, "qaoa": qaoa.run, "sweep": sweep.run}
"""Programs by name (each is also a job kind in :data:`qubitlab.runtime.jobs.JOB_KINDS`)."""

__all__ = ["PROGRAMS"]
