"""Alignment contexts and the timing engine that places a block's children in time.

A ``ScheduleBlock`` holds children without times; its alignment context decides where each goes. Qiskit did
this by building and re-inserting intermediate ``Schedule`` objects (with deep copies); here each child is
reduced to a footprint -- per channel its first start and last stop, and its duration -- and the policies
below reproduce Qiskit 1.4's placement rules exactly (including its quirks, so programs time out the same)
while touching each instruction a constant number of times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Union

from qubitlab.errors import PulseError
from qubitlab.pulse.channels import Channel
from qubitlab.pulse.instructions import Instruction
from qubitlab.pulse.parameters import ParameterExpression


Child = Union["Timed", tuple[Instruction, int, tuple[Channel, ...]]]
"""What an alignment places: a timed sub-block, or ``(instruction, duration, channels)``."""


class Timed:
    """A component placed in its own time frame: ``items`` are ``(time, instruction)`` pairs.

    ``first[ch]``/``last[ch]`` are the first start and the last stop on each channel, in channel order of
    first use; ``duration`` is the largest ``time + duration`` of any item (as ``Schedule.duration``).
    """

    __slots__ = ("items", "first", "last", "duration", "plan")

    def __init__(self) -> None:
        self.items: list[tuple[int, Instruction]] = []
        self.first: dict[Channel, int] = {}
        self.last: dict[Channel, int] = {}
        self.duration = 0
        self.plan: Any = None
        """The items grouped per pulse channel (``rendering._plan``), made once: it lives with this object."""

    @classmethod
    def of_instruction(cls, inst: Instruction, duration: int, time: int = 0) -> Timed:
        timed = cls()
        timed.items.append((time, inst))
        for ch in inst.channels:
            timed.first[ch] = time
            timed.last[ch] = time + duration
        timed.duration = time + duration
        return timed

    @property
    def start_time(self) -> int:
        return min(self.first.values(), default=0)

    @property
    def stop_time(self) -> int:
        return max(self.last.values(), default=0)

    def insert(self, time: int, child: Child) -> None:
        """Place ``child`` at ``time`` (no overlap check: the policies below cannot create overlaps)."""
        first, last = self.first, self.last
        if type(child) is tuple:
            inst, dur, channels = child
            self.items.append((time, inst))
            stop = time + dur
            for ch in channels:
                if ch not in first:
                    first[ch] = time
                    last[ch] = stop
                else:
                    if time < first[ch]:
                        first[ch] = time
                    if stop > last[ch]:
                        last[ch] = stop
            if stop > self.duration:
                self.duration = stop
            return
        assert isinstance(child, Timed)
        self.items.extend([(time + t, i) for t, i in child.items] if time else child.items)
        for ch, start in child.first.items():
            start += time
            stop = child.last[ch] + time
            if ch not in first:
                first[ch] = start
                last[ch] = stop
            else:
                if start < first[ch]:
                    first[ch] = start
                if stop > last[ch]:
                    last[ch] = stop
        if time + child.duration > self.duration:
            self.duration = time + child.duration

    def shift(self, time: int) -> None:
        self.items = [(t + time, i) for t, i in self.items]
        self.first = {ch: t + time for ch, t in self.first.items()}
        self.last = {ch: t + time for ch, t in self.last.items()}
        self.duration += time

    def check_overlaps(self, where: str) -> None:
        """Refuse two instructions that overlap on one channel (zero-duration ones never overlap)."""
        by_channel: dict[Channel, list[tuple[int, int, Instruction]]] = {}
        for t, inst in self.items:
            dur = inst.duration
            assert isinstance(dur, int)
            for ch in inst.channels:
                by_channel.setdefault(ch, []).append((t, t + dur, inst))
        for ch, spans in by_channel.items():
            spans.sort(key=lambda s: (s[0], s[1]))
            busy_until, busy_inst = 0, None
            for start, stop, inst in spans:
                if stop > start and start < busy_until:
                    raise PulseError(
                        f"{where}: {inst!r} on {ch.name} from t={start} to {stop} overlaps {busy_inst!r} "
                        f"which runs until t={busy_until}"
                    )
                if stop > start and stop > busy_until:
                    busy_until, busy_inst = stop, inst


def _channels(child: Child) -> Iterable[Channel]:
    return child[2] if isinstance(child, tuple) else child.first


def _ch_start(child: Child, ch: Channel) -> int:
    return 0 if isinstance(child, tuple) else child.first[ch]


def _ch_stop(child: Child, ch: Channel) -> int:
    return child[1] if isinstance(child, tuple) else child.last[ch]


def _duration(child: Child) -> int:
    return child[1] if isinstance(child, tuple) else child.duration


def _start_time(child: Child) -> int:
    return 0 if isinstance(child, tuple) else child.start_time


def _stop_time(child: Child) -> int:
    return child[1] if isinstance(child, tuple) else child.stop_time


def append_layout(children: list[Child]) -> Timed:
    """Children appended one after another per shared channel (``Schedule.append``), before any alignment."""
    out = Timed()
    last = out.last
    for child in children:
        t = max((last[ch] for ch in _channels(child) if ch in last), default=0)
        out.insert(t, child)
    return out


class AlignmentKind:
    """Base of the alignment policies; ``align(children)`` places children and returns the result."""

    is_sequential: bool = False

    def __init__(self, *context_params: Any) -> None:
        self._context_params = tuple(context_params)

    @property
    def context_params(self) -> tuple[Any, ...]:
        return self._context_params

    def align(self, children: list[Child]) -> Timed:
        raise NotImplementedError

    def assign(self, values: dict[Any, Any]) -> AlignmentKind:
        """This context with parameters in its own arguments resolved (itself when none)."""
        return self

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._context_params == other._context_params

    def __hash__(self) -> int:
        return hash((type(self), self._context_params))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._context_params))})"


class AlignLeft(AlignmentKind):
    """As soon as possible: each child starts once the channels it shares with earlier children are free."""

    def align(self, children: list[Child]) -> Timed:
        out = Timed()
        last = out.last
        for child in children:
            if type(child) is tuple:
                chans = child[2]
                t = 0
                for ch in chans:
                    if ch in last and last[ch] > t:
                        t = last[ch]
                out.insert(t, child)
                continue
            shared_t, other_t, have_other = 0, 0, False
            for ch in _channels(child):
                if ch in last:
                    shared_t = max(shared_t, last[ch] - _ch_start(child, ch))
                else:
                    start = _ch_start(child, ch)
                    other_t = start if not have_other else min(other_t, start)
                    have_other = True
            out.insert(max(shared_t, other_t), child)
        return out


class AlignRight(AlignmentKind):
    """As late as possible: children are placed from the last backwards, each ending as late as it can."""

    def align(self, children: list[Child]) -> Timed:
        out = Timed()
        for child in reversed(children):
            shared = [ch for ch in _channels(child) if ch in out.first]
            if shared:
                insert_time = min(out.first[ch] - _ch_stop(child, ch) for ch in shared) + _start_time(child)
            else:
                insert_time = out.stop_time - _stop_time(child) + _start_time(child)
            if insert_time < 0:
                out.shift(-insert_time)
                insert_time = 0
            out.insert(insert_time, child)
        # Like Qiskit, items stay in placement (reverse) order; ties in time sort in that order too.
        return out


class AlignSequential(AlignmentKind):
    """One after another, across channels, with no gaps."""

    is_sequential = True

    def align(self, children: list[Child]) -> Timed:
        out = Timed()
        for child in children:
            out.insert(out.duration, child)
        return out


def _context_duration(value: Any, owner: str) -> int:
    if isinstance(value, ParameterExpression):
        raise PulseError(f"{owner}: its duration {value} is an unbound parameter; assign it first")
    if not isinstance(value, int) or value < 0:
        raise PulseError(f"{owner}: duration must be a non-negative integer number of samples, got {value!r}")
    return value


class AlignEquispaced(AlignmentKind):
    """Children spread evenly over ``duration`` samples (e.g. dynamical decoupling); sequential if too short."""

    is_sequential = True

    def __init__(self, duration: int | ParameterExpression) -> None:
        super().__init__(duration)

    @property
    def duration(self) -> int | ParameterExpression:
        return self._context_params[0]  # type: ignore[no-any-return]

    def assign(self, values: dict[Any, Any]) -> AlignmentKind:
        from qubitlab.pulse.parameters import resolve

        return AlignEquispaced(resolve(self.duration, values)) if isinstance(self.duration, ParameterExpression) else self

    def align(self, children: list[Child]) -> Timed:
        duration = _context_duration(self.duration, "align_equispaced")
        total = sum(_duration(c) for c in children)
        if duration < total:
            return append_layout(children)
        total_delay = duration - total
        if len(children) > 1:
            interval, mod = divmod(total_delay, len(children) - 1)
        else:
            interval, mod = 0, total_delay
        delay, mod = divmod(mod, 2)
        out = Timed()
        t0 = out.stop_time + delay + mod
        for child in children:
            out.insert(t0, child)
            t0 = out.stop_time + interval
        return out


class AlignFunc(AlignmentKind):
    """Child ``j`` (from 1) centred at ``duration * func(j)``, e.g. Uhrig dynamical decoupling."""

    is_sequential = True

    def __init__(self, duration: int | ParameterExpression, func: Callable[[int], float]) -> None:
        super().__init__(duration, func)

    @property
    def duration(self) -> int | ParameterExpression:
        return self._context_params[0]  # type: ignore[no-any-return]

    @property
    def func(self) -> Callable[[int], float]:
        return self._context_params[1]  # type: ignore[no-any-return]

    def assign(self, values: dict[Any, Any]) -> AlignmentKind:
        from qubitlab.pulse.parameters import resolve

        if isinstance(self.duration, ParameterExpression):
            return AlignFunc(resolve(self.duration, values), self.func)
        return self

    def align(self, children: list[Child]) -> Timed:
        duration = _context_duration(self.duration, "align_func")
        appended = append_layout(children)
        if duration < appended.duration:
            return appended
        out = Timed()
        for index, child in enumerate(children):
            t0 = int(duration * self.func(index + 1) - 0.5 * _duration(child))
            if t0 < 0 or t0 > duration:
                raise PulseError(
                    f"align_func: child {index} would start at t={t0}, outside the context [0, {duration}]; "
                    "the function must return positions in [0, 1]"
                )
            out.insert(t0, child)
        out.check_overlaps("align_func")
        return out


ALIGNMENTS: dict[str, type[AlignmentKind]] = {
    cls.__name__: cls for cls in (AlignLeft, AlignRight, AlignSequential, AlignEquispaced, AlignFunc)
}
"""Alignment classes by name (``AlignFunc`` cannot be serialised: it holds a function)."""
