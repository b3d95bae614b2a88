"""Delay sweeps shared by the Ramsey, T1, T2 and echo experiments: delays on the AWG grid, and the
Ramsey / echo sequence with a virtual detuning, each swept as one program.

A virtual detuning ``delta`` is a ShiftPhase of ``2 pi delta tau`` on ``d_q`` before the second sx: the same
phase a frame at ``f_frame + delta`` would have gathered, so the fringe runs at ``|f_q - f_frame - delta|``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qubitlab import pulse
from qubitlab.calibration import schedules
from qubitlab.calibration.context import Context
from qubitlab.calibration.experiment import ComplexArray, FloatArray

GRID = 16
"""Delays are whole multiples of this many samples (the AWG granularity of the labs in use)."""


def grid_delays(ctx: Context, seconds: FloatArray) -> FloatArray:
    """``seconds`` rounded to the delay grid, duplicates dropped (seconds)."""
    samples = np.unique(np.round(np.asarray(seconds) / ctx.lab.dt / GRID).astype(int) * GRID)
    return np.asarray(samples * ctx.lab.dt, dtype=np.float64)


def ramsey(ctx: Context, qubit: int, delays: FloatArray, detunings: Sequence[float], *, echo: bool = False,
           shots: int | None = None) -> ComplexArray:
    """Single-shot IQ, shape ``(len(detunings), len(delays), shots)``: sx - tau - [phase] - sx - measure, or
    with ``echo`` sx - tau/2 - x - tau/2 - [phase] - sx; one program for every detuning and delay."""
    half = pulse.Parameter("half")
    phase = pulse.Parameter("phase")
    d = pulse.DriveChannel(qubit)
    with pulse.build(name=f"{'echo' if echo else 'ramsey'}_q{qubit}") as schedule:
        with pulse.align_sequential():
            schedules.sx(ctx, qubit)
            pulse.delay(half, d)
            if echo:
                schedules.x(ctx, qubit)
            pulse.delay(half, d)
            pulse.shift_phase(phase, d)
            schedules.sx(ctx, qubit)
            schedules.measure(ctx, [qubit])
    samples = np.round(np.asarray(delays) / ctx.lab.dt).astype(int)
    values = [{half: int(n) // 2, phase: 2 * math.pi * delta * n * ctx.lab.dt} for delta in detunings
              for n in samples]
    iq = ctx.run(schedule, values, shots=shots)[qubit]
    return np.asarray(iq, dtype=np.complex128).reshape(len(detunings), len(delays), -1)
