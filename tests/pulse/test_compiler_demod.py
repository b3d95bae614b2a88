"""An acquisition demodulates at its measure channel's frame frequency in force when it starts: shifts and sets
on the measure channel before it count (a resonator spectroscopy sweeps ``shift_frequency`` on ``m_q``)."""

from __future__ import annotations

import pytest

from qubitlab import pulse
from qubitlab.drivers.payloads import DigitizerProgram
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes import AcquisitionView, AwgView, HardwareView, LineView, LoView, OutputView

M0, M1 = pulse.MeasureChannel(0), pulse.MeasureChannel(1)
LO_RO = 7.0e9
FRAMES = {"m0": 7.05e9, "m1": 7.08e9}


def hardware() -> HardwareView:
    """One readout line on a 2-output AWG, a digitizer input for both acquisition channels."""
    awg = AwgView("awg", 1e9, 16, 64, 400e6, {o: OutputView(o, 1.0, 0.8) for o in ("1", "2")})
    lines = {"ro": LineView("ro", "readout", "awg", ("1", "2"), "lo_ro", LO_RO, 12.0)}
    los = {"lo_ro": LoView("lo_ro", (1e6, 12.75e9), (-120.0, 25.0))}
    acquisitions = {"a0": AcquisitionView("dig", "1", 500e6, "ro"), "a1": AcquisitionView("dig", "1", 500e6, "ro")}
    return HardwareView(1e-9, lines, {"m0": "ro", "m1": "ro"}, {"awg": awg}, los, acquisitions)


def _demod(prog: object, values: list[dict[pulse.Parameter, float]] | None = None) -> list[tuple[int, int, float]]:
    dig = compile(prog, hardware(), FRAMES, values=values).payloads["dig"]
    assert isinstance(dig, DigitizerProgram)
    return [(w.point, w.memory_slot, w.demod_frequency) for w in dig.windows]


def test_shift_and_set_frequency_before_the_acquisition_move_its_demodulation() -> None:
    with pulse.build() as prog:
        with pulse.align_sequential():
            pulse.shift_frequency(2e6, M0)
            pulse.shift_frequency(-0.5e6, M0)
            pulse.set_frequency(7.1e9, M1)
            with pulse.align_left():
                pulse.play(pulse.Constant(400, 0.1), M0)
                pulse.play(pulse.Constant(400, 0.1), M1)
                pulse.acquire(400, 0, pulse.MemorySlot(0))
                pulse.acquire(400, 1, pulse.MemorySlot(1))
    (p0, s0, f0), (p1, s1, f1) = sorted(_demod(prog), key=lambda w: w[1])
    assert f0 == pytest.approx(FRAMES["m0"] + 1.5e6 - LO_RO)
    assert f1 == pytest.approx(7.1e9 - LO_RO)


def test_a_swept_shift_demodulates_each_point_at_its_own_frequency() -> None:
    df = pulse.Parameter("df")
    with pulse.build() as prog:
        with pulse.align_sequential():
            pulse.shift_frequency(df, M0)
            pulse.play(pulse.Constant(400, 0.1), M0)
            pulse.acquire(400, 0, pulse.MemorySlot(0))
    shifts = [-3e6, 0.0, 4e6]
    windows = sorted(_demod(prog, [{df: s} for s in shifts]))
    assert [f for _, _, f in windows] == pytest.approx([FRAMES["m0"] - LO_RO + s for s in shifts])


def test_a_shift_after_the_acquisition_does_not_move_it() -> None:
    with pulse.build() as prog:
        with pulse.align_sequential():
            with pulse.align_left():
                pulse.play(pulse.Constant(400, 0.1), M0)
                pulse.acquire(400, 0, pulse.MemorySlot(0))
            pulse.shift_frequency(5e6, M0)
            pulse.delay(16, M0)
    ((_, _, f),) = _demod(prog)
    assert f == pytest.approx(FRAMES["m0"] - LO_RO)
