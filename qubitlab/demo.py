"""The main job for now: build a calibration-style pulse program, render it, plot it and save it as JSON.

Later issues replace this with ``qubitlab demo`` (virtual lab, daemon, bring-up and VQE); until then this shows
the pulse layer end to end on any machine: the builder, a parameter sweep bound without copying, the
rendered per-channel envelopes, a timeline plot and the JSON form the calibration store will keep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qubitlab.pulse import Parameter, ScheduleBlock


def build_rabi_with_readout() -> tuple[ScheduleBlock, Parameter]:
    """A DRAG Rabi pulse on qubit 0, an echoed cross-resonance block to qubit 1, and a two-qubit readout."""
    from qubitlab import pulse

    amp = pulse.Parameter("amp")
    d0, d1, u0 = pulse.DriveChannel(0), pulse.DriveChannel(1), pulse.ControlChannel(0)
    with pulse.build(name="rabi_cr_readout") as program:
        with pulse.align_sequential():
            pulse.play(pulse.Drag(160, amp, 40, 0.8, name="rabi"), d0)
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(800, 0.2, 64, width=544, name="cr+"), u0)
                pulse.play(pulse.GaussianSquare(800, 0.03, 64, width=544, angle=np.pi / 2, name="cancel+"), d1)
            pulse.play(pulse.Drag(160, 0.18, 40, 0.8, name="echo x"), d0)
            with pulse.phase_offset(np.pi, u0, d1):
                with pulse.align_left():
                    pulse.play(pulse.GaussianSquare(800, 0.2, 64, width=544, name="cr-"), u0)
                    pulse.play(pulse.GaussianSquare(800, 0.03, 64, width=544, angle=np.pi / 2), d1)
            with pulse.align_left():
                for q in (0, 1):
                    pulse.play(pulse.GaussianSquare(1600, 0.1, 64, width=1344), pulse.MeasureChannel(q))
                    pulse.acquire(1600, pulse.AcquireChannel(q), pulse.MemorySlot(q))
    return program, amp


def run_pulse_demo(out_dir: str | Path) -> Iterator[str]:
    """Run the demo, writing ``rabi_cr_readout.png`` and ``.json`` into ``out_dir``; yields report lines."""
    from qubitlab import pulse

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    program, amp = build_rabi_with_readout()
    yield f"built {program.name!r}: {len(pulse.block_to_schedule(program).instructions)} instructions, " \
          f"{program.duration} samples, parameters {sorted(p.name for p in program.parameters)}"
    amplitudes = np.linspace(0.0, 0.4, 41)
    peaks = []
    for value in amplitudes:
        envelopes = pulse.render(program.assign_parameters({amp: float(value)}, inplace=False))
        peaks.append(float(np.max(np.abs(envelopes[pulse.DriveChannel(0)][:160]))))
    yield f"bound and rendered a {len(amplitudes)}-point Rabi sweep in {1e3 * (time.perf_counter() - t0):.1f} ms; " \
          f"peak drive amplitude {peaks[0]:.3f} .. {peaks[-1]:.3f}"
    example = program.assign_parameters({amp: 0.3}, inplace=False)
    figure = example.draw(dt=0.222e-9, title="Rabi pulse, echoed cross-resonance, readout (amp = 0.3)")
    png = out / "rabi_cr_readout.png"
    figure.savefig(png, dpi=110)
    yield f"timeline plot: {png.resolve()}"
    document = out / "rabi_cr_readout.json"
    document.write_text(pulse.dumps(program, indent=1))
    again = pulse.loads(document.read_text())
    same = again == program
    yield f"schedule JSON (round trip {'exact' if same else 'CHANGED'}): {document.resolve()}"
    if not same:
        raise RuntimeError("the JSON round trip changed the program")
