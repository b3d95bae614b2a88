"""The virtual device behind the virtual instruments: AWG voltages, LO settings and acquisition windows in,
shots out.

It takes what the instruments produce -- each AWG output's voltages at the AWG's sample rate from the
trigger, each LO's frequency, power and output state -- and the wiring of a lab file, forms the drive every
transmon sees (``drive``), evolves the transmons the program drives (``evolve``, one density matrix per
group of coupled driven transmons; a transmon is driven by its own line, or by another line's crosstalk when
that reaches it near its frequency; an undriven transmon joins its coupled neighbour's group when that
neighbour's drive has a tone at its frequency, as a cross-resonance tone does; other undriven transmons stay in
their ground state), draws each shot's levels from the joint populations at the first acquisition (in the
dressed basis: a readout resolves the exchange-coupled eigenstates, see ``Group.measured_populations``), and
returns per acquisition window either one integrated IQ point per shot or the demodulated trace per shot
(``readout``).

What is not simulated (each refused with a message or documented here): drive after the first acquisition
starts (mid-circuit measurement); measurement back-action on undriven transmons (a measured transmon has the
measurement-induced transitions of ``readout.jumps`` when its ``photon_voltage`` is given); a transmon jumping
twice inside one window; the resonator's own Kerr nonlinearity; the exchange dressing of an undriven neighbour (order ``(J/Delta)^2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from qubitlab.config.models import LabConfig
from qubitlab.config.device import DeviceConfig
from qubitlab.drivers.mock.physics.drive import LineSignal, LoState, Reach, line_drives, resonant_angle, substeps
from qubitlab.drivers.mock.physics.evolve import Group
from qubitlab.drivers.mock.physics.readout import Resonator, Window, jumps, kerneled, sample_levels, traces
from qubitlab.errors import DriverError

ComplexArray = NDArray[np.complex128]
NEGLECTED_ANGLE = 0.1
"""Rad: a transmon that a drive rotates by less than this, through a coupling or a line's crosstalk (first order,
at any time of the program; population below 2.5e-3), is not evolved. A detuned pulse's transient, about ``(J / Delta)(Omega /
Delta)`` (the neglected dressing), stays below it: 0.06 rad for a full-scale 0.9 V pulse 96 MHz off; a CR tone
of 0.2 V at zero flat width already reaches ~0.3 rad."""


@dataclass(frozen=True)
class Acquisition:
    """One digitizer window on one input: ``length`` samples from ``start`` seconds after the trigger."""

    digitizer: str
    input: str
    start: float
    length: int
    demod_frequency: float = 0.0
    weights: ComplexArray | None = field(default=None, compare=False, repr=False)
    """Integration weights (conjugated when applied); ``None``: return the demodulated trace instead."""


class VirtualDevice:
    """The physics of one virtual lab: its lab file's ``device`` section and wiring."""

    def __init__(self, lab: LabConfig, seed: int | None = None) -> None:
        if lab.device is None:
            raise DriverError(f"lab {lab.name!r} has no 'device' section: only a virtual lab can be simulated")
        self.lab = lab
        self.device: DeviceConfig = lab.device
        rates = {awg: t.sample_rate for awg, t in lab.timing.awgs.items()}
        self.rate = max(rates.values())
        for awg, rate in rates.items():
            if abs(self.rate / rate - round(self.rate / rate)) > 1e-9:
                raise DriverError(f"virtual device: AWG {awg!r} at {rate:g} S/s is not a whole fraction of the "
                                  f"fastest AWG's {self.rate:g} S/s")
        self._rates = rates
        self._drive_line = _lines_of(lab, "d", self.device.qubits)
        self._readout_line = _lines_of(lab, "m", self.device.qubits)
        self._inputs: dict[tuple[str, str], list[int]] = {}
        for q in self.device.qubits:
            channel = lab.wiring.channels.get(f"a{q}")
            if channel is not None and channel.digitizer and channel.input:
                self._inputs.setdefault((channel.digitizer, channel.input), []).append(q)
        self._groups: dict[tuple[int, ...], Group] = {}
        self.rng = np.random.default_rng(self.device.seed if seed is None else seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def drift(self, qubit: int, *, frequency_shift: float = 0.0, amplitude_scale: float = 1.0) -> None:
        """Let ``qubit`` drift, as fridges do: its frequency moves by ``frequency_shift`` Hz and the drive it
        feels per volt scales by ``amplitude_scale``. Cached evolution is dropped; shots continue."""
        if qubit not in self.device.qubits:
            raise DriverError(f"virtual device: no qubit {qubit}; qubits: {', '.join(map(str, self.device.qubits))}")
        if not amplitude_scale > 0:
            raise DriverError(f"virtual device: amplitude_scale must be positive, got {amplitude_scale:g}")
        params = self.device.qubits[qubit]
        moved = params.model_copy(update={"frequency": params.frequency + frequency_shift,
                                          "rabi_per_volt": params.rabi_per_volt * amplitude_scale})
        self.device = self.device.model_copy(update={"qubits": {**self.device.qubits, qubit: moved}})
        self._groups.clear()

    # -- the run -------------------------------------------------------------------------------------------------
    def run(self, outputs: Mapping[str, Mapping[str, NDArray[np.floating]]], los: Mapping[str, LoState],
            acquisitions: Sequence[Acquisition], shots: int) -> list[ComplexArray]:
        """Shots for each acquisition (``(shots,)`` IQ points, or ``(shots, length)`` traces when the window has
        no weights). ``outputs`` maps AWG name -> output name -> volts per sample from the trigger."""
        lines = self._line_signals(outputs, los)
        if not acquisitions:
            return []
        start = min(a.start for a in acquisitions)
        cut = int(round(start * self.rate))
        for name, line in lines.items():
            if self.lab.wiring.lines[name].kind == "drive" and line.lo.output and np.any(line.samples[cut:]):
                late = cut + int(np.flatnonzero(line.samples[cut:])[0])
                raise DriverError(f"virtual device: line {name!r} drives at {late / self.rate * 1e9:.0f} ns, after the "
                                  f"first acquisition starts at {start * 1e9:.0f} ns; mid-circuit measurement is "
                                  "not simulated")
        levels = self._sample_levels(lines, cut, shots)
        return [self._acquire(a, lines, levels, cut, shots) for a in acquisitions]

    def populations(self, outputs: Mapping[str, Mapping[str, NDArray[np.floating]]], los: Mapping[str, LoState],
                    until: float, dressed: bool = True) -> dict[tuple[int, ...], NDArray[np.float64]]:
        """Joint level populations of each driven group at ``until`` seconds, as the readout sees them (in the
        dressed basis, :meth:`Group.measured_populations`; ``dressed=False``: the bare levels'), for tests and
        diagnostics."""
        lines = self._line_signals(outputs, los)
        cut = int(round(until * self.rate))
        return {group.qubits: group.measured_populations(rho) if dressed else group.populations(rho)
                for group, rho in self._evolve(lines, cut)}

    # -- drive -------------------------------------------------------------------------------------------------
    def _line_signals(self, outputs: Mapping[str, Mapping[str, NDArray[np.floating]]],
                      los: Mapping[str, LoState]) -> dict[str, LineSignal]:
        for awg in outputs:
            if awg not in self._rates:
                raise DriverError(f"virtual device: no AWG {awg!r} in lab {self.lab.name!r}; AWGs: "
                                  f"{', '.join(sorted(self._rates))}")
        held: dict[str, ComplexArray] = {}
        for name, line in self.lab.wiring.lines.items():
            played = outputs.get(line.awg, {})
            i, q = (np.asarray(played.get(o, np.zeros(0)), dtype=np.float64) for o in line.outputs)
            n = max(i.shape[0], q.shape[0])
            s = np.zeros(n, dtype=np.complex128)
            s.real[: i.shape[0]] = i
            s.imag[: q.shape[0]] = q
            repeat = int(round(self.rate / self._rates[line.awg]))
            held[name] = np.asarray(np.repeat(s, repeat) * 10 ** (line.gain_db / 20), dtype=np.complex128)
        length = max((s.shape[0] for s in held.values()), default=0)
        signals = {}
        for name, line in self.lab.wiring.lines.items():
            lo = los.get(line.lo)
            if lo is None:
                raise DriverError(f"virtual device: no setting for LO {line.lo!r} (line {name!r}); LOs given: "
                                  f"{', '.join(sorted(los)) or 'none'}")
            s = held[name]
            signals[name] = LineSignal(name, np.pad(s, (0, length - s.shape[0])), lo)
        return signals

    def _reaches(self, lines: Mapping[str, LineSignal]) -> dict[int, list[Reach]]:
        reaches: dict[int, list[Reach]] = {q: [] for q in self.device.qubits}
        for q, name in self._drive_line.items():
            if lines[name].live:
                reaches[q].append(Reach(lines[name], 1.0, self.device.qubits[q].rabi_per_volt))
        for x in self.device.crosstalk:
            source = self._drive_line.get(x.line)
            if source is not None and lines[source].live:
                factor = x.amplitude * complex(math.cos(x.phase), math.sin(x.phase))
                reaches[x.reaches].append(Reach(lines[source], factor, self.device.qubits[x.reaches].rabi_per_volt))
        return reaches

    # -- evolution ---------------------------------------------------------------------------------------------
    def _group(self, qubits: tuple[int, ...]) -> Group:
        group = self._groups.get(qubits)
        if group is None:
            group = self._groups[qubits] = Group(self.device, qubits, 1e9 / self.rate)
        return group

    def _components(self, driven: set[int]) -> list[tuple[int, ...]]:
        parent = {q: q for q in driven}

        def find(q: int) -> int:
            while parent[q] != q:
                q = parent[q]
            return q

        for c in self.device.couplings:
            a, b = c.qubits
            if a in driven and b in driven:
                parent[find(a)] = find(b)
        groups: dict[int, list[int]] = {}
        for q in sorted(driven):
            groups.setdefault(find(q), []).append(q)
        return [tuple(g) for g in groups.values()]

    def _evolve(self, lines: Mapping[str, LineSignal], cut: int) -> list[tuple[Group, ComplexArray]]:
        reaches = self._reaches(lines)
        driven = {q for q, r in reaches.items() if any(self._drives(x, q, cut) for x in r)}
        driven |= self._cross_resonant(reaches, driven, cut)
        out = []
        for qubits in self._components(driven):
            group = self._group(qubits)
            out.append((group, self._through(group, [reaches[q] for q in qubits], cut)))
        return out

    def _drives(self, reach: Reach, qubit: int, cut: int) -> bool:
        """Whether ``reach`` drives ``qubit`` before grid index ``cut``: its own line whenever it plays; a line
        reaching it by crosstalk only when that turns it by more than ``NEGLECTED_ANGLE`` (a tone near its
        frequency). Otherwise the qubit stays in its ground state, and a single-qubit pulse simulates one
        transmon instead of two."""
        if not np.any(reach.line.samples[:cut]):
            return False
        if reach.line.name == self._drive_line.get(qubit):
            return True
        return resonant_angle(reach, self.device.qubits[qubit].frequency, cut, self.rate) > NEGLECTED_ANGLE

    def _cross_resonant(self, reaches: Mapping[int, list[Reach]], driven: set[int], cut: int) -> set[int]:
        """Undriven transmons that a drive on a coupled neighbour reaches through the exchange coupling: a tone
        near the undriven transmon's frequency (a cross-resonance tone) rotates it at ``J / |Delta|`` of the
        neighbour's Rabi rate, to first order. Such a transmon is evolved with the group (its rotation is what
        CR gates are made of); one whose bound stays below ``NEGLECTED_ANGLE`` stays in its ground state."""
        pulled: set[int] = set()
        for c in self.device.couplings:
            for q, n in (c.qubits, c.qubits[::-1]):
                if q not in driven or n in driven:
                    continue
                detuning = self.device.qubits[n].frequency - self.device.qubits[q].frequency
                weight = abs(c.j / detuning) if detuning else 1.0
                frequency = self.device.qubits[n].frequency
                angle = sum(resonant_angle(r, frequency, cut, self.rate) for r in reaches[q])
                if weight * angle > NEGLECTED_ANGLE:
                    pulled.add(n)
        return pulled

    def _through(self, group: Group, reaches: list[list[Reach]], cut: int) -> ComplexArray:
        """The group's state at grid index ``cut``: pulse segments and idle gaps in order."""
        active = np.zeros(cut, dtype=bool)
        for rs in reaches:
            for r in rs:
                active |= r.line.samples[:cut] != 0
        edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
        step = 1e9 / self.rate  # ns
        rho, frame, now = group.ground(), self.device.qubits[group.qubits[0]].frequency, 0
        for begin, end in zip(edges[0::2], edges[1::2]):
            rho = group.idle(rho, frame, (begin - now) * step)
            playing = sorted({r.line.lo.frequency for rs in reaches for r in rs if np.any(r.line.samples[begin:end])})
            new = playing[0] if len(playing) == 1 else 0.5 * (playing[0] + playing[-1])
            rho = group.reframe(rho, begin * step, frame, new)
            frame = new
            sub = substeps(playing, frame, self.rate)
            mixing, amplitudes = line_drives(reaches, frame, int(begin), int(end), sub, self.rate)
            rho = group.pulse_lines(rho, frame, mixing, amplitudes)
            now = int(end)
        return group.idle(rho, frame, (cut - now) * step)

    def _sample_levels(self, lines: Mapping[str, LineSignal], cut: int, shots: int) -> NDArray[np.int64]:
        """Each transmon's level per shot at grid index ``cut``, shape ``(shots, qubits)`` (by qubit index)."""
        qubits = sorted(self.device.qubits)
        column = {q: i for i, q in enumerate(qubits)}
        levels = np.zeros((shots, len(qubits)), dtype=np.int64)
        for group, rho in self._evolve(lines, cut):
            drawn = sample_levels(group.measured_populations(rho), shots, group.levels, len(group.qubits), self.rng)
            for i, q in enumerate(group.qubits):
                levels[:, column[q]] = drawn[:, i]
        return levels

    # -- readout -----------------------------------------------------------------------------------------------
    def _acquire(self, acquisition: Acquisition, lines: Mapping[str, LineSignal], levels: NDArray[np.int64],
                 cut: int, shots: int) -> ComplexArray:
        key = (acquisition.digitizer, acquisition.input)
        qubits = self._inputs.get(key, [])
        rate = self._digitizer_rate(acquisition.digitizer)
        times = acquisition.start + np.arange(acquisition.length) / rate
        grid = np.floor(times * self.rate + 1e-6).astype(np.int64)
        feeding = sorted({self._readout_line[q] for q in qubits if q in self._readout_line})
        length = max((lines[n].samples.shape[0] for n in lines), default=0)
        end = int(grid[-1]) + 1 if grid.size else 0
        probe = np.zeros(max(end, length), dtype=np.complex128)
        los: dict[str, LoState] = {}
        for name in feeding:
            line = lines[name]
            los[name] = line.lo
            if line.lo.output:
                probe[: line.samples.shape[0]] += line.samples
        nonzero = np.flatnonzero(probe[:end])
        first = int(min(nonzero[0], grid[0])) if nonzero.size else int(grid[0]) if grid.size else 0
        probe = probe[first:end]
        index = grid - first
        demod = np.exp(-2j * math.pi * acquisition.demod_frequency * times)
        kernel = (np.conj(acquisition.weights) * demod if acquisition.weights is not None else demod)
        window = Window(index, np.asarray(kernel, dtype=np.complex128), demod)
        resonators = []
        for q in qubits:
            feed = self._readout_line.get(q)
            lo = los.get(feed) if feed is not None else None
            if lo is None or not lo.output:
                continue  # no probe reaches this resonator: it stays empty
            resonators.append(Resonator.driven(self.device.qubits[q], lo.frequency, probe, 1.0 / self.rate,
                                               self.device.levels))
        measured = [q for q in qubits if q in self._readout_line and self._readout_line[q] in los
                    and los[self._readout_line[q]].output]
        column = {q: i for i, q in enumerate(sorted(self.device.qubits))}
        shot_levels = levels[:, [column[q] for q in measured]]
        decays, after = self._decays(measured, resonators, shot_levels, cut - first, probe.shape[0])
        gains = [self.device.qubits[q].readout_gain for q in qubits]
        through_gain = float(np.mean(gains)) if gains else 1.0
        sigma = float(np.mean([self.device.qubits[q].readout_noise for q in qubits])) if qubits else 0.0
        # the feedline at a digitizer instant between two AWG holds: their mean (what the reconstruction filter
        # makes of a held signal), so a tone is seen at the instant it is sampled, like the resonator field
        at = np.asarray(0.5 * (probe[np.maximum(index - 1, 0)] + probe[index]), dtype=np.complex128)
        if acquisition.weights is None:
            out = traces(resonators, shot_levels, decays, window, at, through_gain, after)
            noise_scale = sigma
        else:
            through = complex(np.sum(kernel * at))
            out = kerneled(resonators, shot_levels, decays, window, through, through_gain, after)
            noise_scale = sigma * float(np.sqrt(np.sum(np.abs(acquisition.weights) ** 2)))
        if noise_scale > 0:
            out = out + self.rng.normal(0.0, noise_scale, out.shape) + 1j * self.rng.normal(0.0, noise_scale, out.shape)
        return np.asarray(out, dtype=np.complex128)

    def _decays(self, qubits: Sequence[int], resonators: Sequence[Resonator], levels: NDArray[np.int64], start: int,
                stop: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Grid index (relative to the window's first point) where each shot's transmon jumps, or ``stop`` when
        it does not before the window ends, and the level it jumps to: one level down at rate ``n / T1`` from
        ``start``; with the qubit's ``photon_voltage`` also the measurement-induced jumps (:func:`jumps`)."""
        out = np.full(levels.shape, stop, dtype=np.int64)
        after = np.maximum(levels - 1, 0)
        for i, q in enumerate(qubits):
            n = levels[:, i]
            params = self.device.qubits[q]
            if params.photon_voltage is not None:
                out[:, i], after[:, i] = jumps(params, resonators[i].fields, n, start, stop, 1.0 / self.rate,
                                               self.rng)
                continue
            excited = n > 0
            waits = self.rng.exponential(1.0, size=n.shape[0]) * params.t1 / np.maximum(n, 1)
            at = np.maximum(start + np.ceil(waits * self.rate).astype(np.int64), 0)
            out[:, i] = np.where(excited & (at < stop), at, stop)
        return out, after

    def _digitizer_rate(self, digitizer: str) -> float:
        timing = self.lab.timing.digitizers.get(digitizer)
        if timing is None:
            raise DriverError(f"virtual device: no digitizer {digitizer!r} in lab {self.lab.name!r}; digitizers: "
                              f"{', '.join(sorted(self.lab.timing.digitizers)) or 'none'}")
        return timing.sample_rate


def _lines_of(lab: LabConfig, kind: str, qubits: Mapping[int, object]) -> dict[int, str]:
    """Qubit -> the line its ``d`` (drive) or ``m`` (measure) channel plays on, for the qubits that have one."""
    out = {}
    for q in qubits:
        channel = lab.wiring.channels.get(f"{kind}{q}")
        if channel is not None and channel.line is not None:
            out[q] = channel.line
    return out
