"""CompiledTemplate: compiled once, rebound per iteration, equal to a full compile of the bound programs.

The reference is ``compile()`` of the schedules bound by the pulse layer's ``assign_parameters`` -- the pass
list run from scratch on each point -- so the template must reproduce its payloads exactly (waveform samples
bit for bit, keys, sequences, windows, the input hash) for random values.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qubitlab import load_lab, pulse
from qubitlab.circuits import Circuit, GateMap, LoweredCircuit, Parameter, Target, translate
from qubitlab.drivers.payloads import AwgProgram, CompiledProgram
from qubitlab.errors import CompilationError
from qubitlab.pulse import AcquireChannel, ControlChannel, DriveChannel, MeasureChannel, MemorySlot
from qubitlab.pulse.bind import CompiledTemplate, TemplateMismatch
from qubitlab.pulse.cache import CompileCache
from qubitlab.pulse.compiler import compile

ROOT = Path(__file__).resolve().parents[2]
LAB = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
FRAMES = {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9, "m0": 7.051e9, "m1": 7.118e9}


def gate_map(amp: pulse.Parameter | float = 0.2) -> GateMap:
    gm = GateMap.from_lab(LAB)
    for q in (0, 1):
        with pulse.build(name=f"sx{q}") as sx:
            pulse.play(pulse.Drag(160, 0.1, 40, 0.5, name=f"sx{q}"), DriveChannel(q))
        with pulse.build(name=f"x{q}") as x:
            pulse.play(pulse.Drag(160, amp, 40, 0.5, name=f"x{q}"), DriveChannel(q))
        with pulse.build(name=f"measure{q}") as meas:
            pulse.play(pulse.GaussianSquare(1000, 0.1, 32, width=872, name=f"ro{q}"), MeasureChannel(q))
            pulse.acquire(1000, AcquireChannel(q), MemorySlot(q))
        gm.add("sx", (q,), sx).add("x", (q,), x).add("measure", (q,), meas)
    with pulse.build(name="ecr01", default_alignment="sequential") as ecr:
        pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272, name="cr+"), ControlChannel(0))
        pulse.play(pulse.Drag(160, 0.2, 40, 0.5, name="x0"), DriveChannel(0))
        pulse.play(pulse.GaussianSquare(400, 0.1, 32, width=272, angle=math.pi, name="cr-"), ControlChannel(0))
    gm.add("ecr", (0, 1), ecr)
    return gm


def h2_ansatz(basis: str, theta: list[Parameter] | None = None) -> tuple[Circuit, list[Parameter]]:
    """The main job's RY-CX-RY ansatz with the Estimator's measurement in ``basis`` ('ZZ' or 'XX')."""
    theta = theta or [Parameter(f"t{k}") for k in range(4)]
    qc = Circuit(2, 2).ry(theta[0], 0).ry(theta[1], 1).cx(0, 1).ry(theta[2], 0).ry(theta[3], 1)
    if basis == "XX":
        qc.h(0).h(1)
    qc.barrier(0, 1).measure(0, 0).measure(1, 1)
    return qc, theta


def lowered(qc: Circuit, gm: GateMap) -> LoweredCircuit:
    return LoweredCircuit.build(translate(qc, Target.from_lab(LAB, gm)), gm)


def assert_same(got: CompiledProgram, want: CompiledProgram) -> None:
    assert got.input_hash == want.input_hash
    assert got.points == want.points and got.duration == want.duration
    assert got.memory_slots == want.memory_slots
    assert set(got.payloads) == set(want.payloads)
    for name, payload in want.payloads.items():
        mine = got.payloads[name]
        if isinstance(payload, AwgProgram):
            assert isinstance(mine, AwgProgram)
            assert mine.sequence == payload.sequence
            assert set(mine.waveforms) == set(payload.waveforms)
            for key, samples in payload.waveforms.items():
                np.testing.assert_array_equal(mine.waveforms[key], samples)   # bit for bit (float32)
        else:
            assert repr(mine) == repr(payload)


def full_compile(programs: list[Any], values: list[dict[Any, float]]) -> CompiledProgram:
    bound = [p.assign_parameters(v, inplace=False) if v else p for p, v in zip(programs, values)]
    return compile(bound, LAB, FRAMES, cache=CompileCache())


def test_h2_ansatz_in_two_bases_binds_to_the_full_compile_for_random_angles() -> None:
    gm = gate_map()
    zz, theta = h2_ansatz("ZZ")
    xx, _ = h2_ansatz("XX", theta)
    programs = [lowered(zz, gm).schedule, lowered(xx, gm).schedule]
    rng = np.random.default_rng(7)

    def values() -> list[dict[Any, float]]:
        row = rng.uniform(-math.pi, math.pi, 4)
        return [dict(zip(theta, map(float, row)))] * 2

    first = values()
    template, program = CompiledTemplate.build(programs, first, LAB, FRAMES, cache=CompileCache())
    assert_same(program, full_compile(programs, first))
    for _ in range(5):
        v = values()
        assert_same(template.bind(v), full_compile(programs, v))
    assert template.compiles == 1 and template.binds == 5


def test_parametric_amplitude_scales_the_pulse_and_unchanged_waveforms_keep_their_keys() -> None:
    amp = pulse.Parameter("amp")
    gm = gate_map(amp)
    phi = Parameter("phi")
    qc = Circuit(2, 2).x(0).rz(phi, 0).sx(0).x(1).barrier(0, 1).measure(0, 0).measure(1, 1)
    schedule = lowered(qc, gm).schedule
    rng = np.random.default_rng(11)
    first = [{amp: 0.15, phi: 0.3}]
    template, program = CompiledTemplate.build([schedule], first, LAB, FRAMES, cache=CompileCache())
    assert_same(program, full_compile([schedule], first))
    for _ in range(4):
        v = [{amp: float(rng.uniform(-0.4, 0.4)), phi: float(rng.uniform(-3, 3))}]
        assert_same(template.bind(v), full_compile([schedule], v))
    # only phi changes: the readout waveforms (no parameter) and the x pulses keep their keys; the sx after the
    # virtual Z is a new waveform, whose samples are the old ones times exp(i * delta phi) on the drive line
    a = template.bind([{amp: 0.15, phi: 0.3}])
    b = template.bind([{amp: 0.15, phi: 1.1}])
    awg_a, awg_b = a.awg_programs(), b.awg_programs()
    keys_a = {k for p in awg_a.values() for k in p.waveforms}
    keys_b = {k for p in awg_b.values() for k in p.waveforms}
    kept, changed = keys_a & keys_b, keys_b - keys_a
    assert kept and changed and len(changed) == len(keys_a - keys_b)
    assert all(k.startswith(("i", "q", "zeros")) for k in changed)


def test_static_programs_and_several_points_bind_with_empty_values() -> None:
    gm = gate_map()
    (zz, theta) = h2_ansatz("ZZ")
    ready = lowered(Circuit(2, 2).x(0).x(1).barrier(0, 1).measure(0, 0).measure(1, 1), gm).schedule
    schedule = lowered(zz, gm).schedule
    rows = np.random.default_rng(5).uniform(-2, 2, (3, 4))
    programs = [schedule] * 3 + [ready]
    values: list[dict[Any, float]] = [dict(zip(theta, map(float, r))) for r in rows] + [{}]
    template, program = CompiledTemplate.build(programs, values, LAB, FRAMES, cache=CompileCache())
    assert_same(program, full_compile(programs, values))
    values = [dict(zip(theta, map(float, r[::-1]))) for r in rows] + [{}]
    assert_same(template.bind(values), full_compile(programs, values))


def test_bad_bindings_are_refused_by_name() -> None:
    gm = gate_map()
    zz, theta = h2_ansatz("ZZ")
    schedule = lowered(zz, gm).schedule
    good = dict(zip(theta, [0.1, 0.2, 0.3, 0.4]))
    template, _ = CompiledTemplate.build([schedule], [good], LAB, FRAMES, cache=CompileCache())
    with pytest.raises(CompilationError, match="no value for t3"):
        template.bind([{k: v for k, v in good.items() if k.name != "t3"}])
    with pytest.raises(CompilationError, match="1 points but 2 value sets"):
        template.bind([good, good])
    with pytest.raises(CompilationError, match="t0 = nan is not a finite number"):
        template.bind([{**good, theta[0]: float("nan")}])


def test_a_parametric_duration_is_refused_up_front() -> None:
    duration = pulse.Parameter("n")
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(duration, 0.1, 16), DriveChannel(0))
    with pytest.raises(TemplateMismatch, match="compile it fully"):
        CompiledTemplate.build([prog], [{duration: 64}], LAB, FRAMES)


def test_a_parametric_width_that_changes_the_shape_is_refused_at_bind() -> None:
    sigma = pulse.Parameter("sigma")
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(64, 0.1, sigma), DriveChannel(0))
        pulse.play(pulse.Gaussian(64, 0.1, 16), MeasureChannel(0))
    template, _ = CompiledTemplate.build([prog], [{sigma: 16.0}], LAB, FRAMES, cache=CompileCache())
    with pytest.raises(TemplateMismatch, match="changes the shape"):
        template.bind([{sigma: 10.0}])
