"""An acquisition window never opens before its acquisition: on virtual_2q's 500 MS/s digitizer (2 dt per
sample) an acquisition at an odd time starts at the next digitizer sample, not the nearest."""

from __future__ import annotations

from pathlib import Path

from qubitlab import load_lab, pulse
from qubitlab.drivers.payloads import DigitizerProgram
from qubitlab.pulse.compiler import compile

LAB = load_lab(Path(__file__).resolve().parents[2] / "lab_configs" / "virtual_2q.yaml")
FRAMES = {"d0": 4.997e9, "m0": 7.051e9}


def window_start(drive: int) -> int:
    with pulse.build() as program:
        with pulse.align_sequential():
            pulse.play(pulse.Constant(drive, 0.1), pulse.DriveChannel(0))
            with pulse.align_left():
                pulse.play(pulse.Constant(1000, 0.1), pulse.MeasureChannel(0))
                pulse.acquire(1000, pulse.AcquireChannel(0), pulse.MemorySlot(0))
    digitizer = compile(program, LAB, FRAMES).payloads["digitizer"]
    assert isinstance(digitizer, DigitizerProgram)
    return digitizer.windows[0].start


def test_a_window_after_an_odd_length_drive_starts_after_it() -> None:
    assert window_start(160) == 80           # t = 160 dt = 80 digitizer samples exactly
    assert window_start(161) == 81           # t = 161 dt = 80.5 samples: 81, never 80 (inside the drive)
    assert window_start(163) == 82           # 81.5 -> 82 (nearest rounding agrees here; 161 is the case that differs)
