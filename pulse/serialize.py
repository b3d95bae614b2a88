"""JSON serialisation of pulse programs, for the calibration store and the wire.

The format is versioned (``{"format": "qubitlab.pulse", "version": 1, ...}``), names types only from explicit
allow-lists (instructions, pulses, channels, alignments) and keeps parameters by identity (uuid), so that a
round trip is exact: the loaded program is equal to the saved one, renders the same samples to the last bit,
and its parameters are the same ``Parameter`` objects to ``==``. Nothing is ever evaluated or imported by name.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from qubitlab.errors import PulseError
from qubitlab.pulse.alignments import ALIGNMENTS, AlignFunc, AlignmentKind
from qubitlab.pulse.block import ReferenceManager, ScheduleBlock
from qubitlab.pulse.channels import CHANNEL_TYPES, Channel
from qubitlab.pulse.instructions import (
    INSTRUCTION_TYPES,
    Acquire,
    Delay,
    Discriminator,
    Instruction,
    Kernel,
    Play,
    Reference,
    RelativeBarrier,
)
from qubitlab.pulse.library import PULSE_TYPES, Pulse, SymbolicPulse, Waveform
from qubitlab.pulse.parameters import (
    Parameter,
    ParameterExpression,
    ParameterVector,
    ParameterVectorElement,
    expression_from_node,
    node_of,
)
from qubitlab.pulse.program import Program
from qubitlab.pulse.schedule import Schedule

FORMAT = "qubitlab.pulse"
VERSION = 1


def dumps(program: Program, **json_kwargs: Any) -> str:
    """The program as a JSON string (``json_kwargs`` go to ``json.dumps``, e.g. ``indent=2``)."""
    return json.dumps(to_dict(program), **json_kwargs)


def loads(text: str) -> Program:
    """A program from :func:`dumps` output."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PulseError(f"not a qubitlab pulse JSON document: {exc}") from exc
    return from_dict(data)


def to_dict(program: Program) -> dict[str, Any]:
    writer = _Writer()
    body = writer.program(program)
    return {"format": FORMAT, "version": VERSION, "parameters": writer.parameter_table(), "program": body}


def from_dict(data: Any) -> Program:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PulseError(f"not a qubitlab pulse document: expected format {FORMAT!r}")
    if data.get("version") != VERSION:
        raise PulseError(f"pulse document version {data.get('version')!r} is not supported; this reads {VERSION}")
    reader = _Reader(data.get("parameters", []))
    return reader.program(data["program"])


class _Writer:
    """Encodes values, parameters and expressions (shared with :mod:`qubitlab.circuits.serialize`)."""

    def __init__(self) -> None:
        self.params: dict[Parameter, dict[str, Any]] = {}

    def parameter_table(self) -> list[dict[str, Any]]:
        return list(self.params.values())

    def param(self, p: Parameter) -> str:
        if p not in self.params:
            entry: dict[str, Any] = {"id": str(p.uuid), "name": p.name}
            if isinstance(p, ParameterVectorElement):
                entry["vector"] = {"name": p.vector.name, "index": p.index, "length": len(p.vector)}
            self.params[p] = entry
        return str(p.uuid)

    def value(self, v: Any) -> Any:
        if isinstance(v, ParameterExpression):
            return {"expr": self.node(node_of(v))}
        if isinstance(v, bool):
            return v
        if isinstance(v, complex):
            return {"complex": [v.real, v.imag]}
        if isinstance(v, (int, float)):
            return v
        if hasattr(v, "item"):  # numpy scalar
            return self.value(v.item())
        raise PulseError(f"cannot serialise value {v!r} ({type(v).__name__})")

    def node(self, node: tuple[Any, ...]) -> list[Any]:
        if node[0] == "p":
            return ["p", self.param(node[1])]
        if node[0] == "c":
            return ["c", self.value(node[1])]
        return [node[0], *(self.node(child) for child in node[1:])]

    def channel(self, ch: Channel | None) -> Any:
        if ch is None:
            return None
        return {"type": type(ch).__name__, "index": self.value(ch.index)}

    def pulse(self, p: Pulse) -> dict[str, Any]:
        common = {"name": p.name, "limit_amplitude": p._limit_amplitude}
        if isinstance(p, Waveform):
            return {"type": "Waveform", "real": p.samples.real.tolist(), "imag": p.samples.imag.tolist(),
                    "epsilon": p.epsilon, **common}
        assert isinstance(p, SymbolicPulse)
        return {"type": p.pulse_type, "duration": self.value(p.duration),
                "params": {k: self.value(v) for k, v in p._params.items()}, **common}

    def instruction(self, inst: Instruction) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(inst).__name__, "name": inst.name}
        if isinstance(inst, Play):
            out.update(pulse=self.pulse(inst.pulse), channel=self.channel(inst.channel))
        elif isinstance(inst, Acquire):
            out.update(duration=self.value(inst.duration), channel=self.channel(inst.channel),
                       mem_slot=self.channel(inst.mem_slot), reg_slot=self.channel(inst.reg_slot),
                       kernel=self.kernel(inst.kernel), discriminator=self.kernel(inst.discriminator))
        elif isinstance(inst, Delay):  # also TimeBlockade
            out.update(duration=self.value(inst.duration), channel=self.channel(inst.channel))
        elif isinstance(inst, RelativeBarrier):
            out.update(channels=[self.channel(c) for c in inst.channels])
        elif isinstance(inst, Reference):
            out.update(keys=list(inst.ref_keys))
        else:  # frame instructions
            out.update(value=self.value(inst._value), channel=self.channel(inst.channel))  # type: ignore[attr-defined]
        return out

    def kernel(self, k: Kernel | None) -> Any:
        if k is None:
            return None
        try:
            json.dumps(k.params)
        except TypeError as exc:
            raise PulseError(f"{type(k).__name__} {k.name!r}: parameters must be JSON data ({exc})") from exc
        return {"name": k.name, "params": k.params}

    def alignment(self, ctx: AlignmentKind) -> dict[str, Any]:
        if isinstance(ctx, AlignFunc):
            raise PulseError("a block aligned with align_func holds a Python function and cannot be serialised; "
                             "use align_equispaced or explicit delays")
        return {"type": type(ctx).__name__, "params": [self.value(v) for v in ctx.context_params]}

    def table(self, table: dict[Parameter, Any]) -> list[list[Any]]:
        return [[self.param(p), self.value(v)] for p, v in table.items()]

    def program(self, prog: Program) -> dict[str, Any]:
        common = {"name": prog.name, "metadata": _json_metadata(prog), "table": self.table(prog._table)}
        if isinstance(prog, Schedule):
            children = [[t, self.program(c) if isinstance(c, Schedule) else self.instruction(c)]
                        for t, c in prog._children]
            return {"type": "Schedule", "children": children, **common}
        assert isinstance(prog, ScheduleBlock)
        blocks = [self.program(b) if isinstance(b, ScheduleBlock) else self.instruction(b) for b in prog._tree.blocks]
        refs = [[list(k), None if v is None else self.program(v)] for k, v in prog._references.items()]
        return {"type": "ScheduleBlock", "alignment": self.alignment(prog.alignment_context), "blocks": blocks,
                "references": refs, **common}


def _json_metadata(prog: Program) -> dict[str, Any]:
    try:
        json.dumps(prog.metadata)
    except TypeError as exc:
        raise PulseError(f"program {prog.name!r}: metadata must be JSON data to serialise ({exc})") from exc
    return prog.metadata


class _Reader:
    def __init__(self, table: list[dict[str, Any]]) -> None:
        self.params: dict[str, Parameter] = {}
        vectors: dict[tuple[str, int], ParameterVector] = {}
        for entry in table:
            uid = uuid.UUID(entry["id"])
            vec = entry.get("vector")
            if vec is None:
                self.params[entry["id"]] = Parameter(entry["name"], uuid=uid)
                continue
            key = (vec["name"], vec["length"])
            vector = vectors.get(key)
            if vector is None:
                vector = vectors[key] = ParameterVector(vec["name"], 0)
                vector._params = [None] * vec["length"]  # type: ignore[list-item]
            element = ParameterVectorElement(vector, vec["index"], uuid=uid)
            vector._params[vec["index"]] = element
            self.params[entry["id"]] = element

    def value(self, v: Any) -> Any:
        if isinstance(v, dict):
            if "expr" in v:
                return expression_from_node(self.node(v["expr"]))
            if "complex" in v:
                return complex(*v["complex"])
            raise PulseError(f"unknown value encoding {sorted(v)}")
        return v

    def node(self, data: list[Any]) -> tuple[Any, ...]:
        if data[0] == "p":
            try:
                return ("p", self.params[data[1]])
            except KeyError:
                raise PulseError(f"expression names parameter id {data[1]} missing from the parameter table") from None
        if data[0] == "c":
            return ("c", self.value(data[1]))
        return (data[0], *(self.node(child) for child in data[1:]))

    def channel(self, data: Any) -> Any:
        if data is None:
            return None
        cls = _lookup(CHANNEL_TYPES, data["type"], "channel")
        return cls(self.value(data["index"]))

    def pulse(self, data: dict[str, Any]) -> Pulse:
        if data["type"] == "Waveform":
            samples = [complex(r, i) for r, i in zip(data["real"], data["imag"])]
            return Waveform(samples, name=data["name"], epsilon=data["epsilon"], limit_amplitude=data["limit_amplitude"])
        cls = _lookup(PULSE_TYPES, data["type"], "pulse")
        pulse: SymbolicPulse = object.__new__(cls)
        params = {k: self.value(v) for k, v in data["params"].items()}
        SymbolicPulse.__init__(pulse, self.value(data["duration"]), params, data["name"], data["limit_amplitude"])
        return pulse

    def kernel(self, data: Any, cls: type[Kernel]) -> Any:
        return None if data is None else cls(data["name"], **data["params"])

    def instruction(self, data: dict[str, Any]) -> Instruction:
        cls = _lookup(INSTRUCTION_TYPES, data["type"], "instruction")
        name = data.get("name")
        if cls is Play:
            return Play(self.pulse(data["pulse"]), self.channel(data["channel"]), name=name)
        if cls is Acquire:
            return Acquire(self.value(data["duration"]), self.channel(data["channel"]), self.channel(data["mem_slot"]),
                           self.channel(data["reg_slot"]), self.kernel(data["kernel"], Kernel),
                           self.kernel(data["discriminator"], Discriminator), name=name)
        if issubclass(cls, Delay):
            delay: Instruction = cls(self.value(data["duration"]), self.channel(data["channel"]), name=name)
            return delay
        if cls is RelativeBarrier:
            return RelativeBarrier(*(self.channel(c) for c in data["channels"]), name=name)
        if cls is Reference:
            return Reference(*data["keys"])
        frame: Instruction = cls(self.value(data["value"]), self.channel(data["channel"]), name=name)
        return frame

    def table(self, rows: list[list[Any]]) -> dict[Parameter, Any]:
        return {self.params[pid]: self.value(v) for pid, v in rows}

    def program(self, data: dict[str, Any]) -> Program:
        kind = data.get("type")
        if kind == "Schedule":
            sched = Schedule(name=data["name"], metadata=data["metadata"])
            for t, child in data["children"]:
                sched._insert(t, self.program(child) if child["type"] == "Schedule" else self.instruction(child))
            sched._table = self.table(data["table"])
            return sched
        if kind != "ScheduleBlock":
            raise PulseError(f"unknown program type {kind!r}; expected Schedule or ScheduleBlock")
        align = data["alignment"]
        ctx_cls = _lookup(ALIGNMENTS, align["type"], "alignment")
        block = ScheduleBlock(name=data["name"], metadata=data["metadata"],
                              alignment_context=ctx_cls(*(self.value(v) for v in align["params"])))
        block._references = ReferenceManager(
            {tuple(k): None if v is None else self.program(v) for k, v in data["references"]})
        for child in data["blocks"]:
            block._tree.blocks.append(self.program(child) if child["type"] in ("ScheduleBlock", "Schedule")
                                      else self.instruction(child))
        block._table = self.table(data["table"])
        return block


def _lookup(table: dict[str, Any], name: str, what: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise PulseError(f"unknown {what} type {name!r} in pulse document; known: {sorted(table)}") from None


ValueWriter = _Writer
"""The encoder of values and parameter expressions, for other documents that carry them (circuits)."""
ValueReader = _Reader
