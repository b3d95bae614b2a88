"""Lowered schedules evolved with exact unitaries reproduce the circuit's unitary -- and the phase sign matters.

The simulator below is written here, on purpose independent of qubitlab's physics engine. Its model:

- each qubit is a two-level system in the frame rotating at its own frequency; every channel's frame frequency
  is its qubit's (``d_q`` at q's, ``u_k`` at its *target*'s), so there is no detuning and no free evolution;
- a play on a channel with frame phase ``phi`` (the sum of earlier ``ShiftPhase``s on that channel) of a
  constant envelope ``s = amp e^{i angle} e^{i phi}`` for ``T`` samples drives, on ``d_q``,
  ``H = (Omega |s| / 2) (cos b X + sin b Y)`` on q, and on ``u_k`` (control c, target t) the ideal
  cross-resonance ``H = (Omega_cr |s| / 2) Z_c (cos b X_t + sin b Y_t)``, where the drive axis ``b`` is
  ``-arg(s)`` in the *conjugating mixer* model (qubitlab's virtual lab: the transmon sees conj(s)) and
  ``+arg(s)`` in the *direct* model (IBM/Qiskit);
- the calibrations are ideal: ``sx`` is a square pulse of area giving exactly pi/2 about the frame's axis,
  ``x`` pi, and ``ecr(c, t)`` is CR(+pi/4) on u, ``x`` on d_c, CR(-pi/4) on u (amp angle pi), i.e.
  ``RZX(-pi/4) X_c RZX(pi/4)`` = Qiskit's ECRGate.

Plays that overlap in time must act on disjoint qubits (asserted), so applying each play's exact unitary in order
of start time is exact. Virtual Zs leave a Z rotation per qubit at the end (the total rz angle of that qubit),
invisible to a Z measurement; the comparison applies it, then checks equality up to global phase.
"""

from __future__ import annotations

import cmath
import math
from pathlib import Path

import numpy as np
import pytest
from circuit_reference import RZ, X, Y, Z, circuit_unitary, embed, equal_up_to_phase

from qubitlab import load_lab, pulse
from qubitlab.circuits import Circuit, GateMap, Target, lower, translate
from qubitlab.pulse import ControlChannel, DriveChannel, Play, ShiftPhase

ROOT = Path(__file__).resolve().parents[2]
LAB = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
N = 2
SQ_SAMPLES, CR_SAMPLES = 160, 400
OMEGA = math.pi / (0.5 * SQ_SAMPLES)        # rad per sample per unit amplitude: amp 0.5 for 160 dt is pi
OMEGA_CR = (math.pi / 4) / (0.1 * CR_SAMPLES)  # amp 0.1 for 400 dt is a ZX rotation of pi/4
CONTROL_OF = {ch: (LAB.wiring.channels[f"u{ch}"].control, LAB.wiring.channels[f"u{ch}"].target) for ch in (0, 1)}


def ideal_gate_map(phase_sign: int) -> GateMap:
    gm = GateMap.from_lab(LAB, phase_sign=phase_sign)
    for q in range(N):
        with pulse.build() as sx:
            pulse.play(pulse.Constant(SQ_SAMPLES, 0.25), DriveChannel(q))
        with pulse.build() as x:
            pulse.play(pulse.Constant(SQ_SAMPLES, 0.5), DriveChannel(q))
        gm.add("sx", (q,), sx).add("x", (q,), x)
    for k, (c, t) in CONTROL_OF.items():
        with pulse.build(default_alignment="sequential") as ecr:
            pulse.play(pulse.Constant(CR_SAMPLES, 0.1), ControlChannel(k))
            pulse.play(pulse.Constant(SQ_SAMPLES, 0.5), DriveChannel(c))
            pulse.play(pulse.Constant(CR_SAMPLES, 0.1, angle=math.pi), ControlChannel(k))
        gm.add("ecr", (c, t), ecr)
    return gm


def _axis(b: float) -> np.ndarray:
    return math.cos(b) * X + math.sin(b) * Y


def play_unitary(inst: Play, phase: float, conjugating_mixer: bool) -> tuple[np.ndarray, tuple[int, ...]]:
    params = inst.pulse.parameters
    s = params["amp"] * cmath.exp(1j * (params["angle"] + phase))
    b = -cmath.phase(s) if conjugating_mixer else cmath.phase(s)
    samples = int(inst.duration)
    channel = inst.channel
    if isinstance(channel, DriveChannel):
        angle = OMEGA * abs(s) * samples
        generator, qubits = _axis(b), (int(channel.index),)
    else:
        control, target = CONTROL_OF[int(channel.index)]
        angle = OMEGA_CR * abs(s) * samples
        generator, qubits = np.kron(_axis(b), Z), (control, target)   # Z on control (low bit), axis on target
    # exp(-i angle/2 G) for a Pauli-like G with G^2 = 1.
    unitary = math.cos(angle / 2) * np.eye(len(generator)) - 1j * math.sin(angle / 2) * generator
    return unitary, qubits


def simulate(schedule: pulse.ScheduleBlock, conjugating_mixer: bool) -> np.ndarray:
    phases: dict[object, float] = {}
    total = np.eye(2**N, dtype=complex)
    busy: list[tuple[int, int, tuple[int, ...]]] = []
    for t, inst in schedule.instructions:       # time order, frame changes before plays at equal times
        if isinstance(inst, ShiftPhase):
            phases[inst.channel] = phases.get(inst.channel, 0.0) + float(inst.phase)
        elif isinstance(inst, Play):
            unitary, qubits = play_unitary(inst, phases.get(inst.channel, 0.0), conjugating_mixer)
            stop = t + int(inst.duration)
            for start2, stop2, qubits2 in busy:
                assert not (start2 < stop and t < stop2 and set(qubits) & set(qubits2)), "overlapping plays"
            busy.append((t, stop, qubits))
            total = embed(unitary, qubits, N) @ total
    return total


def frame_remainder(native: Circuit) -> np.ndarray:
    """The Z rotation each qubit's frame carries at the end: RZ(total rz angle)."""
    out = np.eye(2**N, dtype=complex)
    for q in range(N):
        angle = sum(float(op.params[0]) for op in native if op.name == "rz" and op.qubits == (q,))
        out = embed(RZ(angle), (q,), N) @ out
    return out


def random_circuit(seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    qc = Circuit(N)
    for _ in range(12):
        kind = rng.integers(6)
        q = int(rng.integers(N))
        if kind == 0:
            qc.u(*rng.uniform(-math.pi, math.pi, 3), q)
        elif kind == 1:
            qc.rz(float(rng.uniform(-math.pi, math.pi)), q)
        elif kind == 2:
            qc.h(q).t(q)
        elif kind == 3:
            qc.cx(q, 1 - q)
        elif kind == 4:
            qc.rzz(float(rng.uniform(-2, 2)), 0, 1)
        else:
            qc.ecr(q, 1 - q)
    return qc


CONVENTIONS = [pytest.param(+1, True, id="phase_sign+1, conjugating mixer (qubitlab virtual lab)"),
               pytest.param(-1, False, id="phase_sign-1, direct mixer (Qiskit/IBM)")]


@pytest.mark.parametrize("phase_sign, conjugating_mixer", CONVENTIONS)
@pytest.mark.parametrize("seed", range(8))
def test_schedule_reproduces_the_circuit_unitary(phase_sign: int, conjugating_mixer: bool, seed: int) -> None:
    gm = ideal_gate_map(phase_sign)
    qc = random_circuit(seed)
    native = translate(qc, Target.from_lab(LAB, gm))
    evolved = simulate(lower(native, gm), conjugating_mixer)
    assert equal_up_to_phase(frame_remainder(native) @ evolved, circuit_unitary(qc, N))


@pytest.mark.parametrize("phase_sign, conjugating_mixer", CONVENTIONS)
def test_ideal_pulses_are_the_gates(phase_sign: int, conjugating_mixer: bool) -> None:
    gm = ideal_gate_map(phase_sign)
    for name, qubits, matrix in (("sx", (0,), embed(0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]), (0,), 2)),
                                 ("x", (1,), embed(X, (1,), 2))):
        evolved = simulate(lower(Circuit(N).append(name, qubits), gm), conjugating_mixer)
        assert equal_up_to_phase(evolved, matrix)
    ecr = np.array([[0, 1, 0, 1j], [1, 0, -1j, 0], [0, 1j, 0, 1], [-1j, 0, 1, 0]]) / math.sqrt(2)
    for c, t in ((0, 1), (1, 0)):
        evolved = simulate(lower(Circuit(N).ecr(c, t), gm), conjugating_mixer)
        assert equal_up_to_phase(evolved, embed(ecr, (c, t), 2))


@pytest.mark.parametrize("phase_sign, conjugating_mixer", [(+1, False), (-1, True)])
def test_the_wrong_phase_sign_for_the_mixer_gives_the_wrong_unitary(phase_sign: int, conjugating_mixer: bool) -> None:
    gm = ideal_gate_map(phase_sign)
    qc = Circuit(N).h(0).rz(0.7, 0).sx(0).rz(1.1, 1).cx(0, 1).ry(0.4, 1)
    native = translate(qc, Target.from_lab(LAB, gm))
    evolved = simulate(lower(native, gm), conjugating_mixer)
    assert not equal_up_to_phase(frame_remainder(native) @ evolved, circuit_unitary(qc, N), atol=1e-3)


def test_virtual_z_on_the_target_needs_the_control_channel_shift() -> None:
    # Dropping the ShiftPhase on u0 (control 0, target 1) after rz on qubit 1 breaks a following ECR(0, 1).
    gm = ideal_gate_map(+1)
    qc = Circuit(N).rz(0.9, 1).ecr(0, 1)
    block = lower(qc, gm)
    assert equal_up_to_phase(frame_remainder(qc) @ simulate(block, True), circuit_unitary(qc, N))
    gm.frame_channels = {0: (DriveChannel(0),), 1: (DriveChannel(1),)}
    wrong = lower(qc, gm)
    assert not equal_up_to_phase(frame_remainder(qc) @ simulate(wrong, True), circuit_unitary(qc, N), atol=1e-3)
