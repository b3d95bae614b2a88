"""End to end through real sockets: compile, upload to the AWG5208 emulation with QCoDeS' own driver, set the
SGS100A LOs, arm the virtual digitizer, run, fetch -- and see the physics the lab file's device predicts."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from physics_lab import lifted_gaussian
from instrument_sweeps import FRAMES, fit_cosine_period, fit_line_centre, projected, rabi, spectroscopy

from qubitlab import pulse
from qubitlab.drivers.payloads import LoSettings
from qubitlab.pulse.compiler import compile

RABI_PER_VOLT = 6.0e9            # device.qubits.0.rabi_per_volt, Hz per volt at the transmon
HALF_SCALE = 0.5                 # limits.awgs.awg.full_scale_vpp / 2: volts at AWG full scale
GAIN = 10 ** (-30 / 20)          # wiring.lines.q0_drive.gain_db
F_Q0 = 4.997e9                   # device.qubits.0.frequency


def test_rabi_amplitude_sweep_oscillates_with_the_period_the_device_predicts(rig) -> None:
    amp = pulse.Parameter("amp")
    amplitudes = np.linspace(0.0, 0.15, 61)
    program = compile(rabi(amp), rig.lab, FRAMES, values=[{amp: float(a)} for a in amplitudes])
    result = rig.executor.run(program, shots=400)
    assert result[0].shape == (61, 400)
    # On resonance a two-level transmon turns by 2 pi * rabi_per_volt * (volts-seconds of the envelope):
    # one full period when amp * HALF_SCALE * GAIN * RABI_PER_VOLT * sum(envelope) * dt = 1.
    area = float(np.sum(lifted_gaussian(320, 80))) * 1e-9
    expected = 1.0 / (HALF_SCALE * GAIN * RABI_PER_VOLT * area)
    period = fit_cosine_period(amplitudes, projected(result[0]))
    assert period == pytest.approx(expected, rel=0.03)
    # and the contrast is the readout's: ground and excited blobs are far apart compared with the noise
    y = projected(result[0])
    assert np.ptp(y) > 5 * np.std(np.diff(y)) / math.sqrt(2)


def _spectroscopy(rig, lab, detunings: np.ndarray, lo_override: float | None = None) -> float:
    """Centre (Hz, in frame detuning) of a pi-pulse spectroscopy line."""
    duration_s = 2e-6
    rabi_hz = 1 / (2 * duration_s)                       # a pi pulse on resonance
    amp = rabi_hz / (RABI_PER_VOLT * HALF_SCALE * GAIN)  # fraction of full scale
    df = pulse.Parameter("df")
    program = compile(spectroscopy(df, amp, int(duration_s * 1e9)), lab, FRAMES,
                      values=[{df: float(d)} for d in detunings])
    if lo_override is not None:  # the LO instrument set elsewhere than the compiler assumed
        payloads = dict(program.payloads)
        lo = payloads["lo_q0"]
        assert isinstance(lo, LoSettings)
        payloads["lo_q0"] = replace(lo, frequency=lo_override)
        program = replace(program, payloads=payloads)
    result = rig.executor.run(program, shots=300)
    return fit_line_centre(detunings, projected(result[0]), rabi_hz, duration_s)


DETUNINGS = np.linspace(-1.5e6, 1.5e6, 41)


def test_spectroscopy_peaks_at_the_configured_qubit_frequency(rig) -> None:
    centre = _spectroscopy(rig, rig.lab, DETUNINGS)
    assert abs(FRAMES["d0"] + centre - F_Q0) < 30e3


def test_moving_the_lo_in_the_lab_file_keeps_the_line_where_the_qubit_is(rig) -> None:
    # The compiler modulates at IF = frame - LO, so with the LO moved by 50 MHz (and the instrument set to it
    # by the executor) the line stays at the qubit frequency, now at an IF 50 MHz higher.
    lines = dict(rig.lab.wiring.lines)
    lines["q0_drive"] = lines["q0_drive"].model_copy(update={"lo_frequency": 4.85e9})
    moved = rig.lab.model_copy(update={"wiring": rig.lab.wiring.model_copy(update={"lines": lines})})
    centre = _spectroscopy(rig, moved, DETUNINGS)
    assert abs(FRAMES["d0"] + centre - F_Q0) < 30e3
    assert rig.virtual.instruments["lo_q0"].frequency == 4.85e9  # type: ignore[attr-defined]


def test_an_lo_set_off_what_the_compiler_assumed_moves_the_line_by_as_much(rig) -> None:
    # Lab file says 4.9 GHz, the instrument runs at 4.9 GHz + 600 kHz: every tone lands 600 kHz higher, so the
    # line appears 600 kHz lower in frame detuning.
    centre = _spectroscopy(rig, rig.lab, DETUNINGS, lo_override=4.9e9 + 600e3)
    assert abs(FRAMES["d0"] + centre - (F_Q0 - 600e3)) < 30e3


def test_every_run_keeps_the_station_snapshot(rig, tmp_path) -> None:
    from qubitlab.drivers.executor import Executor

    executor = Executor(rig.executor.station, rig.lab, runs_dir=tmp_path)
    program = compile(rabi(0.02), rig.lab, FRAMES)
    result = executor.run(program, shots=20)
    lo = result.snapshot["instruments"]["lo_q0"]["parameters"]
    assert lo["frequency"]["value"] == 4.9e9 and lo["status"]["value"] is True
    (record,) = tmp_path.glob("*.json")
    import json

    saved = json.loads(record.read_text())
    assert saved["program_hash"] == program.input_hash and saved["shots"] == 20
    station = json.loads((tmp_path / saved["station_snapshot"]).read_text())
    assert station["instruments"]["awg"]["submodules"]["ch1"]["parameters"]["awg_amplitude"]["value"] == 1.0
    # the same station state is stored once, however many runs refer to it
    executor.run(program, shots=20)
    records = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert len(records) == 2 and len(list((tmp_path / "stations").glob("*.json"))) == 1
    assert {r["station_snapshot"] for r in records} == {saved["station_snapshot"]}
