"""T1: x, wait, measure; the excited population relaxes exponentially, its time constant is T1.

Delays reach five times the stored T1 (300 us when there is none), so the tail fixes the offset; a T1 found
far shorter than that range is measured again over five of its own value (one more program).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import FloatArray, Outcome, conclude, population_or_signal
from qubitlab.calibration.experiments._sequences import grid_delays
from qubitlab.calibration.fitting import Fit, Gate, check, fit_exponential
from qubitlab.calibration.parameters import qkey

NAME = "t1"
US = 1e-6


def _measure(ctx: Context, qubit: int, max_delay: float, points: int, shots: int | None
             ) -> tuple[FloatArray, FloatArray, Any, Fit, str]:
    delays = grid_delays(ctx, np.linspace(0.0, max_delay, points))
    wait = pulse.Parameter("wait")
    with pulse.build(name=f"t1_q{qubit}") as schedule:
        with pulse.align_sequential():
            schedules.x(ctx, qubit)
            pulse.delay(wait, pulse.DriveChannel(qubit))
            schedules.measure(ctx, [qubit])
    iq = ctx.run(schedule, [{wait: int(round(d / ctx.lab.dt))} for d in delays], shots=shots)[qubit]
    y, sigma, label = population_or_signal(iq, ctx, qubit, reference=-1)  # relaxed at the longest delay
    x = delays / US
    return x, y, iq, fit_exponential(x, y, sigma), label


def run(ctx: Context, qubit: int, max_delay: float | None = None, points: int = 41, shots: int | None = None
        ) -> Outcome:
    delay = max_delay or 5 * ctx.value(qkey(qubit, "t1"), 60e-6)
    x, y, iq, fit, label = _measure(ctx, qubit, delay, points, shots)
    if max_delay is None and fit.converged and 0 < 5 * fit["tau"] * US < delay / 2:
        # far shorter than the first guess (no T1 stored yet): measure again over five of the found T1
        x, y, iq, fit, label = _measure(ctx, qubit, 5 * fit["tau"] * US, points, shots)
    gates = check(fit, "tau", bounds=(0.0, float(x[-1]) / 2), min_snr=8, max_rel_error=0.1)
    if fit.converged:
        gates.append(Gate("decays", fit["amplitude"] > 0,
                          f"amplitude {fit['amplitude']:.3g} (the excited signal must fall, need > 0)"))
        gates.append(Gate("resolved", fit["tau"] >= 3 * float(x[1] - x[0]),
                          f"T1 {fit['tau']:.3g} us >= 3 delay steps ({3 * float(x[1] - x[0]):.3g} us)"))
    updates = {qkey(qubit, "t1"): (fit["tau"] * US, fit.error("tau") * US)}
    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=fit, gates=gates, updates=updates, xlabel="delay (us)",
                    ylabel=label, raw={"iq": iq.mean(axis=-1)},
                    message=f"T1 = {fit['tau']:.3g} +- {fit.error('tau'):.2g} us" if fit.converged else "")
