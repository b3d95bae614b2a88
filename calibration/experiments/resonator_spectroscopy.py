"""Resonator spectroscopy: sweep the readout tone across the search range with the qubit in |0> and find the
notch in the averaged transmission; a fine pass around the coarse dip sets ``resonator_frequency`` (and, for
now, ``readout_frequency`` to the same value).

The sweep is one program: ``shift_frequency`` on the measure channel before the readout (the compiler
demodulates each acquisition at the frame frequency in force), the frame centred on the scanned range.
"""

from __future__ import annotations

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, FloatArray, Outcome, conclude
from qubitlab.calibration.fitting import Fit, Gate, check, fit_lorentzian

NAME = "resonator_spectroscopy"
MHZ = 1e6


def _transmission(ctx: Context, qubit: int, centre: float, offsets: FloatArray, shots: int) -> ComplexArray:
    """Mean IQ per probe frequency ``centre + offset`` (one program)."""
    df = pulse.Parameter("df")
    with pulse.build(name=f"resonator_spectroscopy_q{qubit}") as schedule:
        with pulse.align_sequential():
            pulse.shift_frequency(df, pulse.MeasureChannel(qubit))
            schedules.measure(ctx, [qubit])
    result = ctx.run(schedule, [{df: float(d)} for d in offsets], shots=shots, average=True,
                     frames=ctx.frames(**{f"m{qubit}": centre}))
    return np.asarray(result[qubit], dtype=np.complex128)


def _gates(fit: Fit, x: FloatArray, min_snr: float) -> list[Gate]:
    """Fit quality, plus: a dip (not a peak), resolved by the scan's step, narrower than the scan."""
    gates = check(fit, "x0", within=(float(x.min()), float(x.max())), min_snr=min_snr, min_r2=0.8)
    if fit.converged:
        step, span = float(x[1] - x[0]), float(np.ptp(x))
        width = abs(fit["width"])
        gates.append(Gate("a dip", fit["height"] < 0, f"line height {fit['height']:.3g} (a notch needs < 0)"))
        gates.append(Gate("linewidth resolved", 1.5 * step <= width <= span / 3,
                          f"FWHM {width:.3g} MHz in [{1.5 * step:.3g}, {span / 3:.3g}] MHz (1.5 steps .. span/3)"))
        gates.append(Gate("centre standard error", fit.error("x0") <= max(step, width / 10),
                          f"+- {1e3 * fit.error('x0'):.3g} kHz (need <= {1e3 * max(step, width / 10):.3g} kHz)"))
    return gates


def run(ctx: Context, qubit: int, span: tuple[float, float] | None = None, points: int = 161,
        fine_span: float | None = 6e6, fine_points: int = 61, shots: int = 200, min_snr: float = 10.0) -> Outcome:
    lo, hi = span or ctx.guess(qubit).resonator_range
    centre = (lo + hi) / 2
    offsets = np.linspace(lo - centre, hi - centre, points)
    iq = _transmission(ctx, qubit, centre, offsets, shots)
    x, y = (centre + offsets) / MHZ, np.abs(iq)
    fit = fit_lorentzian(x, y)
    gates = _gates(fit, x, min_snr)
    message = "coarse scan only"
    if fine_span and all(g.passed for g in gates):
        fine_centre = fit["x0"] * MHZ
        fine_offsets = np.linspace(-fine_span / 2, fine_span / 2, fine_points)
        fine_iq = _transmission(ctx, qubit, fine_centre, fine_offsets, shots)
        fine_x, fine_y = (fine_centre + fine_offsets) / MHZ, np.abs(fine_iq)
        fine = fit_lorentzian(fine_x, fine_y)
        gates = [Gate("coarse " + g.name, g.passed, g.detail) for g in gates] + _gates(fine, fine_x, min_snr)
        order = np.argsort(np.concatenate([x, fine_x]), kind="stable")
        x, y = np.concatenate([x, fine_x])[order], np.concatenate([y, fine_y])[order]
        iq = np.concatenate([iq, fine_iq])[order]
        fit, message = fine, f"fine scan +-{fine_span / 2 / MHZ:g} MHz around the coarse dip"
    f_r, error = fit["x0"] * MHZ, fit.error("x0") * MHZ
    updates = {f"q{qubit}.resonator_frequency": (f_r, error), f"q{qubit}.readout_frequency": (f_r, error)}
    if fit.converged:
        message += f"; FWHM {abs(fit['width']) * 1e3:.0f} kHz"
    return conclude(ctx, NAME, [qubit], x=x, y=y, fit=fit, gates=gates, updates=updates,
                    xlabel="readout frequency (MHz)", ylabel="|mean IQ| (transmission)", raw={"iq": iq},
                    message=message)
