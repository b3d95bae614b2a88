"""The calibrated single-qubit gates and the measurement, as pulse-builder calls inside an active ``build``.

One place decides the shapes (DRAG x and sx on ``d_q``, a GaussianSquare readout tone on ``m_q`` with its
acquisition into memory slot ``q``) so that experiments, the gate map and the bring-up agree on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from qubitlab import pulse
from qubitlab.calibration.parameters import KERNEL_KNOTS, qkey
from qubitlab.errors import CalibrationError
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
            pulse.acquire(duration, pulse.AcquireChannel(q), pulse.MemorySlot(q),
                          kernel=readout_kernel(ctx, q, duration))


def digitizer_samples(ctx: ValueReader, qubit: int, duration: int) -> int:
    """Digitizer samples in an acquisition of ``duration`` dt on ``a<qubit>`` (the compiler's rounding)."""
    channel = ctx.lab.wiring.channels.get(f"a{qubit}")
    timing = ctx.lab.timing.digitizers.get(channel.digitizer or "") if channel is not None else None
    if timing is None:
        raise CalibrationError(f"readout of q{qubit}: wiring.channels.a{qubit} names no digitizer of timing.digitizers "
                               f"({', '.join(sorted(ctx.lab.timing.digitizers)) or 'none'})")
    return int(round(duration * timing.sample_rate * ctx.lab.dt))


def kernel_samples(knots: Sequence[complex] | np.ndarray, length: int) -> np.ndarray:
    """The weights at ``length`` digitizer samples: ``knots`` equally spaced from the first sample to the last,
    linear between them, scaled so that ``sum |w| = 1`` (as the boxcar: an IQ point stays a mean)."""
    at = np.linspace(0.0, len(knots) - 1.0, length)
    values = np.asarray(knots, dtype=np.complex128)
    grid = np.arange(len(knots), dtype=np.float64)
    w = np.interp(at, grid, values.real) + 1j * np.interp(at, grid, values.imag)
    total = float(np.sum(np.abs(w)))
    return np.asarray(w / total if total > 0 else np.full(length, 1.0 / max(length, 1)), dtype=np.complex128)


def readout_kernel(ctx: ValueReader, qubit: int, duration: int) -> pulse.Kernel | None:
    """The stored matched filter of ``qubit`` as an acquisition kernel (its samples, conjugated by the digitizer);
    None (boxcar) when none is stored or it was measured for another window than ``duration`` dt."""
    measured = ctx.snapshot.value(qkey(qubit, "readout_kernel_duration"), None)
    if measured is None or abs(measured - duration * ctx.lab.dt) > ctx.lab.dt / 2:
        return None
    knots = tuple(complex(ctx.value(qkey(qubit, f"readout_kernel_re{k:02d}"), 0.0),
                          ctx.value(qkey(qubit, f"readout_kernel_im{k:02d}"), 0.0)) for k in range(KERNEL_KNOTS))
    return _kernel(knots, digitizer_samples(ctx, qubit, duration))


@lru_cache(maxsize=64)
def _kernel(knots: tuple[complex, ...], length: int) -> pulse.Kernel:
    """One shared (read-only by convention) kernel per knots and length, so a sweep's points share it."""
    w = kernel_samples(knots, length)
    return pulse.Kernel("matched_filter", real=w.real.tolist(), imag=w.imag.tolist())
