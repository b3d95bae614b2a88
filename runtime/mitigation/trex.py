"""TREX: twirled readout error extinction (van den Berg, Minev, Temme, PRA 105, 032620, 2022).

Why it exists: readout errors bias every Estimator value. The assignment-matrix path (estimation.py) models
them per qubit and inverts the model; TREX assumes no model. Before each measurement a random subset of qubits
gets an X (measurement twirling) and the measured bits of that subset are flipped back: averaged over the
subsets (drawn balanced, :func:`balanced`), any readout error becomes a Pauli-diagonal channel that only scales
each parity, ``<Z_S>_measured = f_S <Z_S>``. The factors ``f_S`` are *learned in the same program* from |0...0> circuits
twirled the same way (their ideal parities are all 1) and divided out. Options, with Qiskit Runtime's names:
``twirling.enable_measure`` (selects TREX at level 1 instead of the assignment matrices; not the default, unlike
Qiskit Runtime: it makes every level-1 PUB 64 circuits, see benchmarks/README.md),
``twirling.num_randomizations`` (masks for the PUB's circuits, ``auto``: 32) and
``resilience.measure_noise_learning.num_randomizations`` (masks for the learning circuits, default 32);
``twirling.shots_per_randomization`` (``auto``: the PUB's shots spread over its randomizations; the learning
circuits run in the same program, so with the same shots: ``measure_noise_learning.shots_per_randomization``
must be ``auto`` or equal). Twirling with mitigation off (level 0) twirls without learning or correcting.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.errors import JobError

FloatArray = NDArray[np.float64]
AUTO_RANDOMIZATIONS = 32


@dataclass
class TrexPlan:
    """Random X masks (bit q = qubit q) for the PUB's circuits and for the learning circuits, and shots each."""

    masks: tuple[int, ...]
    learning_masks: tuple[int, ...]
    shots: int
    correct: bool = True
    """False for twirling alone (mitigation off, or gates only): no learning circuits, factors 1."""
    gates: bool = False
    """Whether each randomization also Pauli-twirls the ECRs (:mod:`.twirl`)."""
    measure: bool = True
    """Whether the masks flip qubits before measurement (all masks 0 otherwise)."""
    factors: dict[int, tuple[float, float]] = field(default_factory=dict)
    """Learned per support mask S: (f_S, its variance); filled by :meth:`learn`."""
    _learned: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))

    def learn(self, probs: FloatArray) -> None:
        """``probs``: outcome probabilities of the learning circuits, one row per learning mask."""
        n_out = probs.shape[1]
        self.factors.clear()
        self._learned = np.stack([probs[r][np.arange(n_out) ^ m] for r, m in enumerate(self.learning_masks)])

    def factor(self, support: int) -> tuple[float, float]:
        if not self.correct:
            return 1.0, 0.0
        if support not in self.factors:
            outcomes = np.arange(self._learned.shape[1])
            signs = 1.0 - 2.0 * np.array([bin(int(o) & support).count("1") & 1 for o in outcomes])
            f = float(np.mean(self._learned @ signs))
            if abs(f) < 0.05:
                raise JobError(f"TREX learned a readout factor of {f:.3f} for qubit mask {support:#b}: the readout "
                               "is too poor to correct; recalibrate the readout (qubitlab calibrate readout)")
            shots = len(self.learning_masks) * self.shots
            self.factors[support] = (f, max(1.0 - f * f, 0.0) / shots)
        return self.factors[support]

    def untwirled(self, rows: list[FloatArray]) -> FloatArray:
        """The average over the masks of each mask's outcome probabilities with its flipped bits flipped back."""
        n_out = rows[0].shape[-1]
        out: FloatArray = np.mean([p[:, np.arange(n_out) ^ m] for p, m in zip(rows, self.masks)], axis=0)
        return out

    def weights(self, terms: Mapping[str, float], n: int,
                plain: Callable[[Mapping[str, float], int], FloatArray]) -> FloatArray:
        """The outcome weights of ``terms`` with each term's coefficient divided by its learned f_S."""
        return plain({label: coeff / self.factor(support(label))[0] for label, coeff in terms.items()}, n)

    def variance(self, p: FloatArray, terms: Mapping[str, float], n: int,
                 plain: Callable[[Mapping[str, float], int], FloatArray]) -> float:
        """What the learned factors' uncertainty adds (first order): sum over terms of (c <P> / f)^2 var f / f^2."""
        total = 0.0
        for label, coeff in terms.items():
            f, var_f = self.factor(support(label))
            corrected = coeff * float(p @ plain({label: 1.0}, n)) / f
            total += corrected**2 * var_f / f**2
        return total


def support(label: str) -> int:
    n = len(label)
    return sum(1 << q for q in range(n) if label[n - 1 - q] != "I")


def plan(options: Mapping[str, Any], n: int, shots: int, seed: str) -> TrexPlan | None:
    """The PUB's randomizations: measurement twirling when ``twirling.enable_measure`` is True or ``measure_noise_learning`` is set away from its defaults (TREX, learned and divided out, when measurement
    mitigation is also on), gate twirling when ``twirling.enable_gates`` is True (None: from level 2); None
    when neither."""
    twirling = options.get("twirling") or {}
    learning = (options.get("resilience") or {}).get("measure_noise_learning") or {}
    learning_set = learning.get("num_randomizations", AUTO_RANDOMIZATIONS) != AUTO_RANDOMIZATIONS or \
        learning.get("shots_per_randomization", "auto") != "auto"
    level = options.get("resilience_level", 0)
    gates_option = twirling.get("enable_gates")
    gates = bool(gates_option) if gates_option is not None else isinstance(level, int) and level >= 2
    measure = bool(twirling.get("enable_measure")) or learning_set
    if not (gates or measure):
        return None
    resilience = options.get("resilience") or {}
    explicit = resilience.get("measure_mitigation", options.get("measure_mitigation"))
    correct = measure and (bool(explicit) if explicit is not None else isinstance(level, int) and level >= 1)
    count = _count(twirling.get("num_randomizations", "auto"), "twirling.num_randomizations")
    learn = _count(learning.get("num_randomizations", AUTO_RANDOMIZATIONS),
                   "resilience.measure_noise_learning.num_randomizations")
    per = twirling.get("shots_per_randomization", "auto")
    shots_each = math.ceil(shots / count) if per == "auto" else _count(per, "twirling.shots_per_randomization")
    learn_per = learning.get("shots_per_randomization", "auto")
    if learn_per != "auto" and _count(learn_per, "resilience.measure_noise_learning.shots_per_randomization") \
            != shots_each:
        raise JobError(f"resilience.measure_noise_learning.shots_per_randomization={learn_per!r}: the learning "
                       f"circuits run in the PUB's program, with its {shots_each} shots per randomization; set it "
                       f"to 'auto' or {shots_each}")
    rng = np.random.default_rng(int(hashlib.sha256(f"trex:{seed}".encode()).hexdigest()[:16], 16))
    masks = balanced(rng, n, count) if measure else (0,) * count
    learning_masks = balanced(rng, n, learn) if correct else ()
    return TrexPlan(masks, learning_masks, shots_each, correct, gates=gates, measure=measure)


def balanced(rng: np.random.Generator, n: int, count: int) -> tuple[int, ...]:
    """``count`` X masks on ``n`` qubits, balanced: every one of the ``2**n`` masks equally often (shuffled) when
    ``2**n`` divides ``count`` -- the exact average over the group, so every parity's readout asymmetry cancels;
    otherwise random masks in complementary pairs (``m``, then ``m`` with every bit flipped), so each qubit and
    each odd number of qubits is flipped in exactly half of them (an odd ``count`` leaves its last one unpaired).

    Why: averaged over the masks, a readout with ``P(0|1) != P(1|0)`` leaves ``(1 - 2 phi_q) (P(0|1) - P(1|0))``
    on ``<Z_q>``, ``phi_q`` the fraction of masks that flip q. Independent uniform masks make ``phi_q`` 1/2 only
    to ``1/sqrt(count)``: with 32 of them, 0.31-0.69 on virtual_2q's circuits, a bias of up to 0.009 on a qubit
    with 2% asymmetry (and as much again through the learned factor)."""
    size = 2**n
    if count % size == 0:
        every = np.tile(np.arange(size), count // size)
        rng.shuffle(every)
        return tuple(int(m) for m in every)
    firsts = rng.integers(0, size, size=(count + 1) // 2)
    out = [int(v) for m in firsts for v in (m, int(m) ^ (size - 1))]
    return tuple(out[:count])


def _count(value: Any, name: str) -> int:
    if value == "auto":
        return AUTO_RANDOMIZATIONS
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000:
        raise JobError(f"{name} must be an integer in 1..10000 or 'auto', got {value!r}")
    return value


def flip_before_measure(translated: Any, mask: int) -> Any:
    """The translated circuit with an X on each qubit of ``mask`` right before its measurement; the X's of a run
    of measurements all come before the run's first one (qubits read out together start measuring together, so
    no drive may follow the first)."""
    ops = list(translated)
    out = translated.copy_empty()
    for i, op in enumerate(ops):
        if op.name == "measure" and (i == 0 or ops[i - 1].name != "measure"):
            j = i
            while j < len(ops) and ops[j].name == "measure":
                if (mask >> ops[j].qubits[0]) & 1:
                    out.append("x", ops[j].qubits)
                j += 1
        out.add(op)
    return out
