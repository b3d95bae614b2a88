"""The few calls :mod:`qubitlab.runtime.estimation` makes into mitigation, so the Estimator stays one loop.

Why it exists: the Estimator runs one program per PUB; a mitigation technique adds *variants* of the PUB's
circuits to that program (one per ZNE noise factor) and combines their expectation values afterwards. A
:class:`Variant` is a key (part of the lowering cache key) and a rewrite of the translated circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.runtime.mitigation import dd, extrapolation, trex, twirl, zne

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Variant:
    """One noise-amplified copy of a PUB's circuits: ``transform`` rewrites the translated circuit."""

    key: str
    transform: Callable[[Any], Any] | None
    noise_factor: float
    """The factor actually applied (folding rounds to whole folds, stretching to whole samples)."""
    gate_map: Callable[[Any, Any, list[int], list[tuple[int, int]]], Any] | None = None
    """``(lab, snapshot, qubits, pairs) -> GateMap`` to lower with instead of the snapshot's own."""


def trex_plan(options: Mapping[str, Any], n: int, shots: int, seed: str) -> trex.TrexPlan | None:
    return trex.plan(options, n, shots, seed)


def randomized(variant: Variant | None, plan: trex.TrexPlan | None, r: int, target: Any,
               seed: str) -> Variant | None:
    """``variant`` (or the plain circuit) as randomization ``r`` of ``plan``: its ECRs Pauli-twirled when the
    plan twirls gates, then X flips of the randomization's mask before the measurements."""
    if plan is None:
        return variant
    inner = variant.transform if variant is not None else None
    mask = plan.masks[r]

    def transform(translated: Any) -> Any:
        out = inner(translated) if inner is not None else translated
        if plan.gates:
            out = twirl.twirled(out, r, seed, target)
        return trex.flip_before_measure(out, mask)
    key = f"{variant.key}:" if variant is not None else ""
    return Variant(f"{key}r{r}:{'g' if plan.gates else ''}{mask}", transform,
                   variant.noise_factor if variant is not None else 1.0,
                   variant.gate_map if variant is not None else None)


def flipped(mask: int) -> Variant:
    """The circuit with X flips of ``mask`` before its measurements (TREX's learning circuits)."""
    return Variant(f"flip{mask}", lambda translated: trex.flip_before_measure(translated, mask), 1.0)


def zne_plan(options: Mapping[str, Any]) -> zne.ZnePlan | None:
    return zne.plan(options)


def variants(plan: zne.ZnePlan | None, circuit: Any, digest: str, target: Any, lab: Any, snapshot: Any,
             pairs: list[tuple[int, int]]) -> list[Variant | None]:
    """``[None]`` (the circuit as it is) without ZNE, else one variant per noise factor."""
    if plan is None:
        return [None]
    from qubitlab.circuits import translate

    if plan.amplifier == "pulse_stretch":
        from qubitlab.runtime.mitigation import stretch

        qubits = list(range(circuit.num_qubits))
        stretch.check_calibrated(lab, snapshot, plan.noise_factors, qubits, pairs)
        return [Variant(f"zne:pulse_stretch:{factor!r}", None,
                        stretch.applied_factor(lab, snapshot, factor, qubits, pairs), stretch.builder(factor))
                for factor in plan.noise_factors]
    n_gates = zne.count_two_qubit(translate(circuit, target))
    out: list[Variant | None] = []
    for factor in plan.noise_factors:
        def transform(translated: Any, factor: float = factor) -> Any:
            return zne.fold(translated, factor, plan.amplifier, digest)
        out.append(Variant(f"zne:{plan.amplifier}:{factor!r}", transform, zne.applied_factor(n_gates, factor)))
    return out


def decoupled(found: list[Variant | None], options: Mapping[str, Any], gate_map: Any) -> list[Variant | None]:
    """Each variant with dynamical decoupling in its idle windows when ``dynamical_decoupling.enable``."""
    plan = dd.plan(options)
    if plan is None:
        return found
    out: list[Variant | None] = []
    for variant in found:
        inner = variant.transform if variant is not None else None

        def transform(translated: Any, inner: Callable[[Any], Any] | None = inner) -> Any:
            return dd.decoupled(inner(translated) if inner is not None else translated, plan, gate_map)
        key = f"{variant.key}:" if variant is not None else ""
        out.append(Variant(f"{key}dd:{plan}", transform, variant.noise_factor if variant is not None else 1.0,
                           variant.gate_map if variant is not None else None))
    return out


def extrapolated(plan: zne.ZnePlan, found: Sequence[Variant | None],
                 per_variant: Sequence[tuple[FloatArray, FloatArray]], observables: Sequence[Mapping[str, float]],
                 o_b: NDArray[np.int64]) -> tuple[FloatArray, FloatArray, dict[str, Any]]:
    """Zero-noise ``evs`` and ``stds`` and Qiskit Runtime's extra data fields: ``evs_extrapolated`` and
    ``stds_extrapolated`` (``(*shape, num_extrapolators, num_points)``), ``evs_noise_factors`` and
    ``stds_noise_factors`` (``(*shape, num_noise_factors)``)."""
    factors = [v.noise_factor if v is not None else 1.0 for v in found]
    by_factor = np.stack([e for e, _ in per_variant], axis=-1)
    std_factor = np.stack([s for _, s in per_variant], axis=-1)
    shape = by_factor.shape[:-1]
    n_ex, n_pt = len(plan.extrapolators), len(plan.extrapolated_noise_factors)
    evs, stds = np.zeros(shape), np.zeros(shape)
    evs_x, stds_x = np.zeros((*shape, n_ex, n_pt)), np.zeros((*shape, n_ex, n_pt))
    chosen = np.empty(shape, dtype=object)
    for pos in np.ndindex(shape):
        obs = observables[int(o_b[pos])]
        bound = sum(abs(c) for c in obs.values())
        result = extrapolation.extrapolate(plan.extrapolators, factors, list(by_factor[pos]),
                                           list(std_factor[pos]), plan.extrapolated_noise_factors, bound)
        evs[pos], stds[pos], chosen[pos] = result.value, result.std, result.chosen
        evs_x[pos], stds_x[pos] = result.values, result.stds
    return evs, stds, {"evs_extrapolated": evs_x, "stds_extrapolated": stds_x, "evs_noise_factors": by_factor,
                       "stds_noise_factors": std_factor, "ensemble_stds_noise_factors": std_factor,
                       "extrapolator_used": [str(c) for c in chosen.reshape(-1)]}


def trex_metadata(plan: trex.TrexPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {"num_randomizations": len(plan.masks), "shots_per_randomization": plan.shots,
            "enable_gates": plan.gates, "enable_measure": plan.measure, "strategy": "active",
            "learning_randomizations": len(plan.learning_masks),
            "learned_factors": {f"{support:b}": f for support, (f, _) in sorted(plan.factors.items())}}


def metadata(plan: zne.ZnePlan | None, found: Sequence[Variant | None], options: Mapping[str, Any],
             readout: bool, twirled: trex.TrexPlan | None = None) -> dict[str, Any]:
    """What ran: the techniques, the requested and applied noise factors, and the shot overhead factor (the
    noise factors; twirling spreads the PUB's shots over its randomizations and adds none)."""
    techniques = (["measure_mitigation (assignment matrices)"] if readout else []) + \
        (["measure_mitigation (TREX)"] if twirled is not None and twirled.correct else []) + \
        (["twirling.enable_measure"] if twirled is not None and twirled.measure else []) + \
        (["twirling.enable_gates"] if twirled is not None and twirled.gates else []) + \
        ([f"zne ({plan.amplifier})"] if plan is not None else []) + \
        ([f"dynamical_decoupling ({dd_plan.sequence_type})"] if (dd_plan := dd.plan(options)) else [])
    if plan is None:
        return {"techniques": techniques, "zne": None, "shot_overhead": 1}
    return {"techniques": techniques,
            "zne": {"amplifier": plan.amplifier, "noise_factors": list(plan.noise_factors),
                    "noise_factors_applied": [v.noise_factor if v is not None else 1.0 for v in found],
                    "extrapolator": list(plan.extrapolators),
                    "extrapolated_noise_factors": list(plan.extrapolated_noise_factors),
                    "pulse_stretch": "calibrated per factor (*_s<c> keys)" if plan.amplifier == "pulse_stretch"
                    else None},
            "shot_overhead": len(found)}
