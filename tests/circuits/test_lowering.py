"""Lowering to pulses: hand-written expected schedules (times, channels, frame changes, memory slots)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from qubitlab import load_lab, pulse
from qubitlab.circuits import Circuit, GateMap, LoweredCircuit, Parameter, frame_channels_from_lab, instructions_of, lower
from qubitlab.circuits.gate_map import measure_groups_from_lab
from qubitlab.errors import CircuitError
from qubitlab.pulse import (
    Acquire,
    AcquireChannel,
    ControlChannel,
    DriveChannel,
    MeasureChannel,
    MemorySlot,
    Play,
    RelativeBarrier,
    ShiftPhase,
)

ROOT = Path(__file__).resolve().parents[2]
LAB = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
SX = {q: pulse.Drag(160, 0.1, 40, 0.5, name=f"sx{q}") for q in (0, 1)}
XP = {q: pulse.Drag(160, 0.2, 40, 0.5, name=f"x{q}") for q in (0, 1)}
CR_PLUS = pulse.GaussianSquare(400, 0.1, 32, width=272, name="cr+")
CR_MINUS = pulse.GaussianSquare(400, 0.1, 32, width=272, angle=math.pi, name="cr-")
RO = {q: pulse.GaussianSquare(1000, 0.1, 32, width=872, name=f"ro{q}") for q in (0, 1)}


def gate_map(phase_sign: int = 1) -> GateMap:
    gm = GateMap.from_lab(LAB, phase_sign=phase_sign)
    for q in (0, 1):
        with pulse.build(name=f"sx{q}") as sx:
            pulse.play(SX[q], DriveChannel(q))
        with pulse.build(name=f"x{q}") as x:
            pulse.play(XP[q], DriveChannel(q))
        with pulse.build(name=f"measure{q}") as meas:
            pulse.play(RO[q], MeasureChannel(q))
            pulse.acquire(1000, AcquireChannel(q), MemorySlot(q))
        gm.add("sx", (q,), sx).add("x", (q,), x).add("measure", (q,), meas)
    with pulse.build(name="ecr01", default_alignment="sequential") as ecr:
        pulse.play(CR_PLUS, ControlChannel(0))
        pulse.play(XP[0], DriveChannel(0))
        pulse.play(CR_MINUS, ControlChannel(0))
    gm.add("ecr", (0, 1), ecr)
    return gm


def timeline(block: pulse.ScheduleBlock) -> list[tuple[int, object]]:
    return sorted(instructions_of(block), key=lambda item: (item[0], repr(item[1])))


def expected(*items: tuple[int, object]) -> list[tuple[int, object]]:
    return sorted(items, key=lambda item: (item[0], repr(item[1])))


def test_frame_channels_from_the_lab_wiring() -> None:
    assert frame_channels_from_lab(LAB) == {0: (DriveChannel(0), ControlChannel(1)),
                                            1: (DriveChannel(1), ControlChannel(0))}
    lab5 = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    assert frame_channels_from_lab(lab5)[2] == (DriveChannel(2), ControlChannel(2), ControlChannel(5))


def test_virtual_z_on_a_cr_target_shifts_the_control_channel_phase() -> None:
    # rz on q1 (the target of u0) turns d1 and u0; rz on q0 turns d0 and u1 (u1 drives q1 at q0's frequency).
    qc = Circuit(2).rz(0.3, 1).rz(0.5, 0).ecr(0, 1)
    assert timeline(lower(qc, gate_map())) == expected(
        (0, ShiftPhase(0.3, DriveChannel(1))), (0, ShiftPhase(0.3, ControlChannel(0))),
        (0, ShiftPhase(0.5, DriveChannel(0))), (0, ShiftPhase(0.5, ControlChannel(1))),
        (0, Play(CR_PLUS, ControlChannel(0))), (400, Play(XP[0], DriveChannel(0))),
        (560, Play(CR_MINUS, ControlChannel(0))),
    )


def test_qiskit_phase_convention_negates_the_shift() -> None:
    qc = Circuit(2).rz(0.3, 1)
    assert timeline(lower(qc, gate_map(phase_sign=-1))) == expected(
        (0, ShiftPhase(-0.3, DriveChannel(1))), (0, ShiftPhase(-0.3, ControlChannel(0))))


def test_gates_wait_for_every_earlier_gate_on_their_qubits_on_all_channels() -> None:
    # The ECR plays only on u0 and d0, yet x on qubit 1 (on d1) must wait for its end at 160 + 960.
    qc = Circuit(2).sx(0).x(1).ecr(0, 1).x(1).sx(0).rz(0.25, 1).sx(1)
    assert timeline(lower(qc, gate_map())) == expected(
        (0, Play(SX[0], DriveChannel(0))), (0, Play(XP[1], DriveChannel(1))),
        (160, Play(CR_PLUS, ControlChannel(0))), (560, Play(XP[0], DriveChannel(0))),
        (720, Play(CR_MINUS, ControlChannel(0))),
        (1120, Play(XP[1], DriveChannel(1))), (1120, Play(SX[0], DriveChannel(0))),
        (1280, ShiftPhase(0.25, DriveChannel(1))), (1280, ShiftPhase(0.25, ControlChannel(0))),
        (1280, Play(SX[1], DriveChannel(1))),
    )


def test_independent_qubits_run_in_parallel() -> None:
    qc = Circuit(2).sx(0).sx(0).sx(0).x(1)
    times = [t for t, inst in timeline(lower(qc, gate_map())) if isinstance(inst, Play)]
    assert times == [0, 0, 160, 320]


def test_measurement_groups_come_from_shared_readout_lines_and_digitizer_inputs() -> None:
    assert measure_groups_from_lab(LAB) == (frozenset({0, 1}),)     # m0, m1 on "readout"; a0, a1 on input 1
    channels = LAB.wiring.channels

    def rewired(**changes: dict[str, str]) -> tuple[frozenset[int], ...]:
        new = {**channels, **{name: channels[name].model_copy(update=update) for name, update in changes.items()}}
        return measure_groups_from_lab(LAB.model_copy(update={"wiring": LAB.wiring.model_copy(
            update={"channels": new})}))

    assert rewired(m1={"line": "readout_b"}, a1={"input": "2"}) == (frozenset({0}), frozenset({1}))
    assert rewired(m1={"line": "readout_b"}) == (frozenset({0, 1}),)   # still one digitizer input
    assert rewired(a1={"input": "2"}) == (frozenset({0, 1}),)          # still one readout line
    assert GateMap.from_lab(LAB).measure_groups == (frozenset({0, 1}),)


def test_grouped_measurements_start_together_after_the_group_stops_driving() -> None:
    # The reviewer's case: m0 and m1 share the readout line and the digitizer input, so q1's readout may not
    # start at t=0 while q0 is still driving; both start when the x on q0 (160 samples) ends.
    qc = Circuit(2, 2).x(0).measure(0, 1).measure(1, 0)
    assert timeline(lower(qc, gate_map())) == expected(
        (0, Play(XP[0], DriveChannel(0))),
        (160, Play(RO[0], MeasureChannel(0))), (160, Acquire(1000, AcquireChannel(0), MemorySlot(1))),
        (160, Play(RO[1], MeasureChannel(1))), (160, Acquire(1000, AcquireChannel(1), MemorySlot(0))),
    )


def test_a_lone_measurement_waits_for_the_whole_group_and_a_repeat_starts_a_new_batch() -> None:
    qc = Circuit(2, 3).x(0).x(0).measure(1, 0).measure(1, 1).measure(0, 2)
    acquires = sorted((t, inst.channel.index, inst.mem_slot.index) for t, inst in timeline(lower(qc, gate_map()))
                      if isinstance(inst, Acquire))
    # q1's first readout waits for q0's two x pulses (320); the second measure of q1 opens a new batch at
    # 320 + 1000, which q0's measure joins.
    assert acquires == [(320, 1, 0), (1320, 0, 2), (1320, 1, 1)]
    # A group may name qubits the circuit does not have (a 1-qubit circuit on a 2-qubit lab).
    one = [(t, inst) for t, inst in timeline(lower(Circuit(1, 1).x(0).measure(0, 0), gate_map()))
           if isinstance(inst, Acquire)]
    assert one == [(160, Acquire(1000, AcquireChannel(0), MemorySlot(0)))]


def test_ungrouped_measurements_are_independent() -> None:
    gm = replace(gate_map(), measure_groups=(frozenset({0}), frozenset({1})))
    qc = Circuit(2, 2).x(0).measure(0, 0).measure(1, 1)
    acquires = sorted((t, inst.channel.index) for t, inst in timeline(lower(qc, gm)) if isinstance(inst, Acquire))
    assert acquires == [(0, 1), (160, 0)]
    with pytest.raises(CircuitError, match="must not overlap"):
        GateMap(measure_groups=(frozenset({0, 1}), frozenset({1, 2})))


def test_barrier_aligns_the_qubits() -> None:
    qc = Circuit(2).x(0).x(0).barrier().sx(1)
    block = lower(qc, gate_map())
    plays = [(t, inst) for t, inst in timeline(block) if isinstance(inst, Play)]
    assert plays[-1] == (320, Play(SX[1], DriveChannel(1)))
    barriers = [(t, inst) for t, inst in timeline(block) if isinstance(inst, RelativeBarrier)]
    assert len(barriers) == 1 and barriers[0][0] == 320
    assert {DriveChannel(0), DriveChannel(1), ControlChannel(0), ControlChannel(1)} <= set(barriers[0][1].channels)


def test_barrier_does_not_wait_on_channels_other_qubits_use_later() -> None:
    # After ecr(0, 1) qubit 0 keeps working on d0; a barrier on qubit 1 alone must not wait for that.
    qc = Circuit(2).ecr(0, 1).x(0).x(0).barrier(1).x(1)
    plays = [(t, inst) for t, inst in timeline(lower(qc, gate_map())) if isinstance(inst, Play)]
    assert (960, Play(XP[1], DriveChannel(1))) in plays


def test_delay_in_seconds_uses_dt() -> None:
    qc = Circuit(1).delay(100, 0, "ns").sx(0).delay(32, 0).x(0)
    items = timeline(lower(qc, gate_map()))
    plays = [(t, inst) for t, inst in items if isinstance(inst, Play)]
    assert plays == [(100, Play(SX[0], DriveChannel(0))), (292, Play(XP[0], DriveChannel(0)))]
    with pytest.raises(CircuitError, match="whole"):
        lower(Circuit(1).delay(0.5, 0, "ns"), gate_map())


def test_missing_gate_names_gate_qubits_and_what_is_calibrated() -> None:
    with pytest.raises(CircuitError, match=r"no calibrated schedule for ecr on qubits \(1, 0\).*ecr\(0, 1\)"):
        lower(Circuit(2).ecr(1, 0), gate_map())
    with pytest.raises(CircuitError, match="no calibrated schedule for h"):
        lower(Circuit(1).h(0), gate_map())
    with pytest.raises(CircuitError, match="no mid-circuit reset"):
        lower(Circuit(1).reset(0), gate_map())


def test_parameterised_circuit_lowers_once_and_binds_like_lowering_the_bound_circuit() -> None:
    a, b = Parameter("a"), Parameter("b")
    qc = Circuit(2).rz(a, 0).sx(0).rz(2 * b + 1, 1).ecr(0, 1).rz(a - b, 1).sx(1)
    lowered = LoweredCircuit.build(qc, gate_map())
    assert lowered.parameters == {a, b}
    assert lowered.schedule.parameters == {a, b}
    for values in ({a: 0.1, b: -0.4}, {a: 2.0, b: 0.3}):
        bound = lowered.bind(values)
        assert not bound.parameters
        assert timeline(bound) == timeline(lower(qc.assign_parameters(values), gate_map()))
    assert lowered.schedule.parameters == {a, b}  # binding left the lowered schedule untouched
    with pytest.raises(CircuitError, match="not parameters of this lowered circuit"):
        lowered.bind({Parameter("c"): 1.0})


def test_gate_arguments_bind_template_parameters() -> None:
    amp = Parameter("amp")
    with pulse.build() as rx_template:
        pulse.play(pulse.Drag(160, amp, 40, 0.5), DriveChannel(0))
    gm = gate_map().add("rx", (0,), rx_template, params=(amp,))
    block = lower(Circuit(1).rx(0.05, 0).rx(0.1, 0), gm)
    plays = [(t, inst) for t, inst in timeline(block) if isinstance(inst, Play)]
    assert plays == [(0, Play(pulse.Drag(160, 0.05, 40, 0.5), DriveChannel(0))),
                     (160, Play(pulse.Drag(160, 0.1, 40, 0.5), DriveChannel(0)))]


def test_phase_sign_must_be_plus_or_minus_one() -> None:
    with pytest.raises(CircuitError, match="phase_sign"):
        GateMap(phase_sign=2)


def test_layered_five_qubit_circuit_lowers_without_overlaps_at_independent_asap_times(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The benchmark's circuit family on virtual_5q; start times checked against per-qubit clocks computed here.
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.circuits import gate_map as bench_gate_map
    from benchmarks.circuits import random_circuit

    lab5 = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    gm, qc = bench_gate_map(lab5), random_circuit(seed=3)
    block = lower(qc, gm)
    schedule = pulse.block_to_schedule(block.assign_parameters({p: 0.1 for p in block.parameters}, inplace=False))
    clock = [0] * 5
    starts = []
    for op in qc:
        if op.name == "rz":
            continue
        t = max(clock[q] for q in op.qubits)
        if op.name != "barrier":
            starts.append((t, op.name, op.qubits))
            t += gm.entries[(op.name, op.qubits)].schedule.duration
        for q in op.qubits:
            clock[q] = t
    assert schedule.duration == max(clock)
    drive_plays = sorted(t for t, inst in schedule.instructions if isinstance(inst, Play)
                         and isinstance(inst.channel, (DriveChannel, MeasureChannel)))
    # Every gate plays on a drive or measure channel at its start (ecr: the x on the control at +400).
    expected_plays = sorted(t + (400 if name == "ecr" else 0) for t, name, _ in starts)
    assert drive_plays == expected_plays


FRAMES = {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9, "m0": 7.051e9, "m1": 7.118e9}
"""virtual_2q's device frequencies per channel, written out (tests/instrument_sweeps.py derives the same by the
calibration layer's rule; test_frames_rule_matches_the_hand_written_table checks they agree)."""


def test_lowered_circuit_compiles_for_the_virtual_lab() -> None:
    from qubitlab.circuits import Target, translate
    from qubitlab.pulse.compiler import compile

    theta = Parameter("theta")
    qc = Circuit(2).h(0).cx(0, 1).rz(theta, 1).sx(1).measure_all()
    gm = gate_map()
    lowered = LoweredCircuit.build(translate(qc, Target.from_lab(LAB, gm)), gm)
    bound = lowered.bind({theta: 0.3})
    program = compile(bound, LAB, frames=FRAMES)
    # Both readouts start together when the last gate ends; the compiled acquisition windows say the same.
    acquires = sorted(t for t, inst in timeline(bound) if isinstance(inst, Acquire))
    assert len(acquires) == 2 and acquires[0] == acquires[1] == bound.duration - 1000
    windows = program.digitizer_programs()["digitizer"].windows
    assert sorted(w.memory_slot for w in windows) == [0, 1]
    # timing.dt = 1 ns and the digitizer samples at 500 MHz: a window starts at half the acquire's dt count.
    assert {w.start for w in windows} == {acquires[0] // 2}


def test_delay_blocks_every_channel_the_qubit_owns() -> None:
    # q1 owns d1, m1 and u0 (u0 drives at q1's frequency; its frame is q1's), so the delay sits on all three.
    items = timeline(lower(Circuit(2).delay(100, 1).x(1), gate_map()))
    assert [(t, inst) for t, inst in items if isinstance(inst, pulse.Delay)] == expected(
        (0, pulse.Delay(100, DriveChannel(1))), (0, pulse.Delay(100, ControlChannel(0))),
        (0, pulse.Delay(100, MeasureChannel(1))))
    assert [(t, inst) for t, inst in items if isinstance(inst, Play)] == [(100, Play(XP[1], DriveChannel(1)))]


def test_a_standard_gate_that_is_not_native_says_to_translate_first() -> None:
    from qubitlab.circuits import Target

    with pytest.raises(CircuitError, match=r"no calibrated schedule for h.*translate\(circuit, Target.from_lab"):
        lower(Circuit(1).h(0), gate_map())
    with pytest.raises(CircuitError, match=r"ecr on qubits \(1, 0\).*translate\(circuit"):
        lower(Circuit(2).ecr(1, 0), gate_map())
    gm = gate_map()
    # h = rz(pi/2) sx rz(pi/2) up to phase: one sx pulse once translated.
    plays = [(t, inst) for t, inst in timeline(lower(Circuit(1).h(0), gm, target=Target.from_lab(LAB, gm)))
             if isinstance(inst, Play)]
    assert plays == [(0, Play(SX[0], DriveChannel(0)))]


def test_template_parameters_are_bindable_and_bind_is_strict_by_default() -> None:
    a, amp = Parameter("a"), Parameter("amp")
    with pulse.build() as sx_template:
        pulse.play(pulse.Drag(160, amp, 40, 0.5), DriveChannel(0))
    gm = gate_map().add("sx", (0,), sx_template)
    lowered = LoweredCircuit.build(Circuit(1).rz(a, 0).sx(0), gm)
    assert lowered.parameters == {a, amp}
    bound = lowered.bind({a: 0.1, amp: 0.2})
    assert timeline(bound) == expected((0, ShiftPhase(0.1, DriveChannel(0))),
                                       (0, ShiftPhase(0.1, ControlChannel(1))),
                                       (0, Play(pulse.Drag(160, 0.2, 40, 0.5), DriveChannel(0))))
    with pytest.raises(CircuitError, match=r"no value for amp; bind every parameter \(a, amp\)"):
        lowered.bind({a: 0.1})
    partial = lowered.bind({a: 0.1}, strict=False)
    assert partial.parameters == {amp}


def test_binding_does_not_lower_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from qubitlab.circuits import lowering

    runs = []
    original = lowering._Lowering.run

    def counted(self: lowering._Lowering) -> pulse.ScheduleBlock:
        runs.append(self.circuit)
        return original(self)

    monkeypatch.setattr(lowering._Lowering, "run", counted)
    a = Parameter("a")
    qc = Circuit(2).rz(a, 0).sx(0).ecr(0, 1).rz(-a, 1)
    lowered = LoweredCircuit.build(qc, gate_map())
    assert len(runs) == 1
    for value in (0.1, 0.2, 0.3):
        bound = lowered.bind({a: value})
        assert ShiftPhase(-value, DriveChannel(1)) in [inst for _, inst in timeline(bound)]
    assert len(runs) == 1


def test_grouped_measurements_run_on_the_virtual_lab() -> None:
    # Through real sockets: the staggered program used to be refused by the virtual device ("mid-circuit
    # measurement is not simulated", q0 still driving after q1's acquisition began). Now it runs, and only
    # qubit 0's readout moves when x is applied to qubit 0.
    from virtual_rig import started_rig

    from qubitlab.pulse.compiler import compile

    shots = 200
    means = {}
    with started_rig() as rig:
        for flipped in (False, True):
            qc = Circuit(2, 2)
            if flipped:
                qc.x(0)
            qc.measure(0, 0).measure(1, 1)
            result = rig.executor.run(compile(lower(qc, gate_map()), rig.lab, frames=FRAMES), shots=shots)
            means[flipped] = [complex(result[slot].mean()) for slot in (0, 1)]
            spread = max(float(result[slot].std()) for slot in (0, 1))
    noise = spread / shots**0.5                      # standard error of a mean IQ point
    assert abs(means[True][0] - means[False][0]) > 20 * noise
    assert abs(means[True][1] - means[False][1]) < 6 * noise
