"""virtual_5q: the drive lines are on one AWG5208 and the readout on another; the shared trigger must wait
for both to run (the acquisition once started with the first AWG alone and recorded no readout tone)."""

from __future__ import annotations

import numpy as np
from instrument_sweeps import FRAMES, projected, rabi
from virtual_rig import ROOT, started_rig

from qubitlab import load_lab, pulse
from qubitlab.pulse.compiler import compile


def test_a_drive_on_one_awg_and_the_readout_on_another_make_one_shot() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    frames = {**FRAMES, "m0": 7.05e9}          # virtual_5q's q0 resonator
    with started_rig(lab) as rig:
        amp = pulse.Parameter("amp")
        amplitudes = np.linspace(0.0, 0.15, 31)
        program = compile(rabi(amp), rig.lab, {k: v for k, v in frames.items() if k in ("d0", "m0")},
                          values=[{amp: float(a)} for a in amplitudes])
        assert set(program.awg_programs()) == {"awg1", "awg2"}
        iq = rig.executor.run(program, shots=200)[0]
        # the readout (awg2) sees the Rabi drive (awg1): an oscillation far above the noise of a point's mean
        noise = float(np.sqrt(np.mean(iq.real.var(axis=1) + iq.imag.var(axis=1)) / 2 / iq.shape[1]))
        assert np.ptp(projected(iq)) > 20 * noise
