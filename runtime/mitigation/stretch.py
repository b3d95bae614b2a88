"""Pulse-stretch noise amplification (Kandala et al., Nature 567, 491, 2019): every gate's pulses c times longer.

Why it exists: a lab that owns its pulses can amplify noise without adding gates. Decoherence during a gate
grows with its duration, so stretching every pulse by c (amplitudes divided by c, so each rotation, the area
of its envelope, is unchanged) multiplies that part of the error by c exactly, where gate folding multiplies
*every* error of the folded gates, coherent ones included, and adds gates the echo does not protect.

How: the gate map is rebuilt from the same snapshot through :class:`StretchedValues`, a value reader that
returns every gate duration and sigma (``pulse_duration``, ``pulse_sigma``, ``cr_duration``, ``cr_sigma``)
times c and every gate amplitude (``x_amp``, ``sx_amp``, ``cr_amp``, ``cancel_amp``) times the ratio of the
plain to the stretched unit envelope's area (about 1 / c: the lifted Gaussian flanks lose a slightly different
fraction of their area when longer, 1 % at c = 2 for a 160-sample x, which is a 0.03 rad over-rotation if
ignored), so each envelope's area, the rotation, is kept exactly. The readout is
not stretched (it is not a gate). Amplitudes only shrink: no hardware limit can be crossed.

What needs care, and what is done here:

- DRAG: ``beta`` is kept. The optimal quadrature is Q = -(dI/dt) / (2 alpha), a coefficient in seconds that
  does not depend on the envelope's length; the derivative of the stretched, scaled envelope is already c^2
  smaller, so keeping beta (in samples) keeps the DRAG condition.
- CR: the ZX rate is linear in the CR amplitude only to first order; the amplitude's cubic terms, the
  cancellation tone's Stark shift on the target (quadratic in amplitude, so 1/c of the stretched pulse's phase)
  and the target's calibrated rz corrections are *not* rescaled. Kandala recalibrates each stretched gate;
  qubitlab does not yet (the metadata says ``"rescaled, not recalibrated"``), so a residual coherent error
  grows with c and limits how well the extrapolation removes the error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qubitlab.calibration.values import CalibratedValues

STRETCHED = ("pulse_duration", "pulse_sigma", "cr_duration", "cr_sigma")
SCALED = ("x_amp", "sx_amp", "cr_amp", "cancel_amp")


@dataclass(frozen=True)
class StretchedValues(CalibratedValues):
    """The snapshot's values with every gate c times longer and c times weaker."""

    factor: float = 1.0

    def value(self, key: str, default: float | None = None) -> float:
        found = super().value(key, default)
        owner, _, name = key.rpartition(".")
        if name in STRETCHED:
            return found * self.factor
        if name in SCALED:
            return found * self._area_ratio(owner)
        return found

    def _area_ratio(self, owner: str) -> float:
        """Plain over stretched area of the unit envelope of ``owner``'s gate (``q0`` or ``q0-q1``): about
        1 / c, exactly what keeps the rotation (Qiskit's lifted Gaussian flanks are not quite self-similar)."""
        from qubitlab.calibration.gates import cr_shape
        from qubitlab.pulse import Gaussian, GaussianSquare

        plain = CalibratedValues(self.lab, self.snapshot)
        if "-" in owner:
            c, t = (int(part.lstrip("q")) for part in owner.split("-"))
            shapes = [cr_shape(ctx, c, t) for ctx in (plain, self)]
            areas = [GaussianSquare(d, 1.0, sigma, width).get_waveform().samples.real.sum()
                     for d, sigma, width in shapes]
        else:
            q = int(owner.lstrip("q"))
            shapes2 = [ctx.pulse_shape(q) for ctx in (plain, self)]
            areas = [Gaussian(d, 1.0, sigma).get_waveform().samples.real.sum() for d, sigma, _ in shapes2]
        return float(areas[0] / areas[1])


def stretched_gate_map(lab: Any, snapshot: Any, qubits: list[int], pairs: list[tuple[int, int]],
                       factor: float) -> Any:
    """The gate map of ``snapshot`` with every gate's pulses stretched by ``factor`` (measure unchanged)."""
    from qubitlab.calibration.gates import build_gate_map

    return build_gate_map(StretchedValues(lab, snapshot, factor), pairs, 1, qubits)


def builder(factor: float) -> Callable[[Any, Any, list[int], list[tuple[int, int]]], Any]:
    """``(lab, snapshot, qubits, pairs) -> GateMap`` stretched by ``factor`` (the hook lowering calls)."""
    def build(lab: Any, snapshot: Any, qubits: list[int], pairs: list[tuple[int, int]]) -> Any:
        return stretched_gate_map(lab, snapshot, qubits, pairs, factor)
    return build


def applied_factor(lab: Any, snapshot: Any, factor: float, qubits: list[int], pairs: list[tuple[int, int]]) -> float:
    """The stretch really applied to the longest gate (durations are whole samples): its duration ratio."""
    from qubitlab.calibration.gates import cr_shape

    if pairs:
        c, t = pairs[0]
        plain = cr_shape(CalibratedValues(lab, snapshot), c, t)[0]
        return cr_shape(StretchedValues(lab, snapshot, factor), c, t)[0] / plain
    plain = CalibratedValues(lab, snapshot).pulse_shape(qubits[0])[0]
    return StretchedValues(lab, snapshot, factor).pulse_shape(qubits[0])[0] / plain
