"""Cross-resonance -> ECR: Hamiltonian tomography of the CR tone, turned into amplitude, phase and cancellation.

One CR half (GaussianSquare on ``u_k`` at the target's frequency, with its cancellation tone on ``d_t``) is
played for a range of flat widths with the control in |0> and in |1>; the target's <X>, <Y>, <Z> (readout
corrected) are fitted per control state to a rotation of |0> about a fixed vector omega (rad/ns, Bloch
convention: ``H = omega . sigma / 2``) over the pulse's effective width (flat width plus the edges' area).
Then ``ZX = (omega_0 - omega_1) / 2`` is the conditional rotation and ``IX = (omega_0 + omega_1) / 2`` the
unconditional one (line crosstalk and the CR's own IX). Qiskit's ECR needs ``RZX(pi/4)`` per half, i.e. ZX
along +x with ``|ZX| * effective width = pi/4``, and no IX:

- amplitude: scaled by ``(pi/4) / (|ZX| * width)`` (ZX is linear in the CR amplitude to first order);
- CR phase: turned by ``phase_sign * arg(ZX)`` (the drive axis is at ``-phase_sign`` times the tone's angle);
- cancellation: the tone on ``d_t`` drives at ``kappa * amp`` rad/ns (kappa from the target's calibrated x
  amplitude), so it is set to ``-IX`` of the CR alone, moved along with the new CR amplitude and phase.

The update is iterated until a tomography passes every gate (at most four updates); the gates are on the last one.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, excited_population
from qubitlab.calibration.fitting import Fit, FloatArray, Gate, fit
from qubitlab.calibration.gate_map import build_gate_map, cr_half, cr_shape, pair_key
from qubitlab.calibration.two_qubit import assignment_matrix, assignment_programs, basis_change, corrected_p1
from qubitlab.pulse.block import ScheduleBlock

NAME = "cross_resonance"
_STRIDE = 1.0e6
"""Offset separating the X, Y and Z traces in the stacked fit's abscissa (samples)."""


@dataclass(frozen=True)
class Rates:
    """Fitted target rotation vectors (rad/ns) for control |0> and |1>, as complex x + iy, and z."""

    xy: tuple[complex, complex]
    z: tuple[float, float]
    fits: tuple[Fit, Fit]
    data: FloatArray
    """``(control, basis X/Y/Z, width)`` expectation values."""

    @property
    def zx(self) -> complex:
        return (self.xy[0] - self.xy[1]) / 2

    @property
    def ix(self) -> complex:
        return (self.xy[0] + self.xy[1]) / 2

    @property
    def zz(self) -> float:
        return (self.z[0] - self.z[1]) / 2


@dataclass
class Setting:
    """One CR setting: tone amplitude and angle, cancellation as a complex amplitude ``a e^{i angle}``."""

    amp: float
    phase: float
    cancel: complex = 0j


def rotated_z(x: FloatArray, wx: float, wy: float, wz: float) -> FloatArray:
    """Stacked <X>, <Y>, <Z> of |0> rotated about (wx, wy, wz) (rad per sample) for ``x mod _STRIDE`` samples,
    the trace chosen by ``x // _STRIDE``."""
    k = np.floor(x / _STRIDE + 1e-9)
    w = x - k * _STRIDE
    norm = math.sqrt(wx * wx + wy * wy + wz * wz) or 1e-30
    nx, ny, nz = wx / norm, wy / norm, wz / norm
    theta = norm * w
    s, c = np.sin(theta), 1 - np.cos(theta)
    out = np.where(k == 0, ny * s + nx * nz * c, np.where(k == 1, -nx * s + ny * nz * c, 1 - (1 - nz * nz) * c))
    return np.asarray(out, dtype=np.float64)


def fit_rotation(widths: FloatArray, data: FloatArray, sigma: float) -> Fit:
    """Least squares of :func:`rotated_z` to ``data`` (``(3, widths)``), best of a few starting axes."""
    x = np.concatenate([widths + k * _STRIDE for k in range(3)])
    y = data.reshape(-1)
    span = float(np.max(widths))
    best: Fit | None = None
    for turn in (0.5, 1.5, 3.0):
        for axis in np.arange(8) * math.pi / 4:
            rate = turn / span
            trial = fit(rotated_z, x, y, [rate * math.cos(axis), rate * math.sin(axis), 0.0], ("wx", "wy", "wz"),
                        sigma=sigma)
            if trial.converged and (best is None or np.sum(trial.residuals**2) < np.sum(best.residuals**2)):
                best = trial
    return best if best is not None else fit(rotated_z, x, y, [0.0, 0.0, 0.0], ("wx", "wy", "wz"), sigma=sigma)


def edge_area(ctx: Context, control: int, target: int, duration: float) -> float:
    """Area of the CR's rise and fall at unit amplitude, in samples of flat top."""
    samples, sigma, width = cr_shape(ctx, control, target, duration)
    edges = pulse.GaussianSquare(samples - width, 1.0, sigma, 0).get_waveform().samples
    return float(np.sum(edges.real))


def drive_rate(ctx: Context, qubit: int) -> float:
    """Rad per sample of a flat drive at unit amplitude on ``d_qubit``: the x gate's pi over its area."""
    duration, sigma, beta = ctx.pulse_shape(qubit)
    area = float(np.sum(pulse.Drag(duration, 1.0, sigma, beta).get_waveform().samples.real))
    return math.pi / (ctx.value(f"q{qubit}.x_amp") * area)


def tomography_programs(ctx: Context, control: int, target: int, setting: Setting, duration: float,
                        widths: Sequence[int]) -> list[ScheduleBlock]:
    gm = build_gate_map(ctx, pairs=[], qubits=[control, target])
    changes = {b: basis_change(ctx, gm, target, b) for b in "XYZ"}
    cancel_amp, cancel_phase = abs(setting.cancel), cmath.phase(setting.cancel)
    out = []
    for excite in (False, True):
        for basis in "XYZ":
            for w in widths:
                with pulse.build(name=f"crtomo_c{int(excite)}_{basis}_{w}") as block:
                    with pulse.align_sequential():
                        if excite:
                            schedules.x(ctx, control)
                        cr_half(ctx, control, target, setting.amp, setting.phase, cancel_amp, cancel_phase,
                                duration, width=int(w))
                        pulse.call(changes[basis])
                        schedules.measure(ctx, [control, target])
                out.append(block)
    return out + assignment_programs(ctx, [control, target])


def tomography(ctx: Context, control: int, target: int, setting: Setting, duration: float,
               widths: Sequence[int]) -> Rates:
    """Run and fit one Hamiltonian tomography (one program)."""
    result = ctx.run(tomography_programs(ctx, control, target, setting, duration, widths))
    iq = result[target]
    matrix = assignment_matrix(ctx, iq, target)
    p1 = corrected_p1(excited_population(iq[:-2], ctx, target), matrix)
    data = (1 - 2 * p1).reshape(2, 3, len(widths))
    effective = np.asarray(widths, dtype=np.float64) + edge_area(ctx, control, target, duration)
    sigma = 2 / math.sqrt(iq.shape[-1]) / max(matrix[0, 0] + matrix[1, 1] - 1, 0.1)
    fits = (fit_rotation(effective, data[0], sigma), fit_rotation(effective, data[1], sigma))
    xy = tuple(complex(f["wx"], f["wy"]) for f in fits)
    return Rates((xy[0], xy[1]), (fits[0]["wz"], fits[1]["wz"]), fits, data)


def next_setting(rates: Rates, now: Setting, kappa: float, effective_width: float, phase_sign: int) -> Setting:
    """The setting that should give ZX = +pi/4 along x per half and no IX (see the module docstring)."""
    zx = rates.zx
    ratio = (math.pi / 4) / (abs(zx) * effective_width)
    beta = cmath.phase(zx)
    cancel_drive = kappa * abs(now.cancel) * cmath.exp(-1j * phase_sign * cmath.phase(now.cancel))
    ix_cr = (rates.ix - cancel_drive) * ratio * cmath.exp(-1j * beta)
    wanted = -ix_cr / kappa          # = a e^{-i s phi}
    cancel = abs(wanted) * cmath.exp(-1j * phase_sign * cmath.phase(wanted))
    return Setting(now.amp * ratio, _wrap(now.phase + phase_sign * beta), cancel)


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def verify(rates: Rates, setting: Setting, effective_width: float, scan_width: float, max_amp: float) -> list[Gate]:
    gates = []
    for c, f in enumerate(rates.fits):
        gates.append(Gate(f"rotation fit, control |{c}>", f.converged and f.r2 >= 0.9,
                          f"converged={f.converged}, R^2 = {f.r2:.3f} (need >= 0.9)"))
    zx_error = math.hypot(rates.fits[0].error("wx") + rates.fits[1].error("wx"),
                          rates.fits[0].error("wy") + rates.fits[1].error("wy")) / 2
    seen = abs(rates.zx) * scan_width
    gates.append(Gate("conditional rotation seen", seen >= 0.3 and abs(rates.zx) >= 5 * zx_error,
                      f"ZX turns the target by {seen:.3g} rad over the scan (need >= 0.3) at "
                      f"{abs(rates.zx) / max(zx_error, 1e-30):.1f} standard errors (need >= 5)"))
    angle = abs(rates.zx) * effective_width
    gates.append(Gate("ZX angle pi/4", abs(angle / (math.pi / 4) - 1) <= 0.05,
                      f"ZX per half {angle:.4f} rad (need pi/4 = {math.pi / 4:.4f} within 5 %)"))
    beta = cmath.phase(rates.zx) if rates.zx else math.pi
    gates.append(Gate("ZX along +x", abs(beta) <= 0.1, f"ZX axis at {beta:+.3f} rad from +x (need within 0.1)"))
    ratio = abs(rates.ix) / abs(rates.zx) if rates.zx else math.inf
    gates.append(Gate("IX cancelled", ratio <= 0.1, f"|IX| / |ZX| = {ratio:.3f} (need <= 0.1)"))
    gates.append(Gate("amplitude in range", 0 < setting.amp <= max_amp and abs(setting.cancel) <= max_amp,
                      f"CR amp {setting.amp:.4g}, cancel amp {abs(setting.cancel):.4g} (need in (0, {max_amp}])"))
    return gates


def run(ctx: Context, control: int, target: int, duration: float = 400e-9, amp: float = 0.2,
        points: int = 9, span: float = 2.5, iterations: int = 4, phase_sign: int = 1, max_amp: float = 0.9
        ) -> Outcome:
    """Calibrate ``ecr(control, target)``: CR halves of ``duration`` seconds (flat top plus 2-sigma edges).

    ``amp`` is the first tomography's CR amplitude; the flat widths scanned run from 0 to ``span`` times the
    gate's. Updates until a tomography passes every gate, at most ``iterations`` times (the ZX axis moves a
    little with the amplitude, so one update rarely lands within 0.1 rad); stops early (nothing proposed) when
    the first tomography shows no conditional rotation."""
    _, _, flat = cr_shape(ctx, control, target, duration)
    # even widths: the compiler rounds an acquisition's start to the digitizer's 2 ns grid to nearest, which
    # can put it half a sample before the end of an odd-length drive
    widths = [2 * int(round(w / 2)) for w in np.linspace(0, span * flat, points)]
    area = edge_area(ctx, control, target, duration)
    kappa = drive_rate(ctx, target)
    setting, history = Setting(amp, 0.0), []
    for step in range(iterations + 1):
        rates = tomography(ctx, control, target, setting, duration, widths)
        history.append((setting, rates))
        gates = verify(rates, setting, flat + area, widths[-1] + area, max_amp)
        if (step == iterations or all(g.passed for g in gates)
                or not next(g for g in gates if g.name == "conditional rotation seen").passed):
            break
        setting = next_setting(rates, setting, kappa, flat + area, phase_sign)
        if not 0 < setting.amp <= max_amp:
            gates.append(Gate("amplitude in range", False, f"the next CR amplitude {setting.amp:.3g} is outside "
                              f"(0, {max_amp}]: choose a longer duration"))
            break

    def key(name: str) -> str:
        return pair_key(control, target, name)

    rel = rates.fits[0].error("wx") / max(abs(rates.zx), 1e-30)
    updates: dict[str, tuple[float, float | None]] = {
        key("cr_amp"): (setting.amp, setting.amp * rel), key("cr_duration"): (ctx.samples(duration) * ctx.lab.dt, None),
        key("cr_phase"): (setting.phase, None), key("cancel_amp"): (abs(setting.cancel), None),
        key("cancel_phase"): (cmath.phase(setting.cancel), None)}
    message = (f"{len(history)} tomographies; final ZX {abs(rates.zx) * 1e3:.3f} mrad/ns at "
               f"{cmath.phase(rates.zx) if rates.zx else 0:+.3f} rad, |IX| {abs(rates.ix) * 1e3:.3f} mrad/ns, "
               f"ZZ {rates.zz * 1e3:+.3f} mrad/ns")
    return _conclude(ctx, control, target, widths, rates, gates, updates, message)


def _conclude(ctx: Context, control: int, target: int, widths: Sequence[int], rates: Rates, gates: list[Gate],
              updates: dict[str, tuple[float, float | None]], message: str) -> Outcome:
    x = np.asarray(widths, dtype=np.float64)

    def draw(axis: Any) -> None:
        for c in (0, 1):
            for b, basis in enumerate("XYZ"):
                if (c, b) != (0, 1):
                    axis.plot(x, rates.data[c, b], "o" if c == 0 else "s", ms=3, label=f"<{basis}> control |{c}>")
        axis.set_ylim(-1.1, 1.1)

    raw = {f"c{c}_{b}": rates.data[c, i] for c in (0, 1) for i, b in enumerate("XYZ")}
    return conclude(ctx, NAME, [control, target], x=x, y=rates.data[0, 1], fit=None, gates=gates, updates=updates,
                    xlabel="CR flat width (samples)", ylabel="target <Y> (control |0>) and others", raw=raw,
                    message=message, draw=draw)
