"""T2*: Ramsey fringes at a small virtual detuning (100 kHz) out to a few T2; the damped cosine's decay time
is T2 Ramsey (exponential envelope: the free-induction decay of Markovian dephasing).
"""

from __future__ import annotations

import numpy as np

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, population_or_signal
from qubitlab.calibration.experiments._sequences import grid_delays, ramsey
from qubitlab.calibration.fitting import Gate, check, fit_damped_cosine
from qubitlab.calibration.parameters import qkey

NAME = "t2_ramsey"
US = 1e-6


def run(ctx: Context, qubit: int, detuning: float = 100e3, max_delay: float | None = None, points: int = 101,
        shots: int | None = None, widen: bool = True) -> Outcome:
    """``widen``: when the fitted T2* is longer than the window can resolve, measure once more over 3 T2*."""
    widen = widen and max_delay is None
    max_delay = max_delay or 3 * ctx.value(qkey(qubit, "t2_ramsey"), 50e-6)
    delays = grid_delays(ctx, np.linspace(0.0, max_delay, points))
    iq = ramsey(ctx, qubit, delays, (detuning,), shots=shots)[0]
    y, sigma, label = population_or_signal(iq, ctx, qubit, reference=0)
    x = delays / US
    fit = fit_damped_cosine(x, y, sigma)
    if widen and fit.converged and 0 < fit["tau"] * US < 1.0 and fit["tau"] > float(x[-1]) / 1.5:
        # the decay outlasts the window chosen from the guess: measure again, long enough (once)
        return run(ctx, qubit, detuning, 3 * fit["tau"] * US, points, shots, widen=False)
    gates = check(fit, "tau", bounds=(0.0, float(x[-1]) / 1.5), min_snr=5, max_rel_error=0.1)
    if fit.converged:
        fringe = abs(fit["frequency"]) * 1e6
        gates.append(Gate("fringe at the detuning", abs(fringe - detuning) <= 0.3 * detuning,
                          f"fringe {fringe / 1e3:.1f} kHz, virtual detuning {detuning / 1e3:.0f} kHz (need within "
                          "30 %: run ramsey first)"))
        gates.append(Gate("several fringes", fit["tau"] * fringe * US >= 1.0,
                          f"{fit['tau'] * fringe * US:.1f} fringes within T2 (need >= 1)"))
    updates = {qkey(qubit, "t2_ramsey"): (fit["tau"] * US, fit.error("tau") * US)}
    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=fit, gates=gates, updates=updates, xlabel="delay (us)",
                    ylabel=label, raw={"iq": iq.mean(axis=-1)},
                    message=f"T2* = {fit['tau']:.3g} +- {fit.error('tau'):.2g} us" if fit.converged else "")
