"""Error suppression and mitigation for the Estimator (issue 17), with Qiskit Runtime's option names.

:mod:`.zne` and :mod:`.extrapolation` (zero-noise extrapolation by gate folding), :mod:`.stretch` (the
``pulse_stretch`` amplifier), :mod:`.trex` (measurement twirling and TREX), :mod:`.twirl` (Pauli twirling of
the ECR), :mod:`.dd` (dynamical decoupling of idle windows); :mod:`.hooks` is what
:mod:`qubitlab.runtime.estimation` calls. Nothing here talks to the daemon or the instruments: each technique
rewrites translated circuits (or the gate map) and combines expectation values.
"""

from __future__ import annotations
