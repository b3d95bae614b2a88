"""Readout discrimination: many single shots with the qubit prepared in |0> (nothing) and |1> (x).

The blob centres are the per-quadrature medians of each preparation (robust to the shots that decayed
during the readout or were mis-prepared, which pull a mean towards the other blob); the discriminator is
the nearest centre (:func:`qubitlab.calibration.experiment.excited_population`), and the assignment fidelity
is ``1 - (P(1|0) + P(0|1)) / 2``.
"""

from __future__ import annotations

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, Outcome, conclude
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.parameters import qkey

NAME = "readout"


def _centre(shots: ComplexArray) -> complex:
    return complex(np.median(shots.real), np.median(shots.imag))


def run(ctx: Context, qubit: int, shots: int = 4000, min_snr: float = 2.0, min_fidelity: float = 0.6) -> Outcome:
    prepared = []
    for excite in (False, True):
        with pulse.build(name=f"readout_q{qubit}_{int(excite)}") as schedule:
            with pulse.align_sequential():
                if excite:
                    schedules.x(ctx, qubit)
                schedules.measure(ctx, [qubit])
        prepared.append(schedule)
    iq = np.asarray(ctx.run(prepared, shots=shots)[qubit], dtype=np.complex128)  # (2, shots)
    z0, z1 = _centre(iq[0]), _centre(iq[1])
    assigned = np.abs(iq - z1) < np.abs(iq - z0)  # True: read as |1>
    p10, p01 = float(np.mean(assigned[0])), float(np.mean(~assigned[1]))
    fidelity = 1 - (p10 + p01) / 2
    # noise of one shot per quadrature: the |0> blob's spread (MAD, robust to outliers)
    noise = float(np.median(np.abs(iq[0] - z0))) / np.sqrt(np.log(4))
    snr = abs(z1 - z0) / (2 * noise) if noise > 0 else 0.0
    error_f = float(np.sqrt((p10 * (1 - p10) + p01 * (1 - p01)) / shots) / 2)
    gates = [Gate("blob separation", snr >= min_snr,
                  f"|z1 - z0| / (2 sigma) = {snr:.2f} (need >= {min_snr})"),
             Gate("assignment fidelity", fidelity >= min_fidelity,
                  f"F = {fidelity:.3f} (P(1|0) = {p10:.3f}, P(0|1) = {p01:.3f}; need >= {min_fidelity})")]
    centre_error = noise * np.sqrt(np.pi / 2 / shots)  # standard error of a median
    updates = {qkey(qubit, "iq0_re"): (z0.real, centre_error), qkey(qubit, "iq0_im"): (z0.imag, centre_error),
               qkey(qubit, "iq1_re"): (z1.real, centre_error), qkey(qubit, "iq1_im"): (z1.imag, centre_error),
               qkey(qubit, "readout_fidelity"): (fidelity, error_f)}

    def draw(axis: object) -> None:
        blobs = axis.figure.add_axes([1.08, 0.11, 0.6, 0.77])  # type: ignore[attr-defined]
        for k, colour in ((0, "tab:blue"), (1, "tab:red")):
            blobs.plot(iq[k].real, iq[k].imag, ".", ms=1, alpha=0.3, color=colour, label=f"prepared |{k}>")
        blobs.plot([z0.real, z1.real], [z0.imag, z1.imag], "kx", ms=9, label="centres")
        blobs.set_xlabel("I")
        blobs.set_ylabel("Q")
        blobs.set_aspect("equal", adjustable="datalim")
        blobs.legend(fontsize=7)

    return conclude(ctx, NAME, [qubit], x=np.array([0.0, 1.0]), y=np.array([p10, 1 - p01]), fit=None, gates=gates,
                    updates=updates, xlabel="prepared state", ylabel="P(read |1>)", raw={"iq": iq},
                    message=f"F = {fidelity:.3f}, separation / noise = {2 * snr:.1f}", draw=draw)
