"""Logical pulse channels, named as in Qiskit Pulse: ``DriveChannel(0)`` is ``d0``, ``ControlChannel(0)`` is ``u0``.

Channels are immutable value objects; integer-indexed ones are interned so that building a large schedule
does not allocate a channel per instruction and comparisons are cheap. The lab configuration maps these
names (``d0``, ``u0``, ``m0``, ``a0``) to physical lines; the pulse layer knows nothing of instruments.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from qubitlab.errors import PulseError
from qubitlab.pulse.parameters import Parameter, ParameterExpression, resolve


class Channel:
    """Base class of every channel: a ``prefix`` and a non-negative integer (or parameter) ``index``.

    Channels are interned: ``DriveChannel(0) is DriveChannel(0)``, so equality and hashing are by identity.
    """

    prefix: ClassVar[str] = ""
    __slots__ = ("_index", "__weakref__")
    _interned: ClassVar[dict[tuple[type, int | ParameterExpression], Channel]] = {}

    def __new__(cls, index: int | ParameterExpression) -> Channel:
        if not cls.prefix:
            raise PulseError(f"{cls.__name__} is abstract; use DriveChannel, ControlChannel, MeasureChannel, ...")
        key = (cls, index)
        try:
            found = Channel._interned.get(key)
        except TypeError:  # an unhashable index: validation below refuses it
            found = None
        if found is not None:
            return found
        if not (type(index) is int and index >= 0):
            index = _validate_index(cls, index)
            key = (cls, index)
            found = Channel._interned.get(key)
            if found is not None:
                return found
        self = super().__new__(cls)
        self._init(index)
        Channel._interned[key] = self
        return self

    def _init(self, index: int | ParameterExpression) -> None:
        self._index = index

    def __init__(self, index: int | ParameterExpression) -> None:  # state set in __new__
        pass

    def __getnewargs__(self) -> tuple[int | ParameterExpression]:
        return (self._index,)

    @property
    def index(self) -> int | ParameterExpression:
        return self._index

    @property
    def name(self) -> str:
        """``<prefix><index>``, e.g. ``d0``."""
        return f"{self.prefix}{self._index}"

    @property
    def parameters(self) -> set[Parameter]:
        return self._index.parameters if isinstance(self._index, ParameterExpression) else set()

    def is_parameterized(self) -> bool:
        return isinstance(self._index, ParameterExpression)

    def assign_parameters(self, table: dict[Parameter, Any]) -> Channel:
        """This channel with its index resolved from ``table`` (itself when nothing changes)."""
        if not isinstance(self._index, ParameterExpression):
            return self
        index = resolve(self._index, table)
        if isinstance(index, float) and index.is_integer():
            index = int(index)
        return type(self)(index)

    def __lt__(self, other: Channel) -> bool:
        return _sort_key(self) < _sort_key(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._index})"

    def __copy__(self) -> Channel:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Channel:
        return self


def _validate_index(cls: type, index: object) -> int | ParameterExpression:
    if isinstance(index, ParameterExpression):
        if not index.parameters:
            index = index.numeric()
        else:
            return index
    if isinstance(index, (np.integer, float)) and float(index).is_integer() and not isinstance(index, bool):
        index = int(index)
    if type(index) is not int or index < 0:
        raise PulseError(
            f"{cls.__name__} index must be a non-negative integer or a Parameter, got {index!r} "
            f"({type(index).__name__})"
        )
    return index


_ORDER = {"DriveChannel": 0, "ControlChannel": 1, "MeasureChannel": 2, "AcquireChannel": 3, "MemorySlot": 4}


def _sort_key(channel: Channel) -> tuple[int, int, str]:
    index = channel.index
    return (_ORDER.get(type(channel).__name__, 9), index if isinstance(index, int) else 1 << 30, str(index))


class PulseChannel(Channel):
    """A channel that carries a waveform (drive, control, measure) and has a frame (phase, frequency)."""

    __slots__ = ()


class ClassicalIOChannel(Channel):
    """A channel that stores results (memory or register slot)."""

    __slots__ = ()


class DriveChannel(PulseChannel):
    """Drives a single qubit (``d<i>``)."""

    prefix = "d"
    __slots__ = ()


class ControlChannel(PulseChannel):
    """Drives one qubit at another's frequency, e.g. cross-resonance (``u<i>``); the lab config says which."""

    prefix = "u"
    __slots__ = ()


class MeasureChannel(PulseChannel):
    """Carries the readout stimulus of a qubit's resonator (``m<i>``)."""

    prefix = "m"
    __slots__ = ()


class AcquireChannel(Channel):
    """The digitizer acquisition of a qubit's readout (``a<i>``)."""

    prefix = "a"
    __slots__ = ()


class SnapshotChannel(ClassicalIOChannel):
    """Simulator snapshots (kept for compatibility; ignored by the compiler)."""

    prefix = "s"
    __slots__ = ()

    def __new__(cls, index: int | ParameterExpression = 0) -> SnapshotChannel:
        return super().__new__(cls, index)  # type: ignore[return-value]


class MemorySlot(ClassicalIOChannel):
    """Where an acquisition's result is stored (``m<i>``, as in Qiskit, though measure channels share it)."""

    prefix = "m"
    __slots__ = ()


class RegisterSlot(ClassicalIOChannel):
    """A classical register bit for fast feedback (``c<i>``)."""

    prefix = "c"
    __slots__ = ()


CHANNEL_TYPES: dict[str, type[Channel]] = {
    cls.__name__: cls
    for cls in (DriveChannel, ControlChannel, MeasureChannel, AcquireChannel, SnapshotChannel, MemorySlot, RegisterSlot)
}
"""Channel classes by name: the only ones the JSON format may name."""
