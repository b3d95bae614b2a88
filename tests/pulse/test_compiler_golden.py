"""Golden payloads: small schedules compiled for lab_configs/virtual_2q.yaml, stored as JSON and checked exactly.

The AWG's minimum waveform length is lowered to 64 samples here (the AWG5208's real 2400 would pad every
golden file with thousands of zeros without testing anything more).

Regenerate after an intended change with ``pytest tests/pulse/test_compiler_golden.py --regen-golden`` and
review the diff of ``tests/pulse/golden/`` like code: every changed number must be explained by the change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qubitlab import load_lab, pulse
from qubitlab.drivers.payloads import to_jsonable
from qubitlab.pulse.compiler import compile
from qubitlab.pulse.passes.hardware import hardware_view

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden")
D0, D1, U0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0)
M0, M1 = pulse.MeasureChannel(0), pulse.MeasureChannel(1)


def frames(lab: Any) -> dict[str, float]:
    from qubitlab.pulse.passes.hardware import hardware_view

    view = hardware_view(lab)
    out = {}
    for channel, line in view.channel_lines.items():
        lo = view.lines[line].lo_frequency
        out[channel] = lo + (60e6 + 15e6 * int(channel[1:]) if channel.startswith("m") else 80e6)
    return out


def single_pulse() -> Any:
    with pulse.build(name="single_pulse") as prog:
        pulse.play(pulse.Drag(32, 0.4, 8, 0.5), D0)
    return prog


def phase_shifts() -> Any:
    with pulse.build(name="phase_shifts") as prog:
        pulse.play(pulse.Gaussian(32, 0.3, 6), D0)
        pulse.shift_phase(math.pi / 2, D0)
        pulse.play(pulse.Gaussian(32, 0.3, 6), D0)
        pulse.set_phase(0.25, D0)
        pulse.play(pulse.Gaussian(32, 0.3, 6), D0)
    return prog


def frequency_shift() -> Any:
    with pulse.build(name="frequency_shift") as prog:
        pulse.play(pulse.Constant(48, 0.2), D0)
        pulse.shift_frequency(5e6, D0)
        pulse.play(pulse.Constant(48, 0.2), D0)
    return prog


def cross_resonance() -> Any:
    with pulse.build(name="cross_resonance") as prog:
        with pulse.align_sequential():
            pulse.shift_phase(0.4, D1)
            pulse.shift_phase(0.4, U0)
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(96, 0.3, 8, width=64), U0)
                pulse.play(pulse.GaussianSquare(96, 0.05, 8, width=64, angle=math.pi / 2), D1)
            pulse.play(pulse.Drag(32, 0.4, 8, 0.5), D0)
    return prog


def multiplexed_readout() -> Any:
    with pulse.build(name="multiplexed_readout") as prog:
        for q, m in ((0, M0), (1, M1)):
            pulse.play(pulse.GaussianSquare(128, 0.2, 8, width=96), m)
            pulse.acquire(128, q, pulse.MemorySlot(q))
    return prog


def sweep() -> tuple[Any, list[dict[Any, float]]]:
    amp = pulse.Parameter("amp")
    with pulse.build(name="sweep") as prog:
        with pulse.align_sequential():
            pulse.play(pulse.Gaussian(32, amp, 6), D0)
            pulse.play(pulse.Constant(64, 0.1), M0)
            pulse.acquire(64, 0, pulse.MemorySlot(0))
    return prog, [{amp: float(a)} for a in np.linspace(0, 0.45, 10)]


CASES: dict[str, Callable[[], Any]] = {
    "single_pulse": single_pulse,
    "phase_shifts": phase_shifts,
    "frequency_shift": frequency_shift,
    "cross_resonance": cross_resonance,
    "multiplexed_readout": multiplexed_readout,
    "sweep": sweep,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_payloads(case: str, request: pytest.FixtureRequest) -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_2q.yaml")
    hw = hardware_view(lab)
    hw = replace(hw, awgs={name: replace(awg, min_length=64) for name, awg in hw.awgs.items()})
    made = CASES[case]()
    program, values = made if isinstance(made, tuple) else (made, None)
    compiled = to_jsonable(compile(program, hw, frames(lab), values=values))
    path = GOLDEN / f"{case}.json"
    if request.config.getoption("--regen-golden"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(compiled, indent=1, sort_keys=True) + "\n")
    assert path.exists(), f"no golden file {path.name}: run pytest with --regen-golden and review it"
    assert compiled == json.loads(path.read_text())


def test_single_pulse_golden_matches_the_closed_form() -> None:
    """The golden file itself is right: I + iQ is the Drag's samples on an 80 MHz carrier, then zeros."""
    golden = json.loads((GOLDEN / "single_pulse.json").read_text())["payloads"]["awg"]
    step = golden["sequence"][0]["waveforms"]
    i_samples = np.array(golden["waveforms"][step["1"]])
    q_samples = np.array(golden["waveforms"][step["2"]])
    n = np.arange(32)
    expected = pulse.Drag(32, 0.4, 8, 0.5).get_waveform().samples * np.exp(2j * np.pi * 80e6 * n * 1e-9)
    np.testing.assert_allclose(i_samples[:32] + 1j * q_samples[:32], expected, atol=1e-7)  # float32 samples
    assert not i_samples[32:].any() and not q_samples[32:].any()
