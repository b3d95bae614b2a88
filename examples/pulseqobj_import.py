"""A Qiskit 1.x PulseQobj, imported and run: years of ``assemble(...)`` output keep working after Qiskit 2.0.

What it shows: ``qubitlab.pulse.qobj.load_qobj`` reads the JSON that Qiskit 1.4's ``assemble`` wrote
(``tests/fixtures/qobj/assembled.json``, made by ``tests/fixtures/qobj/make_fixtures.py`` with Qiskit 1.4.6: a
pulse library, parametric Gaussian / GaussianSquare / DRAG / constant pulses, phase and frequency shifts,
acquires) into Schedules whose samples equal Qiskit's own (``samples.json``, taken from Qiskit in the same
script); then the daemon runs the first experiment as a ``pulse_qobj`` job and answers with the dict Qiskit
1.x's ``Result.to_dict()`` had (``results[0].data.memory``: IQ per shot and memory slot). The second experiment
acquires while a drive still plays, which the virtual device refuses (mid-circuit measurement), so it is left
out here.

Run it: ``python examples/pulseqobj_import.py`` (about 50 s with the bring-up it starts with). Last lines:
``RESULT experiments=...``, ``RESULT max_deviation=...``, ``RESULT shots=...``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from _calibrated import calibrated_lab, daemon, output_folder

from qubitlab import pulse
from qubitlab.pulse.qobj import load_qobj

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "qobj"
# exact: the document holds 2 experiments and asks for 512 shots; Qiskit's and our sampling of the same
# closed-form envelopes agree to rounding (1e-12 is the bound the import is held to)
EXPECT = {"experiments": (2, 2), "max_deviation": (0.0, 1e-12), "shots": (512, 512)}


def main() -> None:
    job = load_qobj(FIXTURES / "assembled.json")
    reference = json.loads((FIXTURES / "samples.json").read_text())
    deviation = 0.0
    for index, experiment in enumerate(job.experiments):
        frequencies = job.base_frequencies(index)
        frequencies[pulse.ControlChannel(0)] = reference["base_frequencies"]["u0"]   # u0 drives at qubit 1
        rendered = {ch.name: s for ch, s in pulse.render(experiment.schedule, dt=reference["dt"],
                                                          frequencies=frequencies).items()}
        for name, samples in reference["experiments"][index].items():
            want = np.array([complex(x, y) for x, y in samples])
            got = rendered.get(name, np.zeros(len(want)))
            deviation = max(deviation, float(np.max(np.abs(got - want))) if len(want) else 0.0)
        print(f"experiment {index} ({experiment.header['name']}): {len(experiment.schedule.instructions)} "
              f"instructions, {experiment.schedule.duration} samples")
    print(f"RESULT experiments={len(job.experiments)}")
    print(f"RESULT max_deviation={deviation:.3e}")

    document = json.loads((FIXTURES / "assembled.json").read_text())
    document["experiments"] = document["experiments"][:1]
    with daemon(calibrated_lab(output_folder())) as service:
        result = service.run_qobj(document).result(timeout=300)
    memory = np.asarray(result["results"][0]["data"]["memory"])          # (shots, slots, [re, im])
    print(f"ran on {result['backend_name']}: memory of shape {memory.shape}, success {result['success']}")
    print(f"RESULT shots={memory.shape[0]}")


if __name__ == "__main__":
    main()
