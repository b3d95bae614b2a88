"""Schedule (absolute times): insert, append, shift, operators, overlaps, filters and block_to_schedule."""

from __future__ import annotations

import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError

D0, D1, U0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0)


def play(duration: int, channel: pulse.PulseChannel, amp: float = 0.1) -> pulse.Play:
    return pulse.Play(pulse.Constant(duration, amp), channel)


def times(sched: pulse.Schedule) -> list[tuple[int, str]]:
    return [(t, inst.channel.name) for t, inst in sched.instructions]


def test_insert_append_and_durations() -> None:
    sched = pulse.Schedule(name="s")
    sched = sched.insert(10, play(20, D0))
    sched = sched.append(play(5, D0))  # after d0 is free: 30
    sched = sched.append(play(5, D1))  # d1 shares nothing: at 0
    assert times(sched) == [(0, "d1"), (10, "d0"), (30, "d0")]
    assert sched.duration == 35
    assert sched.ch_start_time(D0) == 10 and sched.ch_stop_time(D0) == 35
    assert sched.ch_stop_time(D1) == 5
    assert sched.start_time == 0 and sched.stop_time == 35


def test_operators_match_qiskit() -> None:
    a = pulse.Schedule(play(10, D0))
    b = pulse.Schedule(play(10, D0))
    assert times(a + b) == [(0, "d0"), (10, "d0")]
    assert times(a | pulse.Schedule(play(4, D1))) == [(0, "d1"), (0, "d0")]
    assert times(a << 7) == [(7, "d0")]
    assert times(play(3, D0) + play(3, D0)) == [(0, "d0"), (3, "d0")]


def test_overlap_is_refused_with_channel_and_times() -> None:
    sched = pulse.Schedule(play(10, D0))
    with pytest.raises(PulseError, match=r"channel d0 .* from 5 to 15 overlaps one from 0 to 10"):
        sched.insert(5, play(10, D0))
    # The failed insert did not change the schedule.
    assert times(sched) == [(0, "d0")]


def test_zero_duration_instruction_at_a_pulse_start_does_not_overlap() -> None:
    sched = pulse.Schedule(play(10, D0))
    sched = sched.insert(0, pulse.ShiftPhase(1.0, D0))
    sched = sched.insert(10, pulse.ShiftPhase(1.0, D0))
    assert len(sched) == 3


def test_start_time_must_be_a_non_negative_integer() -> None:
    with pytest.raises(PulseError, match="must be an integer"):
        pulse.Schedule().insert(1.5, play(2, D0))  # type: ignore[arg-type]
    with pytest.raises(PulseError, match=">= 0"):
        pulse.Schedule().insert(-1, play(2, D0))


def test_nested_schedules_flatten_in_time_order() -> None:
    inner = pulse.Schedule((0, play(5, D0)), (5, play(5, D1)))
    outer = pulse.Schedule((100, inner), (0, play(50, U0)))
    assert times(outer) == [(0, "u0"), (100, "d0"), (105, "d1")]
    assert outer.duration == 110
    assert len(outer.children) == 2


def test_filter_and_exclude() -> None:
    sched = pulse.Schedule((0, play(10, D0)), (10, pulse.ShiftPhase(0.1, D0)), (0, play(10, D1)), (30, play(5, U0)))
    assert times(sched.filter(channels=[D0])) == [(0, "d0"), (10, "d0")]
    assert [type(i).__name__ for _, i in sched.filter(instruction_types=[pulse.ShiftPhase]).instructions] == [
        "ShiftPhase"
    ]
    assert times(sched.filter(time_ranges=[(0, 12)])) == [(0, "d0"), (0, "d1"), (10, "d0")]
    kept = sched.filter(channels=[D0])
    dropped = sched.exclude(channels=[D0])
    assert len(kept) + len(dropped) == len(sched)
    assert times(sched.filter(lambda pair: pair[0] >= 10)) == [(10, "d0"), (30, "u0")]


def test_block_to_schedule_matches_the_block_timing() -> None:
    with pulse.build() as block:
        with pulse.align_right():
            pulse.play(pulse.Constant(10, 0.1), D0)
            pulse.play(pulse.Constant(30, 0.1), D1)
    sched = pulse.block_to_schedule(block)
    assert isinstance(sched, pulse.Schedule)
    assert times(sched) == [(0, "d1"), (20, "d0")]
    assert sched == pulse.Schedule((20, play(10, D0)), (0, play(30, D1)))


def test_schedule_accepts_a_block_by_converting_it() -> None:
    with pulse.build() as block:
        pulse.play(pulse.Constant(10, 0.1), D0)
    sched = pulse.Schedule(play(5, D1)).insert(3, block)
    assert times(sched) == [(0, "d1"), (3, "d0")]


def test_instruction_validation_messages() -> None:
    with pytest.raises(PulseError, match="Play needs a pulse channel"):
        pulse.Play(pulse.Constant(4, 0.1), pulse.AcquireChannel(0))  # type: ignore[arg-type]
    with pytest.raises(PulseError, match="Delay: duration must be a non-negative integer"):
        pulse.Delay(-5, D0)
    with pytest.raises(PulseError, match="Delay: duration must be a non-negative integer"):
        pulse.Delay(2.5, D0)  # type: ignore[arg-type]
    with pytest.raises(PulseError, match="give a mem_slot"):
        pulse.Acquire(100, pulse.AcquireChannel(0))
    with pytest.raises(PulseError, match="ShiftPhase: phase must be a number"):
        pulse.ShiftPhase("pi", D0)  # type: ignore[arg-type]
