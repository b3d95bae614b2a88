"""Cross-resonance -> ECR: Hamiltonian tomography of the CR tone, turned into amplitude, phase, cancellation,
duration and the target's virtual Zs.

One CR half (GaussianSquare on ``u_k`` at the target's frequency, with its cancellation tone on ``d_t``) is
played for a range of flat widths with the control in |0> and in |1>; the target's <X>, <Y>, <Z> (readout
corrected) are fitted per control state to a rotation of |0> about a fixed vector omega (rad/ns, Bloch
convention: ``H = omega . sigma / 2``) over the pulse's effective width (flat width plus the edges' area).
Then ``ZX = (omega_0 - omega_1) / 2`` is the conditional rotation and ``IX = (omega_0 + omega_1) / 2`` the
unconditional one (line crosstalk and the CR's own IX). Qiskit's ECR needs ``RZX(pi/4)`` per half, i.e. ZX
along +x with ``|ZX| * effective width = pi/4``, and no IX:

- duration (unless one is given): the first tomography, at 400 ns, measures ZX per unit amplitude; the halves
  are then made as short as an amplitude of :func:`amp_limit` allows (ZX is linear in the CR amplitude to first
  order). Shorter halves leave less time to decoherence and to the static ZZ, whose second-order remainder
  after the echo (an IY/ZZ error growing with ``ZZ * duration``) virtual Zs cannot remove;
- amplitude: the one whose ZX gives ``|ZX| * effective width = pi/4`` on the ZX-against-amplitude curve the
  tomographies so far trace (:func:`amplitude_for`: a local power law through the last point; linear, a scale
  by ``(pi/4) / (|ZX| * width)``, while there is one point). ZX saturates at strong drive, most when the
  target's frequency is near the control's 1-2 transition (``Delta + alpha`` small: seed 33's pair, 370 MHz
  apart with alpha -296 MHz, has its CR tone 74 MHz from it), so a linear update crawls towards the AWG's
  limit and stays short of pi/4;
- longer halves when the amplitude runs out: when that curve says the gate needs more than the amplitude the
  duration was chosen for (:func:`amp_limit`), the halves are lengthened (never shortened after the first
  choice) to reach pi/4 at that amplitude on the measured curve, up to ``max_duration``. An amplitude above
  ``max_amp`` is refused, never clipped;
- CR phase: turned by ``phase_sign * arg(ZX)`` (the drive axis is at ``-phase_sign`` times the tone's angle);
- cancellation: the tone on ``d_t`` drives at ``kappa * amp`` rad/ns (kappa from the target's calibrated x
  amplitude), so it is set to ``-IX`` of the CR alone, moved along with the new CR amplitude and phase;
- rotary: once the tomographies pass, the target tone also gets a resonant drive along the ZX axis (+x)
  turning the target by :data:`ROTARY_TURNS` full turns per half (flipped with the CR in the second half, as
  the cancellation is; a full turn about x commutes with the gate). While the target spins about x, the terms
  that do not commute with ZX -- the target's Z rates (static ZZ shift, CR Stark shift) and IY/ZY -- average
  out over each half instead of accumulating. Without it the echo removes ZZ only to first order: the target
  turns about x while the ZZ shift acts, which leaves an IY and a ZZ rotation of about ``0.53 ZZ W`` rad each
  (``ZZ`` the rate in rad/ns, ``W`` a half's width; ``(4 / pi)(sqrt 2 - 1)``) that no virtual Z can remove --
  0.4 % of average gate infidelity for 0.46 MHz of static ZZ and 128-ns halves; on seed 41's line the rotary
  took 0.24-0.33 % off its two ECRs (Sundaresan et al., PRX Quantum 1, 020318 (2020), "rotary echo"). The
  rotary is an IX term, which commutes with ZX and adds to the tomography's IX, so the tomographies run
  without it (their long scans would alias a full turn per half) and it is added to the last setting
  (:func:`with_rotary`); the target Zs are computed with it, then measured on the gate (:mod:`.ecr_phases`);
- target virtual Zs: the echo cancels ZI and ZZ but not the target's own Z rotation (the static ZZ shift while
  the control is in |1>, the CR's Stark shift), which tilts the ZX axis. The last tomography's two rotation
  vectors, composed as the ECR plays them (half with the control in c, echo, half with it flipped and the
  drive terms negated), give the rz before and after the pulses that bring the gate closest to the ECR
  (:func:`target_phases`); the gate map plays them as frame changes.

The update is iterated until a tomography passes every gate (at most :data:`ITERATIONS` updates); the gates are
on the last one. Every tomography scans the same widths (those of the 400 ns probe, or of a longer gate), so shortening the
gate costs no precision on the slow Z rates.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome, conclude, excited_population
from qubitlab.calibration.fitting import Fit, FloatArray, Gate, fit
from qubitlab.calibration.parameters import pkey, qkey
from qubitlab.calibration.gates import RISEFALL, SAMPLE_MULTIPLE, build_gate_map, cr_half, cr_shape
from qubitlab.calibration.two_qubit import assignment_matrix, assignment_programs, basis_change, corrected_p1
from qubitlab.pulse.block import ScheduleBlock

NAME = "cross_resonance"
_STRIDE = 1.0e6
"""Offset separating the X, Y and Z traces in the stacked fit's abscissa (samples)."""
PROBE_DURATION = 400e-9
"""s: the CR half of the first tomography when the duration is chosen by the calibration."""
AMP_SHARE = 2 / 3
"""The adaptive duration aims at this fraction of the AWG's maximum amplitude (0.6 of full scale for 0.9): the
amplitude is extrapolated linearly from the probe, and ZX grows less than linearly at strong drive, so the
iterations need room to raise it."""
WEAK_DRIVE = 0.4
"""The adaptive duration also keeps the CR drive's Rabi rate on the control at most this fraction of the
control-target detuning, where ZX is still close to linear in the drive and the control stays in its qubit
levels (what binds for close pairs: virtual_2q's 96 MHz allows an amplitude of ~0.45)."""
APART = 1.1
"""Two tomographies whose CR amplitudes are closer than this factor do not give the slope of ZX against the
amplitude (their ZX ratio is mostly the fits' noise, ~2 % each); the slope then comes from a point farther away."""
EXPONENTS = (0.1, 1.5)
"""Bounds on the local power law ``|ZX| ~ amp^p``: 1 is the weak-drive (linear) limit; saturation lowers it
(seed 33's pair: 0.75 from 0.2 to 0.54, 0.25 from 0.68 to 0.86), the third-order term can raise it a little."""
ITERATIONS = 5
"""Updates after the first tomography, at most: the duration's choice, one lengthening when ZX saturates, and
the amplitude's and axis's convergence."""
ROTARY_TURNS = 1
"""Full turns of the target about +x per CR half that the rotary adds to the target tone (0: no rotary). One turn
is a 10 MHz drive for 100-ns halves, far below any anharmonicity; the target's Z rates then act on a target
spinning about x, which averages them to about ``(pi / 4) / (2 pi)`` of their effect, the part of the turn the
gate itself adds."""


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
    """One CR setting: tone amplitude and angle, the target tone (cancellation, plus the rotary when there is
    one) as a complex amplitude ``a e^{i angle}``, and the rotary's rate included in it (rad/sample about +x)."""

    amp: float
    phase: float
    cancel: complex = 0j
    rotary: float = 0.0


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
    for turn in (0.5, 1.5, 3.0, 5.0):
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
    return math.pi / (ctx.value(qkey(qubit, "x_amp")) * area)


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


def next_setting(rates: Rates, now: Setting, kappa: float, effective_width: float, phase_sign: int,
                 amp: float | None = None) -> Setting:
    """The setting that should give ZX = +pi/4 along x per half and no IX (see the module docstring): CR
    amplitude ``amp`` (default: scaled linearly to pi/4), the CR's own IX taken as linear in it."""
    zx = rates.zx
    ratio = (math.pi / 4) / (abs(zx) * effective_width) if amp is None else amp / now.amp
    beta = cmath.phase(zx)
    cancel_drive = kappa * abs(now.cancel) * cmath.exp(-1j * phase_sign * cmath.phase(now.cancel))
    ix_cr = (rates.ix - cancel_drive) * ratio * cmath.exp(-1j * beta)
    wanted = -ix_cr / kappa          # = a e^{-i s phi}
    cancel = abs(wanted) * cmath.exp(-1j * phase_sign * cmath.phase(wanted))
    return Setting(now.amp * ratio, _wrap(now.phase + phase_sign * beta), cancel)


def _axis(cancel: complex, phase_sign: int) -> complex:
    """The rotation axis (x + iy) a target tone of complex amplitude ``cancel`` drives: at ``-phase_sign`` times
    its angle."""
    return abs(cancel) * cmath.exp(-1j * phase_sign * cmath.phase(cancel))


def with_rotary(setting: Setting, kappa: float, effective_width: float, phase_sign: int,
                turns: int = ROTARY_TURNS) -> Setting:
    """``setting`` (without a rotary) with ``turns`` full turns of the target about +x per half of
    ``effective_width`` samples added to its target tone (``kappa``: rad/sample per unit amplitude)."""
    rotary = 2 * math.pi * turns / effective_width
    wanted = _axis(setting.cancel, phase_sign) + rotary / kappa
    return replace(setting, cancel=_axis(wanted, phase_sign), rotary=rotary)


def without_rotary(setting: Setting, kappa: float, phase_sign: int) -> Setting:
    """``setting``'s target tone without its rotary (what the tomographies play)."""
    wanted = _axis(setting.cancel, phase_sign) - setting.rotary / kappa
    return replace(setting, cancel=_axis(wanted, phase_sign), rotary=0.0)


def spun(rates: Rates, rotary: float) -> Rates:
    """The rates with a rotary of ``rotary`` rad/sample about +x added to both control states' vectors."""
    return replace(rates, xy=(rates.xy[0] + rotary, rates.xy[1] + rotary))


def zx_exponent(points: Sequence[tuple[float, float]]) -> float:
    """The local power law ``p`` of ``|ZX| ~ amp^p`` at the last of ``points`` (CR amplitude, |ZX|): the log-log
    slope to the nearest other point at least :data:`APART` away in amplitude; 1 (the weak-drive limit) when
    there is none; within :data:`EXPONENTS`."""
    amp, zx = points[-1]
    others = [(a, z) for a, z in points[:-1] if max(a / amp, amp / a) >= APART and z > 0]
    if not others or zx <= 0:
        return 1.0
    a, z = min(others, key=lambda point: abs(math.log(point[0] / amp)))
    return min(max(math.log(zx / z) / math.log(amp / a), EXPONENTS[0]), EXPONENTS[1])


def amplitude_for(points: Sequence[tuple[float, float]], rate: float) -> float:
    """The CR amplitude at which ``|ZX|`` is ``rate`` on the local power law through the last of ``points``."""
    amp, zx = points[-1]
    return amp * math.pow(rate / zx, 1 / zx_exponent(points))


def rate_at(points: Sequence[tuple[float, float]], amp: float) -> float:
    """``|ZX|`` at the CR amplitude ``amp`` on the local power law through the last of ``points``."""
    last, zx = points[-1]
    return zx * math.pow(amp / last, zx_exponent(points))


def amp_limit(ctx: Context, control: int, target: int, max_amp: float) -> float:
    """The CR amplitude the adaptive duration aims at: :data:`AMP_SHARE` of ``max_amp``, and at most a drive
    whose Rabi rate on the control is :data:`WEAK_DRIVE` of the control-target detuning (both in rad/sample;
    the control's rate per unit amplitude from its calibrated x pulse)."""
    detuning = 2 * math.pi * abs(ctx.value(qkey(control, "frequency")) - ctx.value(qkey(target, "frequency"))) * ctx.lab.dt
    return min(AMP_SHARE * max_amp, WEAK_DRIVE * detuning / drive_rate(ctx, control))


def choose_duration(ctx: Context, control: int, target: int, zx_per_amp: float, amp: float,
                    max_duration: float) -> float:
    """The shortest CR half (s, on the ECR's 16-sample grid) whose ZX reaches pi/4 at amplitude ``amp``, given
    ``zx_per_amp`` (rad/sample per unit amplitude); at least twice its rise and fall (a flat top as long as the
    edges, where the effective-width model holds), at most ``max_duration``."""
    grid = 2 * SAMPLE_MULTIPLE
    _, sigma, _ = cr_shape(ctx, control, target, PROBE_DURATION)
    edges = 2 * int(round(RISEFALL * sigma))
    needed = (math.pi / 4) / (zx_per_amp * amp) - edge_area(ctx, control, target, PROBE_DURATION) + edges
    shortest = grid * math.ceil(2 * edges / grid)
    longest = max(shortest, ctx.samples(max_duration, grid))
    samples = min(max(grid * math.ceil(needed / grid), shortest), longest)
    return samples * ctx.lab.dt


def scan_widths(ctx: Context, control: int, target: int, duration: float, points: int, span: float) -> list[int]:
    """Flat widths (samples) of a tomography: ``points`` from 0 to ``span`` times the flat width of a CR half of
    ``duration``. Even widths: the compiler rounds an acquisition's start to the digitizer's 2 ns grid to
    nearest, which can put it half a sample before the end of an odd-length drive."""
    _, _, flat = cr_shape(ctx, control, target, duration)
    return [2 * int(round(w / 2)) for w in np.linspace(0, span * flat, points)]


def rotation(vector: Sequence[float] | FloatArray) -> NDArray[np.complex128]:
    """``exp(-i vector . sigma / 2)``: the Bloch rotation by ``|vector|`` rad about ``vector``."""
    v = np.asarray(vector, dtype=np.float64)
    angle = float(np.linalg.norm(v))
    if angle == 0.0:
        return np.eye(2, dtype=np.complex128)
    nx, ny, nz = v / angle
    c, s = math.cos(angle / 2), math.sin(angle / 2)
    return np.array([[c - 1j * s * nz, -1j * s * (nx - 1j * ny)], [-1j * s * (nx + 1j * ny), c + 1j * s * nz]],
                    dtype=np.complex128)


def target_phases(rates: Rates, effective_width: float, gap: float) -> tuple[float, float]:
    """The rz angles (rad) on the target before and after the ECR's pulses that bring the gate the fitted rates
    make closest to the ECR.

    Per control state c the target turns by ``omega_c`` over the first half, by the mean Z rate over the echo
    pulse (``gap`` samples; the static ZZ, which dominates it, keeps acting), and by ``omega_(1-c)`` with its x
    and y negated (CR(-) and its cancellation at +pi; Z shifts keep their sign) over the second half. The ideal
    is ``RX(pi/2)`` for c = 0 and ``RX(-pi/2)`` for c = 1; the angles maximise the summed squared overlaps
    (coarse grid, then Nelder-Mead), wrapped to [-pi, pi).

    To first order in a target Z rate ``z`` (the same for both control states) they are both
    ``-z (4 W / pi + gap / sqrt 2)``: more than the ``-z W`` per half a frame change would take, because the
    rate acts while the target turns about x, and half of what it does there shows up as Y before the gate,
    which is Z after it."""
    omega = [np.array([rates.xy[c].real, rates.xy[c].imag, rates.z[c]]) for c in (0, 1)]
    flip = np.array([-1.0, -1.0, 1.0])
    echo = rotation([0.0, 0.0, 0.5 * (rates.z[0] + rates.z[1]) * gap])
    made = [rotation(flip * omega[1 - c] * effective_width) @ echo @ rotation(omega[c] * effective_width)
            for c in (0, 1)]
    wanted = [rotation([math.pi / 2, 0.0, 0.0]).conj().T, rotation([-math.pi / 2, 0.0, 0.0]).conj().T]

    def loss(angles: FloatArray) -> float:
        before, after = rotation([0.0, 0.0, angles[0]]), rotation([0.0, 0.0, angles[1]])
        return -sum(float(abs(np.trace(w @ after @ m @ before))) ** 2 for w, m in zip(wanted, made)) / 8

    grid = np.linspace(-math.pi, math.pi, 25)[:-1]
    start = min(((a, b) for a in grid for b in grid), key=lambda p: loss(np.array(p)))
    best = minimize(loss, np.array(start), method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-12})
    return _wrap(float(best.x[0])), _wrap(float(best.x[1]))


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


def run(ctx: Context, control: int, target: int, duration: float | None = None, amp: float = 0.2,
        points: int = 9, span: float = 2.5, iterations: int = ITERATIONS, phase_sign: int = 1,
        max_amp: float = 0.9, max_duration: float = 1e-6, rotary_turns: int = ROTARY_TURNS,
        measure_phases: bool = True) -> Outcome:
    """Calibrate ``ecr(control, target)``: CR halves of ``duration`` seconds (flat top plus 2-sigma edges), or
    when ``duration`` is None of the length :func:`choose_duration` picks after a first tomography at
    :data:`PROBE_DURATION` (between twice the edges and ``max_duration``).

    ``amp`` is the first tomography's CR amplitude; the flat widths scanned run from 0 to ``span`` times the
    first tomography's (or a longer gate's). Updates until a tomography passes every gate, at most
    ``iterations`` times (the ZX axis moves a little with the amplitude, so one update rarely lands within
    0.1 rad); stops early (nothing proposed) when the first tomography shows no conditional rotation. The
    amplitude follows the measured ZX curve (:func:`amplitude_for`); with an adaptive duration, the halves
    grow when that curve needs more than :func:`amp_limit` (see the module docstring). The stored target tone
    carries a rotary of ``rotary_turns`` turns per half (:func:`with_rotary`; 0: none). With ``measure_phases``
    the target Zs of a passed calibration are then measured on the composed gate
    (:mod:`~qubitlab.calibration.experiments.ecr_phases`) instead of kept from the model."""
    adaptive = duration is None
    gate = PROBE_DURATION if duration is None else duration
    widths = scan_widths(ctx, control, target, gate, points, span)
    area = edge_area(ctx, control, target, gate)
    kappa = drive_rate(ctx, target)
    aim = amp_limit(ctx, control, target, max_amp)
    setting, history, curve = Setting(amp, 0.0), [], []
    for step in range(iterations + 1):
        rates = tomography(ctx, control, target, setting, gate, widths)
        history.append((setting, rates))
        curve.append((setting.amp, abs(rates.zx)))
        _, _, flat = cr_shape(ctx, control, target, gate)
        gates = verify(rates, setting, flat + area, widths[-1] + area, max_amp)
        if (step == iterations or all(g.passed for g in gates)
                or not next(g for g in gates if g.name == "conditional rotation seen").passed):
            break
        if adaptive and (step == 0 or amplitude_for(curve, (math.pi / 4) / (flat + area)) > aim):
            chosen = choose_duration(ctx, control, target, rate_at(curve, aim) / aim, aim, max_duration)
            gate = chosen if step == 0 else max(gate, chosen)
            _, _, flat = cr_shape(ctx, control, target, gate)
            if flat > widths[-1] / span:
                widths = scan_widths(ctx, control, target, gate, points, span)
        wanted = amplitude_for(curve, (math.pi / 4) / (flat + area))
        setting = next_setting(rates, setting, kappa, flat + area, phase_sign, wanted)
        if not 0 < setting.amp <= max_amp:
            longest = "" if not adaptive else f" even with {ctx.samples(gate)}-sample halves (max_duration)"
            gates.append(Gate("amplitude in range", False, f"the next CR amplitude {setting.amp:.3g} is outside "
                              f"(0, {max_amp}]{longest}: ZX is {abs(rates.zx) * 1e3:.3f} mrad/ns at amplitude "
                              f"{curve[-1][0]:.3g}; choose a longer duration"))
            break

    def key(name: str) -> str:
        return pkey(control, target, name)

    rel = rates.fits[0].error("wx") / max(abs(rates.zx), 1e-30)
    setting = with_rotary(setting, kappa, flat + area, phase_sign, rotary_turns)
    before, after = target_phases(spun(rates, setting.rotary), flat + area, ctx.pulse_shape(control)[0])
    phase_error = 2 / math.pi * (flat + area) * math.hypot(rates.fits[0].error("wz"), rates.fits[1].error("wz"))
    updates: dict[str, tuple[float, float | None]] = {
        key("cr_amp"): (setting.amp, setting.amp * rel), key("cr_duration"): (ctx.samples(gate) * ctx.lab.dt, None),
        key("cr_phase"): (setting.phase, None), key("cancel_amp"): (abs(setting.cancel), None),
        key("cancel_phase"): (cmath.phase(setting.cancel), None),
        key("target_rz_before"): (before, phase_error), key("target_rz_after"): (after, phase_error)}
    message = (f"{len(history)} tomographies; {ctx.samples(gate)}-sample halves; final ZX "
               f"{abs(rates.zx) * 1e3:.3f} mrad/ns at {cmath.phase(rates.zx) if rates.zx else 0:+.3f} rad, |IX| "
               f"{abs(rates.ix) * 1e3:.3f} mrad/ns, ZZ {rates.zz * 1e3:+.3f} mrad/ns, IZ "
               f"{(rates.z[0] + rates.z[1]) / 2 * 1e3:+.3f} mrad/ns; target rz {before:+.3f} / {after:+.3f} rad "
               f"around the pulses; rotary {rotary_turns} turn(s) per half")
    if measure_phases and all(g.passed for g in gates):
        from qubitlab.calibration.experiments import ecr_phases

        updates, more, note = ecr_phases.refine(ctx, control, target, updates)
        gates, message = gates + more, f"{message}; {note}"
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
