"""Builder semantics: alignment contexts, barriers, offsets, call and reference, with times worked out by hand."""

from __future__ import annotations

import math

import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError, UnassignedReferenceError

D0, D1, U0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0)
M0, A0 = pulse.MeasureChannel(0), pulse.AcquireChannel(0)


def timeline(program: pulse.ScheduleBlock | pulse.Schedule) -> list[tuple[int, str, str, int]]:
    """(time, instruction type, channel names, duration) in time order."""
    return [
        (t, type(inst).__name__, ",".join(sorted(c.name for c in inst.channels)), int(inst.duration))
        for t, inst in program.instructions
    ]


def const(duration: int, amp: float = 0.1) -> pulse.Constant:
    return pulse.Constant(duration, amp)


def test_align_left_starts_each_channel_as_early_as_possible() -> None:
    with pulse.build() as prog:
        pulse.play(const(100), D0)
        pulse.play(const(40), D1)
        pulse.play(const(60), D0)
        pulse.delay(10, D1)
    # Qiskit's order: by time, then shorter instructions first.
    assert timeline(prog) == [
        (0, "Play", "d1", 40),
        (0, "Play", "d0", 100),
        (40, "Delay", "d1", 10),
        (100, "Play", "d0", 60),
    ]
    assert prog.duration == 160


def test_align_right_ends_flush_with_the_context() -> None:
    with pulse.build(default_alignment="right") as prog:
        pulse.play(const(100), D0)
        pulse.play(const(40), D1)
        pulse.play(const(60), D0)
    # d0 carries 160 samples; d1's only pulse ends at 160 too, so it starts at 120.
    assert timeline(prog) == [(0, "Play", "d0", 100), (100, "Play", "d0", 60), (120, "Play", "d1", 40)]


def test_align_sequential_crosses_channels() -> None:
    with pulse.build() as prog:
        with pulse.align_sequential():
            pulse.play(const(100), D0)
            pulse.play(const(40), D1)
            pulse.shift_phase(0.5, D0)
            pulse.play(const(60), D0)
    assert timeline(prog) == [
        (0, "Play", "d0", 100),
        (100, "Play", "d1", 40),
        (140, "ShiftPhase", "d0", 0),
        (140, "Play", "d0", 60),
    ]


def test_nested_contexts_are_placed_as_units() -> None:
    with pulse.build() as prog:
        with pulse.align_sequential():
            with pulse.align_left():
                pulse.play(const(160), D0)
                pulse.play(const(160), D1)
            with pulse.align_left():
                pulse.play(const(800), U0)
        pulse.play(const(50), D1)  # root is left-aligned: d1 is free from 160 on
    assert timeline(prog) == [
        (0, "Play", "d0", 160),
        (0, "Play", "d1", 160),
        (160, "Play", "d1", 50),
        (160, "Play", "u0", 800),
    ]


def test_barrier_synchronises_its_channels() -> None:
    with pulse.build() as prog:
        pulse.play(const(100), D0)
        pulse.barrier(D0, D1)
        pulse.play(const(20), D1)
    times = {(kind, chans): t for t, kind, chans, _ in timeline(prog)}
    assert times[("RelativeBarrier", "d0,d1")] == 100
    assert times[("Play", "d1")] == 100


def test_align_equispaced_spreads_children_evenly() -> None:
    # Three 10-sample pulses in 100 samples: 70 idle samples, two gaps of 35, no margin.
    with pulse.build(default_alignment="sequential") as prog:
        with pulse.align_equispaced(100):
            for _ in range(3):
                pulse.play(const(10), D0)
    assert [t for t, *_ in timeline(prog)] == [0, 45, 90]
    assert prog.duration == 100


def test_align_equispaced_single_child_is_centred() -> None:
    with pulse.build(default_alignment="sequential") as prog:
        with pulse.align_equispaced(100):
            pulse.play(const(10), D0)
    # delay, mod = divmod(90, 2) -> starts at 45 + 0; the context still lasts 100 samples.
    assert timeline(prog)[0][0] == 45
    assert prog.duration == 100


def test_left_alignment_counts_a_leading_gap_twice_as_qiskit_does() -> None:
    """Qiskit 1.4's AlignLeft inserts a child at its own first start time on channels new to the parent, so
    a context that begins idle (equispaced, func) is offset by that idle time twice. Kept for compatibility:
    programs must time out exactly as they did under Qiskit."""
    with pulse.build() as prog:  # left-aligned root
        with pulse.align_equispaced(100):
            pulse.play(const(10), D0)
    assert timeline(prog) == [(90, "Play", "d0", 10), (100, "RelativeBarrier", "d0", 0)]
    assert prog.duration == 100


def test_align_func_places_centres() -> None:
    def udd(j: int) -> float:
        return math.sin(math.pi * j / (2 * 2 + 2)) ** 2

    with pulse.build(default_alignment="sequential") as prog:
        with pulse.align_func(600, udd):
            pulse.play(const(20), D0)
            pulse.play(const(20), D0)
    # centres at 600 sin^2(pi/6) = 150 and 600 sin^2(pi/3) = 450, less half a pulse, truncated to int
    # (sin^2(pi/6) is 0.24999999999999994 in floating point, so the first start is int(139.99...) = 139)
    expected = [int(600 * udd(1) - 10), int(600 * udd(2) - 10)]
    assert expected == [139, 439]
    assert [t for t, kind, *_ in timeline(prog) if kind == "Play"] == expected


def test_align_func_refuses_positions_outside_the_context() -> None:
    with pytest.raises(PulseError, match="outside the context"):
        with pulse.build() as prog:
            with pulse.align_func(100, lambda j: 1.5):
                pulse.play(const(10), D0)
        prog.duration


def test_phase_offset_shifts_and_restores() -> None:
    with pulse.build() as prog:
        with pulse.phase_offset(0.25, D0):
            pulse.play(const(10), D0)
    kinds = [(kind, float(inst.phase)) for (_, inst), (_, kind, _, _) in zip(prog.instructions, timeline(prog))
             if kind == "ShiftPhase"]
    assert kinds == [("ShiftPhase", 0.25), ("ShiftPhase", -0.25)]


def test_frequency_offset_compensates_accumulated_phase() -> None:
    class Backend:
        dt = 1e-9

    with pulse.build(backend=Backend()) as prog:
        with pulse.frequency_offset(1e6, D0, compensate_phase=True):
            pulse.play(const(250), D0)
    phases = [inst.phase for _, inst in prog.instructions if isinstance(inst, pulse.ShiftPhase)]
    # 250 samples of 1 ns at 1 MHz is a quarter turn.
    assert phases == [pytest.approx(-math.pi / 2)]
    shifts = [inst.frequency for _, inst in prog.instructions if isinstance(inst, pulse.ShiftFrequency)]
    assert shifts == [1e6, -1e6]


def test_acquire_takes_a_qubit_index_or_channel() -> None:
    with pulse.build() as prog:
        pulse.acquire(100, 0, pulse.MemorySlot(0))
        pulse.acquire(100, pulse.AcquireChannel(1), pulse.RegisterSlot(1))
    insts = [inst for _, inst in prog.instructions]
    assert insts[0].channels == (A0, pulse.MemorySlot(0))
    assert insts[1].reg_slot == pulse.RegisterSlot(1)


def test_call_inlines_a_block_with_parameters_by_name() -> None:
    amp = pulse.Parameter("amp")
    with pulse.build(name="x") as x_gate:
        pulse.play(pulse.Drag(160, amp, 40, 0.5), D0)
    with pulse.build() as prog:
        pulse.call(x_gate, amp=0.3)
        pulse.play(const(10), D0)
    assert timeline(prog) == [(0, "Play", "d0", 160), (160, "Play", "d0", 10)]
    assert prog.parameters == set()
    assert x_gate.parameters == {amp}  # the called template is left unbound


def test_call_of_a_schedule_keeps_its_timing() -> None:
    sched = pulse.Schedule((0, pulse.Play(const(10), D0)), (50, pulse.Play(const(10), D0)))
    with pulse.build() as prog:
        pulse.call(sched)
    plays = [(t, kind) for t, kind, _, _ in timeline(prog) if kind == "Play"]
    assert plays == [(0, "Play"), (50, "Play")]


def test_reference_must_be_assigned_before_timing() -> None:
    with pulse.build() as prog:
        pulse.reference("sx", "q0")
        pulse.play(const(10), D0)
    with pytest.raises(UnassignedReferenceError, match="sx"):
        prog.duration
    assert prog.references.unassigned() == (("sx", "q0"),)
    with pulse.build() as sx:
        pulse.play(const(80), D0)
    prog.assign_references({("sx", "q0"): sx})
    assert timeline(prog) == [(0, "Play", "d0", 80), (80, "Play", "d0", 10)]


def test_builder_functions_refuse_to_run_outside_build() -> None:
    with pytest.raises(PulseError, match="inside a 'with pulse.build"):
        pulse.play(const(10), D0)


def test_empty_contexts_are_dropped() -> None:
    with pulse.build() as prog:
        with pulse.align_right():
            pass
        pulse.play(const(10), D0)
    assert len(prog) == 1


def test_play_accepts_a_list_of_samples() -> None:
    with pulse.build() as prog:
        pulse.play([0.1, 0.2j, 0.3], D0)
    (_, inst), = prog.instructions
    assert isinstance(inst.pulse, pulse.Waveform)
    assert list(inst.pulse.samples) == [0.1, 0.2j, 0.3]


def test_unknown_default_alignment_is_refused() -> None:
    with pytest.raises(PulseError, match="default_alignment 'middle'"):
        pulse.build(default_alignment="middle")
