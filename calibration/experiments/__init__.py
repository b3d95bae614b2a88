"""Calibration experiments, one module each: ``run(ctx, qubits) -> Outcome`` (see ``calibration/experiment.py``).

:data:`EXPERIMENTS` is the explicit table the bring-up graph and the command line use.
"""

from __future__ import annotations
