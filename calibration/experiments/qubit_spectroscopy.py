"""Qubit spectroscopy: a weak Gaussian probe pulse on the drive channel swept across the search range, read
at the readout frequency; the peak of the readout signal (Lorentzian fit) is the qubit frequency, coarse
(tens of kHz): Ramsey refines it.

Why a short Gaussian probe and not a long saturation tone: saturation needs a tone much longer than T2, and
a 2-4 us tone on a qubit with T2 ~ 50 us drives coherent Rabi fringes across the line (the Lorentzian fit
fails; a 3 us tone needed 401 points and 30 s on ``virtual_2q``). A Gaussian of ``sigma`` = 100 ns turning
the qubit by well under pi gives one smooth line ~2.6 MHz wide (the pulse's spectrum), so 1 MHz coarse
steps find it. The default amplitude turns the qubit by about pi/2 on ``virtual_2q`` (94 MHz Rabi rate per
unit amplitude); elsewhere pass ``amp`` (below the Rabi pi amplitude for this pulse).

Each pass is one program: ``shift_frequency`` on ``d_q`` before the probe, then the readout.
"""

from __future__ import annotations

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, FloatArray, Outcome, conclude
from qubitlab.calibration.experiments._lines import MHZ, Scan, find_line
from qubitlab.calibration.parameters import qkey

NAME = "qubit_spectroscopy"


def _scanner(ctx: Context, qubit: int, amp: float, sigma: float, shots: int) -> Scan:
    df = pulse.Parameter("df")
    samples = ctx.samples(4 * sigma, 16)
    with pulse.build(name=f"qubit_spectroscopy_q{qubit}") as schedule:
        with pulse.align_sequential():
            pulse.shift_frequency(df, pulse.DriveChannel(qubit))
            pulse.play(pulse.Gaussian(samples, amp, sigma / ctx.lab.dt), pulse.DriveChannel(qubit))
            schedules.measure(ctx, [qubit])

    axis: list[complex] = []  # baseline IQ (qubit in |0>) and the unit vector towards the line

    def scan(centre: float, offsets: FloatArray) -> tuple[FloatArray, ComplexArray]:
        result = ctx.run(schedule, [{df: float(d)} for d in offsets], shots=shots, average=True,
                         frames=ctx.frames({f"d{qubit}": centre}))
        iq = np.asarray(result[qubit], dtype=np.complex128)
        if not axis:  # the first (coarse) pass fixes the baseline and direction, so the passes share units
            base = complex(np.median(iq.real), np.median(iq.imag))
            far = iq[int(np.argmax(np.abs(iq - base)))] - base
            axis.extend([base, far / abs(far) if abs(far) else 1.0])
        return np.asarray(((iq - axis[0]) * np.conj(axis[1])).real, dtype=np.float64), iq

    return scan


def run(ctx: Context, qubit: int, span: tuple[float, float] | None = None, points: int = 101,
        fine_span: float | None = 16e6, fine_points: int = 41, amp: float = 0.01, sigma: float = 100e-9,
        shots: int = 200, min_snr: float = 8.0, retry_factor: int = 6) -> Outcome:
    """Find the line with ``shots`` per point; if a gate fails, scan once more with ``retry_factor`` times the
    shots (the readout is not optimised yet: on a weak dispersive shift or a noisy amplifier the averaged
    signal is what limits the fit, and averaging longer is the remedy; a line outside the range stays failed)."""
    tried = []
    for count in (shots, shots * retry_factor):
        line = find_line(_scanner(ctx, qubit, amp, sigma, count), span or ctx.guess(qubit).qubit_range, points,
                         fine_span, fine_points, dip=False, min_snr=min_snr)
        tried.append(count)
        if all(g.passed for g in line.gates) or retry_factor <= 1:
            break
    fit = line.fit
    updates = {qkey(qubit, "frequency"): (fit["x0"] * MHZ, fit.error("x0") * MHZ)}
    message = line.message + (f"; FWHM {abs(fit['width']) * 1e3:.0f} kHz" if fit.converged else "")
    if len(tried) > 1:
        message += f"; {tried[-1]} shots per point (failed at {tried[0]})"
    return conclude(ctx, NAME, [qubit], x=line.x, y=line.y, fit=fit, gates=line.gates, updates=updates,
                    xlabel="drive frequency (MHz)", ylabel="IQ shift from the baseline, towards the line",
                    raw={"iq": line.iq}, message=message)
