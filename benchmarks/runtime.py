"""Runtime benchmarks: the daemon's latencies over real loopback sockets with CURVE, against a bare ZeroMQ
DEALER/ROUTER echo (also CURVE, also its own process) measured in the same run.

Further reference rows, same run: the bare round trip with a 1 MiB answer, with and without CURVE, and over a
Unix socket (``ipc://``, the local channel's transport), and a bare SQLite insert+commit in WAL NORMAL on the job
store's disk (part of R1's floor: the commit before the ack stays).

R1 submit -> ack of a small job; R2 a 1 MiB result fetched, by a client on the daemon's machine (which uses the
local channel, :mod:`qubitlab.runtime.local_channel`) and by one that stays on CURVE (as a client on another
machine must: CURVE's encryption of a megabyte alone costs more than R2's target); R3 ten one-circuit pulse
jobs in a session, end to
end (simulation included), and per job the host overhead (everything but the acquisition, which holds the
simulation); then one Estimator iteration of the main job's H2 ansatz (:mod:`benchmarks.estimator_h2`).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._harness import Row, Timing

ROOT = Path(__file__).resolve().parents[1]
ECHO = r"""
import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.ROUTER)
if sys.argv[1] != "-":
    secret, public = open(sys.argv[1]).read().split()
    s.curve_secretkey, s.curve_publickey, s.curve_server = secret.encode(), public.encode(), True
if sys.argv[2] == "tcp":
    print(s.bind_to_random_port("tcp://127.0.0.1"), flush=True)
else:
    s.bind(sys.argv[2]); print(sys.argv[2], flush=True)
big = b"\x00" * 2**20
while True:
    frames = s.recv_multipart(copy=False)
    if frames[1].bytes == b"stop": break
    s.send_multipart([frames[0], big] if frames[1].bytes == b"big" else frames, copy=False)
"""
MIB = 2**20


def _percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def _bare_round_trip(repeat: int, *, curve: bool = True, request: bytes = b"\x00" * 300, ipc: bool = False) -> Timing:
    """A DEALER -> ROUTER echo in its own process; ``request=b"big"`` makes the answer 1 MiB (R2's shape);
    ``ipc``: over a Unix socket instead of loopback TCP."""
    import zmq

    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    with tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False) as handle:
        handle.write(f"{server_secret.decode()} {server_public.decode()}")
    folder = Path(tempfile.mkdtemp(prefix="qubitlab-echo-"))
    where = f"ipc://{folder}/echo.sock" if ipc else "tcp"
    echo = subprocess.Popen([sys.executable, "-c", ECHO, handle.name if curve else "-", where],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout is not None
        bound = echo.stdout.readline().strip()
        endpoint = bound if ipc else f"tcp://127.0.0.1:{bound}"
        context = zmq.Context()
        socket = context.socket(zmq.DEALER)
        if curve:
            socket.curve_secretkey, socket.curve_publickey, socket.curve_serverkey = (client_secret, client_public,
                                                                                      server_public)
        socket.connect(endpoint)
        samples = []
        for i in range(repeat + 20):
            start = time.perf_counter()
            socket.send(request)
            socket.recv(copy=False)
            if i >= 20:
                samples.append(time.perf_counter() - start)
        socket.send(b"stop")
        socket.close(linger=100)
        context.term()
    finally:
        echo.wait(timeout=10)
        Path(handle.name).unlink()
        shutil.rmtree(folder, ignore_errors=True)
    return Timing(tuple(samples))


def _fetches(service: Any, job_id: str, repeat: int, expected: np.ndarray) -> Timing:
    """``repeat`` fetches of a done job's result, each by a new handle (nothing cached on the client)."""
    from qubitlab.runtime.client import RuntimeJob

    samples = []
    for _ in range(repeat):
        handle = RuntimeJob(service, job_id)
        start = time.perf_counter()
        value = handle.result(timeout=30)
        samples.append(time.perf_counter() - start)
    assert np.array_equal(value["echo"], expected)
    return Timing(tuple(samples))


def _bare_sqlite_commit(folder: Path, repeat: int) -> Timing:
    """One small row inserted and committed, WAL with synchronous=NORMAL, on the job store's disk."""
    import sqlite3

    conn = sqlite3.connect(folder / "bare.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, job_id TEXT UNIQUE, inputs BLOB)")
    samples = []
    for i in range(repeat + 20):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (job_id, inputs) VALUES (?, ?)", (f"j-{i}", b"\x00" * 100))
        conn.execute("COMMIT")
        if i >= 20:
            samples.append(time.perf_counter() - start)
    conn.close()
    return Timing(tuple(samples))


def run(repeat: int = 200) -> list[Row]:
    sys.path.insert(0, str(ROOT / "tests"))
    from daemon_lab import started  # the tests' set-up: a daemon process, CURVE keys, a calibrated store

    from qubitlab import pulse
    from qubitlab.lab_demo import rabi_schedule
    from qubitlab.runtime.client import Session

    rows: list[Row] = []
    bare = _bare_round_trip(repeat)
    rows.append(Row("runtime", "reference: bare DEALER/ROUTER round trip (CURVE)", bare,
                    extra={"p90_s": _percentile(list(bare.samples), 90)}))
    big_curve = _bare_round_trip(max(20, repeat // 5), request=b"big")
    big_plain = _bare_round_trip(max(20, repeat // 5), curve=False, request=b"big")
    big_ipc = _bare_round_trip(max(20, repeat // 5), curve=False, request=b"big", ipc=True)
    rows.append(Row("runtime", "reference: bare round trip, 1 MiB answer (CURVE)", big_curve))
    rows.append(Row("runtime", "reference: bare round trip, 1 MiB answer (no CURVE)", big_plain))
    rows.append(Row("runtime", "reference: bare round trip, 1 MiB answer (Unix socket)", big_ipc))
    folder = Path(tempfile.mkdtemp(prefix="qubitlab-bench-runtime-"))
    commit = _bare_sqlite_commit(folder, repeat)
    rows.append(Row("runtime", "reference: bare SQLite insert+commit (WAL, NORMAL)", commit))
    lab = started(folder)
    try:
        with lab.service() as service:
            service.submit("sleep", {"seconds": 0.0}).result(timeout=120)       # the worker is up
            acks = []
            for _ in range(repeat):
                start = time.perf_counter()
                job = service.submit("sleep", {"seconds": 0.0})
                acks.append(time.perf_counter() - start)
            job.result(timeout=120)
            rows.append(Row("runtime", "R1 submit -> ack (small job, committed to SQLite)", Timing(tuple(acks)),
                            target=250e-6, reference=bare.median + commit.median,
                            reference_name="bare round trip + commit",
                            extra={"p90_s": _percentile(acks, 90), "p90_target_s": 500e-6}))

            big = np.random.default_rng(1).normal(size=2**17)                  # 1 MiB of float64
            done = service.submit("sleep", {"seconds": 0.0, "echo": big})
            done.wait(120)
            assert service.channel == "local", service.channel       # this client is on the daemon's machine
            rows.append(Row("runtime", "R2 a 1 MiB result fetched (local client: Unix socket)",
                            _fetches(service, done.job_id(), max(20, repeat // 5), big), target=600e-6,
                            reference=big_ipc.median, reference_name="bare 1 MiB (Unix socket)"))
            with lab.service(local=False) as remote:
                remote.hello()
                assert remote.channel == "curve"
                rows.append(Row("runtime", "R2 a 1 MiB result fetched (client on CURVE, as from another machine)",
                                _fetches(remote, done.job_id(), max(20, repeat // 5), big),
                                reference=big_curve.median, reference_name="bare 1 MiB (CURVE)"))

            schedules = [pulse.dumps(rabi_schedule(0.02 * k)) for k in range(10)]
            totals, overheads, sims = [], [], []
            for _ in range(max(3, repeat // 40)):
                start = time.perf_counter()
                with Session(service) as session:
                    jobs = [session.submit("pulse_program", {"schedule": s, "shots": 1000}) for s in schedules]
                    for job in jobs:
                        job.result(timeout=120)
                total = time.perf_counter() - start
                totals.append(total)
                acquisitions = [job.details()["timings"].get("execute_acquire", 0.0) for job in jobs]
                sims.extend(acquisitions)
                overheads.append((total - sum(acquisitions)) / len(jobs))
            rows.append(Row("runtime", "R3 10 one-circuit pulse jobs in a session, end to end", Timing(tuple(totals)),
                            target=0.5, extra={"simulation_per_job_median_s": statistics.median(sims)}))
            rows.append(Row("runtime", "R3 per-job host overhead (all but the acquisition)", Timing(tuple(overheads)),
                            target=20e-3))
    finally:
        lab.daemon.stop()
        shutil.rmtree(folder, ignore_errors=True)
    from benchmarks.estimator_h2 import h2_rows

    rows.extend(h2_rows())                          # the main job's Estimator iteration (a bring-up first)
    return rows
