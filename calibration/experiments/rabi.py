"""Rabi amplitude: sweep the DRAG pulse's amplitude, fit the oscillation; x is half a period, sx a quarter."""

from __future__ import annotations

import math

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, population_or_signal
from qubitlab.calibration.fitting import Gate, check, fit_cosine
from qubitlab.calibration.parameters import qkey

NAME = "rabi"


def run(ctx: Context, qubit: int, max_amp: float = 0.8, points: int = 51) -> Outcome:
    amp = pulse.Parameter("amp")
    with pulse.build(name=f"rabi_q{qubit}") as schedule:
        with pulse.align_sequential():
            schedules.drag(ctx, qubit, amp)
            schedules.measure(ctx, [qubit])
    amplitudes = np.linspace(0.0, max_amp, points)
    result = ctx.run(schedule, [{amp: float(a)} for a in amplitudes])
    iq = result[qubit]
    y, sigma, label = population_or_signal(iq, ctx, qubit, reference=0)
    fit = fit_cosine(amplitudes, y, sigma)
    gates = check(fit, "period", within=(4 * (amplitudes[1] - amplitudes[0]), 4 * max_amp), min_snr=8,
                  max_rel_error=0.05)
    if fit.converged:
        # at zero amplitude the qubit is in |0>: the curve must start at its minimum (cos phase near pi)
        start = fit.curve(np.array([0.0]))[0]
        low, high = fit["offset"] - abs(fit["amplitude"]), fit["offset"] + abs(fit["amplitude"])
        gates.append(Gate("starts in |0>", start - low < 0.2 * (high - low),
                          f"fitted signal at amp 0 is {(start - low) / max(high - low, 1e-300):.2f} of the swing "
                          "above its minimum (need < 0.2)"))
    period, error = abs(fit["period"]), fit.error("period")
    updates = {qkey(qubit, "x_amp"): (period / 2, error / 2), qkey(qubit, "sx_amp"): (period / 4, error / 4)}
    if period / 2 > max_amp:
        gates.append(Gate("pi pulse inside the scanned range", False,
                          f"x_amp {period / 2:.3g} > largest amplitude scanned {max_amp}"))
    return conclude(ctx, NAME, [qubit], x=amplitudes, y=y, fit=fit, gates=gates, updates=updates,
                    xlabel="DRAG amplitude (fraction of full scale)", ylabel=label, raw={"iq": iq.mean(axis=1)},
                    message=f"Rabi period {period:.4g}" if math.isfinite(period) else "")
