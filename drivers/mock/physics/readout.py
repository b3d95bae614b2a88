"""Dispersive readout: what the digitizer records from a probe on a feedline with readout resonators.

Each resonator is side-coupled to the feedline (a notch, critically coupled); its frequency depends on its
transmon's level, ``f_r(n) = f_r + n chi``. In the readout LO's frame the probe is the line's complex baseband
``x(t)`` (volts at the device), and the resonator field obeys the linear equation

    dr/dt = -(kappa/2 - i delta_n) r + (kappa/2) x,     delta_n = 2 pi (f_r(n) - f_LO),

exactly solvable sample by sample since ``x`` is held per AWG sample (a first-order recursion, run with
``scipy.signal.lfilter``). The feedline carries ``g x - sum_q g_q r_q`` to the digitizer (``g`` the mean
readout gain of the resonators on it): a tone at ``f_r(n)`` is absorbed, and in steady state the transmission
is the notch ``1 - (kappa/2) / (kappa/2 + i Delta)``, ``Delta = 2 pi (f_probe - f_r(n))``. Ring-up is there
because the resonator starts empty.

The digitizer demodulates at its window's frequency and integrates with the window's weights. A shot whose
transmon decays from ``n`` to ``n - 1`` at a random time inside the window follows level ``n``'s field until
then and relaxes towards level ``n - 1``'s afterwards; since the difference of two solutions decays freely,
the integral splits into prefix sums and one geometric tail, so every shot costs O(1) after one pass over the
window (it lands between the blobs). White noise of ``sigma`` per digitizer sample and quadrature becomes
``sigma * ||w||`` on the integrated point. Levels are drawn from the joint populations, so correlations (a
Bell state) come out right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.signal
from numpy.typing import NDArray

from qubitlab.config.device import QubitParams

ComplexArray = NDArray[np.complex128]
TWO_PI = 2 * math.pi


def steady_response(qubit: QubitParams, probe_frequency: float, level: int | NDArray[np.int64]) -> ComplexArray:
    """Steady-state transmission per volt of probe (the notch, times the readout gain) with the transmon in
    ``level``; the closed form the resonator equation relaxes to under a continuous tone."""
    kappa = TWO_PI * qubit.resonator_linewidth
    detuning = TWO_PI * (probe_frequency - (qubit.resonator_frequency + np.asarray(level) * qubit.dispersive_shift))
    return np.asarray(qubit.readout_gain * (1 - (kappa / 2) / (kappa / 2 + 1j * detuning)), dtype=np.complex128)


@dataclass(frozen=True)
class Resonator:
    """One resonator's field on a window of the grid, for every level of its transmon."""

    qubit: QubitParams
    fields: ComplexArray
    """``(levels, n)``: the field at each grid point, starting empty at the first."""
    decay: ComplexArray
    """``(levels,)``: the free decay factor per grid step, ``exp(-(kappa/2 - i delta_n) dt)``."""

    @classmethod
    def driven(cls, qubit: QubitParams, lo_frequency: float, probe: ComplexArray, step: float, levels: int
               ) -> Resonator:
        half_kappa = math.pi * qubit.resonator_linewidth
        n = np.arange(levels)
        rates = half_kappa - 1j * TWO_PI * (qubit.resonator_frequency + n * qubit.dispersive_shift - lo_frequency)
        decay = np.exp(-rates * step)
        gain = (1 - decay) * half_kappa / rates
        fields = np.empty((levels, probe.shape[0]), dtype=np.complex128)
        for level in range(levels):  # r[k+1] = a r[k] + b x[k], r[0] = 0
            fields[level] = scipy.signal.lfilter([0.0, gain[level]], [1.0, -decay[level]], probe)
        return cls(qubit, fields, decay)


@dataclass(frozen=True)
class Window:
    """Where the digitizer samples (grid indices relative to the resonators' first point) and how it weighs
    them: ``kernel[k]`` is ``conj(w) exp(-i 2 pi f_demod t)`` at digitizer sample ``k``."""

    index: NDArray[np.int64]
    kernel: ComplexArray
    demod: ComplexArray
    """``exp(-i 2 pi f_demod t)`` per digitizer sample (raw traces)."""


def kerneled(resonators: Sequence[Resonator], levels: NDArray[np.int64], decays: NDArray[np.int64],
             window: Window, through: complex, through_gain: float) -> ComplexArray:
    """Integrated IQ per shot without noise. ``levels[s, i]`` is resonator ``i``'s transmon level in shot ``s``,
    ``decays[s, i]`` the grid index where it drops one level (or a value past the window for none)."""
    shots = levels.shape[0]
    out = np.full(shots, through_gain * through, dtype=np.complex128)
    idx, kernel = window.index, window.kernel
    for i, res in enumerate(resonators):
        terms = kernel[None, :] * res.fields[:, idx]  # (levels, samples)
        prefix = np.concatenate([np.zeros((terms.shape[0], 1), dtype=np.complex128), np.cumsum(terms, axis=1)],
                                axis=1)
        total = prefix[:, -1]
        n = levels[:, i]
        value = total[n]
        where = decays[:, i]
        decayed = np.nonzero((n > 0) & (where <= idx[-1]))[0]
        if decayed.size:
            n0, j = n[decayed], where[decayed]
            first = np.searchsorted(idx, j)  # digitizer samples from the decay on
            tail = _tails(kernel, idx, res.decay, n0 - 1, first, j)
            jump = res.fields[n0, j] - res.fields[n0 - 1, j]
            value[decayed] = (prefix[n0, first] + total[n0 - 1] - prefix[n0 - 1, first] + jump * tail)
        out -= res.qubit.readout_gain * value
    return out


def _tails(kernel: ComplexArray, idx: NDArray[np.int64], decay: ComplexArray, level: NDArray[np.int64],
           first: NDArray[np.int64], start: NDArray[np.int64]) -> ComplexArray:
    """``sum_{k >= first} kernel_k a^(idx_k - start)`` per shot, ``a`` the free decay of ``level``: the weight of
    a field difference left at ``start`` as it decays away."""
    out = np.zeros(first.shape[0], dtype=np.complex128)
    spacing = np.diff(idx)
    uniform = spacing.size == 0 or bool(np.all(spacing == spacing[0]))
    for m in np.unique(level):
        rows = np.nonzero(level == m)[0]
        a = decay[m]
        if uniform:  # G[f] = kernel[f] + a^s G[f+1], one backward recursion for all shots
            step = int(spacing[0]) if spacing.size else 1
            g = scipy.signal.lfilter([1.0], [1.0, -(a ** step)], kernel[::-1])[::-1]
            g = np.append(g, 0.0)
            f = first[rows]
            out[rows] = g[f] * a ** (idx[np.minimum(f, idx.shape[0] - 1)] - start[rows])
        else:
            out[rows] = [np.sum(kernel[f:] * a ** (idx[f:] - j)) for f, j in zip(first[rows], start[rows])]
    return out


def traces(resonators: Sequence[Resonator], levels: NDArray[np.int64], decays: NDArray[np.int64],
           window: Window, through: ComplexArray, through_gain: float) -> ComplexArray:
    """Demodulated time traces per shot without noise, shape ``(shots, samples)``; ``through`` is the probe at
    each digitizer sample."""
    idx = window.index
    out = np.broadcast_to(through_gain * through * window.demod, (levels.shape[0], idx.shape[0])).copy()
    for i, res in enumerate(resonators):
        n = levels[:, i]
        field = res.fields[n][:, idx]
        j = decays[:, i]
        after = (idx[None, :] >= j[:, None]) & (n[:, None] > 0)
        rows = np.nonzero(after.any(axis=1))[0]
        if rows.size:
            n0, jj = n[rows], j[rows]
            lower = res.fields[n0 - 1][:, idx]
            free = (res.fields[n0, jj] - res.fields[n0 - 1, jj])[:, None] * \
                res.decay[n0 - 1][:, None] ** np.maximum(idx[None, :] - jj[:, None], 0)
            field[rows] = np.where(after[rows], lower + free, field[rows])
        out -= res.qubit.readout_gain * field * window.demod[None, :]
    return out


def sample_levels(populations: NDArray[np.float64], shots: int, levels: int, count: int,
                  rng: np.random.Generator) -> NDArray[np.int64]:
    """Per-shot levels of ``count`` transmons drawn from the joint populations (length ``levels**count``, the
    first transmon the most significant digit); returns shape ``(shots, count)``."""
    p = np.clip(np.asarray(populations, dtype=np.float64), 0, None)
    p = p / p.sum()
    outcomes = rng.choice(p.shape[0], size=shots, p=p)
    digits = np.empty((shots, count), dtype=np.int64)
    for q in range(count - 1, -1, -1):
        digits[:, q] = outcomes % levels
        outcomes //= levels
    return digits
