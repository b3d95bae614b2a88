"""Stretched gates for zero-noise extrapolation by pulse stretching (Kandala et al., Nature 567, 491, 2019).

Why it exists: stretching a gate's pulses by c and dividing their amplitudes by c keeps its rotation only to
first order. The x pulse's amplitude is off by the DRAG pulse's second-level shifts, and the echoed CR by much
more: ZX is not linear in the CR amplitude, the cancellation tone and the CR Stark-shift the target differently
at 1/c of the drive, and the target's virtual-Z corrections (static ZZ over a c times longer gate) change. A
stretched gate that is not recalibrated adds a coherent error that grows with c, and the extrapolation then
removes the wrong thing. Kandala recalibrates every stretched gate; so does this module, into its own keys
(``q0.x_amp_s2``, ``q0-q1.cr_amp_s2``: :func:`~qubitlab.calibration.parameters.stretched_name`).

- :class:`StretchedValues` reads a snapshot as the gates stretched by c see it: durations and sigmas times c
  (``pulse_duration``, ``pulse_sigma``, ``cr_sigma``; DRAG beta kept, the quadrature's optimum does not depend
  on the envelope's length), the gate parameters from their ``_s<c>`` keys. A missing key is an error naming
  the command that calibrates it (``strict``, what the runtime reads) or, while calibrating, the rescaled
  value (amplitudes times the exact envelope-area ratio, CR duration times c, phases kept) as the start.
- Bring-up nodes ``stretch_1q`` (per qubit: fine amplitude of the stretched x and sx) and ``stretch_ecr`` (per
  pair: the cross-resonance calibration at c times the CR duration, with the stretched 1q gates for the echo
  and the basis changes, so its target Zs are those of the stretched gate; then one more update, checked by a
  last tomography, :func:`polish`). They are not in ``calibrate all``
  (about 10 s per factor on an idle machine for virtual_2q, ~33 s for the default three):
  ``qubitlab calibrate stretch --lab LAB.yaml [--factors 1.5,2,3]`` runs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from qubitlab import pulse
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import Outcome
from qubitlab.calibration.parameters import STRETCHABLE, pkey, qkey, stretched_name
from qubitlab.calibration.values import CalibratedValues, ValueReader
from qubitlab.errors import CalibrationError

FACTORS = (1.5, 2.0, 3.0)
"""Stretch factors calibrated by default. The ECR on virtual_2q lasts ~0.39 us, so five of them at 3x are ~6 us
of T2 ~ 45 us (a 13 % coherence loss, still far from the noise floor); 5x (Qiskit Runtime's largest default
factor) would leave a 5-ECR circuit ~10 us, where the decay is no longer close to the low-order polynomial
the extrapolation fits."""
LONGER = ("pulse_duration", "pulse_sigma", "cr_sigma")
"""Shape parameters multiplied by the factor."""
QUBIT_KEYS = ("x_amp", "sx_amp")
PAIR_KEYS = tuple(name for name in STRETCHABLE if name not in QUBIT_KEYS)
"""The stretched gate parameters calibrated per qubit and per pair (their ``_s<c>`` keys)."""
COMMAND = "qubitlab calibrate stretch --lab LAB.yaml"


def command(factors: Iterable[float]) -> str:
    return f"{COMMAND} --factors {','.join(f'{f:g}' for f in sorted(set(factors)))}"


def stretched_value(plain: ValueReader, factor: float, key: str, default: float | None, strict: bool) -> float:
    """``key`` as the gates stretched by ``factor`` read it (see the module docstring)."""
    owner, _, name = key.rpartition(".")
    if factor == 1 or name not in (*LONGER, *STRETCHABLE):
        return plain.value(key, default)
    if name in LONGER:
        return plain.value(key, default) * factor
    stretched = f"{owner}.{stretched_name(name, factor)}"
    if plain.has(stretched):
        return plain.value(stretched)
    if strict:
        raise CalibrationError(f"no calibration of the gates stretched {factor:g}x: {stretched} is not in snapshot "
                               f"{plain.snapshot.id}; run '{command([factor])}' (bring-up nodes stretch_1q, "
                               "stretch_ecr)")
    found = plain.value(key, 0.0 if name.startswith("target_rz") else default)
    if name == "cr_duration":
        return found * factor
    if name in ("x_amp", "sx_amp", "cr_amp", "cancel_amp"):
        return found * area_ratio(plain, factor, owner)
    return found


def area_ratio(plain: ValueReader, factor: float, owner: str) -> float:
    """Plain over stretched area of the unit envelope of ``owner``'s gate (``q0`` or ``q0-q1``): about 1 / c,
    exactly what keeps the rotation to first order (the lifted Gaussian flanks are not quite self-similar)."""
    from qubitlab.calibration.gates import cr_shape

    longer = StretchedValues(plain.lab, plain.snapshot, factor, strict=False)
    if "-" in owner:
        c, t = (int(part.lstrip("q")) for part in owner.split("-"))
        areas = [pulse.GaussianSquare(d, 1.0, sigma, width).get_waveform().samples.real.sum()
                 for d, sigma, width in (cr_shape(ctx, c, t) for ctx in (plain, longer))]
    else:
        q = int(owner.lstrip("q"))
        areas = [pulse.Gaussian(d, 1.0, sigma).get_waveform().samples.real.sum()
                 for d, sigma, _ in (ctx.pulse_shape(q) for ctx in (plain, longer))]
    return float(areas[0] / areas[1])


@dataclass(frozen=True)
class StretchedValues(CalibratedValues):
    """The snapshot's values for every gate stretched by ``factor`` (measure unchanged)."""

    factor: float = 1.0
    strict: bool = True

    def value(self, key: str, default: float | None = None) -> float:
        return stretched_value(CalibratedValues(self.lab, self.snapshot), self.factor, key, default, self.strict)


@dataclass
class StretchedContext(Context):
    """An experiment context whose gates are stretched by ``factor`` (missing stretched values: the rescaled
    start), so an experiment written for the plain gates calibrates the stretched ones."""

    factor: float = 1.0

    def value(self, key: str, default: float | None = None) -> float:
        return stretched_value(CalibratedValues(self.lab, self.snapshot), self.factor, key, default, False)


def missing(lab: object, snapshot: object, factors: Iterable[float], qubits: Iterable[int],
            pairs: Iterable[tuple[int, int]]) -> list[str]:
    """The stretched keys the gates of ``qubits`` and ``pairs`` need for ``factors`` that ``snapshot`` lacks."""
    reader = CalibratedValues(lab, snapshot)  # type: ignore[arg-type]
    wanted = [qkey(q, stretched_name(n, f)) for f in factors if f != 1 for q in qubits for n in QUBIT_KEYS]
    wanted += [pkey(c, t, stretched_name(n, f)) for f in factors if f != 1 for c, t in pairs for n in PAIR_KEYS]
    return [key for key in wanted if not reader.has(key)]


def _stretched(ctx: Context, factor: float) -> StretchedContext:
    return StretchedContext(ctx.lab, ctx.executor, ctx.snapshot, ctx.out_dir, ctx.datasets, ctx.shots, factor)


def _merged(name: str, qubits: Sequence[int], found: Sequence[tuple[float, Outcome]]) -> Outcome:
    """One outcome for node ``name`` from one run per factor: the updates under their ``_s<c>`` keys."""
    updates: dict[str, tuple[float, float | None]] = {}
    gates = []
    for factor, outcome in found:
        for key, value in outcome.updates.items():
            owner, _, parameter = key.rpartition(".")
            if parameter in STRETCHABLE:
                updates[f"{owner}.{stretched_name(parameter, factor)}"] = value
        gates += [replace(g, name=f"{factor:g}x: {g.name}") for g in outcome.gates]
    passed = all(g.passed for g in gates)
    message = "; ".join(f"{factor:g}x: {outcome.message}" for factor, outcome in found)
    return Outcome(name, tuple(qubits), updates if passed else {}, tuple(gates), {}, found[0][1].plot,
                   found[0][1].dataset, message, found[0][1].snapshot_id)


def _check(factors: Sequence[float]) -> None:
    """Stretch factors a store key can name (:func:`stretched_name`), each > 1 (1 is the plain gate)."""
    if not factors or any(not (math.isfinite(f) and 1 < f <= 10 and round(f, 3) == f) for f in factors):
        raise CalibrationError(f"stretch factors {list(factors)}: give numbers in (1, 10] with at most 3 decimals "
                               "(1 is the plain gate), e.g. 1.5,2,3")


def run_1q(ctx: Context, qubit: int, factors: Sequence[float] = FACTORS) -> Outcome:
    """Node ``stretch_1q``: for each factor, fine amplitude (error amplification, from the area-rescaled start)
    of the x and sx pulses stretched by it, into ``q.x_amp_s<c>`` and ``q.sx_amp_s<c>``."""
    from qubitlab.calibration.experiments import fine_amplitude

    _check(factors)
    found = [(f, fine_amplitude.run(_stretched(ctx, f), qubit)) for f in factors]
    return _merged("stretch_1q", [qubit], found)


def run_ecr(ctx: Context, control: int, target: int, factors: Sequence[float] = FACTORS) -> Outcome:
    """Node ``stretch_ecr``: for each factor, the cross-resonance calibration of CR halves ``c`` times the
    plain ones (sigma too), started from the area-rescaled amplitude, with the stretched x as the echo; its
    values (amplitude, phases, cancellation, target Zs) into the ``q<c>-q<t>.*_s<c>`` keys."""
    from qubitlab.calibration.experiments import cross_resonance

    _check(factors)
    found = []
    for factor in factors:
        stretched = _stretched(ctx, factor)
        duration = ctx.value(pkey(control, target, "cr_duration")) * factor
        amp = stretched.value(pkey(control, target, "cr_amp"))
        outcome = cross_resonance.run(stretched, control, target, duration=duration, amp=amp, measure_phases=False)
        found.append((factor, polish(stretched, control, target, duration, outcome) if outcome.passed else outcome))
    return _merged("stretch_ecr", [control, target], found)


def polish(ctx: Context, control: int, target: int, duration: float, outcome: Outcome) -> Outcome:
    """One more update of a passed CR calibration, checked by a last tomography (twice the shots).

    The cross-resonance node stops at the first setting inside its gates (ZX angle within 5 %, axis within
    0.1 rad), which is enough for one gate, where folding amplifies the same error at every factor; each
    stretched gate's residual is its own, so ZNE sees it as noise that does not scale with c. The extra update
    leaves only the tomography's statistical error; the target Zs are then measured on the
    stretched gate (:mod:`.ecr_phases`)."""
    import cmath

    from qubitlab.calibration.experiments import cross_resonance as cr
    from qubitlab.calibration.gates import cr_shape

    def key(name: str) -> str:
        return pkey(control, target, name)

    values = {k: v for k, (v, _) in outcome.updates.items()}
    precise = replace(ctx, shots=2 * ctx.shots)
    widths = cr.scan_widths(precise, control, target, duration, 9, 2.5)
    width = cr_shape(precise, control, target, duration)[2] + cr.edge_area(precise, control, target, duration)
    kappa = cr.drive_rate(precise, target)
    stored = cr.Setting(values[key("cr_amp")], values[key("cr_phase")],
                        cmath.rect(values[key("cancel_amp")], values[key("cancel_phase")]),
                        2 * math.pi * cr.ROTARY_TURNS / width)  # the rotary the calibration added
    setting = cr.without_rotary(stored, kappa, 1)
    rates = cr.tomography(precise, control, target, setting, duration, widths)
    setting = cr.next_setting(rates, setting, kappa, width, 1)
    rates = cr.tomography(precise, control, target, setting, duration, widths)
    gates = cr.verify(rates, setting, width, widths[-1] + cr.edge_area(precise, control, target, duration), 0.9)
    setting = cr.with_rotary(setting, kappa, width, 1)
    before, after = cr.target_phases(cr.spun(rates, setting.rotary), width, precise.pulse_shape(control)[0])
    updates = {**outcome.updates, key("cr_amp"): (setting.amp, outcome.updates[key("cr_amp")][1]),
               key("cr_phase"): (setting.phase, None), key("cancel_amp"): (abs(setting.cancel), None),
               key("cancel_phase"): (cmath.phase(setting.cancel), None), key("target_rz_before"): (before, None),
               key("target_rz_after"): (after, None)}
    message = (f"{outcome.message}; polished: ZX {abs(rates.zx) * width:.4f} rad per half at "
               f"{cmath.phase(rates.zx):+.3f} rad, |IX|/|ZX| {abs(rates.ix) / abs(rates.zx):.3f}, target rz "
               f"{before:+.3f} / {after:+.3f}")
    gates = [replace(g, name=f"polished: {g.name}") for g in gates]
    if all(g.passed for g in gates):  # the target Zs measured on the stretched gate, as for the plain one
        from qubitlab.calibration.experiments import ecr_phases

        updates, more, note = ecr_phases.refine(ctx, control, target, updates)
        gates, message = gates + more, f"{message}; {note}"
    passed = all(g.passed for g in gates)
    return replace(outcome, updates=updates if passed else {}, gates=(*outcome.gates, *gates), message=message)


def runner(factors: Sequence[float] = FACTORS) -> Callable[[Context, Any, tuple[int, ...]], Outcome]:
    """A bring-up runner (:func:`qubitlab.calibration.bringup.calibrate`) that calibrates ``factors`` in the
    stretch nodes and runs every other node as :func:`~qubitlab.calibration.bringup.default_runner` does."""
    from qubitlab.calibration.bringup import default_runner

    _check(factors)

    def run(ctx: Context, node: Any, target: tuple[int, ...]) -> Outcome:
        if node.name == "stretch_1q":
            return run_1q(ctx, target[0], factors)
        if node.name == "stretch_ecr":
            return run_ecr(ctx, target[0], target[1], factors)
        return default_runner(ctx, node, target)
    return run
