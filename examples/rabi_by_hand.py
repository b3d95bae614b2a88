"""A Rabi amplitude sweep by hand: pulse builder -> compiler -> executor on the virtual lab -> fit.

What it shows: every step the calibration layer automates, written out. One parameterised schedule (a
Gaussian on d0, then q0's readout) is compiled with 41 amplitudes into *one* instrument program (one AWG
sequence), run on the virtual two-qubit lab's instruments over VISA, and the mean IQ point per amplitude is
fitted by a cosine; half its period is the pi-pulse amplitude.

Run it: ``python examples/rabi_by_hand.py`` (about 10 s). The plot goes to ``$QUBITLAB_EXAMPLES_OUT`` (default:
a new temporary folder); the last line is ``RESULT pi_amp=<fraction of full scale>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from _plots import figure, save

from qubitlab import load_lab, pulse
from qubitlab.calibration.experiment import principal_signal
from qubitlab.calibration.fitting import fit_cosine
from qubitlab.drivers.open import open_lab
from qubitlab.pulse.compiler import compile

# The device in lab_configs/virtual_2q.yaml: rabi_per_volt 6e9 Hz/V, amplitude 1 = half of 1 Vpp, a -30 dB
# drive line, and a Gaussian(160, sigma 40) whose lifted samples sum to 86.21 (dt = 1 ns). A full turn needs
# rabi * V * area = 1, so the pi amplitude is 1 / (2 * 6e9 * 0.5 * 10**-1.5 * 86.21e-9) = 0.0611; +-5 %.
EXPECT = {"pi_amp": (0.058, 0.064)}
PLOT = "rabi_by_hand.png"

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))
FRAMES = {"d0": 4.997e9, "m0": 7.051e9}
"""Frame frequencies (Hz) of the channels used: q0 and its resonator, as spectroscopy would find them."""


def rabi_schedule(amp: pulse.Parameter) -> pulse.ScheduleBlock:
    with pulse.build(name="rabi") as rabi:
        with pulse.align_sequential():
            pulse.play(pulse.Gaussian(160, amp, 40), pulse.DriveChannel(0))
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(2000, 0.1, 16, width=1936), pulse.MeasureChannel(0))
                pulse.acquire(2000, pulse.AcquireChannel(0), pulse.MemorySlot(0))
    return rabi


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lab_file = OUT / "virtual_2q.yaml"                      # a copy: the store and run records go next to it
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    lab = load_lab(lab_file)
    amp = pulse.Parameter("amp")
    amplitudes = np.linspace(0.0, 0.3, 41)
    program = compile(rabi_schedule(amp), lab, FRAMES, values=[{amp: float(a)} for a in amplitudes])
    with open_lab(lab) as opened:                           # starts the virtual lab's SCPI servers on 127.0.0.1
        raw = opened.executor.run(program, shots=500)
    signal = principal_signal(raw[0].mean(axis=1))          # memory slot 0: (points, shots) complex IQ
    fit = fit_cosine(amplitudes, signal)
    if not fit.converged:
        raise SystemExit(f"the Rabi fit did not converge: {fit.message}")
    pi_amp = abs(fit["period"]) / 2
    print(f"{len(amplitudes)} amplitudes x 500 shots, fit R^2 = {fit.r2:.4f}")
    print(f"pi pulse: amp = {pi_amp:.4f} +- {fit.error('period') / 2:.4f}")
    plot(amplitudes, signal, fit)
    print(f"RESULT pi_amp={pi_amp:.5f}")


def plot(x: np.ndarray, y: np.ndarray, fit: object) -> None:
    fig = figure()
    axis = fig.add_subplot()
    axis.plot(x, y, "o", ms=3.5, label="virtual lab, 500 shots per point")
    fine = np.linspace(x[0], x[-1], 400)
    axis.plot(fine, fit.curve(fine), "-", label="cosine fit")  # type: ignore[attr-defined]
    axis.set_xlabel("Gaussian amplitude (fraction of full scale)")
    axis.set_ylabel("IQ along its principal axis")
    axis.legend()
    save(fig, OUT, PLOT)


if __name__ == "__main__":
    main()
