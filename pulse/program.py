"""What ``Schedule`` and ``ScheduleBlock`` share: parameter binding into a flat table, and timing queries.

Binding is the reason this module exists. Qiskit Pulse deep-copied a whole program to bind it; here a program
is a structure (shared, never copied to bind) plus a table ``{Parameter: value}``. ``assign_parameters(...,
inplace=False)`` makes a new program object over the same structure with a bigger table -- O(size of the
table) -- and the timing computed for the structure is shared too, as long as no duration depends on the
rebound parameters. Instructions are bound only when someone asks to look at them (``.instructions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from qubitlab.errors import PulseError
from qubitlab.pulse.alignments import Timed
from qubitlab.pulse.channels import Channel
from qubitlab.pulse.instructions import Instruction, Play
from qubitlab.pulse.library import SymbolicPulse
from qubitlab.pulse.parameters import Parameter, ParameterExpression, ParameterVector, is_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def unroll_values(value_dict: Mapping[Any, Any]) -> dict[Parameter, Any]:
    """``{Parameter | ParameterVector: value(s)}`` -> ``{Parameter: value}``, checking value types."""
    out: dict[Parameter, Any] = {}
    for key, value in value_dict.items():
        if isinstance(key, ParameterVector):
            values = list(value)
            if len(values) != len(key):
                raise PulseError(
                    f"ParameterVector {key.name} has {len(key)} elements but {len(values)} values were given"
                )
            pairs: Iterable[tuple[Parameter, Any]] = zip(key.params, values)
        elif isinstance(key, Parameter):
            pairs = ((key, value),)
        else:
            raise PulseError(f"assign_parameters takes Parameter or ParameterVector keys, got {key!r}")
        for param, val in pairs:
            if not (is_number(val) or isinstance(val, ParameterExpression)):
                raise PulseError(f"value for parameter {param.name} must be a number or an expression, got {val!r}")
            if isinstance(val, ParameterExpression) and not val.parameters:
                val = val.numeric()
            out[param] = val
    return out


class ParameterIndex:
    """Where the parameters of a program structure are: all of them, and the distinct pulses using each."""

    __slots__ = ("parameters", "pulses_of")

    def __init__(self) -> None:
        self.parameters: set[Parameter] = set()
        self.pulses_of: dict[Parameter, set[SymbolicPulse]] = {}

    def add_instruction(self, inst: Instruction) -> None:
        params = inst.parameters
        if not params:
            return
        self.parameters |= params
        if isinstance(inst, Play) and isinstance(inst.pulse, SymbolicPulse):
            for p in params:
                self.pulses_of.setdefault(p, set()).add(inst.pulse)

    def merge(self, other: ParameterIndex) -> None:
        self.parameters |= other.parameters
        for p, pulses in other.pulses_of.items():
            self.pulses_of.setdefault(p, set()).update(pulses)


class Program:
    """Base of ``Schedule`` and ``ScheduleBlock``: a name, metadata, a binding table and timing queries."""

    _table: dict[Parameter, Any]
    _name: str | None
    metadata: dict[str, Any]

    # -- to be provided by subclasses -------------------------------------------------------------------------
    def _timed(self) -> Timed:
        """Every instruction at its absolute time, with durations and channels resolved from the table."""
        raise NotImplementedError

    def _index(self) -> ParameterIndex:
        raise NotImplementedError

    def _bound_copy(self, table: dict[Parameter, Any]) -> Program:
        raise NotImplementedError

    def _changed(self) -> None:
        """Called after the table changed in place."""

    # -- names ------------------------------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self._name

    # -- parameters -------------------------------------------------------------------------------------------
    @property
    def parameters(self) -> set[Parameter]:
        """Parameters still unbound in this program."""
        out = {p for p in self._index().parameters if p not in self._table}
        for value in self._table.values():
            if isinstance(value, ParameterExpression):
                out |= value.parameters
        return out

    def is_parameterized(self) -> bool:
        return bool(self.parameters)

    def get_parameters(self, parameter_name: str) -> list[Parameter]:
        """The unbound parameters called ``parameter_name`` (names need not be unique)."""
        return [p for p in self.parameters if p.name == parameter_name]

    def assign_parameters(self, value_dict: Mapping[Any, Any], inplace: bool = True) -> Any:
        """Bind parameters to numbers (or expressions); ``inplace=False`` leaves this program untouched.

        Binding shares the program's structure: nothing is copied but the table. Pulses that use the bound
        parameters are validated now (amplitude, sigma, ...), so a bad value fails here, naming the pulse.
        """
        values = unroll_values(value_dict)
        table = dict(self._table)
        # Earlier expression values may mention the newly bound parameters: substitute through them.
        for param, old in table.items():
            if isinstance(old, ParameterExpression) and old.parameters & values.keys():
                new = old.subs({p: v for p, v in values.items() if p in old.parameters})
                table[param] = new.numeric() if not new.parameters else new
        table.update(values)
        self._validate_bound(table, values)
        if inplace:
            self._table = table
            self._changed()
            return self
        return self._bound_copy(table)

    def _validate_bound(self, table: dict[Parameter, Any], new: dict[Parameter, Any]) -> None:
        pulses_of = self._index().pulses_of
        seen: set[int] = set()
        for param in new:
            for pulse in pulses_of.get(param, ()):
                if id(pulse) in seen:
                    continue
                seen.add(id(pulse))
                duration, params = pulse.resolved_partially(table)
                if duration is not None:
                    pulse._check(duration, params)

    # -- timing -----------------------------------------------------------------------------------------------
    @property
    def duration(self) -> int:
        return self._timed().duration

    @property
    def start_time(self) -> int:
        return self._timed().start_time

    @property
    def stop_time(self) -> int:
        return self._timed().stop_time

    @property
    def channels(self) -> tuple[Channel, ...]:
        return tuple(self._timed().first)

    def ch_start_time(self, *channels: Channel) -> int:
        first = self._timed().first
        return min((first[c] for c in channels if c in first), default=0)

    def ch_stop_time(self, *channels: Channel) -> int:
        last = self._timed().last
        return max((last[c] for c in channels if c in last), default=0)

    def ch_duration(self, *channels: Channel) -> int:
        return self.ch_stop_time(*channels)

    @property
    def instructions(self) -> tuple[tuple[int, Instruction], ...]:
        """``(time, instruction)`` pairs, bound, in time order (zero-duration ones first at equal times)."""
        table = self._table
        items = [(t, inst.assign(table) if table else inst) for t, inst in self._timed().items]
        items.sort(key=_instruction_order)
        return tuple(items)

    def draw(self, **kwargs: Any) -> Figure:
        """A matplotlib figure of the program's timeline (one row per channel)."""
        from qubitlab.pulse.draw import draw_program

        return draw_program(self, **kwargs)


def _instruction_order(pair: tuple[int, Instruction]) -> tuple[int, Any, list[str]]:
    t, inst = pair
    return t, inst.duration, sorted(c.name for c in inst.channels)

