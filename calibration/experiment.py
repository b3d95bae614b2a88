"""The shape every calibration experiment shares: run a sweep, keep the raw data, fit, gate, plot, propose.

An experiment is a function ``run(ctx, qubits) -> Outcome``. It proposes updates (key -> value, standard
error) only through :func:`conclude`, which saves the raw data (QCoDeS dataset), always saves the plot, and
keeps the proposal only if every quality gate passed; a failed gate proposes nothing and says which gate
failed and why. Committing to the store is the caller's business (the bring-up, or ``qubitlab calibrate``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qubitlab.calibration.context import Context
from qubitlab.calibration.fitting import Fit, Gate
from qubitlab.calibration.parameters import qkey
from qubitlab.drivers.decode import Discriminator

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]


@dataclass(frozen=True)
class Outcome:
    """What one experiment run found, and what it proposes to store."""

    experiment: str
    qubits: tuple[int, ...]
    updates: Mapping[str, tuple[float, float | None]]
    """Key -> (value, standard error); empty unless every gate passed."""
    gates: tuple[Gate, ...]
    quality: Mapping[str, float] = field(default_factory=dict)
    plot: Path | None = None
    dataset: int | None = None
    message: str = ""
    snapshot_id: str | None = None
    """The calibration snapshot the experiment ran with."""
    hint: str = ""
    """What to try next when a gate failed (set by the bring-up, :mod:`qubitlab.calibration.hints`)."""

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failed_gates(self) -> list[Gate]:
        return [g for g in self.gates if not g.passed]

    def summary(self) -> str:
        who = ",".join(f"q{q}" for q in self.qubits)
        if self.passed:
            found = ", ".join(f"{k} = {v:.6g}" + (f" +- {e:.2g}" if e else "") for k, (v, e) in self.updates.items())
            return f"{self.experiment} {who}: {found or 'checked'}{'; ' + self.message if self.message else ''}"
        next_step = f"; next: {self.hint}" if self.hint else ""
        return f"{self.experiment} {who}: nothing stored; " + "; ".join(str(g) for g in self.failed_gates) + next_step


# -- signals -------------------------------------------------------------------------------------------------------
def principal_signal(means: ComplexArray, reference: int = 0) -> FloatArray:
    """Mean IQ per point projected on the axis along which it varies most, oriented so that point
    ``reference`` (e.g. the unexcited one) is at the low end."""
    centred = means - means.mean()
    _, _, vh = np.linalg.svd(np.stack([centred.real, centred.imag], axis=1), full_matrices=False)
    y = np.asarray(centred.real * vh[0, 0] + centred.imag * vh[0, 1], dtype=np.float64)
    return -y if y[reference] > np.median(y) else y


def discriminator(ctx: Context, qubit: int) -> Discriminator:
    """The stored nearest-centre discriminator of ``qubit`` (:mod:`qubitlab.drivers.decode`)."""
    return Discriminator.from_values(ctx.values, qubit)


def assigned_one(iq: ComplexArray, ctx: Context, qubit: int) -> NDArray[np.bool_]:
    """Per shot, whether the stored discriminator (nearest blob centre) assigns it to |1>."""
    return discriminator(ctx, qubit).assign(iq)


def excited_population(iq: ComplexArray, ctx: Context, qubit: int) -> FloatArray:
    """Per point, the fraction of shots assigned to |1> by the stored discriminator."""
    return np.asarray(np.mean(assigned_one(iq, ctx, qubit), axis=-1), dtype=np.float64)


def has_discriminator(ctx: Context, qubit: int) -> bool:
    return ctx.has(*(qkey(qubit, k) for k in ("iq0_re", "iq0_im", "iq1_re", "iq1_im")))


def population_or_signal(iq: ComplexArray, ctx: Context, qubit: int, reference: int = 0
                         ) -> tuple[FloatArray, float, str]:
    """``(y, sigma, label)``: P(1) when a discriminator is stored (binomial sigma), else the principal-axis
    signal (sigma from the shot spread)."""
    if has_discriminator(ctx, qubit):
        p = excited_population(iq, ctx, qubit)
        shots = iq.shape[-1]
        sigma = float(np.sqrt(max(float(np.mean(p * (1 - p))), 0.25 / shots) / shots))
        return p, sigma, "P(|1>)"
    means = iq.mean(axis=-1)
    y = principal_signal(means, reference)
    spread = float(np.sqrt(np.mean(np.var(iq.real, axis=-1) + np.var(iq.imag, axis=-1)) / 2))
    return y, spread / math.sqrt(iq.shape[-1]), "IQ along its principal axis"


# -- the common tail -----------------------------------------------------------------------------------------------
def conclude(ctx: Context, experiment: str, qubits: Sequence[int], *, x: FloatArray, y: FloatArray,
             fit: Fit | None, gates: Sequence[Gate], updates: Mapping[str, tuple[float, float | None]],
             xlabel: str, ylabel: str, raw: Mapping[str, Any] | None = None, message: str = "",
             draw: Callable[[Any], None] | None = None) -> Outcome:
    """Save raw data and the plot; keep ``updates`` only if every gate passed."""
    passed = all(g.passed for g in gates)
    dataset = None
    if ctx.datasets is not None:
        dataset = ctx.datasets.save(experiment, qubits, x, xlabel, raw or {"y": y})
    plot = _plot(ctx, experiment, qubits, x, y, fit, gates, xlabel, ylabel, draw)
    return Outcome(experiment, tuple(qubits), dict(updates) if passed else {}, tuple(gates),
                   fit.quality() if fit is not None and fit.converged else {}, plot, dataset, message,
                   ctx.snapshot.id)


def _plot(ctx: Context, experiment: str, qubits: Sequence[int], x: FloatArray, y: FloatArray, fit: Fit | None,
          gates: Sequence[Gate], xlabel: str, ylabel: str, draw: Callable[[Any], None] | None) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # no pyplot (no global state) and fixed margins (no layout engine): the figure is drawn once, by savefig
    figure = Figure(figsize=(6.4, 3.8))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.91)
    axis = figure.add_subplot()
    axis.plot(x, y, "o", ms=3.5, label="data")
    if fit is not None and fit.converged:
        fine = np.linspace(float(np.min(x)), float(np.max(x)), 600)
        axis.plot(fine, fit.curve(fine), "-", label="fit")
    if draw is not None:
        draw(axis)
    failed = [g for g in gates if not g.passed]
    who = ",".join(f"q{q}" for q in qubits)
    axis.set_title(f"{experiment} {who}: " + ("all gates passed" if not failed else f"FAILED: {failed[0].name}"),
                   color="black" if not failed else "firebrick", fontsize=10)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=8)
    folder = ctx.out_dir / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{experiment}_{who.replace(',', '-')}_{len(list(folder.glob(f'{experiment}_*'))):03d}.png"
    figure.savefig(path, dpi=100)
    return path
