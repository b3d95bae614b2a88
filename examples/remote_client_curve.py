"""A remote client with CURVE keys: start a runtime daemon, allow a client's key, submit a pulse program.

What it shows: the daemon owns the instruments (here: the virtual lab, started by the daemon's worker
process); clients reach it over ZeroMQ with CURVE encryption and a per-client key pair that the lab allows
(``<keys>/allowed/<name>.key``). The script makes the server and client keys, starts the daemon as a child
process on ``tcp://127.0.0.1:<ephemeral port>`` (:func:`qubitlab.runtime.launch.start_daemon`), shows that a
key the lab never allowed gets no answer, submits a 31-point Rabi sweep as a ``pulse_program`` job
(``pulse.dumps`` documents, plain data), fits the returned IQ, and stops the daemon it started, by its pid.

Run it: ``python examples/remote_client_curve.py`` (about 15 s). Keys and the store go to
``$QUBITLAB_EXAMPLES_OUT`` (default: a new temporary folder); the last line is ``RESULT pi_amp=<fraction>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from qubitlab import load_lab, pulse
from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update
from qubitlab.calibration.experiment import principal_signal
from qubitlab.calibration.fitting import fit_cosine
from qubitlab.errors import QubitlabError
from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.keys import new_keypair, server_keys
from qubitlab.runtime.launch import client_key, start_daemon

# The same closed form as examples/rabi_by_hand.py: Gaussian(160, sigma 40) on virtual_2q's q0 has its pi pulse
# at 1 / (2 * 6e9 Hz/V * 0.5 V * 10**(-30/20) * 86.21 ns) = 0.0611 of full scale; +-5 %.
EXPECT = {"pi_amp": (0.058, 0.064)}

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))
FREQUENCIES = {"q0.frequency": 4.997e9, "q0.resonator_frequency": 7.051e9}
"""The daemon compiles with the store's frames: give it q0's and its resonator's frequencies."""


def rabi(amp: float) -> str:
    with pulse.build(name="rabi") as schedule:
        with pulse.align_sequential():
            pulse.play(pulse.Gaussian(160, amp, 40), pulse.DriveChannel(0))
            with pulse.align_left():
                pulse.play(pulse.GaussianSquare(2000, 0.1, 16, width=1936), pulse.MeasureChannel(0))
                pulse.acquire(2000, pulse.AcquireChannel(0), pulse.MemorySlot(0))
    return pulse.dumps(schedule)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    lab_file = OUT / "virtual_2q.yaml"
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    with CalibrationStore.for_lab(load_lab(lab_file)) as store:
        store.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("frequencies", kind=RunKind.OPERATOR))
    keys = OUT / "keys"
    server_keys(keys)                                           # the daemon's pair, keys/server.key(_secret)
    alice = client_key(keys, "alice", folder=OUT / "client_keys")  # made and allowed: keys/allowed/alice.key
    _, stranger = new_keypair(OUT / "client_keys", "stranger")      # made, never allowed
    daemon = start_daemon(lab_file, keys_dir=keys)
    assert daemon.server_key is not None
    print(f"daemon pid {daemon.pid} listening on {daemon.address} (CURVE)")
    try:
        amplitudes = np.linspace(0.0, 0.3, 31)
        with QubitlabService(daemon.address, key=alice, server_key=daemon.server_key, timeout=60) as service:
            backend = service.backend()
            print(f"backend: qubits {backend['qubits']}, snapshot {backend['snapshot_id']}")
            job = service.submit("pulse_program", {"schedules": [rabi(float(a)) for a in amplitudes], "shots": 400})
            result = job.result(timeout=120)
            print(f"job {job.job_id()}: {job.status().value}, ran with snapshot {job.metrics()['snapshot_id']}")
        refused_stranger(daemon.address, stranger, daemon.server_key)
    finally:
        code = daemon.stop()                                    # SIGTERM to its pid, SIGKILL after 30 s
        print(f"daemon pid {daemon.pid} stopped (exit code {code})")
    signal = principal_signal(result["memory"]["0"].mean(axis=1))
    fit = fit_cosine(amplitudes, signal)
    if not fit.converged:
        raise SystemExit(f"the Rabi fit did not converge: {fit.message}")
    print(f"RESULT pi_amp={abs(fit['period']) / 2:.5f}")


def refused_stranger(address: str, stranger: Path, server_key: Path) -> None:
    """A client whose key the lab never allowed: the CURVE handshake fails, the daemon never answers."""
    try:
        with QubitlabService(address, key=stranger, server_key=server_key, timeout=2) as service:
            service.hello()
    except (QubitlabError, TimeoutError) as exc:            # the client raises the builtin TimeoutError here
        print(f"stranger refused: {type(exc).__name__}: {exc}")
    else:
        raise SystemExit("a key that was never allowed got an answer")


if __name__ == "__main__":
    main()
