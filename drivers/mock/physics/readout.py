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
window (it lands between the blobs). With the qubit's ``photon_voltage`` given, the jump may also be a
measurement-induced excitation or relaxation whose rate follows the photon number in the resonator
(:func:`jumps`; the dressed-dephasing rate above ``n_crit = (Delta/2g)^2``). White noise of ``sigma`` per digitizer sample and quadrature becomes
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
             window: Window, through: complex, through_gain: float, after: NDArray[np.int64] | None = None
             ) -> ComplexArray:
    """Integrated IQ per shot without noise. ``levels[s, i]`` is resonator ``i``'s transmon level in shot ``s``,
    ``decays[s, i]`` the grid index where it jumps to level ``after[s, i]`` (default one level down; a value
    past the window for none)."""
    after = _after(levels, after)
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
        decayed = np.nonzero((after[:, i] != n) & (where <= idx[-1]))[0]
        if decayed.size:
            n0, n1, j = n[decayed], after[decayed, i], where[decayed]
            first = np.searchsorted(idx, j)  # digitizer samples from the jump on
            tail = _tails(kernel, idx, res.decay, n1, first, j)
            jump = res.fields[n0, j] - res.fields[n1, j]
            value[decayed] = (prefix[n0, first] + total[n1] - prefix[n1, first] + jump * tail)
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
           window: Window, through: ComplexArray, through_gain: float, after: NDArray[np.int64] | None = None
           ) -> ComplexArray:
    """Demodulated time traces per shot without noise, shape ``(shots, samples)``; ``through`` is the probe at
    each digitizer sample (jumps as in :func:`kerneled`)."""
    after = _after(levels, after)
    idx = window.index
    out = np.broadcast_to(through_gain * through * window.demod, (levels.shape[0], idx.shape[0])).copy()
    for i, res in enumerate(resonators):
        n = levels[:, i]
        field = res.fields[n][:, idx]
        j = decays[:, i]
        later = (idx[None, :] >= j[:, None]) & (after[:, i] != n)[:, None]
        rows = np.nonzero(later.any(axis=1))[0]
        if rows.size:
            n0, n1, jj = n[rows], after[rows, i], j[rows]
            lower = res.fields[n1][:, idx]
            free = (res.fields[n0, jj] - res.fields[n1, jj])[:, None] * \
                res.decay[n1][:, None] ** np.maximum(idx[None, :] - jj[:, None], 0)
            field[rows] = np.where(later[rows], lower + free, field[rows])
        out -= res.qubit.readout_gain * field * window.demod[None, :]
    return out


def _after(levels: NDArray[np.int64], after: NDArray[np.int64] | None) -> NDArray[np.int64]:
    """The level after each shot's jump: given, or one level down (none from the ground state)."""
    return np.maximum(levels - 1, 0) if after is None else after


# -- measurement-induced transitions ---------------------------------------------------------------------------
def critical_photons(qubit: QubitParams) -> float:
    """``n_crit = (Delta / 2g)^2`` (Blais et al., PRA 69, 062320 (2004)), with ``g`` from the transmon's
    dispersive shift ``2 chi = 2 g^2 alpha / (Delta (Delta + alpha))`` (Koch et al., PRA 76, 042319 (2007)):
    ``n_crit = |Delta alpha| / (2 |2 chi| |Delta + alpha|)``, ``2 chi`` the lab file's ``dispersive_shift``."""
    delta = qubit.frequency - qubit.resonator_frequency
    alpha = qubit.anharmonicity
    return abs(delta * alpha) / (2 * abs(qubit.dispersive_shift) * abs(delta + alpha))


def induced_rate_per_photon(qubit: QubitParams) -> float:
    """Measurement-induced excitation (and extra relaxation) rate per resonator photon, 1/s: the dressed
    dephasing model (Boissonneault, Gambetta and Blais, PRA 79, 013819 (2009)) turns the qubit's dephasing
    into transitions at ``gamma_phi n / (2 n_crit)``; ``gamma_phi = 1/T2 - 1/(2 T1)``, the only dephasing the
    device has (its spectrum at Delta is taken flat). Valid for ``n << n_crit``; beyond, real devices get worse
    (ionisation, Sank et al., PRL 117, 190503 (2016)), which is not modelled."""
    gamma_phi = max(1 / qubit.t2 - 1 / (2 * qubit.t1), 0.0)
    return gamma_phi / (2 * critical_photons(qubit))


def jumps(qubit: QubitParams, fields: ComplexArray, levels: NDArray[np.int64], start: int, stop: int,
          step: float, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Grid index of each shot's one jump and the level after it, drawn from the time-dependent rates: down
    ``n / T1 + r |field_n|^2 / V^2``, up ``r |field_n|^2 / V^2`` (``r`` :func:`induced_rate_per_photon`, ``V``
    the qubit's ``photon_voltage``), from ``start`` (the state is sampled there) to ``stop`` (no jump)."""
    assert qubit.photon_voltage is not None
    top = fields.shape[0] - 1
    at = np.full(levels.shape[0], stop, dtype=np.int64)
    after = levels.copy()
    start = max(start, 0)
    induced = induced_rate_per_photon(qubit) * np.abs(fields[:, start:stop]) ** 2 / qubit.photon_voltage ** 2
    for m in np.unique(levels):
        rows = np.nonzero(levels == m)[0]
        down = (m / qubit.t1 + induced[m]) if m > 0 else np.zeros(induced.shape[1])
        up = induced[m] if m < top else np.zeros(induced.shape[1])
        hazard = np.cumsum((down + up) * step)
        k = np.searchsorted(hazard, rng.exponential(1.0, size=rows.size))
        jumped = k < hazard.shape[0]
        rows, k = rows[jumped], k[jumped]
        total = down[k] + up[k]
        rising = rng.random(rows.size) * np.where(total > 0, total, 1.0) < up[k]
        at[rows] = start + k + 1
        after[rows] = np.where(rising, m + 1, m - 1)
    return at, after


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
