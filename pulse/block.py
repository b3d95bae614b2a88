"""``ScheduleBlock``: children without times, placed by an alignment context (Qiskit Pulse's ``ScheduleBlock``).

This is what the builder produces. The block's structure lives in a small shared ``_Tree`` (children, cached
timing and parameter index) so that binding parameters (``assign_parameters(..., inplace=False)``) or taking
a bound view shares it instead of copying; appending to a tree that is shared copies the child list first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qubitlab.errors import PulseError, UnassignedDurationError, UnassignedReferenceError
from qubitlab.pulse.alignments import AlignLeft, AlignmentKind, Child, Timed
from qubitlab.pulse.channels import Channel
from qubitlab.pulse.instructions import Instruction, Reference, RelativeBarrier
from qubitlab.pulse.parameters import Parameter, ParameterExpression, resolve
from qubitlab.pulse.program import ParameterIndex, Program
from qubitlab.pulse.schedule import Schedule




class ReferenceManager(dict[tuple[str, ...], "ScheduleBlock | None"]):
    """Subroutines a block refers to, by key; ``None`` while a reference is unassigned."""

    def unassigned(self) -> tuple[tuple[str, ...], ...]:
        return tuple(key for key, value in self.items() if value is None)


class _Tree:
    """A block's children plus what is derived from them, shared between bound views of one block."""

    __slots__ = ("blocks", "timed", "index", "owners")

    def __init__(self, blocks: list[Any]) -> None:
        self.blocks = blocks
        self.timed: Timed | None = None
        self.index: ParameterIndex | None = None
        self.owners = 1


class ScheduleBlock(Program):
    """Children (instructions and blocks) in order, timed by ``alignment_context`` when needed."""

    __slots__ = ("_name", "metadata", "_alignment_context", "_tree", "_table", "_references")

    def __init__(self, name: str | None = None, metadata: dict[str, Any] | None = None,
                 alignment_context: AlignmentKind | None = None) -> None:
        self._name = name
        self.metadata = dict(metadata or {})
        self._alignment_context = alignment_context or AlignLeft()
        if not isinstance(self._alignment_context, AlignmentKind):
            raise PulseError(f"ScheduleBlock: alignment_context must be an AlignmentKind, got {alignment_context!r}")
        self._tree = _Tree([])
        self._table: dict[Parameter, Any] = {}
        self._references = ReferenceManager()

    @classmethod
    def initialize_from(cls, other: Program, name: str | None = None) -> ScheduleBlock:
        ctx = other.alignment_context if isinstance(other, ScheduleBlock) else None
        return cls(name=name or other.name, metadata=dict(other.metadata), alignment_context=ctx)

    # -- structure --------------------------------------------------------------------------------------------
    @property
    def alignment_context(self) -> AlignmentKind:
        return self._alignment_context

    @property
    def blocks(self) -> tuple[Any, ...]:
        """Children in order of addition; references replaced by their subroutines; bound with the table."""
        out = []
        for elm in self._tree.blocks:
            if isinstance(elm, Reference):
                elm = self._references.get(elm.ref_keys) or elm
            if self._table:
                elm = elm.assign(self._table) if isinstance(elm, Instruction) else elm._bound_copy(
                    {**self._table, **elm._table})
            out.append(elm)
        return tuple(out)

    @property
    def references(self) -> ReferenceManager:
        return self._references

    def append(self, block: Any, name: str | None = None, inplace: bool = True) -> ScheduleBlock:
        """Add an instruction or a block at the end (its time comes from the alignment context)."""
        if not isinstance(block, (ScheduleBlock, Instruction)):
            raise PulseError(
                f"ScheduleBlock {self._name or ''!r}: can append an Instruction or a ScheduleBlock, "
                f"not {type(block).__name__} (convert a Schedule with pulse.call())"
            )
        target = self if inplace else self._bound_copy(dict(self._table), name)
        tree = target._own_tree()
        if isinstance(block, Reference):
            target._references.setdefault(block.ref_keys, None)
        elif isinstance(block, ScheduleBlock):
            for keys, sub in block._references.items():
                if sub is not None or keys not in target._references:
                    target._references[keys] = sub
        tree.blocks.append(block)
        tree.timed = tree.index = None
        return target

    def _own_tree(self) -> _Tree:
        """This block's tree, copied first if another block shares it (copy on write)."""
        tree = self._tree
        if tree.owners > 1:
            tree.owners -= 1
            tree = self._tree = _Tree(list(tree.blocks))
        return tree

    def _bound_copy(self, table: dict[Parameter, Any], name: str | None = None) -> ScheduleBlock:
        new = object.__new__(ScheduleBlock)
        new._name = name or self._name
        new.metadata = dict(self.metadata)
        new._alignment_context = self._alignment_context
        new._tree = self._tree
        self._tree.owners += 1
        new._table = table
        new._references = ReferenceManager(self._references)
        return new

    def _changed(self) -> None:
        if _has_structural(self):
            self._tree.timed = None

    def assign_references(self, subroutine_dict: Mapping[str | tuple[str, ...], ScheduleBlock],
                          inplace: bool = True) -> ScheduleBlock:
        """Give referenced subroutines their programs: ``{("name", "q0"): block}``."""
        target = self if inplace else self._bound_copy(dict(self._table))
        for key, block in subroutine_dict.items():
            keys = (key,) if isinstance(key, str) else tuple(key)
            if keys not in target._references:
                known = ", ".join(map(str, target._references)) or "none"
                raise PulseError(f"ScheduleBlock {self._name or ''!r} has no reference {keys}; it has: {known}")
            if not isinstance(block, ScheduleBlock):
                raise PulseError(f"reference {keys} must be assigned a ScheduleBlock, got {type(block).__name__}")
            current = target._references[keys]
            if current is not None and current is not block:
                raise PulseError(f"reference {keys} is already assigned; build a new block to change it")
            target._references[keys] = block
        target._tree.timed = target._tree.index = None
        return target

    def is_referenced(self) -> bool:
        return bool(self._references)

    def is_schedulable(self) -> bool:
        """True when every duration is a number (after binding), so the block can be timed."""
        try:
            self._timed()
        except (UnassignedDurationError, UnassignedReferenceError):
            return False
        return True

    def __len__(self) -> int:
        return len(self._tree.blocks)

    # -- Program hooks ----------------------------------------------------------------------------------------
    def _timed(self) -> Timed:
        tree = self._tree
        if tree.timed is not None:
            return tree.timed
        structural: list[bool] = []
        timed = _time_block(self, self._table, self._references, structural)
        if not structural:
            tree.timed = timed
        return timed

    def _index(self) -> ParameterIndex:
        tree = self._tree
        if tree.index is None:
            index = ParameterIndex()
            for param in _context_parameters(self._alignment_context):
                index.parameters.add(param)
            for elm in tree.blocks:
                if isinstance(elm, Reference):
                    elm = self._references.get(elm.ref_keys)
                    if elm is None:
                        continue
                if isinstance(elm, ScheduleBlock):
                    # What the sub-block binds itself is no longer a parameter here.
                    sub, bound = elm._index(), elm._table
                    index.parameters |= {p for p in sub.parameters if p not in bound}
                    for value in bound.values():
                        if isinstance(value, ParameterExpression):
                            index.parameters |= value.parameters
                    for param, pulses in sub.pulses_of.items():
                        if param not in bound:
                            index.pulses_of.setdefault(param, set()).update(pulses)
                else:
                    index.add_instruction(elm)
            tree.index = index
        return tree.index

    # -- queries ----------------------------------------------------------------------------------------------
    def filter(self, *filter_funcs: Callable[[Instruction], bool], channels: Iterable[Channel] | None = None,
               instruction_types: Iterable[type] | type | None = None, check_subroutine: bool = True) -> ScheduleBlock:
        """A block with only the instructions that pass every filter (structure and contexts kept)."""
        return _filter_block(self, _block_filter(filter_funcs, channels, instruction_types), True)

    def exclude(self, *filter_funcs: Callable[[Instruction], bool], channels: Iterable[Channel] | None = None,
                instruction_types: Iterable[type] | type | None = None, check_subroutine: bool = True) -> ScheduleBlock:
        """A block without the instructions that pass every filter."""
        return _filter_block(self, _block_filter(filter_funcs, channels, instruction_types), False)

    def replace(self, old: Any, new: Any, inplace: bool = True) -> ScheduleBlock:
        """Every child (at any depth) equal to ``old`` swapped for ``new``."""
        target = self if inplace else self._bound_copy(dict(self._table))
        tree = target._own_tree()
        tree.blocks = [new if elm == old else (elm.replace(old, new, inplace=False) if isinstance(elm, ScheduleBlock)
                                             else elm) for elm in tree.blocks]
        tree.timed = tree.index = None
        return target

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScheduleBlock):
            return False
        return self._alignment_context == other._alignment_context and self.blocks == other.blocks

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = f"name={self._name!r}, " if self._name else ""
        body = ", ".join(repr(b) for b in self._tree.blocks[:6]) + (", ..." if len(self) > 6 else "")
        return f"ScheduleBlock({body}, {name}transform={self._alignment_context!r})"

    def __add__(self, other: Any) -> ScheduleBlock:
        return self.append(other, inplace=False)


def _context_parameters(ctx: AlignmentKind) -> set[Parameter]:
    out: set[Parameter] = set()
    for value in ctx.context_params:
        if isinstance(value, ParameterExpression):
            out |= value.parameters
    return out


def _has_structural(block: ScheduleBlock) -> bool:
    """Whether any duration, channel or context of the block depends on a parameter."""
    if _context_parameters(block._alignment_context):
        return True
    for elm in block._tree.blocks:
        if isinstance(elm, ScheduleBlock):
            if _has_structural(elm):
                return True
        elif isinstance(elm, Instruction) and (
            not isinstance(elm.duration, int) or any(c.is_parameterized() for c in elm.channels)
        ):
            return True
    return False


def _time_block(block: ScheduleBlock, table: dict[Parameter, Any], refs: Mapping[tuple[str, ...], Any],
                structural: list[bool]) -> Timed:
    """Place every child of ``block``; appends to ``structural`` when a parameter decided a time or channel."""
    children: list[Child] = []
    for elm in block._tree.blocks:
        if isinstance(elm, Reference):
            target = refs.get(elm.ref_keys)
            if target is None:
                raise UnassignedReferenceError(
                    f"block {block.name or ''!r}: reference {elm.ref_keys} has no program; "
                    "assign one with assign_references()"
                )
            elm = target
        if isinstance(elm, ScheduleBlock):
            sub_table = {**table, **elm._table} if elm._table else table
            sub = _time_block(elm, sub_table, {**elm._references, **refs}, structural)
            if elm._table:
                sub = _bound_items(sub, elm._table)
            ctx_duration = getattr(elm._alignment_context, "duration", None)
            children.append(sub)
            if ctx_duration is not None:
                ctx_duration = resolve(ctx_duration, sub_table)
                post_buffer = ctx_duration - sub.duration
                if post_buffer < 0:
                    raise PulseError(
                        f"block {elm.name or ''!r} lasts {sub.duration} samples, longer than its "
                        f"{type(elm._alignment_context).__name__} context duration {ctx_duration}"
                    )
                if post_buffer > 0:
                    channels = tuple(sub.first)
                    barrier = Timed.of_instruction(RelativeBarrier(*channels), 0, post_buffer)
                    barrier.duration = post_buffer
                    children.append(barrier)
            continue
        duration = elm.duration
        channels = elm.channels
        if type(duration) is not int or not all(type(c._index) is int for c in channels):
            structural.append(True)
            bound = elm.assign(table)
            duration = bound.duration
            if not isinstance(duration, int):
                raise UnassignedDurationError(
                    f"block {block.name or ''!r}: {elm!r} has an unassigned duration {duration}; "
                    "assign its parameters before timing the block"
                )
            elm, channels = bound, bound.channels
        children.append((elm, duration, channels))
    ctx = block._alignment_context
    if _context_parameters(ctx):
        structural.append(True)
        ctx = ctx.assign(table)
    return ctx.align(children)


def _bound_items(timed: Timed, table: dict[Parameter, Any]) -> Timed:
    out = Timed()
    out.items = [(t, inst.assign(table)) for t, inst in timed.items]
    out.first, out.last, out.duration = timed.first, timed.last, timed.duration
    return out


def _block_filter(funcs: tuple[Callable[[Instruction], bool], ...], channels: Iterable[Channel] | None,
                  instruction_types: Iterable[type] | type | None) -> Callable[[Instruction], bool]:
    chans = None if channels is None else set(channels)
    types = None if instruction_types is None else (
        (instruction_types,) if isinstance(instruction_types, type) else tuple(instruction_types))

    def keep(inst: Instruction) -> bool:
        if chans is not None and not any(c in chans for c in inst.channels):
            return False
        if types is not None and not isinstance(inst, types):
            return False
        return all(f(inst) for f in funcs)

    return keep


def _filter_block(block: ScheduleBlock, keep: Callable[[Instruction], bool], wanted: bool) -> ScheduleBlock:
    out = ScheduleBlock.initialize_from(block)
    out._table = dict(block._table)
    for elm in block.blocks:
        if isinstance(elm, ScheduleBlock):
            sub = _filter_block(elm, keep, wanted)
            if len(sub):
                out.append(sub)
        elif keep(elm) == wanted:
            out.append(elm)
    return out


def block_to_schedule(block: ScheduleBlock) -> Schedule:
    """The block with every instruction at its absolute time, as a ``Schedule`` (bound with its table)."""
    if not isinstance(block, ScheduleBlock):
        raise PulseError(f"block_to_schedule takes a ScheduleBlock, got {type(block).__name__}")
    timed = block._timed()
    out = Schedule(name=block.name, metadata=dict(block.metadata))
    table = block._table
    for t, inst in timed.items:
        out._insert(t, inst.assign(table) if table else inst)
    return out
