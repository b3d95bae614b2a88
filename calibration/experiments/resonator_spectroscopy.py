"""Resonator spectroscopy: sweep the readout tone across the search range with the qubit in |0> and find the
notch in the averaged transmission; a fine pass around the coarse dip sets ``resonator_frequency`` (and, for
now, ``readout_frequency`` to the same value).

Each pass is one program: ``shift_frequency`` on the measure channel before the readout (the compiler
demodulates each acquisition at the frame frequency in force), the frame centred on the scanned range.
"""

from __future__ import annotations

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, FloatArray, Outcome, conclude
from qubitlab.calibration.experiments._lines import MHZ, Scan, find_line
from qubitlab.calibration.parameters import qkey

NAME = "resonator_spectroscopy"


def _scanner(ctx: Context, qubit: int, shots: int) -> Scan:
    df = pulse.Parameter("df")
    with pulse.build(name=f"resonator_spectroscopy_q{qubit}") as schedule:
        with pulse.align_sequential():
            pulse.shift_frequency(df, pulse.MeasureChannel(qubit))
            schedules.measure(ctx, [qubit])

    def scan(centre: float, offsets: FloatArray) -> tuple[FloatArray, ComplexArray]:
        result = ctx.run(schedule, [{df: float(d)} for d in offsets], shots=shots, average=True,
                         frames=ctx.frames({f"m{qubit}": centre}))
        iq = np.asarray(result[qubit], dtype=np.complex128)
        return np.abs(iq), iq

    return scan


def run(ctx: Context, qubit: int, span: tuple[float, float] | None = None, points: int = 161,
        fine_span: float | None = 6e6, fine_points: int = 61, shots: int = 200, min_snr: float = 10.0) -> Outcome:
    line = find_line(_scanner(ctx, qubit, shots), span or ctx.guess(qubit).resonator_range, points, fine_span,
                     fine_points, dip=True, min_snr=min_snr)
    fit = line.fit
    f_r, error = fit["x0"] * MHZ, fit.error("x0") * MHZ
    updates = {qkey(qubit, "resonator_frequency"): (f_r, error), qkey(qubit, "readout_frequency"): (f_r, error)}
    message = line.message + (f"; FWHM {abs(fit['width']) * 1e3:.0f} kHz" if fit.converged else "")
    return conclude(ctx, NAME, [qubit], x=line.x, y=line.y, fit=fit, gates=line.gates, updates=updates,
                    xlabel="readout frequency (MHz)", ylabel="|mean IQ| (transmission)", raw={"iq": line.iq},
                    message=message)
