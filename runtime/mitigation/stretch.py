"""Pulse-stretch noise amplification (Kandala et al., Nature 567, 491, 2019): every gate's pulses c times longer,
each stretched gate calibrated for its own length.

Why it exists: a lab that owns its pulses can amplify noise without adding gates. Decoherence during a gate
grows with its duration, so stretching every pulse by c multiplies that part of the error by c, where gate
folding multiplies *every* error of the folded gates, coherent ones included, and adds gates the echo does not
protect. That holds only if the stretched gate is the same rotation: amplitudes divided by c are right only to
first order (the CR's ZX is not linear in its amplitude; the target's Z corrections change with the gate's
length), so the stretched gates come from their own calibrations in the store (``q0.x_amp_s2``,
``q0-q1.cr_amp_s2``...; :mod:`qubitlab.calibration.experiments.stretch`, run by ``qubitlab calibrate stretch``).

How: the gate map of each noise factor is rebuilt from the same snapshot through
:class:`~qubitlab.calibration.experiments.stretch.StretchedValues`, which reads every duration and sigma times
c and every gate parameter from its stretched key. A factor the store has no calibration for is refused
before anything runs (:func:`check_calibrated`), naming the keys and the command. The readout is not
stretched (it is not a gate). The noise factor the extrapolation uses is the ratio of the stretched to the
plain ECR duration (whole samples on the 16-sample CR grid, and the echo's x), or of the x pulse without an ECR.

What it does not fix (benchmarks/zne_stretch.py, three device seeds): on a circuit with 5 ECRs the stretched
gates lose more per unit of noise factor than folded ones (0.10-0.12 vs 0.08-0.09 per correlator on
virtual_2q), not smoothly in c, so the fits overshoot the observable's bound (Qiskit Runtime's fall-back then
returns about the unmitigated value) or bend the wrong way: mean error 0.23-0.25 against folding's 0.063
(stretching won on one seed of three). Two causes, both outside the noise model "error x c": each stretched
ECR's calibration residual is its own (its target Zs are known to ~0.03 rad, the plain gate's to 0.005), a
step between the plain and the stretched points; and the echo leaves a second-order static-ZZ error that
grows faster than the CR's length. On one ECR it extrapolates to within its error bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qubitlab.calibration.experiments.stretch import StretchedValues, command, missing
from qubitlab.errors import JobError


def check_calibrated(lab: Any, snapshot: Any, factors: Iterable[float], qubits: list[int],
                     pairs: list[tuple[int, int]]) -> None:
    """Raise a :class:`JobError` naming the missing stretched calibrations and the command that makes them."""
    factors = list(factors)
    lacking = missing(lab, snapshot, factors, qubits, pairs)
    if lacking:
        shown = ", ".join(lacking[:6]) + (f" and {len(lacking) - 6} more" if len(lacking) > 6 else "")
        raise JobError(f"resilience.zne.amplifier 'pulse_stretch' with noise_factors {factors}: the store has no "
                       f"calibration of the stretched gates ({shown} missing in snapshot {snapshot.id}); run "
                       f"'{command(f for f in factors if missing(lab, snapshot, [f], qubits, pairs))}' (bring-up "
                       "nodes stretch_1q, stretch_ecr), "
                       "or use amplifier 'gate_folding'")


def stretched_gate_map(lab: Any, snapshot: Any, qubits: list[int], pairs: list[tuple[int, int]],
                       factor: float) -> Any:
    """The gate map of ``snapshot`` with every gate stretched by ``factor`` (measure unchanged)."""
    from qubitlab.calibration.gates import build_gate_map

    return build_gate_map(StretchedValues(lab, snapshot, factor), pairs, 1, qubits)


def builder(factor: float) -> Callable[[Any, Any, list[int], list[tuple[int, int]]], Any]:
    """``(lab, snapshot, qubits, pairs) -> GateMap`` stretched by ``factor`` (the hook lowering calls)."""
    def build(lab: Any, snapshot: Any, qubits: list[int], pairs: list[tuple[int, int]]) -> Any:
        return stretched_gate_map(lab, snapshot, qubits, pairs, factor)
    return build


def gate_duration(values: Any, qubits: list[int], pairs: list[tuple[int, int]]) -> int:
    """Samples of the longest gate: the ECR (two CR halves and the echo x) of the first pair, else the x."""
    from qubitlab.calibration.gates import cr_shape

    x = int(values.pulse_shape(pairs[0][0] if pairs else qubits[0])[0])
    return 2 * cr_shape(values, *pairs[0])[0] + x if pairs else x


def applied_factor(lab: Any, snapshot: Any, factor: float, qubits: list[int], pairs: list[tuple[int, int]]) -> float:
    """The stretch really applied to the longest gate (durations are whole samples): its duration ratio."""
    plain = gate_duration(StretchedValues(lab, snapshot, 1.0), qubits, pairs)
    return gate_duration(StretchedValues(lab, snapshot, factor), qubits, pairs) / plain
