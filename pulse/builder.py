"""The pulse builder: ``with pulse.build() as sched: pulse.play(...)``, as in Qiskit Pulse 1.4.

The active builder lives in a context variable; each alignment context pushes a fresh ``ScheduleBlock`` and
appends it to its parent on exit (empty ones are dropped, as in Qiskit). Instructions are appended straight to
the current block's child list: no copies, no intermediate schedules, so building is linear in program size.
A "backend" is optional; when given it only needs ``dt`` (seconds) and, for ``control_channels``, a
``control_channel(qubits)`` method -- a qubitlab ``LabConfig`` serves.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from qubitlab.errors import PulseError
from qubitlab.pulse.alignments import AlignEquispaced, AlignFunc, AlignLeft, AlignmentKind, AlignRight, AlignSequential
from qubitlab.pulse.block import ScheduleBlock
from qubitlab.pulse.channels import (
    AcquireChannel,
    Channel,
    ControlChannel,
    DriveChannel,
    MeasureChannel,
    MemorySlot,
    PulseChannel,
    RegisterSlot,
)
from qubitlab.pulse.instructions import (
    Acquire,
    Delay,
    Instruction,
    Play,
    Reference,
    RelativeBarrier,
    SetFrequency,
    SetPhase,
    ShiftFrequency,
    ShiftPhase,
    TimeBlockade,
)
from qubitlab.pulse.library import Pulse, Waveform
from qubitlab.pulse.parameters import ParameterExpression
from qubitlab.pulse.schedule import Schedule

_ACTIVE: contextvars.ContextVar[_PulseBuilder | None] = contextvars.ContextVar("qubitlab_pulse_builder", default=None)

_ALIGNMENT_NAMES: dict[str, Callable[[], AlignmentKind]] = {
    "left": AlignLeft,
    "right": AlignRight,
    "sequential": AlignSequential,
}


class _PulseBuilder:
    """The state of one ``build()``: a stack of blocks, the root first."""

    def __init__(self, backend: Any = None, block: ScheduleBlock | None = None, name: str | None = None,
                 default_alignment: str | AlignmentKind = "left") -> None:
        if isinstance(default_alignment, str):
            try:
                alignment = _ALIGNMENT_NAMES[default_alignment]()
            except KeyError:
                raise PulseError(
                    f"build(): unknown default_alignment {default_alignment!r}; use one of "
                    f"{sorted(_ALIGNMENT_NAMES)} or an AlignmentKind"
                ) from None
        else:
            alignment = default_alignment
        if block is None:
            block = ScheduleBlock(name=name, alignment_context=alignment)
        elif not isinstance(block, ScheduleBlock):
            raise PulseError(f"build(schedule=...) takes a ScheduleBlock, got {type(block).__name__}")
        elif name:
            block._name = name
        self.backend = backend
        self.stack: list[ScheduleBlock] = [block]
        self._token: contextvars.Token[_PulseBuilder | None] | None = None

    def __enter__(self) -> ScheduleBlock:
        self._token = _ACTIVE.set(self)
        return self.stack[0]

    def __exit__(self, *exc: object) -> None:
        while len(self.stack) > 1:
            self.append_block(self.stack.pop())
        assert self._token is not None
        _ACTIVE.reset(self._token)

    @property
    def current(self) -> ScheduleBlock:
        return self.stack[-1]

    def append_instruction(self, inst: Instruction) -> None:
        block = self.stack[-1]
        tree = block._tree
        if tree.owners > 1:
            tree = block._own_tree()
        tree.blocks.append(inst)
        tree.timed = tree.index = None

    def append_block(self, block: ScheduleBlock | Schedule) -> None:
        if len(block) == 0:
            return
        if isinstance(block, Schedule):
            block = _schedule_to_block(block)
        self.stack[-1].append(block)

    def get_dt(self) -> float:
        dt = getattr(self.backend, "dt", None)
        if dt is None and self.backend is not None and hasattr(self.backend, "configuration"):
            dt = self.backend.configuration().dt
        if dt is None:
            raise PulseError("this builder function needs dt: pass build(backend=...) with a backend that has .dt")
        return float(dt)


def build(backend: Any = None, schedule: ScheduleBlock | None = None, name: str | None = None,
          default_alignment: str | AlignmentKind = "left") -> _PulseBuilder:
    """Start building a pulse program: ``with pulse.build(name="x") as sched: ...``."""
    return _PulseBuilder(backend, schedule, name, default_alignment)


def _active() -> _PulseBuilder:
    builder = _ACTIVE.get()
    if builder is None:
        raise PulseError("this pulse builder function must be called inside a 'with pulse.build() as ...:' block")
    return builder


def active_backend() -> Any:
    """The backend given to the enclosing ``build()``; refuses when there is none."""
    backend = _active().backend
    if backend is None:
        raise PulseError("no backend was given to pulse.build(); pass build(backend=...)")
    return backend


# -- alignment contexts -------------------------------------------------------------------------------------
class _Context:
    """An alignment context of the builder (a class, not a generator: thousands are entered per program)."""

    __slots__ = ("_alignment", "_builder")

    def __init__(self, alignment: AlignmentKind) -> None:
        self._alignment = alignment

    def __enter__(self) -> None:
        self._builder = builder = _active()
        builder.stack.append(ScheduleBlock(alignment_context=self._alignment))

    def __exit__(self, *exc: object) -> None:
        builder = self._builder
        builder.append_block(builder.stack.pop())


def general_transforms(alignment_context: AlignmentKind) -> _Context:
    """Children added inside are placed by ``alignment_context``."""
    if not isinstance(alignment_context, AlignmentKind):
        raise PulseError(f"general_transforms takes an AlignmentKind, got {alignment_context!r}")
    return _Context(alignment_context)


def align_left() -> _Context:
    """Children start as early as their channels allow."""
    return general_transforms(AlignLeft())


def align_right() -> _Context:
    """Children end as late as possible, flush with the end of the context."""
    return general_transforms(AlignRight())


def align_sequential() -> _Context:
    """Children one after another, across channels."""
    return general_transforms(AlignSequential())


def align_equispaced(duration: int | ParameterExpression) -> _Context:
    """Children spread evenly over ``duration`` samples."""
    return general_transforms(AlignEquispaced(duration))


def align_func(duration: int | ParameterExpression, func: Callable[[int], float]) -> _Context:
    """Child ``j`` (from 1) centred at ``duration * func(j)``."""
    return general_transforms(AlignFunc(duration, func))


@contextmanager
def phase_offset(phase: float | ParameterExpression, *channels: PulseChannel) -> Iterator[None]:
    """Shift the phase of ``channels`` by ``phase`` inside the context, and back on exit."""
    for channel in channels:
        shift_phase(phase, channel)
    try:
        yield
    finally:
        for channel in channels:
            shift_phase(-phase, channel)


@contextmanager
def frequency_offset(frequency: float, *channels: PulseChannel, compensate_phase: bool = False) -> Iterator[None]:
    """Shift the frequency of ``channels`` inside the context; optionally undo the phase it accumulated."""
    builder = _active()
    t0 = builder.current.duration
    for channel in channels:
        shift_frequency(frequency, channel)
    try:
        yield
    finally:
        if compensate_phase:
            duration = builder.current.duration - t0
            accumulated = 2 * math.pi * ((duration * builder.get_dt() * frequency) % 1)
            for channel in channels:
                shift_phase(-accumulated, channel)
        for channel in channels:
            shift_frequency(-frequency, channel)


# -- instructions -------------------------------------------------------------------------------------------
def append_instruction(instruction: Instruction) -> None:
    """Append any instruction to the current context."""
    _active().append_instruction(instruction)


def play(pulse: Pulse | Any, channel: PulseChannel, name: str | None = None) -> None:
    """Play a pulse (or an array of samples) on a channel."""
    if not isinstance(pulse, Pulse):
        pulse = Waveform(pulse)
    _active().append_instruction(Play(pulse, channel, name=name))


def delay(duration: int | ParameterExpression, channel: Channel, name: str | None = None) -> None:
    """Wait ``duration`` samples on a channel."""
    _active().append_instruction(Delay(duration, channel, name=name))


def shift_phase(phase: float | ParameterExpression, channel: PulseChannel, name: str | None = None) -> None:
    """Advance the channel's phase by ``phase`` rad."""
    _active().append_instruction(ShiftPhase(phase, channel, name=name))


def set_phase(phase: float | ParameterExpression, channel: PulseChannel, name: str | None = None) -> None:
    """Set the channel's phase to ``phase`` rad."""
    _active().append_instruction(SetPhase(phase, channel, name=name))


def shift_frequency(frequency: float | ParameterExpression, channel: PulseChannel, name: str | None = None) -> None:
    """Shift the channel's frame frequency by ``frequency`` Hz."""
    _active().append_instruction(ShiftFrequency(frequency, channel, name=name))


def set_frequency(frequency: float | ParameterExpression, channel: PulseChannel, name: str | None = None) -> None:
    """Set the channel's frame frequency to ``frequency`` Hz."""
    _active().append_instruction(SetFrequency(frequency, channel, name=name))


def acquire(duration: int | ParameterExpression, qubit_or_channel: int | AcquireChannel,
            register: MemorySlot | RegisterSlot, **metadata: Any) -> None:
    """Acquire ``duration`` samples of a qubit's readout into a memory or register slot."""
    if isinstance(qubit_or_channel, int):
        qubit_or_channel = AcquireChannel(qubit_or_channel)
    if isinstance(register, MemorySlot):
        inst = Acquire(duration, qubit_or_channel, mem_slot=register, **metadata)
    elif isinstance(register, RegisterSlot):
        inst = Acquire(duration, qubit_or_channel, reg_slot=register, **metadata)
    else:
        raise PulseError(f"acquire: register must be a MemorySlot or a RegisterSlot, got {register!r}")
    _active().append_instruction(inst)


def barrier(*channels_or_qubits: Channel | int, name: str | None = None) -> None:
    """Make the channels (or every channel of the qubits) meet here before anything after starts."""
    channels: list[Channel] = []
    for item in channels_or_qubits:
        if isinstance(item, Channel):
            channels.append(item)
        elif isinstance(item, int):
            channels.extend(qubit_channels(item))
        else:
            raise PulseError(f"barrier takes channels or qubit indices, got {item!r}")
    if len(channels) > 1:
        _active().append_instruction(RelativeBarrier(*dict.fromkeys(channels), name=name))


def reference(name: str, *extra_keys: str) -> None:
    """A placeholder for a subroutine assigned later with ``assign_references``."""
    builder = _active()
    inst = Reference(name, *extra_keys)
    builder.append_instruction(inst)
    builder.current.references.setdefault(inst.ref_keys, None)


def call(target: ScheduleBlock | Schedule, name: str | None = None,
         value_dict: Mapping[Any, Any] | None = None, **kw_params: Any) -> None:
    """Insert a schedule or block here as a referenced subroutine, optionally binding its parameters."""
    if not isinstance(target, (ScheduleBlock, Schedule)):
        raise PulseError(f"call() takes a Schedule or a ScheduleBlock, got {type(target).__name__}")
    if len(target) == 0:
        return
    block = _schedule_to_block(target) if isinstance(target, Schedule) else target
    assignment: dict[Any, Any] = {}
    for param_name, value in kw_params.items():
        params = block.get_parameters(param_name)
        if not params:
            known = ", ".join(sorted(p.name for p in block.parameters)) or "none"
            raise PulseError(f"call(): the subroutine has no parameter {param_name!r}; its parameters: {known}")
        for param in params:
            assignment[param] = value
    assignment.update(value_dict or {})
    if assignment:
        block = block.assign_parameters(assignment, inplace=False)
    keys: tuple[str, ...] = (name,) if name is not None else (block.name or "block", f"{id(block):x}")
    builder = _active()
    builder.append_instruction(Reference(*keys))
    builder.current.references[keys] = block
    builder.current._tree.index = None


def _schedule_to_block(schedule: Schedule) -> ScheduleBlock:
    """A Schedule as a left-aligned block that times out identically (gaps filled with TimeBlockade)."""
    block = ScheduleBlock(name=schedule.name, metadata=dict(schedule.metadata))
    ends: dict[Channel, int] = {}
    for t, inst in schedule.instructions:
        for ch in inst.channels:
            gap = t - ends.get(ch, 0)
            if gap > 0:
                block.append(TimeBlockade(gap, ch))
            ends[ch] = max(ends.get(ch, 0), t + int(inst.duration))
        block.append(inst)
    return block


# -- helpers that need a backend ----------------------------------------------------------------------------
def num_qubits() -> int:
    backend = active_backend()
    n = getattr(backend, "num_qubits", None)
    if n is None:
        raise PulseError("the backend given to build() does not say its num_qubits")
    return int(n)


def seconds_to_samples(seconds: float | np.ndarray) -> int | np.ndarray:
    """Seconds to whole samples of the backend's ``dt``."""
    dt = _active().get_dt()
    if isinstance(seconds, np.ndarray):
        return (seconds / dt).astype(int)
    return int(seconds / dt)


def samples_to_seconds(samples: int | np.ndarray) -> float | np.ndarray:
    """Samples of the backend's ``dt`` to seconds."""
    return samples * _active().get_dt()


def drive_channel(qubit: int) -> DriveChannel:
    return DriveChannel(qubit)


def measure_channel(qubit: int) -> MeasureChannel:
    return MeasureChannel(qubit)


def acquire_channel(qubit: int) -> AcquireChannel:
    return AcquireChannel(qubit)


def control_channels(*qubits: int) -> list[ControlChannel]:
    """The control channels driving ``qubits[0]`` at ``qubits[1]``'s frequency, from the backend's map."""
    backend = active_backend()
    if not hasattr(backend, "control_channel"):
        raise PulseError("the backend given to build() has no control_channel(qubits) map")
    return [ControlChannel(c) if isinstance(c, int) else c for c in backend.control_channel(qubits)]


def qubit_channels(qubit: int) -> set[Channel]:
    """Drive, measure and acquire channels of a qubit (plus its control channels when the backend knows them)."""
    channels: set[Channel] = {DriveChannel(qubit), MeasureChannel(qubit), AcquireChannel(qubit)}
    backend = _active().backend
    for pair in getattr(backend, "coupling_map", None) or ():
        if qubit in pair and hasattr(backend, "control_channel"):
            channels.update(ControlChannel(c) if isinstance(c, int) else c for c in backend.control_channel(tuple(pair)))
    return channels
