"""Run under Qiskit 1.4 (.venv-qiskit1, made by ``python3 dev.py test``) by tests/pulse/test_qobj_qiskit1.py.

Reads ``{"documents": [...]}`` (PulseQobj dicts qubitlab exported) on stdin and writes JSON on stdout: for each
document ``PulseQobj.from_dict(doc).to_dict()`` and the same after a second round trip, Qiskit's own reading of
the stored fixture, and newly assembled documents with Qiskit's samples (tests/fixtures/qobj/make_fixtures.py's
schedules and reference, and one measurement at meas_level 2 with a weights kernel and a discriminator), for
the test to import with qubitlab. It imports nothing of qubitlab: Qiskit 1.4 is the independent reference.
"""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore", DeprecationWarning)            # all of qiskit.pulse is deprecated in 1.4
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qobj"
sys.path.insert(0, str(FIXTURES))

import make_fixtures  # noqa: E402
from qiskit import pulse  # noqa: E402
from qiskit.compiler import assemble  # noqa: E402
from qiskit.qobj import PulseQobj  # noqa: E402

KERNEL_REAL = [0.5, 1.0, 1.5, 1.0]
KERNEL_IMAG = [0.0, -0.25, 0.0, 0.25]


def plain(value: object) -> object:
    """``to_dict()`` output as JSON: Qiskit leaves some items (``PulseLibraryItem``) as objects."""
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return make_fixtures.encode(value)


def read(document: dict[str, object]) -> object:
    """``PulseQobj.from_dict(document).to_dict()`` as JSON (from_dict changes the dict it is given: a copy)."""
    return plain(PulseQobj.from_dict(copy.deepcopy(document)))


def kerneled() -> dict[str, object]:
    """Two qubits measured at meas_level 2, each with its own weights kernel, one shared discriminator."""
    with pulse.build(name="kerneled") as sched:
        for q, scale in ((0, 1.0), (1, 2.0)):
            kernel = pulse.Kernel("weights", real=[scale * v for v in KERNEL_REAL], imag=KERNEL_IMAG)
            pulse.acquire(64, pulse.AcquireChannel(q), pulse.MemorySlot(q), kernel=kernel,
                          discriminator=pulse.Discriminator("hw_centroid"))
    qobj = assemble(sched, shots=100, meas_level=2, qubit_lo_freq=[5.0e9, 5.1e9], meas_lo_freq=[7.0e9, 7.1e9])
    return plain(qobj)  # type: ignore[return-value]


def main() -> None:
    documents = json.loads(sys.stdin.read())["documents"]
    first = [read(d) for d in documents]
    again = [read(d) for d in first]
    original = json.loads((FIXTURES / "assembled.json").read_text())
    scheds = make_fixtures.schedules()
    qobj = assemble(scheds, qobj_id="qubitlab-fixture", shots=512, meas_level=1, meas_return="single",
                    rep_time=250e-6, qubit_lo_freq=[5.0e9, 5.1e9], meas_lo_freq=[7.0e9, 7.1e9],
                    parametric_pulses=["gaussian", "gaussian_square", "drag", "constant"], memory_slots=2)
    json.dump({"first": first, "again": again,
               "original": read(original),
               "assembled": plain(qobj),
               "samples": [make_fixtures.reference(s) for s in scheds],
               "kerneled": kerneled(), "kernel": {"real": KERNEL_REAL, "imag": KERNEL_IMAG}}, sys.stdout)


if __name__ == "__main__":
    main()
