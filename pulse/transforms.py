"""Schedule transforms, where Qiskit Pulse kept them (``qiskit.pulse.transforms``): alignment contexts and
``block_to_schedule``, plus ``flatten``/``remove_directives`` for programs that want plain instructions."""

from __future__ import annotations

from qubitlab.pulse.alignments import AlignEquispaced, AlignFunc, AlignLeft, AlignmentKind, AlignRight, AlignSequential
from qubitlab.pulse.block import ScheduleBlock, block_to_schedule
from qubitlab.pulse.program import Program
from qubitlab.pulse.schedule import Schedule


def flatten(program: Program) -> Schedule:
    """Every instruction of ``program`` at its absolute time, in one flat ``Schedule``."""
    program = block_to_schedule(program) if isinstance(program, ScheduleBlock) else program
    out = Schedule(name=program.name, metadata=dict(program.metadata))
    for t, inst in program.instructions:
        out.insert(t, inst, inplace=True)
    return out


def remove_directives(program: Program) -> Schedule:
    """``program`` flattened, without barriers, references and time blockades."""
    flat = flatten(program)
    return flat.exclude(lambda pair: pair[1].is_directive)


__all__ = [
    "AlignEquispaced",
    "AlignFunc",
    "AlignLeft",
    "AlignRight",
    "AlignSequential",
    "AlignmentKind",
    "block_to_schedule",
    "flatten",
    "remove_directives",
]
