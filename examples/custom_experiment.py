"""Writing your own calibration experiment, with quality gates: a time-Rabi (Rabi frequency of a square pulse).

What it shows: the shape every experiment in ``calibration/experiments/`` has -- build the sweep, run it as
one program through the :class:`~qubitlab.calibration.context.Context`, fit, decide with quality gates, and
hand back an :class:`~qubitlab.calibration.experiment.Outcome` through ``conclude()`` (raw data in a QCoDeS
dataset, the plot always, the proposal only if every gate passed). The experiment is then run as a node of
the bring-up on a fresh store, so its run lands in the store's run table like any other. A second run with a
scan too short for one period fails the "inside the scanned range" gate, and nothing of it is kept.

Run it: ``python examples/custom_experiment.py`` (about 15 s). Plots go to ``$QUBITLAB_EXAMPLES_OUT/plots``
(default: a new temporary folder); the last line is ``RESULT rabi_frequency_mhz=<MHz>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from qubitlab import load_lab, pulse
from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update, bringup
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, population_or_signal
from qubitlab.calibration.fitting import Gate, check, fit_cosine
from qubitlab.calibration.session import open_calibration

# virtual_2q.yaml: rabi_per_volt 6e9 Hz/V; amplitude 0.1 is 0.1 * 0.5 V * 10**(-30/20) = 1.581 mV at q0, so the
# resonant Rabi frequency is 6e9 * 1.581e-3 = 9.487 MHz. +-5 % covers the 3-level transmon's small Stark shift.
EXPECT = {"rabi_frequency_mhz": (9.0, 10.0)}
PLOT = "time_rabi_q0_000.png"
"""The passing run's plot, as ``conclude()`` names it in ``plots/`` (the failing run's is ``_001``)."""

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))
AMP = 0.1
FREQUENCIES = {"q0.frequency": 4.997e9, "q0.resonator_frequency": 7.051e9}
"""What spectroscopy would have stored (the device's lines); the experiment needs frames for d0 and m0."""


def time_rabi(ctx: Context, qubit: int, max_duration: int = 320, points: int = 41) -> Outcome:
    """Square pulses of amplitude AMP and growing duration (dt); fit P(1) or the IQ signal by a cosine."""
    durations = np.linspace(0, max_duration, points).round().astype(int)
    schedules = []
    for n in durations:
        with pulse.build(name=f"time_rabi_{n}") as schedule:
            with pulse.align_sequential():
                if n:
                    pulse.play(pulse.Constant(int(n), AMP), pulse.DriveChannel(qubit))
                measure(ctx, qubit)
        schedules.append(schedule)
    iq = ctx.run(schedules)[qubit]                         # (points, shots) complex IQ
    y, sigma, label = population_or_signal(iq, ctx, qubit, reference=0)
    times = durations * ctx.lab.timing.dt * 1e9            # ns
    fit = fit_cosine(times, y, sigma)
    step = times[1] - times[0]
    gates = check(fit, "period", within=(4 * step, times[-1]), min_r2=0.9, min_snr=8, max_rel_error=0.05)
    if fit.converged:                                      # an experiment-specific gate: no pulse, no excitation
        low = fit["offset"] - abs(fit["amplitude"])
        start = float(fit.curve(np.array([0.0]))[0])
        gates.append(Gate("starts in |0>", start - low < 0.2 * 2 * abs(fit["amplitude"]),
                          f"signal at zero duration is {start - low:.3g} above the fitted minimum"))
    frequency = 1e9 / abs(fit["period"]) if fit.converged else float("nan")   # Hz
    return conclude(ctx, "time_rabi", [qubit], x=times, y=y, fit=fit, gates=gates, updates={},
                    xlabel="square pulse duration (ns)", ylabel=label, raw={"iq": iq.mean(axis=1)},
                    message=f"Rabi frequency {frequency / 1e6:.4f} MHz at amp {AMP}")


def measure(ctx: Context, qubit: int) -> None:
    duration, amp = ctx.readout_shape(qubit)
    with pulse.align_left():
        pulse.play(pulse.GaussianSquare(duration, amp, 16, width=duration - 64), pulse.MeasureChannel(qubit))
        pulse.acquire(duration, pulse.AcquireChannel(qubit), pulse.MemorySlot(qubit))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lab_file = OUT / "virtual_2q.yaml"
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with CalibrationStore.for_lab(load_lab(lab_file)) as store:
        store.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("frequencies", kind=RunKind.OPERATOR))
    node = bringup.Node("time_rabi", "qubit")
    with open_calibration(lab_file, out_dir=OUT, shots=400) as session:
        steps = bringup.plan(session.ledger, [0], [], graph=[node])
        print("planned:", [f"{s.node.name} q{s.target[0]} ({s.reason})" for s in steps])
        good = bringup.calibrate(session.ctx, session.ledger, steps, lambda ctx, n, t: time_rabi(ctx, *t))[0]
        print(good.summary())
        short = time_rabi(session.ctx, 0, max_duration=48, points=13)  # less than one period: must fail a gate
        print(short.summary())
        runs = [f"{r.experiment}: {r.status.value}" for r in session.store.runs()]
        print("store runs:", runs)
    assert good.passed and not short.passed, "the gates should pass the full scan and refuse the short one"
    frequency = float(good.message.split()[2])
    print(f"plot: {good.plot}")
    print(f"RESULT rabi_frequency_mhz={frequency:.4f}")


if __name__ == "__main__":
    main()
