"""JSON round trips are exact: equal programs, bit-identical renders, the same parameters; bad documents fail."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.errors import PulseError

D0, U0, M0 = pulse.DriveChannel(0), pulse.ControlChannel(0), pulse.MeasureChannel(0)


def program() -> tuple[pulse.ScheduleBlock, pulse.Parameter, pulse.ParameterVector]:
    amp = pulse.Parameter("amp")
    phases = pulse.ParameterVector("phi", 2)
    with pulse.build(name="everything", default_alignment="sequential") as sub:
        pulse.play(pulse.Gaussian(64, 0.25, 8, angle=0.1), D0)
    with pulse.build(name="prog") as prog:
        with pulse.align_sequential():
            with pulse.align_left():
                pulse.play(pulse.Drag(160, amp, 40, 1.3), D0)
                pulse.play(pulse.GaussianSquare(320, amp / 2, 16, risefall_sigma_ratio=2.0), U0)
            pulse.shift_phase(phases[0] + math.pi, D0)
            pulse.set_phase(phases[1].sin(), U0)
            pulse.shift_frequency(1.5e6, D0)
            with pulse.align_equispaced(400):
                pulse.play(pulse.Waveform([0.1, 0.2j, -0.3]), D0)
                pulse.delay(20, D0)
            pulse.call(sub)
            pulse.barrier(D0, U0, M0)
            pulse.play(pulse.Constant(100, 0.1), M0)
            pulse.acquire(100, 0, pulse.MemorySlot(0), kernel=pulse.Kernel("boxcar", start=0))
    return prog, amp, phases


def test_round_trip_is_equal_and_keeps_parameters() -> None:
    prog, amp, phases = program()
    text = pulse.dumps(prog)
    again = pulse.loads(text)
    assert isinstance(again, pulse.ScheduleBlock)
    assert again == prog
    assert again.parameters == prog.parameters == {amp, phases[0], phases[1]}
    assert pulse.dumps(again) == text  # a second trip changes nothing


def test_round_trip_renders_identical_samples() -> None:
    prog, amp, phases = program()
    values = {amp: 0.4, phases: [0.3, -1.2]}
    again = pulse.loads(pulse.dumps(prog))
    a = pulse.render(prog.assign_parameters(values, inplace=False), dt=1e-9)
    b = pulse.render(again.assign_parameters(values, inplace=False), dt=1e-9)
    assert a.keys() == b.keys()
    for ch in a:
        np.testing.assert_array_equal(a[ch], b[ch])


def test_bound_values_and_schedules_round_trip() -> None:
    prog, amp, phases = program()
    bound = prog.assign_parameters({amp: 0.3, phases: [0.1, 0.2]}, inplace=False)
    again = pulse.loads(pulse.dumps(bound))
    assert again.parameters == set()
    sched = pulse.block_to_schedule(bound)
    sched_again = pulse.loads(pulse.dumps(sched))
    assert isinstance(sched_again, pulse.Schedule)
    assert sched_again == sched


def test_document_is_versioned_plain_json() -> None:
    prog, _, _ = program()
    doc = json.loads(pulse.dumps(prog))
    assert doc["format"] == "qubitlab.pulse" and doc["version"] == 1
    assert {p["name"] for p in doc["parameters"]} == {"amp", "phi[0]", "phi[1]"}


def test_unsupported_documents_are_refused() -> None:
    prog, _, _ = program()
    doc = json.loads(pulse.dumps(prog))
    with pytest.raises(PulseError, match="version 99 is not supported"):
        pulse.loads(json.dumps({**doc, "version": 99}))
    doc["program"]["blocks"][0]["blocks"][0]["blocks"][0]["type"] = "Exec"
    with pytest.raises(PulseError, match="unknown instruction type 'Exec'"):
        pulse.loads(json.dumps(doc))
    with pytest.raises(PulseError, match="not a qubitlab pulse JSON document"):
        pulse.loads("{not json")


def test_align_func_cannot_be_serialised() -> None:
    with pulse.build() as prog:
        with pulse.align_func(100, lambda j: 0.5):
            pulse.play(pulse.Constant(10, 0.1), D0)
    with pytest.raises(PulseError, match="align_func"):
        pulse.dumps(prog)
