"""Timeline plots of pulse programs and waveforms (matplotlib, imported only when drawing).

One row per pulse channel with the real (I) and imaginary (Q) parts of the rendered envelope, frame changes
marked, acquisitions shaded. Long programs are reduced to the largest-magnitude sample per pixel column, so a
million-sample schedule draws as fast as a short one and no pulse disappears between pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qubitlab.pulse.channels import AcquireChannel, PulseChannel
from qubitlab.pulse.instructions import Acquire, SetFrequency, SetPhase, ShiftFrequency, ShiftPhase

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from qubitlab.pulse.library import Waveform
    from qubitlab.pulse.program import Program

_MAX_POINTS = 4000


def _reduce(samples: np.ndarray, max_points: int = _MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(times, samples) with at most ``max_points`` points, keeping each bucket's largest-|s| sample."""
    n = samples.shape[0]
    if n <= max_points:
        return np.arange(n), samples
    bucket = -(-n // max_points)
    padded = np.zeros(bucket * (-(-n // bucket)), dtype=samples.dtype)
    padded[:n] = samples
    blocks = padded.reshape(-1, bucket)
    pick = np.argmax(np.abs(blocks), axis=1)
    rows = np.arange(blocks.shape[0])
    return rows * bucket + pick, blocks[rows, pick]


def draw_program(program: Program, *, dt: float | None = None, frequencies: Any = None,
                 title: str | None = None) -> Figure:
    """A figure with one row per channel of ``program`` (time in samples, or in ns when ``dt`` is given)."""
    from matplotlib.figure import Figure

    from qubitlab.pulse.rendering import render

    has_frequency = any(isinstance(i, (ShiftFrequency, SetFrequency)) for _, i in program._timed().items)
    envelopes = render(program, dt=dt if dt is not None else (1.0 if has_frequency else None),
                       frequencies=frequencies)
    acquires: list[tuple[int, Acquire]] = [(t, i) for t, i in program.instructions if isinstance(i, Acquire)]
    acquire_channels = sorted({inst.channel for _, inst in acquires}, key=lambda c: c.index)  # type: ignore[arg-type,return-value]
    rows = list(envelopes) + acquire_channels
    fig = Figure(figsize=(10, 0.9 + 0.75 * max(len(rows), 1)), layout="constrained")
    axes = fig.subplots(max(len(rows), 1), 1, sharex=True, squeeze=False)[:, 0]
    scale, unit = (dt * 1e9, "ns") if dt else (1.0, "samples (dt)")
    frames = [(t, inst) for t, inst in program.instructions
              if isinstance(inst, (ShiftPhase, SetPhase, ShiftFrequency, SetFrequency))]
    for ax, ch in zip(axes, rows):
        if isinstance(ch, AcquireChannel):
            for t, acq in acquires:
                if acq.channel == ch:
                    ax.axvspan(t * scale, (t + int(acq.duration)) * scale, color="tab:gray", alpha=0.35)
            ax.set_ylim(0, 1)
            ax.set_yticks([])
        else:
            assert isinstance(ch, PulseChannel)
            times, values = _reduce(envelopes[ch])
            ax.fill_between(times * scale, values.real, step="post", color="tab:blue", alpha=0.45, label="I")
            ax.fill_between(times * scale, values.imag, step="post", color="tab:orange", alpha=0.45, label="Q")
            for t, inst in frames:
                if inst.channel == ch:
                    ax.axvline(t * scale, color="tab:purple", linewidth=0.6, alpha=0.6)
            peak = float(np.max(np.abs(values))) if values.size else 0.0
            ax.set_ylim(-1.1 * max(peak, 1e-3), 1.1 * max(peak, 1e-3))
        ax.set_ylabel(ch.name, rotation=0, ha="right", va="center")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlabel(f"time ({unit})")
    axes[0].set_xlim(0, max(program.duration, 1) * scale)
    fig.suptitle(title or program.name or "pulse program")
    return fig


def draw_waveform(waveform: Waveform, title: str | None = None) -> Figure:
    """The real and imaginary parts of one sampled pulse."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    t = np.arange(waveform.duration)  # type: ignore[arg-type]
    ax.step(t, waveform.samples.real, where="post", label="I (real)")
    ax.step(t, waveform.samples.imag, where="post", label="Q (imag)")
    ax.set_xlabel("time (samples of dt)")
    ax.set_ylabel("amplitude")
    ax.legend(loc="upper right")
    ax.set_title(title or waveform.name or "waveform")
    return fig
