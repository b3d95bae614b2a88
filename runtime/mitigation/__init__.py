"""Error mitigation for the Estimator (issue 17): zero-noise extrapolation (:mod:`.zne`, :mod:`.extrapolation`).

The worker's :mod:`qubitlab.runtime.estimation` calls in through small hooks; nothing here talks to the
daemon or the instruments.
"""

from __future__ import annotations
