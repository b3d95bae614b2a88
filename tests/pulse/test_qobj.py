"""PulseQobj import/export against documents and samples made by Qiskit 1.4.6 (tests/fixtures/qobj/make_fixtures.py).

``samples.json`` holds, per experiment and channel, Qiskit's own ``get_waveform().samples`` with the frame applied
by a reference written in the fixture script; the tests never compare qubitlab with itself except for round trips.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.drivers.payloads import MeasLevel, MeasReturn
from qubitlab.errors import PulseError
from qubitlab.pulse.qobj import from_qobj, load_qobj
from qubitlab.pulse.qobj_export import schedules_to_qobj, to_qobj

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qobj"
ASSEMBLED = FIXTURES / "assembled.json"
REFERENCE = json.loads((FIXTURES / "samples.json").read_text())


def _document() -> dict[str, Any]:
    return json.loads(ASSEMBLED.read_text())  # type: ignore[no-any-return]


def _rendered(job: Any, index: int) -> dict[str, np.ndarray]:
    frequencies = job.base_frequencies(index)
    frequencies[pulse.ControlChannel(0)] = REFERENCE["base_frequencies"]["u0"]  # u0 drives at qubit 1 (5.1 GHz)
    out = pulse.render(job.experiments[index].schedule, dt=REFERENCE["dt"], frequencies=frequencies)
    return {ch.name: samples for ch, samples in out.items()}


@pytest.mark.parametrize("index", [0, 1])
def test_import_renders_qiskit_samples(index: int) -> None:
    job = load_qobj(ASSEMBLED)
    got = _rendered(job, index)
    expected = REFERENCE["experiments"][index]
    played = [name for name, samples in expected.items() if any(x or y for x, y in samples)]
    assert set(played) <= set(got), (played, sorted(got))
    for name, samples in expected.items():
        want = np.array([complex(x, y) for x, y in samples])
        np.testing.assert_allclose(got.get(name, np.zeros(len(want))), want, rtol=0, atol=1e-12, err_msg=name)


def test_import_settings_in_si_units() -> None:
    job = load_qobj(ASSEMBLED)
    assert job.shots == 512 and job.memory_slots == 2 and job.qobj_id == "qubitlab-fixture"
    assert job.meas_level is MeasLevel.KERNELED and job.meas_return is MeasReturn.SINGLE
    assert job.rep_time == pytest.approx(250e-6, rel=1e-12)  # 250 us in the document
    assert job.qubit_lo_freq == pytest.approx((5.0e9, 5.1e9), rel=1e-15)  # GHz in the document
    assert job.meas_lo_freq == pytest.approx((7.0e9, 7.1e9), rel=1e-15)
    assert [e.header["name"] for e in job.experiments] == ["single_qubit", "frequency_shifts"]
    assert [e.schedule.name for e in job.experiments] == ["single_qubit", "frequency_shifts"]
    acquires = [(t, i) for t, i in job.experiments[0].schedule.instructions if isinstance(i, pulse.Acquire)]
    assert sorted((t, a.acquire.index, a.mem_slot.index, a.duration) for t, a in acquires) == [  # type: ignore[union-attr]
        (112, 0, 0, 64), (112, 1, 1, 64)]
    delays = [(t, i.duration) for t, i in job.experiments[0].schedule.instructions if type(i) is pulse.Delay]
    assert delays == [(88, 8)]


def test_round_trip_through_export_renders_identically() -> None:
    job = load_qobj(ASSEMBLED)
    again = from_qobj(json.loads(json.dumps(to_qobj(job))))
    assert again.shots == job.shots and again.meas_level is job.meas_level and again.rep_time == job.rep_time
    assert again.qubit_lo_freq == pytest.approx(job.qubit_lo_freq, rel=1e-15)
    for index in (0, 1):
        first, second = _rendered(job, index), _rendered(again, index)
        assert first.keys() == second.keys()
        for name in first:
            np.testing.assert_allclose(second[name], first[name], rtol=0, atol=1e-15, err_msg=name)


def test_export_written_as_qiskit_assemble_writes() -> None:
    ramp = np.linspace(0, 0.4, 12) + 0.1j
    sched = pulse.Schedule(name="hand")
    sched.insert(0, pulse.Play(pulse.Gaussian(40, 0.5, 10, angle=math.pi / 2), pulse.DriveChannel(0)), inplace=True)
    sched.insert(40, pulse.ShiftFrequency(1.0e6, pulse.DriveChannel(0)), inplace=True)
    sched.insert(40, pulse.Play(pulse.Waveform(ramp), pulse.DriveChannel(0)), inplace=True)
    sched.insert(52, pulse.Play(pulse.Waveform(ramp), pulse.DriveChannel(0)), inplace=True)
    for q in (0, 1):
        sched.insert(64, pulse.Acquire(100, pulse.AcquireChannel(q), pulse.MemorySlot(q)), inplace=True)
    doc = schedules_to_qobj(sched, qubit_lo_freq=[4.8e9, 4.9e9], meas_lo_freq=[6.5e9, 6.6e9], rep_time=100e-6)
    config = doc["config"]
    assert config["qubit_lo_freq"] == pytest.approx([4.8, 4.9]) and config["rep_time"] == 100
    assert config["memory_slots"] == 2
    name = hashlib.sha256(ramp.astype(np.complex128).tobytes()).hexdigest()
    assert [p["name"] for p in config["pulse_library"]] == [name]  # one entry for two plays of one waveform
    insts = doc["experiments"][0]["instructions"]
    gauss = insts[0]
    assert gauss["name"] == "parametric_pulse" and gauss["pulse_shape"] == "gaussian"
    assert gauss["parameters"]["amp"] == pytest.approx([0.0, 0.5], abs=1e-16)  # 0.5 e^{i pi/2}
    assert {"name": "shiftf", "t0": 40, "ch": "d0", "frequency": pytest.approx(1e-3)} in insts
    assert [i["t0"] for i in insts if i["name"] == name] == [40, 52]
    assert [i for i in insts if i["name"] == "acquire"] == [
        {"name": "acquire", "t0": 64, "duration": 100, "qubits": [0, 1], "memory_slot": [0, 1]}]


def _failure(doc: dict[str, Any]) -> str:
    with pytest.raises(PulseError) as info:
        from_qobj(doc, source="job.json")
    return str(info.value)


def test_unsupported_or_wrong_instructions_are_named() -> None:
    doc = _document()
    doc["experiments"][1]["instructions"][2] = {"name": "pv", "t0": 0, "ch": "d0", "val": [0.1, 0]}
    message = _failure(doc)
    assert "job.json" in message and "experiments[1].instructions[2] (pv)" in message and "'fc'" in message
    doc = _document()
    doc["experiments"][0]["instructions"][0]["ch"] = "q7"
    assert "channel 'q7'" in (message := _failure(doc)) and "d<n>, u<n>, m<n>" in message
    doc = _document()
    doc["experiments"][0]["instructions"][1]["parameters"]["amp"] = [1.2, 0.0]
    assert "experiments[0].instructions[1]" in _failure(doc)  # |amp| > 1 refused, not clipped
    doc = _document()
    doc["experiments"][0]["instructions"][0]["pulse_shape"] = "sech"
    assert "pulse_shape 'sech'" in (message := _failure(doc)) and "gaussian_square" in message
    doc = _document()
    doc["config"]["meas_return"] = "mean"
    assert "config.meas_return" in _failure(doc)
    assert "'PULSE'" in _failure({"type": "QASM", "config": {}, "experiments": []})


def test_overlap_in_a_document_is_refused_with_its_place() -> None:
    doc = _document()
    doc["experiments"][0]["instructions"].append(
        {"name": "parametric_pulse", "t0": 10, "ch": "d0", "pulse_shape": "constant",
         "parameters": {"duration": 8, "amp": [0.1, 0]}})
    assert "experiments[0].instructions[10]" in _failure(doc)


def test_load_qobj_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(PulseError, match="broken.json"):
        load_qobj(bad)


def test_parameterised_schedule_is_refused_on_export() -> None:
    amp = pulse.Parameter("amp")
    sched = pulse.Schedule(pulse.Play(pulse.Sin(20, amp, phase=0.0, freq=0.1), pulse.DriveChannel(0)))
    with pytest.raises(PulseError, match="parameterised; assign"):
        schedules_to_qobj(sched, qubit_lo_freq=[5e9], meas_lo_freq=[7e9])


# Qiskit 1.4 itself reads our export in tests/pulse/test_qobj_qiskit1.py (its own interpreter, .venv-qiskit1)
def test_imported_qobj_runs_on_the_virtual_lab() -> None:
    """The fixture's first experiment (Gaussian, DRAG, waveform on d0, constant on d1, readout and acquires of both
    qubits) compiles for virtual_2q with the document's LO frequencies as frames, and runs there."""
    from qubitlab import load_lab
    from qubitlab.drivers.open import open_lab
    from qubitlab.pulse.compiler import compile

    lab = load_lab(Path(__file__).resolve().parents[2] / "lab_configs" / "virtual_2q.yaml")
    job = load_qobj(ASSEMBLED)
    calibrated = {"d0": 4.95e9, "d1": 5.25e9, "u0": 5.25e9, "u1": 4.95e9, "m0": 7.05e9, "m1": 7.1e9}
    frames = job.frames(calibrated, 0)
    assert frames["d0"] == pytest.approx(5.0e9) and frames["m1"] == pytest.approx(7.1e9)
    assert frames["u0"] == 5.25e9  # a PulseQobj sets no control-channel LO: the calibrated frame stays
    program = compile(job.experiments[0].schedule, lab, frames)
    with open_lab(lab) as opened:
        raw = opened.executor.run(program, shots=16, rep_delay=job.rep_time or 100e-6)
    assert sorted(raw.data) == [0, 1]  # memory slots 0 and 1, one per acquired qubit
    assert raw.shots == 16 and all(np.all(np.isfinite(raw[slot])) for slot in (0, 1))


def _acquire_index(doc: dict[str, Any], experiment: int = 0) -> int:
    return next(i for i, inst in enumerate(doc["experiments"][experiment]["instructions"]) if inst["name"] == "acquire")


def test_acquire_kernels_are_read_or_refused_by_name() -> None:
    doc = _document()
    k = _acquire_index(doc)
    doc["experiments"][0]["instructions"][k]["kernels"] = [{"name": "hw_boxcar", "params": {}}]   # one for both
    acquires = [i for _, i in from_qobj(doc).experiments[0].schedule.instructions if isinstance(i, pulse.Acquire)]
    assert [a.kernel for a in acquires] == [pulse.Kernel("hw_boxcar")] * 2
    doc["experiments"][0]["instructions"][k]["kernels"] = [{"name": "hw_qmfk", "params": {"tau": 2.0}}]
    message = _failure(doc)
    assert f"experiments[0].instructions[{k}] (acquire)" in message and "kernel 'hw_qmfk'" in message
    assert "'boxcar'" in message and "'real' and 'imag'" in message
    doc["experiments"][0]["instructions"][k]["kernels"] = [{"name": "w", "params": {"real": [1.0], "imag": []}}]
    assert "kernel 'w'" in _failure(doc)                                     # weights of unequal lengths
    doc["experiments"][0]["instructions"][k]["kernels"] = [{"name": "hw_boxcar"}] * 3
    assert "one per qubit" in _failure(doc)                                  # three kernels for two qubits


def test_acquire_discriminators_only_the_calibrated_centroid_at_meas_level_2() -> None:
    doc = _document()
    k = _acquire_index(doc)
    acquire = doc["experiments"][0]["instructions"][k]
    acquire["discriminators"] = [{"name": "hw_centroid", "params": {}}]
    assert "meas_level 1: a discriminator classifies" in _failure(doc)       # the fixture is meas_level 1
    doc["config"]["meas_level"] = 2
    schedule = from_qobj(doc).experiments[0].schedule
    assert {i.discriminator for _, i in schedule.instructions if isinstance(i, pulse.Acquire)} == {
        pulse.Discriminator("hw_centroid")}
    acquire["discriminators"] = [{"name": "linear_discriminator", "params": {"coefficients": [1, 0]}}] * 2
    message = _failure(doc)
    assert f"experiments[0].instructions[{k}]" in message and "discriminator 'linear_discriminator'" in message
    assert "'hw_centroid'" in message and "meas_level 1" in message


def test_export_refuses_a_discriminator_below_meas_level_2() -> None:
    sched = pulse.Schedule(pulse.Acquire(10, pulse.AcquireChannel(0), pulse.MemorySlot(0),
                                         discriminator=pulse.Discriminator("hw_centroid")))
    with pytest.raises(PulseError, match=r"discriminator needs meas_level 2"):
        schedules_to_qobj(sched, qubit_lo_freq=[5e9], meas_lo_freq=[7e9], meas_level=MeasLevel.KERNELED)
