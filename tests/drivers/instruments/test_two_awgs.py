"""virtual_5q: the drive lines are on one AWG5208 and the readout on another; the shared trigger must wait
for both to run (the acquisition once started with the first AWG alone and recorded no readout tone)."""

from __future__ import annotations

import numpy as np
import pytest
from instrument_sweeps import FRAMES, projected, rabi
from fault_checks import awgs_unsafe, unsafe
from virtual_rig import ROOT, started_rig

from qubitlab import load_lab, pulse
from qubitlab.drivers.executor import Stage
from qubitlab.drivers.mock.scpi import Fault
from qubitlab.errors import DriverError
from qubitlab.pulse.compiler import compile

TIMEOUT = 0.4
SHOTS = 20


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


def test_with_two_awgs_a_silent_one_leaves_the_other_stopped_and_every_lo_off() -> None:
    lab = load_lab(ROOT / "lab_configs" / "virtual_5q.yaml")
    frames = {"d0": FRAMES["d0"], "m0": 7.05e9}          # virtual_5q's q0 resonator
    with started_rig(lab, timeout=TIMEOUT) as rig:
        program = compile(rabi(0.03), rig.lab, frames)
        assert set(program.awg_programs()) == {"awg1", "awg2"}
        rig.executor.on_stage = lambda now: rig.virtual.inject("awg1", Fault.MUTE) if now is Stage.FETCH else None
        try:
            with pytest.raises(DriverError, match=r"run stage 'stop': instrument 'awg1'") as caught:
                rig.executor.run(program, shots=SHOTS)
            left = unsafe(rig.virtual)
        finally:
            rig.executor.on_stage = None
            rig.virtual.inject("awg1", Fault.NONE)
        # awg1 never heard the stop: it plays on, and says so; everything else is off
        assert set(left) == {"awg1"} and "running" in left["awg1"]
        assert "could not be confirmed on awg1" in str(caught.value)
        rig.executor.run(program, shots=SHOTS)
        assert awgs_unsafe(rig.virtual) == {}
