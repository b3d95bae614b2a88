"""Lowering: a circuit of native gates -> one ``ScheduleBlock`` of calibrated pulses, scheduled as soon as possible.

``lower(circuit, gate_map)`` walks the circuit once:

- ``rz(theta)`` on q is a virtual Z: ``ShiftPhase(phase_sign * theta)`` on every frame channel of q (its drive
  channel and the control channels targeting it; see :mod:`.gate_map` for the sign). It takes no time.
- Any other gate (and ``measure``, ``reset``) plays its gate-map template. ``measure`` has its acquisitions
  written to ``MemorySlot(clbit)`` of the circuit's classical bit.
- Measurements of qubits in one of the gate map's *measurement groups* (shared readout line or digitizer input,
  like Qiskit's ``meas_map``) cannot be staggered: a run of consecutive ``measure`` operations is split per
  group, and each group's measurements start together, after every earlier operation on every qubit of the
  group (an implicit barrier over the group). A qubit measured twice in one run starts a new batch.
- ``barrier`` puts a pulse ``RelativeBarrier`` on the channels its qubits own; ``delay`` is a ``Delay`` on every
  pulse channel the qubit owns (drive, measure, control channels targeting only it) and reserves the rest, so
  nothing of that qubit starts during it (``s``/``ms``/``us``/``ns`` converted with the gate map's ``dt``).

Scheduling is as soon as possible *per qubit*: a gate starts once every earlier gate touching any of its qubits
has ended on all of that gate's channels (so after an ECR on (0, 1) that plays only on d0 and u0, an X on
qubit 1 waits for it although d1 was free), and once its own channels are free. The times are computed here and
made explicit in a left-aligned root block: each channel is padded with a ``TimeBlockade`` up to where its next
item starts, so the pulse layer's timing reproduces them exactly and every template stays one shared sub-block.

``LoweredCircuit`` is the fast path for parameterised circuits: lower once, then ``bind(values)`` binds the
schedule's parameters (circuit parameters in ``ShiftPhase`` angles, and any template parameters the gate map
left free, such as a pulse amplitude) through the pulse layer's ``assign_parameters`` -- a new table over the
same schedule structure, nothing lowered or copied again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qubitlab.circuits.circuit import DELAY_UNITS, Circuit, Operation
from qubitlab.circuits.gate_map import GateEntry, GateMap
from qubitlab.circuits.gates import GATES
from qubitlab.circuits.translate import Target, translate
from qubitlab.errors import CircuitError
from qubitlab.pulse.alignments import AlignLeft
from qubitlab.pulse.block import ScheduleBlock
from qubitlab.pulse.channels import Channel, ClassicalIOChannel, DriveChannel, MemorySlot, PulseChannel
from qubitlab.pulse.instructions import Acquire, Delay, Instruction, RelativeBarrier, ShiftPhase, TimeBlockade
from qubitlab.pulse.parameters import Parameter, ParameterExpression

Footprint = tuple[ScheduleBlock, tuple[tuple[Channel, int, int], ...], int]
"""A placed template: the block, per channel (channel, first start, last stop), and its duration."""


def with_memory_slot(block: ScheduleBlock, slot: MemorySlot) -> ScheduleBlock:
    """``block`` with every acquisition stored into ``slot`` (the measured classical bit)."""
    new = ScheduleBlock(name=block.name, metadata=block.metadata, alignment_context=block.alignment_context)
    for child in block.blocks:
        if isinstance(child, ScheduleBlock):
            child = with_memory_slot(child, slot)
        elif isinstance(child, Acquire):
            child = Acquire(child.duration, child.acquire, slot, child.reg_slot, child.kernel, child.discriminator,
                            child.name)
        new.append(child)
    return new


class _Lowering:
    def __init__(self, circuit: Circuit, gate_map: GateMap) -> None:
        self.circuit = circuit
        self.map = gate_map
        self.root = ScheduleBlock(name=circuit.name, alignment_context=AlignLeft())
        self.clock: dict[int, int] = {q: 0 for q in range(circuit.num_qubits)}
        self.ends: dict[Channel, int] = {}
        self.footprints: dict[tuple[Any, ...], Footprint] = {}

    # -- placing ------------------------------------------------------------------------------------------------
    def pad(self, channel: Channel, time: int) -> None:
        """Reserve ``channel`` up to ``time`` so the next item on it starts exactly there."""
        gap = time - self.ends.get(channel, 0)
        if gap > 0:
            self.root.append(TimeBlockade(gap, channel))
            self.ends[channel] = time

    def footprint(self, key: tuple[Any, ...], block: ScheduleBlock) -> Footprint:
        found = self.footprints.get(key)
        if found is None:
            found = self.footprints[key] = footprint_of(block)
        return found

    def earliest(self, qubits: tuple[int, ...], fp: Footprint) -> int:
        """When ``fp`` can start: after the qubits' earlier operations, with each of its channels free."""
        start = max(self.clock[q] for q in qubits)
        for ch, first, _ in fp[1]:
            start = max(start, self.ends.get(ch, 0) - first)
        return start

    def place(self, qubits: tuple[int, ...], fp: Footprint, not_before: int = 0) -> None:
        block, channels, duration = fp
        ends = self.ends
        start = max(not_before, self.earliest(qubits, fp))
        for ch, first, last in channels:
            self.pad(ch, start + first)
            ends[ch] = start + last
        self.root.append(block)
        for q in qubits:
            self.clock[q] = start + duration

    # -- operations ---------------------------------------------------------------------------------------------
    def virtual_z(self, op: Operation) -> None:
        (q,), (theta,) = op.qubits, op.params
        angle = theta if self.map.phase_sign == 1 else -theta
        now = self.clock[q]
        for ch in self.map.frames(q):
            self.pad(ch, now)
            self.root.append(ShiftPhase(angle, ch))

    def gate(self, op: Operation) -> None:
        key: tuple[Any, ...] = (op.name, op.qubits)
        fp = self.footprints.get(key)
        if fp is None:
            entry = self.entry(op)
            if op.params or entry.params:
                self.parametric_gate(op)
                return
            fp = self.footprint(key, entry.schedule)
        self.place(op.qubits, fp)

    def entry(self, op: Operation) -> GateEntry:
        """The gate map's entry, with a hint to translate first when ``op`` is a standard gate not calibrated."""
        try:
            return self.map.get(op.name, op.qubits)
        except CircuitError as exc:
            calibrated = {name for name, _ in self.map.entries}
            flipped = op.name == "ecr" and (op.name, op.qubits[::-1]) in self.map.entries
            if op.name in GATES and (op.name not in calibrated or flipped):
                raise CircuitError(f"{exc}. {op.name} is a standard gate but not a native one here: "
                                   "translate(circuit, Target.from_lab(lab, gate_map)) first, or pass "
                                   "target= to lower()") from None
            raise

    def parametric_gate(self, op: Operation) -> None:
        entry = self.entry(op)
        if len(entry.params) != len(op.params):
            raise CircuitError(f"{op}: the gate map's {op.name}{op.qubits} template takes {len(entry.params)} "
                               f"argument(s) ({', '.join(p.name for p in entry.params) or 'none'}), "
                               f"the gate has {len(op.params)}")
        block = entry.schedule.assign_parameters(dict(zip(entry.params, op.params)), inplace=False)
        if not block.is_schedulable():
            raise CircuitError(f"{op}: its schedule's duration depends on an unbound parameter; bind the circuit "
                               "parameters that set durations before lowering")
        self.place(op.qubits, footprint_of(block))  # a block bound for this op only: nothing to cache

    def measure_footprint(self, op: Operation) -> Footprint:
        (c,) = op.clbits
        key = ("measure", op.qubits, c)
        fp = self.footprints.get(key)
        if fp is None:
            block = with_memory_slot(self.map.get("measure", op.qubits).schedule, MemorySlot(c))
            fp = self.footprint(key, block)
        return fp

    def measurements(self, run: Sequence[Operation]) -> None:
        """Consecutive measures, batched per measurement group; each batch starts together (see the module doc)."""
        batches: list[tuple[frozenset[int], list[Operation]]] = []
        open_batch: dict[frozenset[int], list[Operation]] = {}
        for op in run:
            group = self.map.measure_group(op.qubits[0]).intersection(self.clock)   # the circuit's qubits only
            batch = open_batch.get(group)
            if batch is None or any(m.qubits == op.qubits for m in batch):
                batch = open_batch[group] = []
                batches.append((group, batch))
            batch.append(op)
        for group, batch in batches:
            fps = [self.measure_footprint(op) for op in batch]
            start = max(self.clock[q] for q in group)  # the implicit barrier over the group
            for op, fp in zip(batch, fps):
                start = max(start, self.earliest(op.qubits, fp))
            for op, fp in zip(batch, fps):
                self.place(op.qubits, fp, not_before=start)
            for q in group:
                self.clock[q] = max(self.clock[q], start)

    def owned_channels(self, qubits: Sequence[int]) -> list[Channel]:
        """The channels every use of which involves one of ``qubits`` (and their drive channels), sorted."""
        wanted = set(qubits)
        channels = sorted(ch for ch, owners in self.map.owners().items()
                          if owners & wanted and not isinstance(ch, ClassicalIOChannel))
        for q in qubits:
            if DriveChannel(q) not in channels:
                channels.append(DriveChannel(q))
        return channels

    def barrier(self, op: Operation) -> None:
        channels = self.owned_channels(op.qubits)
        now = max([self.clock[q] for q in op.qubits] + [self.ends.get(ch, 0) for ch in channels])
        for ch in channels:
            self.pad(ch, now)
        self.root.append(RelativeBarrier(*channels))
        for q in op.qubits:
            self.clock[q] = now

    def delay(self, op: Operation) -> None:
        (q,), (value,) = op.qubits, op.params
        if isinstance(value, ParameterExpression):
            raise CircuitError(f"{op}: a delay's duration must be a number when lowering (bind it first)")
        scale = DELAY_UNITS[op.unit or "dt"]
        if scale is None:
            samples = float(value)
        else:
            if self.map.dt is None:
                raise CircuitError(f"{op}: a delay in {op.unit} needs the gate map's dt (GateMap.from_lab sets it)")
            samples = float(value) * scale / self.map.dt
        if abs(samples - round(samples)) > 1e-6 or samples < 0:
            raise CircuitError(f"{op}: {samples:g} samples of dt is not a whole non-negative number")
        n = int(round(samples))
        if n == 0:
            return
        channels = self.owned_channels((q,))
        start = max([self.clock[q]] + [self.ends.get(ch, 0) for ch in channels])
        for ch in channels:
            self.pad(ch, start)
            if isinstance(ch, PulseChannel):
                self.root.append(Delay(n, ch))
            self.ends[ch] = start + n
        self.clock[q] = start + n

    def run(self) -> ScheduleBlock:
        ops = self.circuit.data
        i = 0
        while i < len(ops):
            op = ops[i]
            name = op.name
            if name == "measure":
                j = i + 1
                while j < len(ops) and ops[j].name == "measure":
                    j += 1
                self.measurements(ops[i:j])
                i = j
                continue
            if name == "rz":
                self.virtual_z(op)
            elif name == "barrier":
                self.barrier(op)
            elif name == "delay":
                self.delay(op)
            else:
                self.gate(op)
            i += 1
        return self.root


def lower(circuit: Circuit, gate_map: GateMap, target: Target | None = None) -> ScheduleBlock:
    """The circuit as one schedule of the gate map's templates.

    The circuit must be in native gates (those the gate map calibrates). Pass ``target`` (e.g.
    ``Target.from_lab(lab, gate_map)``) to translate it first; without it, a standard gate that is not native
    is an error that says to translate.
    """
    if target is not None:
        circuit = translate(circuit, target)
    return _Lowering(circuit, gate_map).run()


@dataclass(frozen=True)
class LoweredCircuit:
    """A circuit lowered once with its parameters still free; :meth:`bind` gives bound schedules cheaply.

    ``parameters`` are the schedule's: the circuit's parameters that survived lowering and any parameter the
    gate map's templates left free (e.g. a pulse amplitude); all of them can be bound.
    """

    schedule: ScheduleBlock
    parameters: frozenset[Parameter]

    @classmethod
    def build(cls, circuit: Circuit, gate_map: GateMap, target: Target | None = None) -> LoweredCircuit:
        schedule = lower(circuit, gate_map, target)
        return cls(schedule, frozenset(schedule.parameters))  # indexes the parameters once for every bind

    def bind(self, values: Mapping[Parameter, float], strict: bool = True) -> ScheduleBlock:
        """The schedule with ``values`` bound (a new table over the shared structure).

        With ``strict`` (the default) every parameter must get a value, so the result is ready to compile;
        ``strict=False`` allows binding some now and the rest later (on the returned block).
        """
        parameters = self.parameters
        unknown = [p.name for p in values if p not in parameters]
        if unknown:
            raise CircuitError(f"bind: {', '.join(unknown)} are not parameters of this lowered circuit "
                               f"(its parameters: {self._names()})")
        if strict and len(values) < len(parameters):   # every key is a parameter, so fewer keys = some unbound
            missing = sorted(p.name for p in parameters if p not in values)
            raise CircuitError(f"bind: no value for {', '.join(missing)}; bind every parameter ({self._names()}) "
                               "or pass strict=False to bind only some")
        bound: ScheduleBlock = self.schedule.assign_parameters(values, inplace=False)
        return bound

    def _names(self) -> str:
        return ", ".join(sorted(p.name for p in self.parameters)) or "none"


def instructions_of(schedule: ScheduleBlock) -> list[tuple[int, Instruction]]:
    """``(time, instruction)`` pairs of a lowered schedule without the padding (``TimeBlockade``) directives."""
    return [(t, inst) for t, inst in schedule.instructions if not isinstance(inst, TimeBlockade)]


def footprint_of(block: ScheduleBlock) -> Footprint:
    """The block, each channel's first and last busy sample in it, and its duration."""
    channels = tuple((ch, block.ch_start_time(ch), block.ch_stop_time(ch)) for ch in block.channels)
    return (block, channels, block.duration)
