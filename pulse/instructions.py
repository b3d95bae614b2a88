"""Pulse instructions, as in Qiskit Pulse 1.4: ``Play``, ``Delay``, frame changes, ``Acquire`` and directives.

An instruction is immutable: its operands may hold parameter expressions, and programs bind them through a
flat table (:mod:`qubitlab.pulse.schedule`) rather than by rewriting instructions. ``assign(table)`` makes a
bound copy only when someone asks to see one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from qubitlab.errors import PulseError
from qubitlab.pulse.channels import AcquireChannel, Channel, MemorySlot, PulseChannel, RegisterSlot
from qubitlab.pulse.library import Pulse, SymbolicPulse, _duration_value
from qubitlab.pulse.parameters import Parameter, ParameterExpression, is_number, resolve

if TYPE_CHECKING:
    from qubitlab.pulse.schedule import Schedule


def _params_of(value: Any) -> Iterator[Parameter]:
    if isinstance(value, ParameterExpression):
        yield from value.parameters
    elif isinstance(value, Channel):
        yield from value.parameters
    elif isinstance(value, SymbolicPulse):
        for v in value.parameters.values():
            yield from _params_of(v)


def _number_or_parameter(value: Any, what: str, owner: str) -> Any:
    if isinstance(value, ParameterExpression):
        return value.numeric() if not value.parameters else value
    if is_number(value):
        if isinstance(value, complex):
            raise PulseError(f"{owner}: {what} must be real, got {value!r}")
        return float(value)
    raise PulseError(f"{owner}: {what} must be a number or a Parameter, got {value!r} ({type(value).__name__})")


class Instruction:
    """Base of every instruction: ``operands``, ``channels``, ``duration`` (samples) and a ``name``."""

    __slots__ = ("name",)
    name: str | None
    is_directive: ClassVar[bool] = False

    @property
    def operands(self) -> tuple[Any, ...]:
        raise NotImplementedError

    @property
    def channels(self) -> tuple[Channel, ...]:
        raise NotImplementedError

    @property
    def duration(self) -> int | ParameterExpression:
        return 0

    @property
    def channel(self) -> Channel:
        return self.channels[0]

    # Schedule-like read access, so an instruction can stand where a schedule component can (as in Qiskit).
    @property
    def start_time(self) -> int:
        return 0

    @property
    def stop_time(self) -> int | ParameterExpression:
        return self.duration

    @property
    def instructions(self) -> tuple[tuple[int, Instruction], ...]:
        return ((0, self),)

    def ch_start_time(self, *channels: Channel) -> int:
        return 0

    def ch_stop_time(self, *channels: Channel) -> int | ParameterExpression:
        return self.duration if any(c in self.channels for c in channels) else 0

    def ch_duration(self, *channels: Channel) -> int | ParameterExpression:
        return self.ch_stop_time(*channels)

    @property
    def parameters(self) -> set[Parameter]:
        found: set[Parameter] = set()
        for op in self.operands:
            found.update(_params_of(op))
        return found

    def is_parameterized(self) -> bool:
        return bool(self.parameters)

    def assign(self, table: Mapping[Parameter, Any]) -> Instruction:
        """A copy with parameters from ``table`` substituted (this instruction if none apply)."""
        if not self.is_parameterized():
            return self
        return self._rebuild(table)

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        raise NotImplementedError

    # Composition into schedules, as Qiskit allows on instructions.
    def shift(self, time: int, name: str | None = None) -> Schedule:
        from qubitlab.pulse.schedule import Schedule

        return Schedule((time, self), name=name or self.name)

    def insert(self, start_time: int, schedule: Any, name: str | None = None) -> Schedule:
        from qubitlab.pulse.schedule import Schedule

        return Schedule(self, name=name or self.name).insert(start_time, schedule)

    def append(self, schedule: Any, name: str | None = None) -> Schedule:
        from qubitlab.pulse.schedule import Schedule

        return Schedule(self, name=name or self.name).append(schedule)

    def __add__(self, other: Any) -> Schedule:
        return self.append(other)

    def __or__(self, other: Any) -> Schedule:
        return self.insert(0, other)

    def __lshift__(self, time: int) -> Schedule:
        return self.shift(time)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.operands == other.operands

    def __hash__(self) -> int:
        return hash((type(self), self.operands))

    def __repr__(self) -> str:
        ops = ", ".join(repr(op) for op in self.operands)
        return f"{type(self).__name__}({ops}{', name=' + repr(self.name) if self.name else ''})"


def _pulse_channel(channel: Any, owner: str) -> PulseChannel:
    if not isinstance(channel, PulseChannel):
        raise PulseError(
            f"{owner} needs a pulse channel (DriveChannel, ControlChannel or MeasureChannel), got {channel!r}"
        )
    return channel


class Play(Instruction):
    """Play ``pulse`` on ``channel`` in the channel's current frame."""

    __slots__ = ("pulse", "_channel")

    def __init__(self, pulse: Pulse, channel: PulseChannel, name: str | None = None) -> None:
        if not isinstance(pulse, Pulse):
            raise PulseError(f"Play needs a Pulse (Waveform, Gaussian, Drag, ...), got {pulse!r}")
        self._channel = _pulse_channel(channel, "Play")
        self.pulse = pulse
        self.name = pulse.name if name is None else name

    @property
    def operands(self) -> tuple[Any, ...]:
        return (self.pulse, self._channel)

    @property
    def channel(self) -> PulseChannel:
        return self._channel

    @property
    def channels(self) -> tuple[Channel, ...]:
        return (self._channel,)

    @property
    def duration(self) -> int | ParameterExpression:
        return self.pulse.duration

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        pulse = self.pulse.assign(table) if isinstance(self.pulse, SymbolicPulse) else self.pulse
        return Play(pulse, self._channel.assign_parameters(dict(table)), name=self.name)  # type: ignore[arg-type]


class Delay(Instruction):
    """Wait ``duration`` samples on ``channel``."""

    __slots__ = ("_duration", "_channel")

    def __init__(self, duration: int | ParameterExpression, channel: Channel, name: str | None = None) -> None:
        if not isinstance(channel, Channel):
            raise PulseError(f"Delay needs a channel, got {channel!r}")
        self._duration = _duration_value(duration, "Delay")
        self._channel = channel
        self.name = name

    @property
    def operands(self) -> tuple[Any, ...]:
        return (self._duration, self._channel)

    @property
    def channels(self) -> tuple[Channel, ...]:
        return (self._channel,)

    @property
    def duration(self) -> int | ParameterExpression:
        return self._duration

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        return type(self)(resolve(self._duration, table), self._channel.assign_parameters(dict(table)), self.name)


class _FrameInstruction(Instruction):
    """A zero-duration change of a channel's frame (phase in rad or frequency in Hz)."""

    __slots__ = ("_value", "_channel")
    _what: ClassVar[str] = "phase"

    def __init__(self, value: float | ParameterExpression, channel: PulseChannel, name: str | None = None) -> None:
        self._value = _number_or_parameter(value, self._what, type(self).__name__)
        self._channel = _pulse_channel(channel, type(self).__name__)
        self.name = name

    @property
    def operands(self) -> tuple[Any, ...]:
        return (self._value, self._channel)

    @property
    def channel(self) -> PulseChannel:
        return self._channel

    @property
    def channels(self) -> tuple[Channel, ...]:
        return (self._channel,)

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        return type(self)(resolve(self._value, table), self._channel.assign_parameters(dict(table)), self.name)  # type: ignore[arg-type]


class _PhaseInstruction(_FrameInstruction):
    __slots__ = ()

    @property
    def phase(self) -> float | ParameterExpression:
        return self._value  # type: ignore[no-any-return]


class _FrequencyInstruction(_FrameInstruction):
    __slots__ = ()
    _what = "frequency"

    @property
    def frequency(self) -> float | ParameterExpression:
        return self._value  # type: ignore[no-any-return]


class ShiftPhase(_PhaseInstruction):
    """Advance the channel's phase by ``phase`` radians from now on."""

    __slots__ = ()


class SetPhase(_PhaseInstruction):
    """Set the channel's phase to ``phase`` radians from now on."""

    __slots__ = ()


class ShiftFrequency(_FrequencyInstruction):
    """Shift the channel's frame frequency by ``frequency`` Hz from now on (phase stays continuous)."""

    __slots__ = ()


class SetFrequency(_FrequencyInstruction):
    """Set the channel's frame frequency to ``frequency`` Hz from now on (phase stays continuous)."""

    __slots__ = ()


class Kernel:
    """Integration-kernel settings of an acquisition (passed through to the digitizer payload)."""

    def __init__(self, name: str | None = None, **params: Any) -> None:
        self.name = name
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kernel) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.params})"


class Discriminator(Kernel):
    """State-discrimination settings of an acquisition."""


class Acquire(Instruction):
    """Acquire ``duration`` samples on an acquisition channel into a memory and/or register slot."""

    __slots__ = ("_duration", "_channel", "mem_slot", "reg_slot", "kernel", "discriminator")

    def __init__(
        self,
        duration: int | ParameterExpression,
        channel: AcquireChannel,
        mem_slot: MemorySlot | None = None,
        reg_slot: RegisterSlot | None = None,
        kernel: Kernel | None = None,
        discriminator: Discriminator | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(channel, AcquireChannel):
            raise PulseError(f"Acquire needs an AcquireChannel, got {channel!r}")
        if mem_slot is not None and not isinstance(mem_slot, MemorySlot):
            raise PulseError(f"Acquire: mem_slot must be a MemorySlot, got {mem_slot!r}")
        if reg_slot is not None and not isinstance(reg_slot, RegisterSlot):
            raise PulseError(f"Acquire: reg_slot must be a RegisterSlot, got {reg_slot!r}")
        if mem_slot is None and reg_slot is None:
            raise PulseError(f"Acquire on {channel!r}: give a mem_slot (MemorySlot) or a reg_slot (RegisterSlot)")
        self._duration = _duration_value(duration, "Acquire")
        self._channel = channel
        self.mem_slot = mem_slot
        self.reg_slot = reg_slot
        self.kernel = kernel
        self.discriminator = discriminator
        self.name = name

    @property
    def operands(self) -> tuple[Any, ...]:
        return (self._duration, self._channel, self.mem_slot, self.reg_slot)

    @property
    def channels(self) -> tuple[Channel, ...]:
        return tuple(c for c in (self._channel, self.mem_slot, self.reg_slot) if c is not None)

    @property
    def acquire(self) -> AcquireChannel:
        return self._channel

    @property
    def duration(self) -> int | ParameterExpression:
        return self._duration

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        t = dict(table)
        return Acquire(
            resolve(self._duration, t),
            self._channel.assign_parameters(t),  # type: ignore[arg-type]
            None if self.mem_slot is None else self.mem_slot.assign_parameters(t),  # type: ignore[arg-type]
            None if self.reg_slot is None else self.reg_slot.assign_parameters(t),  # type: ignore[arg-type]
            self.kernel,
            self.discriminator,
            self.name,
        )


class RelativeBarrier(Instruction):
    """A zero-duration directive that makes its channels meet: nothing after it starts before all arrive."""

    __slots__ = ("_channels",)
    is_directive = True

    def __init__(self, *channels: Channel, name: str | None = None) -> None:
        for c in channels:
            if not isinstance(c, Channel):
                raise PulseError(f"RelativeBarrier takes channels, got {c!r}")
        self._channels = tuple(channels)
        self.name = name

    @property
    def operands(self) -> tuple[Any, ...]:
        return self._channels

    @property
    def channels(self) -> tuple[Channel, ...]:
        return self._channels

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        return RelativeBarrier(*(c.assign_parameters(dict(table)) for c in self._channels), name=self.name)


Barrier = RelativeBarrier
"""Alias: qubitlab spells the directive either way."""


class TimeBlockade(Delay):
    """A directive that reserves time on a channel (used when a ``Schedule`` is called from a block)."""

    __slots__ = ()
    is_directive = True


class Reference(Instruction):
    """A placeholder for a subroutine assigned later by key (``ScheduleBlock.assign_references``)."""

    __slots__ = ("ref_keys",)
    is_directive = True

    def __init__(self, name: str, *extra_keys: str) -> None:
        keys = (name, *extra_keys)
        for key in keys:
            if not isinstance(key, str):
                raise PulseError(f"Reference keys must be strings, got {key!r}")
        self.ref_keys = keys
        self.name = name

    @property
    def operands(self) -> tuple[Any, ...]:
        return self.ref_keys

    @property
    def channels(self) -> tuple[Channel, ...]:
        return ()

    def _rebuild(self, table: Mapping[Parameter, Any]) -> Instruction:
        return self

    def is_parameterized(self) -> bool:
        return False


INSTRUCTION_TYPES: dict[str, type[Instruction]] = {
    cls.__name__: cls
    for cls in (Play, Delay, ShiftPhase, SetPhase, ShiftFrequency, SetFrequency, Acquire, RelativeBarrier,
                TimeBlockade, Reference)
}
"""Instruction classes by name: the only ones the JSON format may name."""
