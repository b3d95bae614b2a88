"""The compiler on a hand-made hardware view: IF-modulated samples derived here in closed form, frame
semantics, segmentation into sequence steps, de-duplication, sweeps, acquisition windows and every refusal."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.drivers.payloads import AwgProgram, DigitizerProgram, LoSettings, SequenceStep
from qubitlab.errors import CompilationError
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView

DT = 1e-9
D0, D1, U0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0)
M0, M1 = pulse.MeasureChannel(0), pulse.MeasureChannel(1)
LO_Q0, LO_Q1, LO_RO = 4.9e9, 5.0e9, 7.0e9
FRAMES = {"d0": 5.0e9, "d1": 5.1e9, "u0": 5.1e9, "m0": 7.05e9, "m1": 7.08e9}


def hardware(rate: float = 1e9, granularity: int = 16, min_length: int = 64, max_amplitude: float = 0.8,
             bandwidth: float = 400e6) -> HardwareView:
    """Two drive lines and one multiplexed readout line on one 8-output AWG, a 4-input digitizer."""
    outputs = {str(i): OutputView(str(i), 1.0, max_amplitude) for i in range(1, 9)}
    awg = AwgView("awg", rate, granularity, min_length, bandwidth, outputs)
    lines = {
        "q0": LineView("q0", "drive", "awg", ("1", "2"), "lo_q0", LO_Q0, 10.0),
        "q1": LineView("q1", "drive", "awg", ("3", "4"), "lo_q1", LO_Q1, 10.0),
        "ro": LineView("ro", "readout", "awg", ("7", "8"), "lo_ro", LO_RO, 12.0),
    }
    wiring = {"d0": "q0", "u0": "q0", "d1": "q1", "m0": "ro", "m1": "ro"}
    los = {name: LoView(name, (1e6, 12.75e9), (-120.0, 25.0)) for name in ("lo_q0", "lo_q1", "lo_ro")}
    acquisitions = {"a0": AcquisitionView("dig", "1", 500e6, "ro"), "a1": AcquisitionView("dig", "1", 500e6, "ro")}
    return HardwareView(DT, lines, wiring, {"awg": awg}, los, acquisitions)


def played(program: AwgProgram, output: str, point: int = 0) -> np.ndarray:
    return program.played(output, point).astype(np.float64)


def test_constant_pulse_is_modulated_at_frame_minus_lo() -> None:
    with pulse.build() as prog:
        pulse.delay(32, D0)
        pulse.play(pulse.Constant(64, 0.5, angle=0.3), D0)
    awg = compile(prog, hardware(), FRAMES).payloads["awg"]
    assert isinstance(awg, AwgProgram)
    if_hz = FRAMES["d0"] - LO_Q0  # 100 MHz
    expected = np.zeros(96, dtype=complex)
    for n in range(32, 96):
        expected[n] = 0.5 * cmath.exp(1j * (0.3 + 2 * math.pi * if_hz * n * DT))
    np.testing.assert_allclose(played(awg, "1")[:96], expected.real, atol=2e-7)
    np.testing.assert_allclose(played(awg, "2")[:96], expected.imag, atol=2e-7)


def test_faster_awg_holds_each_sample_and_runs_the_carrier_in_between() -> None:
    samples = [0.1, 0.4, -0.2j, 0.3]
    with pulse.build() as prog:
        pulse.play(pulse.Waveform(samples), D0)
    awg = compile(prog, hardware(rate=2e9, granularity=8, min_length=16), FRAMES).payloads["awg"]
    if_hz = FRAMES["d0"] - LO_Q0
    expected = [samples[m // 2] * cmath.exp(2j * math.pi * if_hz * m / 2e9) for m in range(8)]
    np.testing.assert_allclose(played(awg, "1")[:8], np.real(expected), atol=2e-7)
    np.testing.assert_allclose(played(awg, "2")[:8], np.imag(expected), atol=2e-7)


def test_shift_phase_and_shift_frequency_keep_the_carrier_continuous() -> None:
    df = 20e6
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.2), D0)
        pulse.shift_phase(math.pi / 2, D0)
        pulse.shift_frequency(df, D0)
        pulse.play(pulse.Constant(64, 0.2), D0)
    awg = compile(prog, hardware(), FRAMES).payloads["awg"]
    if_hz = FRAMES["d0"] - LO_Q0
    signal = played(awg, "1")[:128] + 1j * played(awg, "2")[:128]
    expected = np.array([
        0.2 * cmath.exp(2j * math.pi * if_hz * n * DT) if n < 64 else
        0.2 * cmath.exp(1j * (math.pi / 2 + 2 * math.pi * (if_hz * n * DT + df * (n - 64) * DT)))
        for n in range(128)
    ])
    np.testing.assert_allclose(signal, expected, atol=3e-7)
    # continuity: without the explicit phase shift, the jump between samples 63 and 64 is one carrier step
    step = np.angle(signal[64] / signal[63]) - math.pi / 2
    assert step == pytest.approx(2 * math.pi * if_hz * DT, abs=1e-5)


def test_drive_and_cross_resonance_on_one_line_add_up() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.3), D0)
        pulse.play(pulse.Constant(64, 0.2), U0)
    awg = compile(prog, hardware(), FRAMES).payloads["awg"]
    n = np.arange(64)
    expected = 0.3 * np.exp(2j * np.pi * 100e6 * n * DT) + 0.2 * np.exp(2j * np.pi * 200e6 * n * DT)
    np.testing.assert_allclose(played(awg, "1")[:64] + 1j * played(awg, "2")[:64], expected, atol=3e-7)


def test_idle_time_becomes_repeated_zero_steps_on_the_granularity_grid() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(40, 0.3), D0)
        pulse.delay(1000, D0)
        pulse.play(pulse.Constant(40, 0.3), D0)
    awg = compile(prog, hardware(granularity=16, min_length=64), FRAMES).payloads["awg"]
    assert isinstance(awg, AwgProgram)
    lengths = [(len(awg.waveforms[s.waveforms[0][1]]), s.repeat) for s in awg.sequence]
    # busy 0..64 (40 samples rounded up to the 64-sample minimum); the second pulse at 1040 starts its step on
    # the 16-grid at 1040 and ends at 1080 -> 1088, grown to 64 samples (1040..1104); the 976-sample gap is
    # 14 zero steps of 64 and a last one of 64 + 16 = 80 (976 = 15 x 64 + 16)
    assert lengths == [(64, 1), (64, 14), (80, 1), (64, 1)]
    assert sum(length * repeat for length, repeat in lengths) == 1104
    assert [s.wait_trigger for s in awg.sequence] == [True, False, False, False]
    assert played(awg, "1").shape == (1104,)


def test_repeated_identical_waveforms_are_stored_once() -> None:
    # 100 MHz IF and a 2000-sample period: the carrier makes whole turns, so the two pulses are identical
    with pulse.build() as prog:
        pulse.play(pulse.Gaussian(64, 0.3, 10), D0)
        pulse.delay(1936, D0)
        pulse.play(pulse.Gaussian(64, 0.3, 10), D0)
    awg = compile(prog, hardware(), FRAMES).payloads["awg"]
    assert isinstance(awg, AwgProgram)
    busy = [s for s in awg.sequence if not s.outputs["1"].startswith("zeros")]
    assert len(busy) == 2 and busy[0].waveforms == busy[1].waveforms
    np.testing.assert_array_equal(played(awg, "1")[:64], played(awg, "1")[2000:2064])


def test_a_sweep_is_one_program_with_one_run_of_steps_per_point() -> None:
    amp = pulse.Parameter("amp")
    with pulse.build() as rabi:
        pulse.play(pulse.Gaussian(64, amp, 10), D0)
        pulse.play(pulse.Constant(64, 0.1), M0)
        pulse.acquire(64, 0, pulse.MemorySlot(0))
    amps = np.linspace(0, 0.5, 10)
    compiled = compile(rabi, hardware(), FRAMES, values=[{amp: float(a)} for a in amps])
    awg = compiled.payloads["awg"]
    assert isinstance(awg, AwgProgram) and compiled.points == awg.points == 10
    assert sum(s.wait_trigger for s in awg.sequence) == 10
    peaks = [np.max(np.abs(played(awg, "1", p) + 1j * played(awg, "2", p))) for p in range(10)]
    np.testing.assert_allclose(peaks, amps * max(abs(pulse.Gaussian(64, 1.0, 10).get_waveform().samples)),
                               atol=2e-7)
    readout = {s.outputs["7"] for s in awg.sequence if s.point > 0 and s.repeat == 1}
    assert len(readout) == 1  # the readout tone is the same waveform at every point
    dig = compiled.payloads["dig"]
    assert isinstance(dig, DigitizerProgram) and len(dig.windows) == 10
    assert compiled.memory_slots[0].windows == tuple(range(10))


def test_acquisition_windows_in_digitizer_samples() -> None:
    with pulse.build() as prog:
        pulse.delay(100, M0)
        pulse.play(pulse.Constant(400, 0.1), M0)
        pulse.play(pulse.Constant(400, 0.1), M1)
        pulse.acquire(400, 0, pulse.MemorySlot(0))
        pulse.acquire(400, 1, pulse.MemorySlot(1))
    compiled = compile(prog, hardware(), FRAMES)
    dig = compiled.payloads["dig"]
    assert isinstance(dig, DigitizerProgram)
    by_slot = {w.memory_slot: w for w in dig.windows}
    # acquire a0 starts at t = 0 dt (its channel was free); at 500 MS/s 400 dt of 1 ns are 200 samples
    assert (by_slot[0].start, by_slot[0].length) == (0, 200)
    assert by_slot[0].demod_frequency == pytest.approx(FRAMES["m0"] - LO_RO)
    assert by_slot[1].demod_frequency == pytest.approx(FRAMES["m1"] - LO_RO)
    lo = compiled.payloads["lo_ro"]
    assert isinstance(lo, LoSettings) and (lo.frequency, lo.power) == (LO_RO, 12.0)


def test_refuses_if_beyond_bandwidth() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.1), D0)
    with pytest.raises(CompilationError, match=r"IF 600\.000 MHz .* bandwidth \+-400\.0 MHz") as info:
        compile(prog, hardware(), {**FRAMES, "d0": 5.5e9})
    assert (info.value.pass_name, info.value.channel, info.value.time) == ("modulate", "d0", 0)


def test_refuses_samples_over_the_output_limit_never_clips() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.5), D0)
        pulse.delay(32, D0)
        pulse.play(pulse.Constant(64, 0.85), D0)
    with pytest.raises(CompilationError, match="over its limit 0.8000") as info:
        compile(prog, hardware(max_amplitude=0.8), FRAMES)
    error = info.value
    assert (error.pass_name, error.channel) == ("limits", "d0")
    assert error.time is not None and 96 <= error.time < 160
    assert "Constant(duration=64, amp=0.85" in str(error)


def test_refuses_overlapping_sum_over_the_limit_naming_both() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.5), D0)
        pulse.play(pulse.Constant(64, 0.5), U0)
    with pytest.raises(CompilationError, match="2 plays overlap there"):
        compile(prog, hardware(max_amplitude=0.8), FRAMES)


def test_refuses_lo_outside_its_range() -> None:
    hw = hardware()
    narrow = {**hw.los, "lo_q0": LoView("lo_q0", (1e9, 4e9), (-10.0, 20.0))}
    hw = HardwareView(hw.dt, hw.lines, hw.channel_lines, hw.awgs, narrow, hw.acquisitions)
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.1), D0)
    with pytest.raises(CompilationError, match="LO lo_q0: frequency 4.900000 GHz is outside"):
        compile(prog, hw, FRAMES)


def test_refuses_unwired_channels_and_missing_frames() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Constant(64, 0.1), pulse.DriveChannel(7))
    with pytest.raises(CompilationError, match="channel d7 is not wired") as info:
        compile(prog, hardware(), {**FRAMES, "d7": 5e9})
    assert info.value.channel == "d7"
    with pytest.raises(CompilationError, match="no frame frequency for d7"):
        compile(prog, hardware(), FRAMES)


def test_compiled_program_is_deterministic() -> None:
    with pulse.build() as prog:
        pulse.play(pulse.Drag(160, 0.3, 40, 1.0), D0)
        pulse.play(pulse.Constant(160, 0.1), M0)
        pulse.acquire(160, 0, pulse.MemorySlot(0))
    a, b = compile(prog, hardware(), FRAMES), compile(prog, hardware(), FRAMES)
    assert a.input_hash == b.input_hash
    assert compile(prog, hardware(), {**FRAMES, "d0": 5.01e9}).input_hash != a.input_hash
    step = a.payloads["awg"].sequence[0]  # type: ignore[union-attr]
    assert isinstance(step, SequenceStep)


def test_a_sweep_value_out_of_range_is_refused_naming_the_point() -> None:
    amp = pulse.Parameter("amp")
    with pulse.build() as rabi:
        pulse.play(pulse.Gaussian(64, amp, 10), D0)
    with pytest.raises(CompilationError, match=r"point 1: Gaussian\(duration=64, amp=1.5"):
        compile(rabi, hardware(), FRAMES, values=[{amp: 0.1}, {amp: 1.5}])


def test_a_sweep_of_delays_times_each_point_on_its_own() -> None:
    wait = pulse.Parameter("wait")
    with pulse.build(default_alignment="sequential") as t1:
        pulse.play(pulse.Constant(64, 0.3), D0)
        pulse.delay(wait, D0)  # the readout waits for the parameter
        with pulse.align_left():
            pulse.play(pulse.Constant(64, 0.1), M0)
            pulse.acquire(64, 0, pulse.MemorySlot(0))
    waits = [0, 256, 1024]
    compiled = compile(t1, hardware(), FRAMES, values=[{wait: w} for w in waits])
    dig = compiled.payloads["dig"]
    assert isinstance(dig, DigitizerProgram)
    # the acquisition starts after the pulse and the wait, in digitizer samples (500 MS/s, dt = 1 ns)
    assert [w.start for w in dig.windows] == [(64 + w) // 2 for w in waits]
