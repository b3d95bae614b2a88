"""PulseQobj interop against Qiskit 1.4 itself, run in its own interpreter (.venv-qiskit1).

Qiskit 2.x, which the bridge needs, has no ``qiskit.qobj``; ``python3 dev.py test`` therefore makes a second
venv with ``qiskit>=1.4,<2`` and this test runs tests/pulse/qiskit1_check.py under it (a subprocess, bounded in
time): Qiskit's ``PulseQobj.from_dict`` must accept qubitlab's export, give what it gives for the document
Qiskit assembled, and be stable after a second round trip; a document Qiskit assembles now must import into
schedules whose render equals Qiskit's own samples (tests/fixtures/qobj/make_fixtures.py's reference), and the
kernels and discriminators Qiskit writes must arrive on the ``Acquire``s. Skipped only without that venv.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qubitlab import pulse
from qubitlab.pulse.instructions import Discriminator, Kernel
from qubitlab.pulse.qobj import from_qobj, load_qobj
from qubitlab.pulse.qobj_export import schedules_to_qobj, to_qobj

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "qobj" / "assembled.json"
PYTHON = ROOT / ".venv-qiskit1" / ("Scripts" if os.name == "nt" else "bin") / (
    "python.exe" if os.name == "nt" else "python")
TIMEOUT = 180.0
"""Seconds the Qiskit 1.4 script may take (about 2 s of CPU: importing Qiskit dominates)."""


def _qiskit1(documents: list[dict[str, Any]]) -> dict[str, Any]:
    if not PYTHON.exists():
        pytest.skip(f"no Qiskit 1.4 interpreter at {PYTHON}: `python3 dev.py test` creates it")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([str(PYTHON), str(Path(__file__).with_name("qiskit1_check.py"))], input=json.dumps(
        {"documents": documents}), capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _canonical(doc: Any) -> Any:
    """Numbers rounded to 1e-12, instructions and the pulse library in a fixed order (Qiskit keeps no order)."""
    if isinstance(doc, float):
        return round(doc, 12) + 0.0
    if isinstance(doc, dict):
        out = {k: _canonical(v) for k, v in doc.items()}
        if "instructions" in out:
            out["instructions"].sort(key=lambda i: json.dumps(i, sort_keys=True))
        for key in ("pulse_library", "parametric_pulses"):
            if key in out:
                out[key].sort(key=lambda p: json.dumps(p, sort_keys=True))
        return out
    if isinstance(doc, list):
        return [_canonical(v) for v in doc]
    return doc


def _measured() -> pulse.Schedule:
    """Two qubits read out at meas_level 2 with weights kernels and the calibrated-centroid discriminator."""
    sched = pulse.Schedule(name="measured")
    sched.insert(0, pulse.Play(pulse.Drag(40, 0.3, 10, 0.5), pulse.DriveChannel(0)), inplace=True)
    sched.insert(40, pulse.ShiftFrequency(2e6, pulse.MeasureChannel(1)), inplace=True)
    for q in (0, 1):
        kernel = Kernel("weights", real=[1.0, 0.5 * q, 0.25], imag=[0.0, 0.1, -0.1])
        sched.insert(40, pulse.Acquire(3, pulse.AcquireChannel(q), pulse.MemorySlot(q), kernel=kernel,
                                       discriminator=Discriminator("hw_centroid")), inplace=True)
    return sched


@pytest.fixture(scope="module")
def qiskit1() -> dict[str, Any]:
    ours = [to_qobj(load_qobj(FIXTURE)),
            schedules_to_qobj(_measured(), qubit_lo_freq=[5e9, 5.1e9], meas_lo_freq=[7e9, 7.1e9], meas_level=2)]
    return {"ours": ours, **_qiskit1(json.loads(json.dumps(ours)))}


def test_export_accepted_by_qiskit_1_4_and_equal_after_a_round_trip(qiskit1: dict[str, Any]) -> None:
    assert _canonical(qiskit1["first"][0]) == _canonical(qiskit1["original"])     # as Qiskit reads its own
    assert [_canonical(d) for d in qiskit1["again"]] == [_canonical(d) for d in qiskit1["first"]]
    acquire = [i for i in qiskit1["first"][1]["experiments"][0]["instructions"] if i["name"] == "acquire"]
    assert acquire == [{"name": "acquire", "t0": 40, "duration": 3, "qubits": [0, 1], "memory_slot": [0, 1],
                        "kernels": [{"name": "weights", "params": {"real": [1.0, 0.5 * q, 0.25],
                                                                   "imag": [0.0, 0.1, -0.1]}} for q in (0, 1)],
                        "discriminators": [{"name": "hw_centroid", "params": {}}] * 2}]


def test_a_document_qiskit_assembles_now_imports_to_its_samples(qiskit1: dict[str, Any]) -> None:
    assert _canonical(qiskit1["assembled"]) == _canonical(qiskit1["original"])  # the stored fixture is current
    job = from_qobj(qiskit1["assembled"], source="assembled by Qiskit 1.4")
    dt = 2.0e-10                                                                # make_fixtures.DT
    for index, expected in enumerate(qiskit1["samples"]):
        frequencies = job.base_frequencies(index)
        frequencies[pulse.ControlChannel(0)] = 5.1e9                            # u0 drives at qubit 1
        rendered = {ch.name: s for ch, s in pulse.render(job.experiments[index].schedule, dt=dt,
                                                         frequencies=frequencies).items()}
        for name, samples in expected.items():
            want = np.array([complex(x, y) for x, y in samples])
            got = rendered.get(name, np.zeros(len(want)))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=f"experiment {index} {name}")


def test_kernels_and_discriminators_qiskit_writes_arrive_on_the_acquires(qiskit1: dict[str, Any]) -> None:
    job = from_qobj(qiskit1["kerneled"], source="kerneled")
    acquires = sorted((i.acquire.index, i) for _, i in job.experiments[0].schedule.instructions
                      if isinstance(i, pulse.Acquire))
    real, imag = qiskit1["kernel"]["real"], qiskit1["kernel"]["imag"]
    for q, scale in ((0, 1.0), (1, 2.0)):                                        # qiskit1_check.kerneled
        acquire = acquires[q][1]
        assert acquire.kernel == Kernel("weights", real=[scale * v for v in real], imag=imag)
        assert acquire.discriminator == Discriminator("hw_centroid")
    assert job.shots == 100 and int(job.meas_level) == 2
