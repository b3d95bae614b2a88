"""Translation of a circuit to the device's native gates (rz, sx, x, ecr), using :mod:`.synthesis`.

One pass over the circuit. Single-qubit gates with numeric angles are multiplied into one pending 2x2 matrix
per qubit and synthesised (ZXZXZ) only when something else touches the qubit. A parameterised gate is split
into numeric pieces around an ``rz(parameter)`` (``rx(t) = H rz(t) H``, see :mod:`.synthesis`): the pieces join
the pending matrix, so parameters appear only in rz angles (linear in the parameters: binding later is exact)
and ``h rx(t) h`` is a single ``rz(t)``. Finally, rz's that follow each other on a qubit are added into one
(numbers and expressions alike). Two-qubit gates become ECRs in a direction the device has calibrated,
flipped with Hadamards otherwise.

No routing: a two-qubit gate on uncoupled qubits is refused with an error naming the coupling map. Inserting
SWAPs would silently change the circuit's depth and error budget; a lab that wants routing should choose a
layout explicitly (e.g. with Qiskit's transpiler) before handing the circuit here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qubitlab.circuits.circuit import Circuit, Operation, ParamValue
from qubitlab.circuits.gates import GATES, Matrix
from qubitlab.circuits.synthesis import (
    Step,
    flip_ecr,
    EPS,
    numeric_matrix,
    parametric_pieces,
    synthesize_matrix,
    two_qubit_steps,
    wrap_angle,
)
from qubitlab.errors import CircuitError
from qubitlab.pulse.parameters import ParameterExpression

if TYPE_CHECKING:
    from qubitlab.circuits.gate_map import GateMap
    from qubitlab.config.models import LabConfig


@dataclass(frozen=True)
class Target:
    """What the translator may emit: the native gate names, the coupled pairs, the calibrated ECR directions and
    the qubits the device has (``None`` for a hand-made target that does not say: then no qubit is refused)."""

    basis: frozenset[str]
    couplings: tuple[tuple[int, int], ...]
    ecr_directions: frozenset[tuple[int, int]]
    qubits: frozenset[int] | None = None

    @classmethod
    def make(cls, basis: Iterable[str] = ("rz", "sx", "x", "ecr"), couplings: Iterable[tuple[int, int]] = (),
             ecr_directions: Iterable[tuple[int, int]] | None = None, qubits: Iterable[int] | None = None) -> Target:
        pairs = tuple((int(a), int(b)) for a, b in couplings)
        directions = (frozenset((int(a), int(b)) for a, b in ecr_directions) if ecr_directions is not None
                      else frozenset(pairs) | frozenset((b, a) for a, b in pairs))
        known = frozenset(int(q) for q in qubits) if qubits is not None else None
        target = cls(frozenset(basis), pairs, directions, known)
        strays = sorted({q for pair in pairs for q in pair} - known) if known is not None else []
        if strays:
            raise CircuitError(f"couplings {list(pairs)} name qubits {strays} that are not among the target's "
                               f"qubits {sorted(known or ())}")
        missing = {"rz", "sx"} - target.basis
        if missing:
            raise CircuitError(f"the native basis {sorted(target.basis)} lacks {sorted(missing)}; "
                               "qubitlab synthesises single-qubit gates from rz and sx")
        return target

    @classmethod
    def from_lab(cls, lab: LabConfig, gate_map: GateMap | None = None) -> Target:
        """Basis and couplings from ``lab.topology``; ECR directions from the gate map's ``ecr`` entries when
        given, else from the lab's control channels (``u`` channel with ``control`` c and ``target`` t: c -> t)."""
        if gate_map is not None:
            directions = [qubits for name, qubits in gate_map.calibrated() if name == "ecr" and len(qubits) == 2]
        else:
            directions = list(lab.control_channels().values())
        return cls.make(lab.topology.native_gates, lab.topology.couplings, directions, lab.topology.qubits)

    def coupled(self, a: int, b: int) -> bool:
        return (a, b) in self.couplings or (b, a) in self.couplings


class _Translator:
    def __init__(self, circuit: Circuit, target: Target) -> None:
        self.target = target
        self.out = circuit.copy_empty()
        self.ops: list[Operation] = []
        self.pending: dict[int, Matrix] = {}

    def flush(self, *qubits: int) -> None:
        for q in qubits:
            matrix = self.pending.pop(q, None)
            if matrix is not None:
                self.emit_native(synthesize_matrix(matrix, q, self.target.basis))

    def emit_native(self, steps: list[Step]) -> None:
        """Synthesised rz/sx/x steps (neighbouring rz's are merged at the end, by :func:`merge_rz`)."""
        for name, qubits, args in steps:
            assert isinstance(args, tuple)
            self.ops.append(Operation(name, qubits, args))

    def emit_steps(self, steps: list[Step]) -> None:
        for name, qubits, args in steps:
            if name == "unitary":
                q = qubits[0]
                assert isinstance(args, np.ndarray)
                previous = self.pending.get(q)
                self.pending[q] = args if previous is None else args @ previous
            elif name == "ecr":
                self.ecr(*qubits)
            else:
                assert isinstance(args, tuple)
                self.single(name, qubits[0], args)

    def single(self, name: str, q: int, params: tuple[ParamValue, ...]) -> None:
        matrix = numeric_matrix(name, params)
        pieces: list[Matrix | ParamValue] = [matrix] if matrix is not None else parametric_pieces(name, params)
        for piece in pieces:
            if isinstance(piece, np.ndarray):
                previous = self.pending.get(q)
                self.pending[q] = piece if previous is None else piece @ previous
            else:
                self.flush(q)
                self.ops.append(Operation("rz", (q,), (piece,)))

    def check_qubits(self, circuit: Circuit) -> None:
        """Refuse an operation on a qubit the device does not have (before anything is translated)."""
        known = self.target.qubits
        if known is None:
            return
        for op in circuit:
            missing = [q for q in op.qubits if q not in known]
            if missing:
                raise CircuitError(f"{op.name} on qubit {missing[0]}: the lab has no qubit {missing[0]}; its qubits "
                                   f"are {sorted(known)}. Map the circuit's qubits onto those (qubitlab does not "
                                   "choose a layout)")

    def ecr(self, a: int, b: int) -> None:
        if (a, b) in self.target.ecr_directions:
            self.flush(a, b)
            self.ops.append(Operation("ecr", (a, b)))
        elif (b, a) in self.target.ecr_directions:
            self.emit_steps(flip_ecr(a, b))
        else:
            raise CircuitError(f"no calibrated ecr between qubits {a} and {b} in either direction; calibrated "
                               f"ecr directions: {sorted(self.target.ecr_directions)}")

    def two_qubit(self, op: Operation) -> None:
        a, b = op.qubits
        if not self.target.coupled(a, b):
            raise CircuitError(
                f"{op.name} on qubits ({a}, {b}): they are not coupled; coupling map: {list(self.target.couplings)}. "
                "qubitlab does not route: choose a layout where two-qubit gates act on coupled pairs"
            )
        if op.name in self.target.basis and op.name != "ecr":
            self.flush(a, b)
            self.ops.append(op)
            return
        if "ecr" not in self.target.basis:
            raise CircuitError(f"{op.name}: the native basis {sorted(self.target.basis)} has no ecr to build it from")
        self.emit_steps(two_qubit_steps(op.name, op.qubits, op.params))

    def run(self, circuit: Circuit) -> Circuit:
        self.check_qubits(circuit)
        for op in circuit:
            if op.name in GATES:
                if GATES[op.name].num_qubits == 1:
                    self.single(op.name, op.qubits[0], op.params)
                else:
                    self.two_qubit(op)
                continue
            if op.name == "reset" and "reset" not in self.target.basis:
                raise CircuitError(
                    f"reset on qubit {op.qubits[0]}: this device does not support mid-circuit reset "
                    f"(native operations: {sorted(self.target.basis)}); start a new circuit instead"
                )
            # a measurement flushes every qubit's pending gates, not only its own: they commute with it, and
            # emitting them later would split simultaneous measurements of qubits read out together
            self.flush(*(sorted(self.pending) if op.name == "measure" else op.qubits))
            self.ops.append(op)
        self.flush(*sorted(self.pending))
        self.out._data = merge_rz(self.ops)
        return self.out


def merge_rz(ops: list[Operation]) -> list[Operation]:
    """Each run of rz's on one qubit (nothing else on that qubit between them) added into one rz; a numeric sum
    that is a multiple of 2 pi is dropped. Other qubits' operations may sit between: they commute with it."""
    out: list[Operation] = []
    open_rz: dict[int, int] = {}
    for op in ops:
        if op.name == "rz":
            (q,) = op.qubits
            i = open_rz.get(q)
            if i is not None:
                out[i] = Operation("rz", (q,), (_angle_sum(out[i].params[0], op.params[0]),))
                continue
            open_rz[q] = len(out)
        else:
            for q in op.qubits:
                open_rz.pop(q, None)
        out.append(op)
    return [op for op in out if not (
        op.name == "rz" and not isinstance(op.params[0], ParameterExpression) and abs(op.params[0]) < EPS)]


def _angle_sum(a: ParamValue, b: ParamValue) -> ParamValue:
    total = a + b
    if isinstance(total, ParameterExpression):
        if total.parameters:
            return total
        total = float(total)
    return wrap_angle(total)


def translate(circuit: Circuit, target: Target) -> Circuit:
    """``circuit`` in the target's native gates, exact up to global phase (refuses uncoupled two-qubit gates)."""
    return _Translator(circuit, target).run(circuit)
