"""The main job for now: a Rabi experiment on the virtual lab, through every layer built so far.

It starts ``lab_configs/virtual_2q.yaml``'s virtual lab on 127.0.0.1, connects QCoDeS' drivers to it (a
Tektronix AWG5208, three R&S SGS100A sources, the virtual digitizer), compiles a 61-point Rabi amplitude
sweep into one program, runs it, fits the oscillation and plots it. The bring-up (calibration issue) will
take its place as the main job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

LAB_FILE = Path(__file__).resolve().parents[1] / "lab_configs" / "virtual_2q.yaml"
FREQUENCIES = {"q0.frequency": 4.997e9, "q1.frequency": 5.093e9,
               "q0.resonator_frequency": 7.051e9, "q1.resonator_frequency": 7.118e9}
"""The device's qubit and resonator frequencies, as a calibration would have found them."""


def demo_frames(lab: Any) -> dict[str, float]:
    """Frame frequencies of ``lab``'s channels from :data:`FREQUENCIES`, by the calibration layer's rule."""
    from qubitlab.calibration.frames import frames
    from qubitlab.calibration.snapshot import Snapshot

    return frames(lab, Snapshot.of(FREQUENCIES))


def rabi_schedule(amp: Any) -> Any:
    """``Gaussian(160, amp, 40)`` on d0, then q0's 2 us readout into memory slot 0."""
    from qubitlab import pulse

    with pulse.build(name="rabi") as rabi:
        with pulse.align_sequential():
            pulse.play(pulse.Gaussian(160, amp, 40), pulse.DriveChannel(0))
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(2000, 0.1, 64, width=1744), pulse.MeasureChannel(0))
                pulse.acquire(2000, pulse.AcquireChannel(0), pulse.MemorySlot(0))
    return rabi


def run_lab_demo(out_dir: str | Path, lab_file: str | Path = LAB_FILE) -> Iterator[str]:
    """Run the Rabi sweep on the virtual lab; writes ``rabi_virtual_lab.png`` into ``out_dir``."""
    import matplotlib.pyplot as plt

    from qubitlab import load_lab, pulse
    from qubitlab.calibration.experiment import principal_signal
    from qubitlab.calibration.fitting import fit_cosine
    from qubitlab.drivers.open import open_lab
    from qubitlab.errors import CalibrationError
    from qubitlab.pulse.compiler import compile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lab = load_lab(lab_file)
    amp = pulse.Parameter("amp")
    rabi = rabi_schedule(amp)
    amplitudes = np.linspace(0.0, 0.5, 61)
    with open_lab(lab, runs_dir=out / "runs") as opened:
        assert opened.virtual is not None
        for name, address in opened.virtual.addresses.items():
            yield f"virtual {lab.instruments[name].driver:27s} {name:10s} at {address}"
        start = time.perf_counter()
        program = compile(rabi, opened.connected, demo_frames(lab), values=[{amp: float(a)} for a in amplitudes])
        result = opened.executor.run(program, shots=1000)
        elapsed = time.perf_counter() - start
    yield (f"ran a {len(amplitudes)}-point Rabi sweep x 1000 shots as one program in {elapsed:.2f} s "
           f"({int(result.timings['waveforms_uploaded'])} waveforms uploaded)")
    signal = principal_signal(result[0].mean(axis=1))
    fit = fit_cosine(amplitudes, signal)
    if not fit.converged:
        raise CalibrationError(f"the demo's Rabi fit did not converge: {fit.message}")
    period = abs(fit["period"])
    yield f"Rabi period {period:.4f} of full scale: a pi pulse is amp = {period / 2:.4f}"
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(amplitudes, signal, "o", ms=4, label="virtual lab, 1000 shots per point")
    fine = np.linspace(amplitudes[0], amplitudes[-1], 500)
    axis.plot(fine, fit.curve(fine), "-", label=f"fit: period {period:.4f}")
    axis.set_xlabel("Gaussian amplitude (fraction of AWG full scale)")
    axis.set_ylabel("IQ projected on the |0>-|1> axis")
    axis.set_title("Rabi oscillation of q0, virtual_2q (AWG5208 + SGS100A + digitizer over VISA)")
    axis.legend()
    png = out / "rabi_virtual_lab.png"
    figure.savefig(png, dpi=110, bbox_inches="tight")
    plt.close(figure)
    yield f"plot: {png.resolve()}"
    yield f"run record with the station snapshot: {next((out / 'runs').glob('*.json')).resolve()}"
