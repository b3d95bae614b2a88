"""Ramsey frequency fine-tune: sx - tau - sx with a virtual detuning of +delta and -delta in one program.

With the frame at ``f`` and the qubit at ``f + D``, the fringes run at ``|D - delta|`` and ``|D + delta|``;
for ``|D| < delta`` that is ``delta - D`` and ``delta + D``, so ``D`` is half their difference, whatever the
decay, and their sum must be ``2 delta`` (the gate that catches ``|D| > delta``, or a fit on the wrong peak).
"""

from __future__ import annotations

import math

import numpy as np

from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, population_or_signal
from qubitlab.calibration.experiments._sequences import grid_delays, ramsey
from qubitlab.calibration.fitting import Gate, check, fit_damped_cosine
from qubitlab.calibration.parameters import qkey

NAME = "ramsey"
US = 1e-6


def run(ctx: Context, qubit: int, detuning: float = 1.5e6, max_delay: float = 3e-6, points: int = 61,
        shots: int | None = None) -> Outcome:
    f_frame = ctx.value(qkey(qubit, "frequency"))
    delays = grid_delays(ctx, np.linspace(0.0, max_delay, points))
    iq = ramsey(ctx, qubit, delays, (detuning, -detuning), shots=shots)
    y, sigma, label = population_or_signal(iq.reshape(-1, iq.shape[-1]), ctx, qubit, reference=0)
    y_plus, y_minus = y[: len(delays)], y[len(delays):]
    x = delays / US
    plus, minus = fit_damped_cosine(x, y_plus, sigma), fit_damped_cosine(x, y_minus, sigma)
    nyquist = 0.5 / float(x[1] - x[0])
    gates = []
    for sign, fit in (("+", plus), ("-", minus)):
        gates += [Gate(f"{sign}delta {g.name}", g.passed, g.detail)
                  for g in check(fit, "frequency", within=(0.0, min(2 * detuning / 1e6, nyquist)), min_snr=5,
                                 max_rel_error=0.1)]
    f_plus, f_minus = abs(plus["frequency"]) * 1e6, abs(minus["frequency"]) * 1e6
    offset = (f_minus - f_plus) / 2
    error = math.hypot(plus.error("frequency"), minus.error("frequency")) * 1e6 / 2
    total = f_plus + f_minus
    tolerance = max(0.05 * detuning, 4 * error)
    gates.append(Gate("fringes add up to 2 delta", abs(total - 2 * detuning) <= tolerance,
                      f"{f_plus / 1e3:.1f} + {f_minus / 1e3:.1f} kHz = {total / 1e3:.1f} kHz, 2 delta = "
                      f"{2 * detuning / 1e3:.0f} kHz (+- {tolerance / 1e3:.0f}); otherwise |offset| > delta: "
                      "run with a larger detuning"))
    updates = {qkey(qubit, "frequency"): (f_frame + offset, error)}

    def draw(axis: object) -> None:
        fine = np.linspace(0.0, float(x[-1]), 600)
        axis.plot(x, y_minus, "s", ms=3, label="-delta data")  # type: ignore[attr-defined]
        if minus.converged:
            axis.plot(fine, minus.curve(fine), "-", label="-delta fit")  # type: ignore[attr-defined]

    return conclude(ctx, NAME, [qubit], x=x, y=y_plus, fit=plus, gates=gates, updates=updates,
                    xlabel="delay (us)", ylabel=label, raw={"iq_plus": iq[0].mean(axis=-1),
                                                            "iq_minus": iq[1].mean(axis=-1)},
                    message=f"frame {f_frame:.0f} Hz, qubit {offset / 1e3:+.1f} +- {error / 1e3:.1f} kHz from it",
                    draw=draw)
