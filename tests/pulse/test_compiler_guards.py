"""Values that are not finite numbers (NaN, inf) are refused by name, and the AWG5208's sequencer and memory
limits (from its datasheet figures in the instrument model table) are modelled and refused when exceeded."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qubitlab import load_lab, pulse
from qubitlab.config.instruments import INSTRUMENT_MODELS
from qubitlab.drivers.payloads import AwgProgram
from qubitlab.errors import CompilationError, PulseError
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView
from qubitlab.pulse.passes.hardware import hardware_view

ROOT = Path(__file__).resolve().parents[2]
NAN, INF = float("nan"), float("inf")
D0, M0 = pulse.DriveChannel(0), pulse.MeasureChannel(0)
FRAMES = {"d0": 5.0e9, "m0": 7.05e9}


def hardware(max_sequence_steps: int = 0, waveform_memory: int = 0) -> HardwareView:
    outputs = {str(i): OutputView(str(i), 1.0, 0.8) for i in range(1, 5)}
    awg = AwgView("awg", 1e9, 16, 64, 400e6, outputs, max_sequence_steps, waveform_memory, "test_awg")
    lines = {"q0": LineView("q0", "drive", "awg", ("1", "2"), "lo_q0", 4.9e9, 10.0),
             "ro": LineView("ro", "readout", "awg", ("3", "4"), "lo_ro", 7.0e9, 12.0)}
    los = {name: LoView(name, (1e6, 12.75e9), (-120.0, 25.0)) for name in ("lo_q0", "lo_ro")}
    return HardwareView(1e-9, lines, {"d0": "q0", "m0": "ro"}, {"awg": awg}, los,
                        {"a0": AcquisitionView("dig", "1", 500e6, "ro")})


def one_pulse() -> Any:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.2), D0)
    return prog


# -- NaN and infinity -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_a_frame_frequency_that_is_not_finite_is_refused_naming_the_channel(value: float) -> None:
    with pytest.raises(CompilationError, match=rf"frames\['d0'\] = {value} Hz is not a finite") as info:
        compile(one_pulse(), hardware(), {**FRAMES, "d0": value})
    assert info.value.channel == "d0" and info.value.pass_name == "frames"


@pytest.mark.parametrize(("build", "kind", "what"), [
    (lambda v: pulse.shift_phase(v, D0), "ShiftPhase", "phase"),
    (lambda v: pulse.set_phase(v, D0), "SetPhase", "phase"),
    (lambda v: pulse.shift_frequency(v, D0), "ShiftFrequency", "frequency"),
    (lambda v: pulse.set_frequency(v, D0), "SetFrequency", "frequency"),
])
@pytest.mark.parametrize("bound", [False, True])
def test_frame_values_that_are_not_finite_are_refused_naming_value_instruction_and_channel(
        build: Any, kind: str, what: str, bound: bool) -> None:
    p = pulse.Parameter("p")
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.2), D0)
        build(p if bound else NAN)
        pulse.play(pulse.Constant(64, 0.2), D0)
    values = [{p: NAN}] if bound else None
    with pytest.raises(CompilationError, match=rf"{kind} on d0 has {what} \S+ nan, which is not a finite") as info:
        compile(prog, hardware(), FRAMES, values=values)
    assert info.value.channel == "d0" and info.value.time == 64 and kind in str(info.value.instruction)
    assert "amplitude" not in str(info.value)


def test_a_non_finite_phase_after_the_last_play_is_refused_too() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.2), D0)
        pulse.shift_phase(INF, D0)
    with pytest.raises(CompilationError, match="ShiftPhase on d0 has phase"):
        compile(prog, hardware(), FRAMES)


@pytest.mark.parametrize(("make", "name"), [
    (lambda: pulse.Gaussian(64, 0.1, NAN), "sigma"),
    (lambda: pulse.Gaussian(64, 0.1, INF), "sigma"),
    (lambda: pulse.Gaussian(64, 0.1, 8, angle=NAN), "angle"),
    (lambda: pulse.Drag(64, 0.1, 8, -INF), "beta"),
    (lambda: pulse.GaussianSquare(64, 0.1, 8, width=INF), "width"),
])
def test_pulse_parameters_that_are_not_finite_are_refused_at_construction(make: Any, name: str) -> None:
    with pytest.raises(PulseError, match=rf"{name}=\S*(nan|inf)"):
        make()


@pytest.mark.parametrize("value", [NAN, INF])
def test_pulse_durations_and_samples_that_are_not_finite_are_refused_at_construction(value: float) -> None:
    with pytest.raises(PulseError, match=rf"duration .* got {value}"):
        pulse.Gaussian(value, 0.1, 8)
    with pytest.raises(PulseError, match=rf"duration .* got {value}"):
        pulse.Delay(value, D0)
    with pytest.raises(PulseError, match=r"sample 1 is \(?(nan|inf)"):
        pulse.Waveform([0.1, value, 0.2])


@pytest.mark.parametrize("name", ["sigma", "angle"])
def test_a_bound_pulse_parameter_that_is_not_finite_names_the_play_and_channel(name: str) -> None:
    p = pulse.Parameter(name)
    kwargs = {"sigma": p, "angle": 0.0} if name == "sigma" else {"sigma": 8, "angle": p}
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(64, 0.1, **kwargs), D0)
    with pytest.raises(CompilationError, match=rf"{name}=nan is not a finite number") as info:
        compile(prog, hardware(), FRAMES, values=[{p: NAN}])
    assert info.value.channel == "d0" and "Play(Gaussian" in str(info.value.instruction)


def test_a_bound_duration_that_is_not_finite_names_the_value_instruction_and_channel() -> None:
    d = pulse.Parameter("d")
    with pulse.build() as prog:
        pulse.play(pulse.Constant(d, 0.1), D0)
    with pytest.raises(CompilationError, match=r"got nan .*value d=nan is not finite") as info:
        compile(prog, hardware(), FRAMES, values=[{d: NAN}])
    assert info.value.channel == "d0" and "Constant" in str(info.value.instruction)


# -- the AWG's sequencer and memory -----------------------------------------------------------------------------

def test_the_awg5208_model_states_its_datasheet_figures_and_the_view_carries_them() -> None:
    model = INSTRUMENT_MODELS["tektronix_awg5208"]
    # Tektronix AWG5200 series datasheet: 16,383 sequence steps, 2 GSample per channel, 2400-sample minimum
    assert (model.max_sequence_steps, model.waveform_memory, model.min_waveform_length) == (16383, 2 * 10**9, 2400)
    assert model.waveform_granularity == 1
    awg = hardware_view(load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")).awgs["awg"]
    assert (awg.max_sequence_steps, awg.waveform_memory, awg.model) == (16383, 2 * 10**9, "tektronix_awg5208")


def test_a_sweep_over_the_sequencer_limit_is_refused_and_one_at_it_compiles() -> None:
    amp = pulse.Parameter("a")
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, amp), D0)  # one 64-sample step per point
    values = [{amp: 0.01 * i} for i in range(10)]
    program = compile(prog, hardware(max_sequence_steps=10), FRAMES, values=values).payloads["awg"]
    assert isinstance(program, AwgProgram) and len(program.sequence) == 10
    with pytest.raises(CompilationError, match=r"awg \(test_awg\) would need 11 sequence steps for 11 point\(s\), "
                                               r"over its limit of 10 steps") as info:
        compile(prog, hardware(max_sequence_steps=10), FRAMES, values=[*values, {amp: 0.5}])
    assert info.value.pass_name == "limits"


def test_the_real_awg5208_sequence_limit_is_refused() -> None:
    """16,384 trigger-waited points on virtual_2q's AWG5208: one step each, one over its 16,383."""
    lab = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    frames = {"d0": 4.997e9, "d1": 5.093e9, "u0": 5.093e9, "u1": 4.997e9, "m0": 7.051e9, "m1": 7.118e9}
    phase = pulse.Parameter("phase")
    with pulse.build() as prog:
        pulse.shift_phase(phase, D0)
        pulse.play(pulse.Constant(64, 0.1), D0)
    values = [{phase: 0.0}] * 16384
    with pytest.raises(CompilationError, match=r"awg \(tektronix_awg5208\) would need 16384 sequence steps .* "
                                               r"limit of 16383 steps"):
        compile(prog, lab, frames, values=values)


def test_waveform_memory_over_the_limit_is_refused_naming_output_and_figures() -> None:
    amp = pulse.Parameter("a")
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, amp), D0)
    values = [{amp: 0.01 * (i + 1)} for i in range(4)]  # four distinct 64-sample waveforms per output
    compile(prog, hardware(waveform_memory=4 * 64), FRAMES, values=values)
    with pytest.raises(CompilationError, match=r"output awg\.1 \(test_awg\) would hold 256 samples of distinct "
                                               r"waveforms, over its waveform memory of 255 samples"):
        compile(prog, hardware(waveform_memory=4 * 64 - 1), FRAMES, values=values)


def test_without_modelled_limits_nothing_is_refused() -> None:
    amp = pulse.Parameter("a")
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, amp), D0)
    program = compile(prog, hardware(), FRAMES, values=[{amp: 0.01 * i} for i in range(50)]).payloads["awg"]
    assert isinstance(program, AwgProgram) and len(program.sequence) == 50
    assert math.isclose(float(np.max(program.played("1", 49))), 0.49, rel_tol=1e-6)
