"""Readout optimisation: the probe frequency, amplitude and integration time that separate |0> from |1> best.

The shipped bring-up read out at the lab file's fixed ``bringup.readout_amp`` and ``readout_duration`` at the
resonance of |0>; a device with a smaller dispersive shift or a noisier amplifier then fails the readout gate
and the bring-up dead-ends. These three nodes (as Qibocal's and QUAlibrate's readout optimisations do) each run
one program per sweep with the qubit prepared in |0> (no pulse) and |1> (x) at every point:

- ``readout_frequency``: the frequency that maximises the distance ``|z1 - z0|`` between the two mean IQ
  points (between the resonator's two dressed lines, not at either resonance);
- ``readout_amplitude``: the smallest amplitude at which the assignment fidelity has stopped improving (within
  its standard error of the best), never above the readout line's amplitude budget (the AWG output's
  ``max_amplitude`` shared by the tones multiplexed on the line). The virtual lab's resonator is linear and
  measurement-induced transitions are not simulated, so on it the fidelity plateaus where T1 during the window
  dominates; on a real device the same rule stops before the fidelity falls again;
- ``readout_duration``: the window that maximises the fidelity, the trade between the integrated signal
  (growing as sqrt(duration)) and decay during the readout (``1 - exp(-duration / 2 T1)`` of the |1> shots).

The discriminator is the nearest median centre, as in :mod:`.readout` (which runs afterwards and stores it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qubitlab import pulse
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, FloatArray, Outcome, conclude
from qubitlab.calibration.fitting import Gate
from qubitlab.calibration.parameters import qkey
from qubitlab.calibration.schedules import RING
from qubitlab.errors import CalibrationError

GRANULE = 16
"""Readout durations are whole multiples of this many samples (as :meth:`ValueReader.readout_shape`)."""


@dataclass(frozen=True)
class Assignment:
    """Nearest-median-centre discrimination of shots prepared in |0> and |1>."""

    fidelity: float
    p10: float
    p01: float
    snr: float
    """``|z1 - z0| / (2 sigma)``, sigma the |0> blob's spread per quadrature."""
    error: float
    """Binomial standard error of ``fidelity``."""


def assignment(iq0: ComplexArray, iq1: ComplexArray) -> Assignment:
    z0 = complex(np.median(iq0.real), np.median(iq0.imag))
    z1 = complex(np.median(iq1.real), np.median(iq1.imag))
    p10 = float(np.mean(np.abs(iq0 - z1) < np.abs(iq0 - z0)))
    p01 = float(np.mean(np.abs(iq1 - z0) <= np.abs(iq1 - z1)))
    noise = float(np.median(np.abs(iq0 - z0))) / np.sqrt(np.log(4))
    snr = abs(z1 - z0) / (2 * noise) if noise > 0 else 0.0
    error = float(np.sqrt((p10 * (1 - p10) / iq0.size + p01 * (1 - p01) / iq1.size)) / 2)
    return Assignment(1 - (p10 + p01) / 2, p10, p01, snr, error)


def amplitude_budget(ctx: Context, qubit: int) -> float:
    """The largest readout amplitude of ``qubit`` that can play while every tone on its line plays at the same
    amplitude: the line's AWG ``max_amplitude`` over the number of measure channels sharing the line (a
    simultaneous readout sums them; the compiler refuses a sum over the limit)."""
    lab = ctx.lab
    channel = lab.wiring.channels.get(f"m{qubit}")
    if channel is None or channel.line is None:
        raise CalibrationError(f"readout optimisation q{qubit}: wiring.channels has no m{qubit} on a line; add "
                               f"m{qubit}: {{line: <readout line>}} to the lab file")
    line = lab.wiring.lines[channel.line]
    limits = lab.limits.awgs.get(line.awg)
    if limits is None:
        raise CalibrationError(f"readout optimisation q{qubit}: limits.awgs has no entry for {line.awg!r}")
    tones = sum(1 for name, c in lab.wiring.channels.items() if name.startswith("m") and c.line == channel.line)
    return float(limits.max_amplitude) / max(tones, 1)


def _schedule(ctx: Context, qubit: int, excite: float | pulse.Parameter, amp: float | pulse.Parameter,
              duration: int, shift: pulse.Parameter | None = None, name: str = "") -> pulse.ScheduleBlock:
    """x (scaled by ``excite``: 0 prepares |0>) then a readout of ``duration`` samples at ``amp``; ``shift``
    moves the measure frame before the readout."""
    d, sigma, beta = ctx.pulse_shape(qubit)
    with pulse.build(name=name or f"readout_opt_q{qubit}") as schedule:
        with pulse.align_sequential():
            if not isinstance(excite, float) or excite != 0.0:
                pulse.play(pulse.Drag(d, excite, sigma, beta), pulse.DriveChannel(qubit))
            if shift is not None:
                pulse.shift_frequency(shift, pulse.MeasureChannel(qubit))
            pulse.barrier(pulse.DriveChannel(qubit), pulse.MeasureChannel(qubit), pulse.AcquireChannel(qubit))
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(duration, amp, RING / 4, width=duration - RING),
                           pulse.MeasureChannel(qubit))
                pulse.acquire(duration, pulse.AcquireChannel(qubit), pulse.MemorySlot(qubit))
    return schedule


def _draw_chosen(chosen: float, scale: float) -> object:
    def draw(axis: object) -> None:
        axis.axvline(chosen * scale, color="tab:green", ls="--", label="chosen")  # type: ignore[attr-defined]

    return draw


# -- frequency -----------------------------------------------------------------------------------------------------
def run_frequency(ctx: Context, qubit: int, span: float = 6e6, points: int = 49, shots: int = 400,
                  min_snr: float = 5.0) -> Outcome:
    """Sweep the probe over ``span`` around the stored resonance with |0> and |1> prepared at every point."""
    name = "readout_frequency"
    centre = ctx.value(qkey(qubit, "resonator_frequency"))
    df, excite = pulse.Parameter("df"), pulse.Parameter("excite")
    duration, amp = ctx.readout_shape(qubit)
    schedule = _schedule(ctx, qubit, excite, amp, duration, shift=df, name=f"{name}_q{qubit}")
    offsets = np.linspace(-span / 2, span / 2, points)
    x_amp = ctx.value(qkey(qubit, "x_amp"))
    values = [{df: float(d), excite: a} for d in offsets for a in (0.0, x_amp)]
    iq = np.asarray(ctx.run(schedule, values, shots=shots, frames=ctx.frames({f"m{qubit}": centre}))[qubit],
                    dtype=np.complex128).reshape(points, 2, shots)
    means = iq.mean(axis=2)
    distance = np.abs(means[:, 1] - means[:, 0])
    noise = float(np.sqrt(np.mean(np.var(iq.real, axis=2) + np.var(iq.imag, axis=2)) / 2))
    sigma_d = noise * np.sqrt(2.0 / shots)
    best = int(np.argmax(distance))
    lo, hi = _peak(distance, best)
    x_mhz = offsets / 1e6
    found, error = _vertex(x_mhz[lo:hi], distance[lo:hi], fallback=float(x_mhz[best]))
    step, half = float(x_mhz[1] - x_mhz[0]), float(x_mhz[hi - 1] - x_mhz[lo]) / 2
    gates = [Gate("maximum inside the scan", 2 <= best <= points - 3,
                  f"largest |z1 - z0| at {x_mhz[best]:+.3f} MHz from the resonance; scan +-{span / 2e6:g} MHz"),
             Gate("separation resolved", distance[best] >= min_snr * sigma_d,
                  f"|z1 - z0| = {distance[best]:.3g} = {distance[best] / sigma_d:.1f} standard errors "
                  f"(need >= {min_snr})"),
             Gate("vertex inside the peak", x_mhz[lo] <= found <= x_mhz[hi - 1] and error <= half,
                  f"parabola vertex {found:+.3f} +- {error:.3f} MHz over [{x_mhz[lo]:+.3f}, {x_mhz[hi - 1]:+.3f}] MHz "
                  "(the points above 70 % of the maximum)")]
    frequency = centre + found * 1e6
    updates = {qkey(qubit, "readout_frequency"): (frequency, max(error, step / np.sqrt(12)) * 1e6)}
    return conclude(ctx, name, [qubit], x=x_mhz, y=distance, fit=None, gates=gates, updates=updates,
                    xlabel="probe - resonance of |0> (MHz)", ylabel="|z1 - z0| (mean IQ distance)",
                    raw={"iq_mean": means}, message=f"readout at {found:+.3f} MHz from the resonance of |0>",
                    draw=_draw_chosen(found, 1.0))  # type: ignore[arg-type]


def _peak(y: FloatArray, best: int, level: float = 0.7) -> tuple[int, int]:
    """``[lo, hi)``: the contiguous points around ``best`` above ``level`` of its value, at least two each side."""
    lo, hi = best, best + 1
    while lo > 0 and (y[lo - 1] >= level * y[best] or best - lo < 2):
        lo -= 1
    while hi < y.shape[0] and (y[hi] >= level * y[best] or hi - best < 3):
        hi += 1
    return lo, hi


def _vertex(x: FloatArray, y: FloatArray, fallback: float) -> tuple[float, float]:
    """Vertex of a parabola through the points around a maximum, and its standard error (from the fit's
    covariance, by the delta method); ``fallback`` with an infinite error when it is no maximum."""
    if x.shape[0] < 4:
        return fallback, float("inf")
    (a, b, _), cov = np.polyfit(x, y, 2, cov=True)
    if not a < 0:
        return fallback, float("inf")
    vertex = -b / (2 * a)
    grad = np.array([b / (2 * a * a), -1 / (2 * a), 0.0])
    return float(vertex), float(np.sqrt(max(grad @ cov @ grad, 0.0)))


# -- amplitude and duration ----------------------------------------------------------------------------------------
def _fidelities(ctx: Context, qubit: int, schedules: Sequence[pulse.ScheduleBlock], shots: int) -> list[Assignment]:
    """Run pairs (|0>, |1>) of schedules as one program; one :class:`Assignment` per pair."""
    iq = np.asarray(ctx.run(list(schedules), shots=shots)[qubit], dtype=np.complex128)
    return [assignment(iq[k], iq[k + 1]) for k in range(0, iq.shape[0], 2)]


def run_amplitude(ctx: Context, qubit: int, points: int = 8, shots: int = 2000, min_fidelity: float = 0.6,
                  min_snr: float = 2.0) -> Outcome:
    """Sweep the readout amplitude up to the line's budget; keep the smallest one on the fidelity plateau."""
    name = "readout_amplitude"
    top = amplitude_budget(ctx, qubit)
    amps = np.linspace(top / points, top, points)
    duration, _ = ctx.readout_shape(qubit)
    x_amp = ctx.value(qkey(qubit, "x_amp"))
    pairs = [_schedule(ctx, qubit, e, float(a), duration, name=f"{name}_q{qubit}_{k}_{int(e > 0)}")
             for k, a in enumerate(amps) for e in (0.0, x_amp)]
    found = _fidelities(ctx, qubit, pairs, shots)
    fidelity = np.array([f.fidelity for f in found])
    best = int(np.argmax(fidelity))
    chosen = next(k for k in range(points) if fidelity[k] >= fidelity[best] - found[best].error)
    pick = found[chosen]
    gates = [Gate("assignment fidelity", pick.fidelity >= min_fidelity,
                  f"F = {pick.fidelity:.4f} at amp {amps[chosen]:.3g} (need >= {min_fidelity})"),
             Gate("blob separation", pick.snr >= min_snr,
                  f"|z1 - z0| / (2 sigma) = {pick.snr:.2f} at amp {amps[chosen]:.3g} (need >= {min_snr})")]
    plateau = "on the plateau" if chosen < points - 1 else f"still improving at the line's budget {top:.3g}"
    updates = {qkey(qubit, "readout_amp"): (float(amps[chosen]), float(amps[1] - amps[0]) / 2)}
    return conclude(ctx, name, [qubit], x=amps, y=fidelity, fit=None, gates=gates, updates=updates,
                    xlabel="readout amplitude (fraction of full scale)", ylabel="assignment fidelity",
                    raw={"fidelity": fidelity}, draw=_draw_chosen(float(amps[chosen]), 1.0),  # type: ignore[arg-type]
                    message=f"amp {amps[chosen]:.3g}: F = {pick.fidelity:.4f} +- {pick.error:.4f} ({plateau})")


def run_duration(ctx: Context, qubit: int, factors: Sequence[float] = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0),
                 shots: int = 2000, min_fidelity: float = 0.6, min_snr: float = 2.0,
                 longest: float = 8e-6) -> Outcome:
    """Sweep the window (and tone) length around the current one; keep the one with the best fidelity."""
    name = "readout_duration"
    current, amp = ctx.readout_shape(qubit)
    granule = GRANULE * ctx.lab.dt
    seconds = sorted({max(round(current * ctx.lab.dt * f / granule), (RING + GRANULE) // GRANULE) * granule
                      for f in factors if current * ctx.lab.dt * f <= longest})
    x_amp = ctx.value(qkey(qubit, "x_amp"))
    pairs = [_schedule(ctx, qubit, e, amp, ctx.samples(s, GRANULE), name=f"{name}_q{qubit}_{k}_{int(e > 0)}")
             for k, s in enumerate(seconds) for e in (0.0, x_amp)]
    found = _fidelities(ctx, qubit, pairs, shots)
    fidelity = np.array([f.fidelity for f in found])
    best = int(np.argmax(fidelity))
    pick = found[best]
    gates = [Gate("assignment fidelity", pick.fidelity >= min_fidelity,
                  f"F = {pick.fidelity:.4f} at {seconds[best] * 1e6:.3g} us (need >= {min_fidelity})"),
             Gate("blob separation", pick.snr >= min_snr,
                  f"|z1 - z0| / (2 sigma) = {pick.snr:.2f} at {seconds[best] * 1e6:.3g} us (need >= {min_snr})")]
    edge = " (longest scanned: the signal still limits)" if best == len(seconds) - 1 else ""
    neighbours = [abs(seconds[min(best + 1, len(seconds) - 1)] - seconds[best]),
                  abs(seconds[best] - seconds[max(best - 1, 0)])]
    updates = {qkey(qubit, "readout_duration"): (float(seconds[best]), max(max(neighbours) / 2, granule))}
    x = np.array(seconds) * 1e6
    return conclude(ctx, name, [qubit], x=x, y=fidelity, fit=None, gates=gates, updates=updates,
                    xlabel="readout duration (us)", ylabel="assignment fidelity", raw={"fidelity": fidelity},
                    draw=_draw_chosen(float(seconds[best]), 1e6),  # type: ignore[arg-type]
                    message=f"{seconds[best] * 1e6:.3g} us: F = {pick.fidelity:.4f} +- {pick.error:.4f}{edge}")
