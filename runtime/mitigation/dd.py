"""Dynamical decoupling: the idle windows of a circuit filled with X-type pulse sequences that refocus them.

Why it exists: a qubit that idles in a superposition while its neighbour works picks up the static ZZ shift
and low-frequency detuning as a phase; an even number of pi pulses spread over the idle time echoes both away
(``dynamical_decoupling.enable``). Sequences (``sequence_type``, Qiskit Runtime's names), as native gates of
the translated circuit so that each pulse is the calibrated x and the axes are virtual Zs (frame changes):

- ``XX``: x, x;
- ``XpXm``: x, then x about -x (rz(pi) x rz(-pi)): the second pulse's amplitude error cancels the first's;
- ``XY4``: x, y, x, y with y = rz(-pi/2) x rz(pi/2).

Idle windows are the circuit's explicit delays (in the translated circuit, before lowering): each delay of T
samples with room for the n pulses of d samples gets spacings (T - n d) x [1/2n, 1/n, ..., 1/n, 1/2n]
(Qiskit's balanced spacing), rounded to whole samples; the rounding remainder goes to the middle spacing
(``extra_slack_distribution="middle"``) or is split between the two ends (``"edges"``). A delay too short
for the sequence is left as it is. ``skip_reset_qubits``: delays on a qubit before its first gate (still in
|0>, where decoupling does nothing but add pulse errors) are skipped. Implicit idles (a qubit waiting for
another one's gate) are not filled, and ``scheduling_method`` is not implemented (refused when set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qubitlab.errors import JobError

SEQUENCES: dict[str, tuple[tuple[tuple[str, float], ...], ...]] = {
    "XX": ((("x", 0.0),), (("x", 0.0),)),
    "XpXm": ((("x", 0.0),), (("rz", math.pi), ("x", 0.0), ("rz", -math.pi))),
    "XY4": ((("x", 0.0),), (("rz", -math.pi / 2), ("x", 0.0), ("rz", math.pi / 2)),
            (("x", 0.0),), (("rz", -math.pi / 2), ("x", 0.0), ("rz", math.pi / 2))),
}
"""Per sequence, its pulses; each pulse as native operations (``rz`` angles are virtual Zs around an x)."""


@dataclass(frozen=True)
class DdPlan:
    sequence_type: str
    extra_slack_distribution: str
    skip_reset_qubits: bool


def plan(options: Mapping[str, Any]) -> DdPlan | None:
    dd = options.get("dynamical_decoupling") or {}
    if not dd.get("enable"):
        return None
    sequence = dd.get("sequence_type", "XX")
    if sequence not in SEQUENCES:
        raise JobError(f"dynamical_decoupling.sequence_type {sequence!r}: valid are {', '.join(SEQUENCES)}")
    slack = dd.get("extra_slack_distribution", "middle")
    if slack not in ("middle", "edges"):
        raise JobError(f"dynamical_decoupling.extra_slack_distribution {slack!r}: valid are middle, edges")
    return DdPlan(sequence, slack, bool(dd.get("skip_reset_qubits", False)))


def spacings(slack: int, n: int, distribution: str) -> list[int]:
    """``n + 1`` whole-sample gaps summing to ``slack``: balanced (half gaps at the ends), remainder placed."""
    ideal = [slack / (2 * n)] + [slack / n] * (n - 1) + [slack / (2 * n)]
    gaps = [int(math.floor(g)) for g in ideal]
    rest = slack - sum(gaps)
    if distribution == "middle":
        gaps[len(gaps) // 2] += rest
    else:
        gaps[0] += rest // 2
        gaps[-1] += rest - rest // 2
    return gaps


def decoupled(translated: Any, dd: DdPlan, gate_map: Any) -> Any:
    """``translated`` with each long enough explicit delay replaced by the sequence and its spacings."""
    out = translated.copy_empty()
    touched: set[int] = set()
    for op in translated:
        if op.name != "delay" or (dd.skip_reset_qubits and op.qubits[0] not in touched):
            if op.name not in ("delay", "barrier"):
                touched.update(op.qubits)
            out.add(op)
            continue
        (q,) = op.qubits
        total = _samples(op, gate_map)
        pulses = SEQUENCES[dd.sequence_type]
        length = gate_map.get("x", (q,)).schedule.duration
        slack = total - len(pulses) * length
        if slack < 0:
            out.add(op)
            continue
        gaps = spacings(slack, len(pulses), dd.extra_slack_distribution)
        for gap, pulse in zip(gaps, pulses + ((),)):
            if gap:
                out.delay(gap, q, "dt")
            for name, angle in pulse:
                out.append(name, (q,), (angle,) if name == "rz" else ())
    return out


def _samples(op: Any, gate_map: Any) -> int:
    from qubitlab.circuits.circuit import DELAY_UNITS

    value = float(op.params[0])
    scale = DELAY_UNITS[op.unit or "dt"]
    return int(round(value if scale is None else value * scale / gate_map.dt))
