"""The gate map: which pulse schedule implements each (gate, qubits), and which channels share each qubit's frame.

Lowering (:mod:`qubitlab.circuits.lowering`) needs three facts about the device and nothing else:

- a schedule template per calibrated gate, e.g. ``("sx", (0,))`` -> a DRAG on ``d0``, ``("ecr", (0, 1))`` ->
  the echoed cross-resonance on ``u0`` and ``d0``, ``("measure", (0,))`` -> readout on ``m0`` with an acquire on
  ``a0``. Templates may hold parameters: the calibration layer fills them from calibrated values (or a gate
  argument, via :attr:`GateEntry.params`);
- the *frame channels* of each qubit: its drive channel and every control channel that drives at that qubit's
  frequency (``u_k`` with ``target`` q). A virtual Z on q must turn the phase of all of them, so that a
  cross-resonance pulse whose target is q keeps its axis in q's rotated frame;
- ``phase_sign``: rz(theta) becomes ``ShiftPhase(phase_sign * theta)``;
- the *measurement groups* (Qiskit's ``meas_map``): qubits whose readout shares a line (``m<q>`` channels with
  one ``line``) or a digitizer input (``a<q>`` channels with one ``digitizer`` and ``input``). Such qubits are
  read out by one multiplexed tone and one acquisition window, so their measurements must start together, and
  nothing of the group may still be driving then (the lowering puts an implicit barrier over the group).

Why a sign: a virtual Z works by rotating the axis of every later pulse, since
``G RZ(theta) = RZ(theta) (RZ(-theta) G RZ(theta))`` and the leading RZ(theta) is invisible to a Z measurement;
``RZ(-theta) R_alpha RZ(theta) = R_(alpha - theta)``, so later pulses need their drive axis turned by -theta.
In qubitlab's virtual lab a textbook IQ mixer makes the transmon see the complex conjugate of the envelope, so
the drive axis is at *minus* the frame phase, and turning the axis by -theta takes ``ShiftPhase(+theta)``:
``phase_sign = +1`` (the default). IBM's hardware and Qiskit use the opposite mixer convention (axis at plus
the frame phase) and lower rz(theta) to ``ShiftPhase(-theta)``: ``phase_sign = -1``.

The map is plain data (dataclasses of pulse-layer objects); the calibration layer builds it from a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qubitlab.errors import CircuitError
from qubitlab.pulse.block import ScheduleBlock
from qubitlab.pulse.channels import Channel, ClassicalIOChannel, ControlChannel, DriveChannel, PulseChannel
from qubitlab.pulse.parameters import Parameter

if TYPE_CHECKING:
    from qubitlab.config.models import LabConfig

GateKey = tuple[str, tuple[int, ...]]


@dataclass(frozen=True)
class GateEntry:
    """A calibrated gate: its schedule template and the template parameters that take the gate's arguments."""

    schedule: ScheduleBlock
    params: tuple[Parameter, ...] = ()


def frame_channels_from_lab(lab: LabConfig) -> dict[int, tuple[PulseChannel, ...]]:
    """Per qubit: its drive channel ``d<q>`` and every control channel ``u<k>`` whose ``target`` is q."""
    out: dict[int, list[PulseChannel]] = {q: [DriveChannel(q)] for q in lab.topology.qubits}
    for index, (_, target) in lab.control_channels().items():
        out.setdefault(target, [DriveChannel(target)]).append(ControlChannel(index))
    return {q: tuple(chs) for q, chs in out.items()}


def measure_groups_from_lab(lab: LabConfig) -> tuple[frozenset[int], ...]:
    """Qubits that share a readout line (``m<q>.line``) or a digitizer input (``a<q>.digitizer``/``input``),
    merged transitively; every qubit of the topology is in exactly one group (alone when it shares nothing)."""
    group: dict[int, set[int]] = {q: {q} for q in lab.topology.qubits}
    shared: dict[tuple[str, ...], list[int]] = {}
    for name, ch in lab.wiring.channels.items():
        if len(name) < 2 or not name[1:].isdigit() or int(name[1:]) not in group:
            continue
        if name[0] == "m" and ch.line is not None:
            shared.setdefault(("line", ch.line), []).append(int(name[1:]))
        elif name[0] == "a" and ch.digitizer is not None:
            shared.setdefault(("input", ch.digitizer, str(ch.input)), []).append(int(name[1:]))
    for qubits in shared.values():
        merged = set().union(*(group[q] for q in qubits))
        for q in merged:
            group[q] = merged
    unique = {frozenset(members) for members in group.values()}
    return tuple(sorted(unique, key=min))


@dataclass
class GateMap:
    """``(gate name, qubits) -> GateEntry``, each qubit's frame channels, the phase convention and ``dt``."""

    entries: dict[GateKey, GateEntry] = field(default_factory=dict)
    frame_channels: dict[int, tuple[PulseChannel, ...]] = field(default_factory=dict)
    phase_sign: int = 1
    dt: float | None = None
    """Seconds per sample, to turn delays given in s/ms/us/ns into samples."""
    measure_groups: tuple[frozenset[int], ...] = ()
    """Qubits measured together (shared readout line or digitizer input); a qubit in none is alone."""
    _owners: dict[Channel, frozenset[int]] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.phase_sign not in (1, -1):
            raise CircuitError(f"phase_sign must be +1 (qubitlab's virtual lab) or -1 (Qiskit/IBM), "
                               f"got {self.phase_sign!r}")
        seen: set[int] = set()
        for members in self.measure_groups:
            if seen & members:
                raise CircuitError(f"measure_groups must not overlap: qubit(s) {sorted(seen & members)} are in "
                                   f"two groups of {[sorted(g) for g in self.measure_groups]}; merge those groups")
            seen |= members

    @classmethod
    def from_lab(cls, lab: LabConfig, phase_sign: int = 1) -> GateMap:
        """An empty map with the lab's frame channels, measurement groups and ``dt``; add schedules with :meth:`add`."""
        return cls(frame_channels=frame_channels_from_lab(lab), phase_sign=phase_sign, dt=lab.timing.dt,
                   measure_groups=measure_groups_from_lab(lab))

    def add(self, name: str, qubits: Sequence[int], schedule: ScheduleBlock,
            params: Iterable[Parameter] = ()) -> GateMap:
        """Record the schedule of gate ``name`` on ``qubits``; ``params`` take the gate's angle arguments."""
        if not isinstance(schedule, ScheduleBlock):
            raise CircuitError(f"gate map entry {name}{tuple(qubits)}: needs a ScheduleBlock, "
                               f"got {type(schedule).__name__}")
        self.entries[(name, tuple(int(q) for q in qubits))] = GateEntry(schedule, tuple(params))
        self._owners = None
        return self

    def calibrated(self) -> list[GateKey]:
        """Every (gate, qubits) with a schedule, sorted."""
        return sorted(self.entries)

    def describe(self) -> str:
        return ", ".join(f"{name}{qubits}" for name, qubits in self.calibrated()) or "nothing"

    def get(self, name: str, qubits: tuple[int, ...]) -> GateEntry:
        """The entry of ``name`` on ``qubits``; a :class:`CircuitError` listing what is calibrated otherwise."""
        entry = self.entries.get((name, qubits))
        if entry is None:
            hint = ""
            if name == "reset":
                hint = " (this device has no mid-circuit reset)"
            raise CircuitError(f"no calibrated schedule for {name} on qubits {qubits}{hint}; "
                               f"the gate map has: {self.describe()}")
        return entry

    def measure_group(self, qubit: int) -> frozenset[int]:
        """The qubits measured together with ``qubit`` (itself included)."""
        for members in self.measure_groups:
            if qubit in members:
                return members
        return frozenset((qubit,))

    def frames(self, qubit: int) -> tuple[PulseChannel, ...]:
        """Channels whose phase a virtual Z on ``qubit`` turns (its drive channel when the map says nothing)."""
        found = self.frame_channels.get(qubit)
        return found if found is not None else (DriveChannel(qubit),)

    def owners(self) -> dict[Channel, frozenset[int]]:
        """Per channel the qubits that *every* use of it involves (frame changes count as uses).

        A barrier on qubit q may wait on exactly the channels q owns: all activity on them involved q, so they are
        free once q is (waiting on a channel shared with another qubit's later gates would over-constrain).
        """
        if self._owners is None:
            owners: dict[Channel, frozenset[int]] = {}

            def use(channel: Channel, qubits: frozenset[int]) -> None:
                owners[channel] = owners[channel] & qubits if channel in owners else qubits

            for (_, qubits), entry in self.entries.items():
                for channel in entry.schedule.channels:
                    if not isinstance(channel, ClassicalIOChannel):
                        use(channel, frozenset(qubits))
            for q, channels in self.frame_channels.items():
                for channel in channels:
                    use(channel, frozenset((q,)))
            self._owners = owners
        return self._owners
