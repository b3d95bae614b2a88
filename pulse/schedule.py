"""``Schedule``: instructions at absolute times (Qiskit Pulse's ``Schedule``, same methods and operators).

Inserting checks that nothing overlaps on a channel; ``+`` appends after the shared channels are free, ``|``
merges at time 0, ``<<`` shifts. A schedule nests schedules; ``instructions`` flattens them in time order.
Relative scheduling with alignment contexts is :class:`~qubitlab.pulse.block.ScheduleBlock`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any, Union

from qubitlab.errors import PulseError
from qubitlab.pulse.alignments import Timed
from qubitlab.pulse.channels import Channel
from qubitlab.pulse.instructions import Instruction
from qubitlab.pulse.parameters import Parameter
from qubitlab.pulse.program import ParameterIndex, Program

Interval = tuple[int, int]
Component = Union[Instruction, "Schedule"]


def _overlaps(a: Interval, b: Interval) -> bool:
    """Qiskit's rule: a zero-duration interval at the start of another does not overlap it."""
    if a[0] == b[0] == b[1] or a[0] == a[1] == b[0]:
        return False
    return b[0] < a[1] and a[0] < b[1]


def _timeslots_of(component: Component) -> dict[Channel, list[Interval]]:
    if isinstance(component, Schedule):
        return component._timeslots
    duration = component.duration
    if not isinstance(duration, int):
        from qubitlab.errors import UnassignedDurationError

        raise UnassignedDurationError(
            f"{component!r} has a parameterized duration {duration}; a Schedule needs fixed times "
            "(assign the duration first, or build a ScheduleBlock)"
        )
    return {ch: [(0, duration)] for ch in component.channels}


class Schedule(Program):
    """Instructions and schedules placed at absolute integer times (in samples of ``dt``)."""

    __slots__ = ("_name", "metadata", "_children", "_timeslots", "_duration", "_table", "_cache")

    def __init__(self, *schedules: Component | tuple[int, Component], name: str | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self._name = name
        self.metadata = dict(metadata or {})
        self._children: list[tuple[int, Component]] = []
        self._timeslots: dict[Channel, list[Interval]] = {}
        self._duration = 0
        self._table: dict[Parameter, Any] = {}
        self._cache: tuple[Timed, ParameterIndex] | None = None
        for item in schedules:
            if isinstance(item, tuple):
                self._insert(item[0], item[1])
            else:
                self._insert(0, item)

    @classmethod
    def initialize_from(cls, other: Program, name: str | None = None) -> Schedule:
        return cls(name=name or other.name, metadata=dict(other.metadata))

    # -- structure --------------------------------------------------------------------------------------------
    def _insert(self, time: int, component: Any) -> None:
        from qubitlab.pulse.block import ScheduleBlock, block_to_schedule

        if isinstance(component, ScheduleBlock):
            component = block_to_schedule(component)
        if not isinstance(component, (Instruction, Schedule)):
            raise PulseError(
                f"Schedule {self._name or ''!r}: can insert an Instruction, Schedule or ScheduleBlock, "
                f"not {type(component).__name__}"
            )
        if isinstance(time, bool) or not isinstance(time, int):
            raise PulseError(f"Schedule {self._name or ''!r}: start time must be an integer, got {time!r}")
        if time < 0:
            raise PulseError(f"Schedule {self._name or ''!r}: start time must be >= 0, got {time}")
        slots = _timeslots_of(component)
        staged: list[tuple[list[Interval], int, Interval]] = []
        for ch, intervals in slots.items():
            mine = self._timeslots.get(ch, [])
            for start, stop in intervals:
                interval = (start + time, stop + time)
                index = bisect.bisect_left(mine, interval)
                for neighbour in mine[max(index - 1, 0): index + 1]:
                    if _overlaps(neighbour, interval):
                        raise PulseError(
                            f"{type(component).__name__}(name={component.name or ''!r}) cannot be inserted into "
                            f"Schedule(name={self._name or ''!r}) at time {time}: on channel {ch.name} its "
                            f"instruction from {interval[0]} to {interval[1]} overlaps one from "
                            f"{neighbour[0]} to {neighbour[1]}"
                        )
                staged.append((mine, index, interval))
            if ch not in self._timeslots:
                self._timeslots[ch] = mine
        for mine, _, interval in staged:
            bisect.insort(mine, interval)
        self._children.append((time, component))
        self._duration = max(self._duration, time + (component.duration if isinstance(component, Schedule)
                                                      else int(component.duration)))
        self._cache = None

    def _copy(self, name: str | None = None) -> Schedule:
        new = Schedule(name=name or self._name, metadata=dict(self.metadata))
        new._children = list(self._children)
        new._timeslots = {ch: list(iv) for ch, iv in self._timeslots.items()}
        new._duration = self._duration
        new._table = dict(self._table)
        return new

    def _bound_copy(self, table: dict[Parameter, Any]) -> Schedule:
        new = self._copy()
        new._table = table
        new._cache = self._cache  # times do not depend on values
        return new

    def insert(self, start_time: int, schedule: Any, name: str | None = None, inplace: bool = False) -> Schedule:
        """``schedule`` inserted at ``start_time``; refuses overlaps on a channel."""
        target = self if inplace else self._copy(name)
        target._insert(start_time, schedule)
        return target

    def append(self, schedule: Any, name: str | None = None, inplace: bool = False) -> Schedule:
        """``schedule`` inserted once every channel it shares with this schedule is free."""
        from qubitlab.pulse.block import ScheduleBlock, block_to_schedule

        if isinstance(schedule, ScheduleBlock):
            schedule = block_to_schedule(schedule)
        common = set(self.channels) & set(schedule.channels)
        return self.insert(self.ch_stop_time(*common), schedule, name=name, inplace=inplace)

    def shift(self, time: int, name: str | None = None, inplace: bool = False) -> Schedule:
        """Every child moved later by ``time`` samples."""
        if inplace:
            children = self._children
            self._children, self._timeslots, self._duration = [], {}, 0
            for t, child in children:
                self._insert(t + time, child)
            return self
        return Schedule((time, self), name=name or self._name)

    def __add__(self, other: Any) -> Schedule:
        return self.append(other)

    def __or__(self, other: Any) -> Schedule:
        return self.insert(0, other)

    def __lshift__(self, time: int) -> Schedule:
        return self.shift(time)

    def __len__(self) -> int:
        return len(self._timed().items)

    @property
    def children(self) -> tuple[tuple[int, Component], ...]:
        return tuple(self._children)

    @property
    def timeslots(self) -> dict[Channel, list[Interval]]:
        return {ch: list(iv) for ch, iv in self._timeslots.items()}

    # -- Program hooks ----------------------------------------------------------------------------------------
    def _timed(self) -> Timed:
        return self._build_cache()[0]

    def _index(self) -> ParameterIndex:
        return self._build_cache()[1]

    def _build_cache(self) -> tuple[Timed, ParameterIndex]:
        if self._cache is None:
            timed, index = Timed(), ParameterIndex()
            for time, child in self._children:
                if isinstance(child, Schedule):
                    sub = child._timed()
                    if child._table:
                        sub = _bind_items(sub, child._table)
                    timed.insert(time, sub)
                    index.merge(child._index())
                else:
                    timed.insert(time, (child, int(child.duration), child.channels))
                    index.add_instruction(child)
            if timed.duration < self._duration:
                timed.duration = self._duration
            self._cache = (timed, index)
        return self._cache

    # -- queries ----------------------------------------------------------------------------------------------
    def filter(self, *filter_funcs: Callable[[tuple[int, Instruction]], bool], channels: Iterable[Channel] | None = None,
               instruction_types: Iterable[type] | type | None = None, time_ranges: Iterable[Interval] | None = None,
               intervals: Iterable[Interval] | None = None, check_subroutine: bool = True) -> Schedule:
        """The instructions that pass every filter given, at their times (nesting is flattened)."""
        keep = _schedule_filter(filter_funcs, channels, instruction_types, time_ranges, intervals)
        return self._select(keep, True)

    def exclude(self, *filter_funcs: Callable[[tuple[int, Instruction]], bool], channels: Iterable[Channel] | None = None,
                instruction_types: Iterable[type] | type | None = None, time_ranges: Iterable[Interval] | None = None,
                intervals: Iterable[Interval] | None = None, check_subroutine: bool = True) -> Schedule:
        """The instructions that fail at least one filter given (the complement of :meth:`filter`)."""
        keep = _schedule_filter(filter_funcs, channels, instruction_types, time_ranges, intervals)
        return self._select(keep, False)

    def _select(self, keep: Callable[[tuple[int, Instruction]], bool], wanted: bool) -> Schedule:
        out = Schedule(name=self._name, metadata=dict(self.metadata))
        for pair in self.instructions:
            if keep(pair) == wanted:
                out._insert(pair[0], pair[1])
        return out

    def replace(self, old: Component, new: Component, inplace: bool = False) -> Schedule:
        """Every top-level child equal to ``old`` swapped for ``new`` at the same time."""
        children = [(t, new if child == old else child) for t, child in self._children]
        target = self if inplace else Schedule(name=self._name, metadata=dict(self.metadata))
        target._children, target._timeslots, target._duration = [], {}, 0
        target._table = dict(self._table)
        for t, child in children:
            target._insert(t, child)
        return target

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return False
        return self.channels_set() == other.channels_set() and self.instructions == other.instructions

    def channels_set(self) -> set[Channel]:
        return set(self.channels)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = f"name={self._name!r}, " if self._name else ""
        body = ", ".join(f"({t}, {inst!r})" for t, inst in self.instructions[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Schedule({body}{more}, {name}duration={self.duration})"


def _bind_items(timed: Timed, table: dict[Parameter, Any]) -> Timed:
    """A copy of ``timed`` whose parameterized instructions are bound with ``table``."""
    out = Timed()
    out.items = [(t, inst.assign(table)) for t, inst in timed.items]
    out.first, out.last, out.duration = dict(timed.first), dict(timed.last), timed.duration
    return out


def _as_set(types: Iterable[type] | type | None) -> tuple[type, ...] | None:
    if types is None:
        return None
    return (types,) if isinstance(types, type) else tuple(types)


def _schedule_filter(funcs: tuple[Callable[[tuple[int, Instruction]], bool], ...], channels: Iterable[Channel] | None,
                     instruction_types: Iterable[type] | type | None, time_ranges: Iterable[Interval] | None,
                     intervals: Iterable[Interval] | None) -> Callable[[tuple[int, Instruction]], bool]:
    chans = None if channels is None else set(channels)
    types = _as_set(instruction_types)
    ranges = list(time_ranges or []) + list(intervals or [])

    def keep(pair: tuple[int, Instruction]) -> bool:
        t, inst = pair
        if chans is not None and not any(c in chans for c in inst.channels):
            return False
        if types is not None and not isinstance(inst, types):
            return False
        if ranges:
            stop = t + int(inst.duration)
            if not any(lo <= t and stop <= hi for lo, hi in ranges):
                return False
        return all(f(pair) for f in funcs)

    return keep
