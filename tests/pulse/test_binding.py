"""Parameter binding: values land in a flat table, the original program is untouched, structure is shared."""

from __future__ import annotations

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError, UnassignedDurationError

D0, D1 = pulse.DriveChannel(0), pulse.DriveChannel(1)


def rabi(amp: object, phase: object = 0.0) -> pulse.ScheduleBlock:
    with pulse.build(name="rabi") as prog:
        pulse.shift_phase(phase, D0)
        pulse.play(pulse.Constant(16, amp), D0)
    return prog


def test_assign_not_inplace_leaves_the_original_untouched() -> None:
    amp = pulse.Parameter("amp")
    template = rabi(amp)
    bound = template.assign_parameters({amp: 0.5}, inplace=False)
    assert template.parameters == {amp}
    assert bound.parameters == set()
    (_, play_t), = [(t, i) for t, i in template.instructions if isinstance(i, pulse.Play)]
    (_, play_b), = [(t, i) for t, i in bound.instructions if isinstance(i, pulse.Play)]
    assert play_t.pulse.amp is amp
    assert play_b.pulse.amp == 0.5
    with pytest.raises(PulseError, match="unbound"):
        pulse.render(template)


def test_binding_shares_the_structure_instead_of_copying_it() -> None:
    amp = pulse.Parameter("amp")
    template = rabi(amp)
    bound = template.assign_parameters({amp: 0.5}, inplace=False)
    assert bound._tree is template._tree
    # ... and appending to one of them afterwards copies on write, so the other does not change.
    bound.append(pulse.Delay(10, D0))
    assert len(template) == 2 and len(bound) == 3


def test_assign_inplace_is_qiskits_default() -> None:
    amp = pulse.Parameter("amp")
    template = rabi(amp)
    same = template.assign_parameters({amp: 0.25})
    assert same is template
    assert template.parameters == set()


def test_rendered_values_follow_the_table() -> None:
    amp, phase = pulse.Parameter("amp"), pulse.Parameter("phase")
    template = rabi(amp, phase)
    for a, p in [(0.1, 0.0), (0.4, np.pi / 2), (-0.3, 1.0)]:
        out = pulse.render(template.assign_parameters({amp: a, phase: p}, inplace=False))[D0]
        np.testing.assert_allclose(out, a * np.exp(1j * p) * np.ones(16), rtol=0, atol=1e-15)


def test_expressions_of_parameters_bind() -> None:
    theta = pulse.Parameter("theta")
    template = rabi(theta / 2, -theta)
    out = pulse.render(template.assign_parameters({theta: 0.6}, inplace=False))[D0]
    np.testing.assert_allclose(out, 0.3 * np.exp(-0.6j) * np.ones(16), rtol=0, atol=1e-15)


def test_partial_binding_to_another_parameter() -> None:
    a, b = pulse.Parameter("a"), pulse.Parameter("b")
    template = rabi(a)
    step = template.assign_parameters({a: 2 * b}, inplace=False)
    assert step.parameters == {b}
    final = step.assign_parameters({b: 0.1}, inplace=False)
    np.testing.assert_allclose(pulse.render(final)[D0], 0.2 * np.ones(16), rtol=0, atol=1e-15)


def test_parameter_vector_binds_from_a_list() -> None:
    v = pulse.ParameterVector("v", 2)
    with pulse.build() as prog:
        pulse.play(pulse.Constant(8, v[0]), D0)
        pulse.play(pulse.Constant(8, v[1]), D1)
    bound = prog.assign_parameters({v: [0.1, 0.2]}, inplace=False)
    out = pulse.render(bound)
    assert out[D0][0] == 0.1 and out[D1][0] == 0.2
    with pytest.raises(PulseError, match="has 2 elements but 3 values"):
        prog.assign_parameters({v: [0.1, 0.2, 0.3]})


def test_binding_an_invalid_value_names_the_pulse() -> None:
    amp = pulse.Parameter("amp")
    template = rabi(amp)
    with pytest.raises(PulseError, match=r"Constant\(duration=16, amp=1.5"):
        template.assign_parameters({amp: 1.5}, inplace=False)
    assert template.parameters == {amp}  # nothing was bound


def test_parameterized_duration_times_the_block_after_binding() -> None:
    width = pulse.Parameter("width")
    with pulse.build() as prog:
        pulse.delay(width, D0)
        pulse.play(pulse.Constant(10, 0.1), D0)
    with pytest.raises(UnassignedDurationError, match="width"):
        prog.duration
    assert not prog.is_schedulable()
    assert prog.assign_parameters({width: 30}, inplace=False).duration == 40
    assert prog.assign_parameters({width: 50}, inplace=False).duration == 60


def test_timing_is_computed_once_for_all_bound_copies() -> None:
    amp = pulse.Parameter("amp")
    template = rabi(amp)
    first = template.assign_parameters({amp: 0.1}, inplace=False)
    second = template.assign_parameters({amp: 0.2}, inplace=False)
    assert first._timed() is second._timed()


def test_schedule_binding_is_also_not_inplace_on_request() -> None:
    amp = pulse.Parameter("amp")
    sched = pulse.Schedule(pulse.Play(pulse.Constant(4, amp), D0))
    bound = sched.assign_parameters({amp: 0.7}, inplace=False)
    assert sched.parameters == {amp} and bound.parameters == set()
    assert bound.instructions[0][1].pulse.amp == 0.7


def test_bind_rejects_non_parameter_keys() -> None:
    with pytest.raises(PulseError, match="Parameter or ParameterVector keys"):
        rabi(0.1).assign_parameters({"amp": 0.3})
