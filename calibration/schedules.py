"""The calibrated single-qubit gates and the measurement, as pulse-builder calls inside an active ``build``.

One place decides the shapes (DRAG x and sx on ``d_q``, a GaussianSquare readout tone on ``m_q`` with its
acquisition into memory slot ``q``) so that experiments, the gate map and the bring-up agree on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qubitlab import pulse
from qubitlab.calibration.parameters import qkey
from qubitlab.calibration.values import ValueReader

RING = 64
"""Rise and fall of the readout tone, samples."""


def drag(ctx: ValueReader, qubit: int, amp: Any, beta: Any = None, angle: float = 0.0) -> None:
    duration, sigma, calibrated_beta = ctx.pulse_shape(qubit)
    pulse.play(pulse.Drag(duration, amp, sigma, calibrated_beta if beta is None else beta, angle=angle),
               pulse.DriveChannel(qubit))


def x(ctx: ValueReader, qubit: int) -> None:
    drag(ctx, qubit, ctx.value(qkey(qubit, "x_amp")))


def sx(ctx: ValueReader, qubit: int) -> None:
    drag(ctx, qubit, ctx.value(qkey(qubit, "sx_amp")))


def measure(ctx: ValueReader, qubits: Iterable[int]) -> None:
    """Simultaneous readout of ``qubits`` after everything before it (a barrier over their channels)."""
    qubits = list(qubits)
    pulse.barrier(*[c for q in qubits for c in (pulse.DriveChannel(q), pulse.MeasureChannel(q),
                                                 pulse.AcquireChannel(q))])
    with pulse.align_left():
        for q in qubits:
            duration, amp = ctx.readout_shape(q)
            pulse.play(pulse.GaussianSquare(duration, amp, RING / 4, width=duration - RING),
                       pulse.MeasureChannel(q))
            pulse.acquire(duration, pulse.AcquireChannel(q), pulse.MemorySlot(q))
