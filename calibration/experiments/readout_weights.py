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
samples, is ``|sum conj(w) D| sqrt(N) / (||w|| |sum D|)``; the message reports it for the stored knots. A
higher SNR is not always a higher assignment fidelity (decays during the window), so the node compares both
single-shot and stores the boxcar (equal knots) when the filter does not win.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, Outcome, conclude
from qubitlab.calibration.experiments.readout_optimisation import Assignment, assignment
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.parameters import KERNEL_KNOTS, qkey
from qubitlab.drivers.payloads import MeasLevel

NAME = "readout_weights"


def _prepared(ctx: Context, qubit: int, excite: bool) -> pulse.ScheduleBlock:
    """|0> (nothing) or |1> (x), then the measure as ``ctx``'s snapshot shapes it (its kernel included)."""
    with pulse.build(name=f"{NAME}_q{qubit}_{int(excite)}") as schedule:
        with pulse.align_sequential():
            if excite:
                schedules.x(ctx, qubit)
            schedules.measure(ctx, [qubit])
    return schedule


def mean_traces(ctx: Context, qubit: int, shots: int) -> tuple[ComplexArray, ComplexArray]:
    """The demodulated readout trace of ``qubit`` averaged over ``shots``, prepared in |0> and in |1>."""
    prepared = [_prepared(ctx, qubit, excite) for excite in (False, True)]
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


def compare(ctx: Context, qubit: int, knots: ComplexArray, shots: int) -> tuple[Assignment, Assignment]:
    """Single-shot assignment of ``qubit`` with the boxcar and with ``knots``, in one program."""
    duration, _ = ctx.readout_shape(qubit)
    key = qkey(qubit, "readout_kernel_duration")
    other = (duration + 16) * ctx.lab.dt  # a window no stored kernel fits: the measure integrates with the boxcar
    boxcar = replace(ctx, snapshot=ctx.snapshot.with_values({key: (other, None)}))
    values: dict[str, float | tuple[float, float | None]] = {key: (duration * ctx.lab.dt, None)}
    for k, value in enumerate(knots):
        values[qkey(qubit, f"readout_kernel_re{k:02d}")] = (float(value.real), None)
        values[qkey(qubit, f"readout_kernel_im{k:02d}")] = (float(value.imag), None)
    matched = replace(ctx, snapshot=ctx.snapshot.with_values(values))
    prepared = [_prepared(reader, qubit, excite) for reader in (boxcar, matched) for excite in (False, True)]
    iq = np.asarray(ctx.run(prepared, shots=shots)[qubit], dtype=np.complex128)
    return assignment(iq[0], iq[1]), assignment(iq[2], iq[3])


def run(ctx: Context, qubit: int, shots: int = 2000, single_shots: int = 4000, min_snr: float = 10.0) -> Outcome:
    """Fit the matched filter; keep it if its assignment fidelity is at least the boxcar's (within the
    standard error), else store the boxcar (equal knots): with T1 decay dominating the errors a filter
    weighted by the mean trace can raise the SNR and still lose fidelity (Gambetta et al., PRA 76, 012325
    (2007): the optimal filter for a decaying qubit is not the mean difference)."""
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
    box, matched = compare(ctx, qubit, knots, single_shots)
    keep = matched.fidelity >= box.fidelity - np.hypot(matched.error, box.error)
    gates = [Gate("difference resolved", resolved >= min_snr,
                  f"filtered |mean1 - mean0| = {resolved:.1f} noise (need >= {min_snr})")]
    if not keep:
        knots = np.ones(KERNEL_KNOTS, dtype=np.complex128)  # the boxcar, stored as such
    chosen = (f"matched filter kept: SNR gain {gain:.3f}, F {box.fidelity:.4f} -> {matched.fidelity:.4f}" if keep
              else f"boxcar kept: the matched filter (SNR gain {gain:.3f}) gives F {matched.fidelity:.4f} against "
                   f"the boxcar's {box.fidelity:.4f}")
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
                    message=f"{n} samples: {chosen}")
