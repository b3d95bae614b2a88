"""T2 echo (Hahn): sx - tau/2 - x - tau/2 - sx; the x refocuses static detuning, the signal returns to |0>
and decays exponentially towards the mixture with time constant T2 echo.
"""

from __future__ import annotations

import numpy as np

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, population_or_signal
from qubitlab.calibration.experiments._sequences import grid_delays, ramsey
from qubitlab.calibration.fitting import Gate, check, fit_exponential
from qubitlab.calibration.parameters import qkey

NAME = "t2_echo"
US = 1e-6


def run(ctx: Context, qubit: int, max_delay: float | None = None, points: int = 41, shots: int | None = None,
        widen: bool = True) -> Outcome:
    """``widen``: when the fitted T2 is longer than the window can resolve, measure once more over 4 T2."""
    widen = widen and max_delay is None
    max_delay = max_delay or 4 * ctx.value(qkey(qubit, "t2_echo"), ctx.value(qkey(qubit, "t2_ramsey"), 50e-6))
    delays = grid_delays(ctx, np.linspace(0.0, max_delay, points))
    iq = ramsey(ctx, qubit, delays, (0.0,), echo=True, shots=shots)[0]
    y, sigma, label = population_or_signal(iq, ctx, qubit, reference=0)  # refocused to |0> at tau = 0
    y = -y  # decaying from the top, as the exponential model's positive amplitude expects
    x = delays / US
    fit = fit_exponential(x, y, sigma)
    if widen and fit.converged and 0 < fit["tau"] * US < 1.0 and fit["tau"] > float(x[-1]) / 2:
        # the decay outlasts the window chosen from the guess: measure again, long enough (once)
        return run(ctx, qubit, 4 * fit["tau"] * US, points, shots, widen=False)
    gates = check(fit, "tau", bounds=(0.0, float(x[-1]) / 2), min_snr=5, max_rel_error=0.1)
    if fit.converged:
        gates.append(Gate("decays from |0>", fit["amplitude"] > 0,
                          f"amplitude {fit['amplitude']:.3g} (need > 0: the echo starts at |0>)"))
    updates = {qkey(qubit, "t2_echo"): (fit["tau"] * US, fit.error("tau") * US)}
    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=fit, gates=gates, updates=updates, xlabel="delay (us)",
                    ylabel=label + " (sign flipped)", raw={"iq": iq.mean(axis=-1)},
                    message=f"T2 echo = {fit['tau']:.3g} +- {fit.error('tau'):.2g} us" if fit.converged else "")
