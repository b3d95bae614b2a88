"""OpenQASM 3 + OpenPulse: cal/defcal read into schedules (checked against hand-built pulses and closed forms),
defcals overriding a gate map for one program, export and round trip, and errors with line and column."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.circuits import Circuit, GateMap, circuit_from_qasm3, lower
from qubitlab.circuits.openpulse import calibrations_from_qasm3, program_from_qasm3
from qubitlab.circuits.openpulse_export import gate_map_to_qasm3, schedule_to_qasm3
from qubitlab.errors import CircuitError

DT = 1e-9
D0, M0, A0 = pulse.DriveChannel(0), pulse.MeasureChannel(0), pulse.AcquireChannel(0)
FREQS = {D0: 5.0e9, M0: 7.0e9}
HEAD = """OPENQASM 3.0;
defcalgrammar "openpulse";
cal {
  port d0;
  port m0;
  port a0;
  frame q0 = newframe(d0, 5000000000.0, 0.0);
  frame r0 = newframe(m0, 7000000000.0, 0.0);
  frame c0 = newframe(a0, 0.0, 0.0);
  waveform ramp = {0.1, 0.2 + 0.1im, -0.3im};
}
"""


def _timed(block: pulse.ScheduleBlock) -> list[tuple[int, object]]:
    return list(pulse.block_to_schedule(block).instructions)


def _read(body: str) -> dict[tuple[str, tuple[int, ...]], pulse.ScheduleBlock]:
    cal = calibrations_from_qasm3(HEAD + body, dt=DT, frequencies=FREQS)
    return {key: entry.schedule for key, entry in cal.defcals.items()}


def test_kernels_are_the_pulses_of_the_same_name() -> None:
    blocks = _read("""defcal x $0 {
  play(q0, gaussian(0.3 * exp(0.25im), 64dt, 16dt));
  play(q0, drag(0.2im, 40dt, 10dt, 0.5));
  play(q0, gaussian_square(0.1, 100dt, 60dt, 8dt));
  play(q0, constant(-0.05, 8ns));
  play(q0, sech(0.2, 32dt, 6dt));
}
""")
    plays = [inst.pulse for _, inst in _timed(blocks[("x", (0,))])]  # type: ignore[attr-defined]
    assert plays == [pulse.Gaussian(64, 0.3, 16, angle=0.25), pulse.Drag(40, 0.2, 10, 0.5, angle=math.pi / 2),
                     pulse.GaussianSquare(100, 0.1, 8, width=60), pulse.Constant(8, -0.05),
                     pulse.Sech(32, 0.2, 6)]


def test_combinators_and_literals_by_closed_form() -> None:
    blocks = _read("""defcal x $0 {
  play(q0, ramp);
  play(q0, scale(ramp, 2.0));
  play(q0, phase_shift(ramp, pi / 2));
  play(q0, sum(ramp, ramp));
  play(q0, mix(ramp, ramp));
  play(q0, sine(0.5, 20dt, 50e6, 0.1));
}
""")
    ramp = np.array([0.1, 0.2 + 0.1j, -0.3j])
    got = pulse.render(blocks[("x", (0,))])[D0]
    t = np.arange(20) + 0.5  # Qiskit 1.4 samples symbolic pulses at the middle of each dt
    sine = 0.5 * np.sin(2 * math.pi * 50e6 * DT * t + 0.1)  # Qiskit's Sin: amp sin(2 pi freq t + phase)
    expected = np.concatenate([ramp, 2 * ramp, 1j * ramp, 2 * ramp, ramp * ramp, sine])
    np.testing.assert_allclose(got, expected, atol=1e-15)


def test_frame_timelines_delays_barrier_and_capture() -> None:
    text = HEAD + """defcal measure $0 -> bit {
  shift_phase(q0, pi);
  play(r0, constant(0.1, 100dt));
  barrier r0, c0;
  delay[20ns] c0;
  set_frequency(r0, 7.001e9);
  return capture_v2(c0, 60dt);
}
"""
    cal = calibrations_from_qasm3(text, dt=DT, frequencies=FREQS)
    assert cal.captures == {("measure", (0,)): "capture_v2"}
    timed = _timed(cal.defcals[("measure", (0,))].schedule)
    assert (0, pulse.ShiftPhase(math.pi, D0)) in timed
    assert (0, pulse.Play(pulse.Constant(100, 0.1), M0)) in timed
    assert (100, pulse.SetFrequency(7.001e9, M0)) in timed
    acquires = [(t, i) for t, i in timed if isinstance(i, pulse.Acquire)]
    assert acquires == [(120, pulse.Acquire(60, A0, pulse.MemorySlot(0)))]  # 100 (barrier) + 20 ns at dt = 1 ns


def test_defcal_arguments_become_template_parameters() -> None:
    cal = calibrations_from_qasm3(HEAD + "defcal rx(angle theta) $0 { play(q0, gaussian(theta / pi, 32dt, 8dt)); }\n",
                                  dt=DT)
    entry = cal.defcals[("rx", (0,))]
    (theta,) = entry.params
    bound = entry.schedule.assign_parameters({theta: math.pi / 2}, inplace=False)
    np.testing.assert_allclose(pulse.render(bound)[D0], pulse.Gaussian(32, 0.5, 8).get_waveform().samples,
                               atol=1e-15)


def test_defcal_overrides_the_gate_map_for_that_program_only() -> None:
    with pulse.build() as lab_x:
        pulse.play(pulse.Drag(40, 0.2, 10, 0.3), D0)
    gate_map = GateMap(dt=DT).add("x", (0,), lab_x)
    text = HEAD + "defcal x $0 { play(q0, constant(0.1, 16dt)); }\nx $0;\nx $0;\n"
    program = program_from_qasm3(text, gate_map, frequencies=FREQS)
    assert gate_map.entries[("x", (0,))].schedule is lab_x
    rendered = pulse.render(lower(program.circuit, program.gate_map))[D0]
    np.testing.assert_allclose(rendered, np.full(32, 0.1), atol=1e-15)  # two 16-sample constants, no DRAG
    plain = pulse.render(lower(Circuit(1).x(0), gate_map))[D0]
    assert len(plain) == 40


@pytest.mark.parametrize("other, atol", [
    (pulse.Waveform(np.linspace(0.1, 0.3, 30) * np.exp(0.2j * np.arange(30))), 0.0),
    # no OpenPulse kernel: written as its samples, amp e^{i angle} multiplied in before the frame phase, not
    # after, so a sample may differ in its last bit
    (pulse.Cos(30, 0.2, phase=0.1, freq=0.03, angle=0.4), 1e-16),
])
def test_export_round_trip_renders_identically(other: pulse.Pulse, atol: float) -> None:
    with pulse.build() as block:
        with pulse.align_left():
            pulse.play(pulse.Gaussian(48, 0.31, 12.5, angle=-0.7), D0)
            pulse.shift_phase(0.4, D0)
            pulse.play(other, D0)
            pulse.shift_frequency(2.5e6, D0)
            pulse.delay(13, D0)
            pulse.play(pulse.Drag(40, 0.2, 10, 0.7), D0)
            pulse.play(pulse.GaussianSquare(200, 0.15, 10, width=150), M0)
            pulse.acquire(180, A0, pulse.MemorySlot(0))
    text = schedule_to_qasm3(block, FREQS, name="measure")
    read = calibrations_from_qasm3(text, dt=DT).defcals[("measure", (0,))].schedule
    def layout(b: pulse.ScheduleBlock) -> list[tuple[int, str, tuple[object, ...]]]:
        return [(t, type(i).__name__, i.channels) for t, i in _timed(b)]  # type: ignore[attr-defined]

    assert layout(read) == layout(block)
    first, second = pulse.render(block, dt=DT), pulse.render(read, dt=DT)
    assert first.keys() == second.keys()
    for ch in first:
        np.testing.assert_allclose(second[ch], first[ch], rtol=0, atol=atol)


def test_gate_map_export_lists_every_gate() -> None:
    with pulse.build() as x0:
        pulse.play(pulse.Drag(40, 0.2, 10, 0.3), D0)
    with pulse.build() as meas:
        pulse.play(pulse.Constant(100, 0.1), M0)
        pulse.acquire(100, A0, pulse.MemorySlot(0))
    text = gate_map_to_qasm3(GateMap(dt=DT).add("x", (0,), x0).add("measure", (0,), meas), FREQS)
    assert "defcal x $0 {" in text and "defcal measure $0 -> bit {" in text
    assert "frame d0_frame = newframe(d0, 5000000000.0, 0.0);" in text
    assert "  return capture_v2(a0_frame, 100dt);" in text
    back = calibrations_from_qasm3(text, dt=DT, frequencies=FREQS).defcals
    assert _timed(back[("x", (0,))].schedule) == _timed(x0)
    assert _timed(back[("measure", (0,))].schedule) == _timed(meas)


@pytest.mark.parametrize("body, where, says", [
    ("defcal x $0 { play(q9, constant(0.1, 16dt)); }\n", "line 12, column 20", "not a declared frame"),
    ("defcal x $0 {\n  play(q0, constant(0.1, 16dt));\n  play(q0, blob(0.1, 16dt));\n}\n", "line 14, column 12",
     "unknown function 'blob'"),
    ("defcal x $0 {\n  delay[1.5ns] q0;\n}\n", "line 13", "not a whole number of samples"),
    ("defcal x $0 {\n  for int i in [0:3] { shift_phase(q0, 0.1); }\n}\n", "line 13, column 3", "ForInLoop"),
    ("defcal foo $0 { play(q0, constant(0.1, 16dt)); }\n", "line 12, column 1", "standard gates and measure"),
    ("defcal x $0 { play(c0, constant(0.1, 16dt)); }\n", "line 12", "acquire port"),
    ("defcal x $0 { play(q0, constant(1.5, 16dt)); }\n", "line 12", "amp"),
])
def test_unsupported_input_names_line_and_column(body: str, where: str, says: str) -> None:
    with pytest.raises(CircuitError) as info:
        calibrations_from_qasm3(HEAD + body, dt=DT, frequencies=FREQS)
    assert where in str(info.value) and says in str(info.value), str(info.value)


def test_frame_at_another_frequency_than_calibrated_is_refused() -> None:
    text = HEAD.replace("newframe(d0, 5000000000.0", "newframe(d0, 5100000000.0")
    with pytest.raises(CircuitError, match=r"line 7, column 3: frame 'q0' asks 5100000000.0 Hz but d0 is calibrated"):
        calibrations_from_qasm3(text, dt=DT, frequencies=FREQS)


def test_circuit_reader_refuses_cal_without_a_gate_map() -> None:
    with pytest.raises(CircuitError, match="line 2, column 1: cal/defcal blocks .*program_from_qasm3"):
        circuit_from_qasm3(HEAD + "x $0;\n")


def test_openpulse_syntax_error_names_its_place_in_the_program() -> None:
    text = HEAD + "defcal x $0 {\n  play(q0, constant(0.1, 16dt));\n  play(q0 constant(0.1, 16dt));\n}\n"
    with pytest.raises(CircuitError, match=r"line 14, column 11: OpenPulse syntax error"):  # 'constant' after q0
        calibrations_from_qasm3(text, dt=DT)
