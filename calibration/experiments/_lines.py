"""A spectral line found in two passes, shared by the resonator and qubit spectroscopies: a coarse scan of the
search range, a Lorentzian fit and its gates, then (if those passed) a fine scan around the coarse centre.

Frequencies are fitted in MHz (absolute), which keeps the fit well scaled; the caller converts back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qubitlab.calibration.experiment import ComplexArray, FloatArray
from qubitlab.calibration.fitting import Fit, Gate, check, fit_lorentzian

MHZ = 1e6
Scan = Callable[[float, FloatArray], tuple[FloatArray, ComplexArray]]
"""``(centre Hz, offsets Hz) -> (y per point, mean IQ per point)``: one compiled program."""


@dataclass(frozen=True)
class Line:
    x: FloatArray
    """MHz, coarse and fine points merged in frequency order."""
    y: FloatArray
    iq: ComplexArray
    fit: Fit
    """The last pass's fit (the fine one when it ran)."""
    gates: list[Gate]
    message: str


def line_gates(fit: Fit, x: FloatArray, *, dip: bool, min_snr: float) -> list[Gate]:
    """Fit quality, plus: the expected sign, resolved by the scan's step, narrower than the scan, centre
    known to a step (or a tenth of the width)."""
    gates = check(fit, "x0", within=(float(x.min()), float(x.max())), min_snr=min_snr, min_r2=0.8)
    if fit.converged:
        step, span = float(x[1] - x[0]), float(np.ptp(x))
        width, height = abs(fit["width"]), fit["height"]
        gates.append(Gate("a dip" if dip else "a peak", height < 0 if dip else height > 0,
                          f"line height {height:.3g} (need {'< 0' if dip else '> 0'})"))
        gates.append(Gate("linewidth resolved", 1.5 * step <= width <= span / 3,
                          f"FWHM {width:.3g} MHz in [{1.5 * step:.3g}, {span / 3:.3g}] MHz (1.5 steps .. span/3)"))
        limit = max(step, width / 10)
        gates.append(Gate("centre standard error", fit.error("x0") <= limit,
                          f"+- {1e3 * fit.error('x0'):.3g} kHz (need <= {1e3 * limit:.3g} kHz)"))
    return gates


def find_line(scan: Scan, span: tuple[float, float], points: int, fine_span: float | None, fine_points: int,
              *, dip: bool, min_snr: float) -> Line:
    lo, hi = span
    centre = (lo + hi) / 2
    offsets = np.linspace(lo - centre, hi - centre, points)
    y, iq = scan(centre, offsets)
    x = (centre + offsets) / MHZ
    fit = fit_lorentzian(x, y)
    gates = line_gates(fit, x, dip=dip, min_snr=min_snr)
    if not fine_span or not all(g.passed for g in gates):
        return Line(x, y, iq, fit, gates, "coarse scan only")
    fine_centre = fit["x0"] * MHZ
    fine_offsets = np.linspace(-fine_span / 2, fine_span / 2, fine_points)
    fine_y, fine_iq = scan(fine_centre, fine_offsets)
    fine_x = (fine_centre + fine_offsets) / MHZ
    fine = fit_lorentzian(fine_x, fine_y)
    gates = [Gate("coarse " + g.name, g.passed, g.detail) for g in gates]
    gates += line_gates(fine, fine_x, dip=dip, min_snr=min_snr)
    order = np.argsort(np.concatenate([x, fine_x]), kind="stable")
    return Line(np.concatenate([x, fine_x])[order], np.concatenate([y, fine_y])[order],
                np.concatenate([iq, fine_iq])[order], fine, gates,
                f"fine scan +-{fine_span / 2 / MHZ:g} MHz around the coarse centre")
