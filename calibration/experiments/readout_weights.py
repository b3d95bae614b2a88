"""Matched-filter integration weights: integrate the readout where |0> and |1> differ, not uniformly.

A boxcar weighs the resonator's ring-up (when the two states' fields have not separated yet) and the end of
the window (when many |1> shots have decayed) as much as the middle. For white noise the weights that
maximise the separation over the noise are the mean difference trace itself (the matched filter, as
Qibocal's and Quantify's optimal-weights experiments compute it): the digitizer integrates
``sum conj(w) x``, so ``w = mean1 - mean0`` (the brief's ``conj(mean1 - mean0)`` is the kernel it applies).

This node records the demodulated traces averaged over shots (``MeasLevel.RAW``) with the qubit prepared in |0>
and |1>, fits the difference with :data:`~qubitlab.calibration.parameters.KERNEL_KNOTS` complex knots (piecewise
linear; the least-squares fit also averages the noise down) and stores them with the window they belong to.
The gate map's measure then carries them as the acquisition's ``Kernel`` (:func:`.schedules.readout_kernel`),
and the compiler emits them as the window's weights. The discriminator is measured afterwards by ``readout``.

The SNR gain of weights ``w`` over the boxcar, for white noise and the mean difference ``D`` over ``N``
samples, is ``|sum conj(w) D| sqrt(N) / (||w|| |sum D|)``; the message reports it for the stored knots.
"""

from __future__ import annotations

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, Outcome, conclude
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.parameters import KERNEL_KNOTS, qkey
from qubitlab.drivers.payloads import MeasLevel

NAME = "readout_weights"


def mean_traces(ctx: Context, qubit: int, shots: int) -> tuple[ComplexArray, ComplexArray]:
    """The demodulated readout trace of ``qubit`` averaged over ``shots``, prepared in |0> and in |1>."""
    prepared = []
    for excite in (False, True):
        with pulse.build(name=f"{NAME}_q{qubit}_{int(excite)}") as schedule:
            with pulse.align_sequential():
                if excite:
                    schedules.x(ctx, qubit)
                schedules.measure(ctx, [qubit])
        prepared.append(schedule)
    raw = np.asarray(ctx.run(prepared, shots=shots, average=True, meas_level=MeasLevel.RAW)[qubit],
                     dtype=np.complex128)  # (2, samples)
    return raw[0], raw[1]


def fit_knots(difference: ComplexArray, knots: int = KERNEL_KNOTS) -> ComplexArray:
    """Least-squares knots of the piecewise-linear curve through ``difference`` (the basis of
    :func:`.schedules.kernel_samples`), scaled so the largest has magnitude 1."""
    n = difference.shape[0]
    at = np.linspace(0.0, knots - 1.0, n)
    hats = np.clip(1 - np.abs(at[:, None] - np.arange(knots)[None, :]), 0, None)  # (n, knots)
    values, *_ = np.linalg.lstsq(hats, difference, rcond=None)
    top = float(np.max(np.abs(values)))
    return np.asarray(values / top if top > 0 else values, dtype=np.complex128)


def snr_gain(weights: ComplexArray, difference: ComplexArray) -> float:
    """Separation over noise with ``weights``, relative to the boxcar's, for white noise."""
    n = difference.shape[0]
    boxcar = abs(np.sum(difference)) / np.sqrt(n)
    filtered = abs(np.vdot(weights, difference)) / float(np.linalg.norm(weights))
    return float(filtered / boxcar) if boxcar > 0 else float("inf")


def run(ctx: Context, qubit: int, shots: int = 2000, min_snr: float = 10.0, min_gain: float = 0.99) -> Outcome:
    duration, _ = ctx.readout_shape(qubit)
    mean0, mean1 = mean_traces(ctx, qubit, shots)
    difference = mean1 - mean0
    n = difference.shape[0]
    # noise of the averaged difference per sample and quadrature, from sample-to-sample steps (the signal
    # changes on the resonator's time scale, far slower than a sample)
    noise = float(np.sqrt(np.mean(np.abs(np.diff(difference)) ** 2) / 4))
    knots = fit_knots(difference)
    weights = schedules.kernel_samples(knots, n)
    resolved = abs(np.vdot(weights, difference)) / (noise * float(np.linalg.norm(weights))) if noise > 0 else 0.0
    gain = snr_gain(weights, difference)
    gates = [Gate("difference resolved", resolved >= min_snr,
                  f"filtered |mean1 - mean0| = {resolved:.1f} noise (need >= {min_snr})"),
             Gate("no worse than the boxcar", gain >= min_gain,
                  f"SNR gain over the boxcar {gain:.3f} (need >= {min_gain})")]
    # each knot averages about n / KERNEL_KNOTS samples; the knots are in units of the largest one
    knot_error = min(noise / max(float(np.max(np.abs(difference))), 1e-300) * float(np.sqrt(KERNEL_KNOTS / n)), 1.0)
    updates: dict[str, tuple[float, float | None]] = {
        qkey(qubit, "readout_kernel_duration"): (duration * ctx.lab.dt, None)}
    for k, value in enumerate(knots):
        updates[qkey(qubit, f"readout_kernel_re{k:02d}")] = (float(value.real), knot_error)
        updates[qkey(qubit, f"readout_kernel_im{k:02d}")] = (float(value.imag), knot_error)
    t = np.arange(n) / (n / (duration * ctx.lab.dt)) * 1e6

    def draw(axis: object) -> None:
        scale = float(np.max(np.abs(difference)))
        axis.plot(t, np.abs(weights) / float(np.max(np.abs(weights))) * scale, "-",  # type: ignore[attr-defined]
                  color="tab:green", label="|w| (stored knots, scaled)")

    return conclude(ctx, NAME, [qubit], x=t, y=np.abs(difference), fit=None, gates=gates, updates=updates,
                    xlabel="time in the readout window (us)", ylabel="|mean1 - mean0| (demodulated trace)",
                    raw={"mean0": mean0, "mean1": mean1, "weights": weights}, draw=draw,
                    message=f"matched filter over {n} samples: SNR gain {gain:.3f} over the boxcar")
