"""Zero-noise extrapolation for the Estimator: which noise-amplified variants of a circuit to run, and how.

Why it exists: :mod:`qubitlab.runtime.estimation` runs one program per PUB; ZNE turns each circuit into one
variant per noise factor (all in that same program) and extrapolates the expectation values back to zero noise
(:mod:`.extrapolation`). The amplifiers, with Qiskit Runtime's names:

- ``gate_folding`` / ``gate_folding_front`` / ``gate_folding_back``: each two-qubit gate G of the *translated*
  circuit (the device's ECRs) becomes G (G^dag G)^k. ECR is Hermitian, so G^dag = G: a fold is two more ECRs,
  exactly the same calibrated pulses. For a factor lambda the circuit needs ``round(n (lambda - 1) / 2)`` folds
  over its n ECRs: every ECR gets the whole part, and the remainder goes to randomly chosen ECRs
  (``gate_folding``, seeded by the circuit so the variant is reproducible and cacheable), the first ones
  (``_front``) or the last ones (``_back``). The factor actually applied, ``1 + 2 folds / n``, is the one the
  extrapolation uses and the metadata reports (it differs from the requested one only for non-odd factors).
- ``pulse_stretch``: see :mod:`.stretch`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from qubitlab.errors import JobError

FOLDING = ("gate_folding", "gate_folding_front", "gate_folding_back")
AMPLIFIERS = (*FOLDING, "pulse_stretch")


@dataclass(frozen=True)
class ZnePlan:
    """What ZNE runs: the amplifier, the requested noise factors, the extrapolators (in fall-back order) and the
    points every extrapolator is evaluated at (``extrapolated_noise_factors``, default ``[0, *noise_factors]``)."""

    amplifier: str
    noise_factors: tuple[float, ...]
    extrapolators: tuple[str, ...]
    extrapolated_noise_factors: tuple[float, ...]


def plan(options: Mapping[str, Any]) -> ZnePlan | None:
    """The ZNE plan from the wire options (``resilience.zne_mitigation``, or ``resilience_level >= 2`` when that
    is unset), or None when ZNE is off."""
    resilience = options.get("resilience") or {}
    explicit = resilience.get("zne_mitigation")
    level = options.get("resilience_level", 0)
    enabled = bool(explicit) if explicit is not None else (isinstance(level, int) and level >= 2)
    if not enabled:
        return None
    zne = resilience.get("zne") or {}
    amplifier = zne.get("amplifier", "gate_folding")
    if amplifier not in AMPLIFIERS:
        raise JobError(f"resilience.zne.amplifier {amplifier!r} is not implemented; valid: {', '.join(AMPLIFIERS)}")
    factors = tuple(float(f) for f in zne.get("noise_factors", (1.0, 3.0, 5.0)))
    if not factors or any(not math.isfinite(f) or f < 1 for f in factors) or len(set(factors)) != len(factors):
        raise JobError(f"resilience.zne.noise_factors {list(factors)} must be distinct numbers >= 1")
    names = zne.get("extrapolator", ("exponential", "linear"))
    extrapolators = (names,) if isinstance(names, str) else tuple(names)
    points = zne.get("extrapolated_noise_factors")
    evaluated = tuple(float(f) for f in points) if points is not None else (0.0, *factors)
    return ZnePlan(amplifier, factors, extrapolators, evaluated)


def fold_counts(n_gates: int, factor: float, amplifier: str, seed: str) -> list[int]:
    """Per two-qubit gate (in circuit order) how many times it is folded for ``factor``."""
    if n_gates == 0:
        return []
    total = int(round(n_gates * (factor - 1) / 2))
    whole, extra = divmod(total, n_gates)
    counts = [whole] * n_gates
    if amplifier == "gate_folding_front":
        chosen = list(range(extra))
    elif amplifier == "gate_folding_back":
        chosen = list(range(n_gates - extra, n_gates))
    else:
        rng = np.random.default_rng(int(hashlib.sha256(f"{seed}:{factor}".encode()).hexdigest()[:16], 16))
        chosen = [int(i) for i in rng.choice(n_gates, size=extra, replace=False)]
    for i in chosen:
        counts[i] += 1
    return counts


def applied_factor(n_gates: int, factor: float) -> float:
    """The noise factor folding really gives: ``1 + 2 folds / n`` (1 for a circuit without two-qubit gates)."""
    if n_gates == 0:
        return 1.0
    return 1.0 + 2.0 * int(round(n_gates * (factor - 1) / 2)) / n_gates


def fold(translated: Any, factor: float, amplifier: str, seed: str) -> Any:
    """The translated circuit with its ECRs folded for ``factor`` (ECR^dag = ECR, so G (G^dag G)^k is 2k+1
    ECRs in a row); every other operation unchanged."""
    from qubitlab.circuits.gates import GATES

    two = [i for i, op in enumerate(translated) if op.name in GATES and GATES[op.name].num_qubits == 2]
    bad = sorted({translated.data[i].name for i in two} - {"ecr"})
    if bad:
        raise JobError(f"resilience.zne.amplifier {amplifier}: folding needs self-inverse two-qubit gates (ecr); "
                       f"the translated circuit has {bad}")
    counts = dict(zip(two, fold_counts(len(two), factor, amplifier, seed)))
    out = translated.copy_empty()
    for i, op in enumerate(translated):
        for _ in range(1 + 2 * counts.get(i, 0)):
            out.add(op)
    return out


def count_two_qubit(translated: Any) -> int:
    from qubitlab.circuits.gates import GATES

    return sum(1 for op in translated if op.name in GATES and GATES[op.name].num_qubits == 2)
