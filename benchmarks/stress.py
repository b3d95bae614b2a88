"""``python -m benchmarks stress``: chaos and load against a real daemon on loopback, with a verdict and figures.

N client threads submit small jobs for a bounded time (and count) while a chaos thread ``kill -9``s the daemon
and its worker at random points (only the processes this command started, by pid; the daemon is restarted on
the same port). The virtual lab runs in this process, so the instruments outlive every kill and can be checked
afterwards. The verdict: every acknowledged job ended DONE with its own echo or ERROR with a reason, none lost,
none duplicated, ``PRAGMA integrity_check`` ok on both stores, every AWG output and LO RF off. The figures:
submit->ack and submit->result percentiles, throughput, daemon RSS and open fds at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Figures:
    clients: int
    duration_s: float
    accepted: int = 0
    unacked: int = 0
    """Submits refused or unanswered while the daemon was down (never accepted; the client saw the error)."""
    done: int = 0
    pulse_done: int = 0
    """Of ``done``, the pulse programs run on the virtual instruments."""
    error: int = 0
    lost: int = 0
    duplicated: int = 0
    wrong_result: int = 0
    unreasoned_errors: int = 0
    orphans_not_final: int = 0
    daemon_kills: int = 0
    worker_kills: int = 0
    integrity: dict[str, str] = field(default_factory=dict)
    unsafe: dict[str, str] = field(default_factory=dict)
    ack_ms: dict[str, float] = field(default_factory=dict)
    result_ms: dict[str, float] = field(default_factory=dict)
    throughput_per_s: float = 0.0
    rss_mib: tuple[float, float] = (0.0, 0.0)
    fds: tuple[int, int] = (0, 0)

    @property
    def ok(self) -> bool:
        return (self.lost == self.duplicated == self.wrong_result == self.unreasoned_errors
                == self.orphans_not_final == 0 and not self.unsafe
                and all(v == "ok" for v in self.integrity.values()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _proc(pid: int) -> tuple[float, int]:
    """RSS in MiB and open file descriptors of ``pid`` (Linux /proc)."""
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    values = np.asarray(samples) * 1e3
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 90, 99)}


class Rig:
    """The virtual lab (this process), its lab file with addresses, keys, and the daemon child process."""

    def __init__(self, folder: Path, clients: int) -> None:
        from qubitlab import load_lab
        from qubitlab.calibration import CalibrationStore, RunInfo, RunKind, Update
        from qubitlab.cli.lab import write_lab_file
        from qubitlab.drivers.mock.lab import VirtualLab
        from qubitlab.lab_demo import FREQUENCIES
        from qubitlab.runtime.keys import server_keys
        from qubitlab.runtime.launch import client_key

        self.virtual = VirtualLab(load_lab(ROOT / "lab_configs" / "virtual_2q.yaml"), seed=11).start_in_thread()
        self.lab_file = folder / "lab.yaml"
        write_lab_file(self.virtual.lab_config(), self.lab_file)
        with CalibrationStore.for_lab(load_lab(self.lab_file)) as store:
            store.commit([Update(k, v) for k, v in FREQUENCIES.items()], RunInfo("frequencies", kind=RunKind.OPERATOR))
        self.keys_dir = folder / "keys"
        server_keys(self.keys_dir)
        self.keys = {name: client_key(self.keys_dir, name, admin=name == "admin", folder=folder / "clients")
                     for name in [f"c{i}" for i in range(clients)] + ["admin"]}
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.daemon: Any = None
        self.lock = threading.Lock()

    def start(self) -> None:
        from qubitlab.runtime.launch import start_daemon

        self.daemon = start_daemon(self.lab_file, keys_dir=self.keys_dir, extra=["--bind", self.address])

    def service(self, who: str, timeout: float = 5.0) -> Any:
        from qubitlab.runtime.client import QubitlabService

        return QubitlabService(self.address, key=self.keys[who], server_key=self.keys_dir / "server.key",
                               timeout=timeout)

    def worker_pid(self) -> int | None:
        """The worker's pid, only when it is a child of the daemon this rig started."""
        try:
            with self.service("admin", timeout=3.0) as admin:
                pid = admin.backend()["worker"]["pid"]
        except (TimeoutError, OSError):
            return None
        if not isinstance(pid, int):
            return None
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None
        return pid if ppid == self.daemon.pid else None

    def close(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
        self.virtual.close()


@dataclass
class Submitted:
    job_id: str
    echo: str
    ack_s: float
    result_s: float | None = None
    status: str = ""
    kind: str = "sleep"


def _client(rig: Rig, name: str, jobs: int, end: float, out: list[Submitted], unacked: list[str],
            pulse_every: int) -> None:
    from qubitlab import pulse
    from qubitlab.errors import QubitlabError
    from qubitlab.lab_demo import rabi_schedule
    from qubitlab.runtime.client import RuntimeJob

    schedule = pulse.dumps(rabi_schedule(0.1))
    service = rig.service(name)
    try:
        for i in range(jobs):
            if time.monotonic() >= end:
                return
            echo = f"{name}-{i}"
            kind = "pulse_program" if pulse_every and i % pulse_every == pulse_every - 1 else "sleep"
            inputs = {"schedule": schedule, "shots": 200} if kind == "pulse_program" else {
                "seconds": random.uniform(0.0, 0.01), "echo": echo}
            start = time.perf_counter()
            try:
                job_id = service.submit(kind, inputs).job_id()
            except (TimeoutError, QubitlabError):
                unacked.append(echo)                           # the daemon was down: never acknowledged
                service.close()
                service = rig.service(name)
                continue
            entry = Submitted(job_id, echo, time.perf_counter() - start, kind=kind)
            out.append(entry)
            while time.monotonic() < end + 120:
                try:
                    content = RuntimeJob(service, job_id).wait(timeout=10)
                except TimeoutError:
                    service.close()
                    service = rig.service(name)
                    continue
                entry.result_s, entry.status = time.perf_counter() - start, content["job"]["status"]
                break
    finally:
        service.close()


def _chaos(rig: Rig, stop: threading.Event, gap: tuple[float, float], figures: Figures, seed: int) -> None:
    chooser = random.Random(seed)
    while not stop.wait(chooser.uniform(*gap)):
        with rig.lock:
            if chooser.random() < 0.5:
                rig.daemon.kill()                               # kill -9 of the daemon this rig started
                figures.daemon_kills += 1
                rig.start()
            else:
                pid = rig.worker_pid()
                if pid is not None:
                    os.kill(pid, 9)                             # its worker, checked to be the daemon's child
                    figures.worker_kills += 1


def _verify(rig: Rig, submitted: list[Submitted], figures: Figures) -> None:
    state = rig.lab_file.parent / ".qubitlab"
    for name in ("jobs.sqlite", "calibration.sqlite"):
        with sqlite3.connect(state / name) as conn:
            figures.integrity[name] = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        conn.close()
    from qubitlab.runtime.client import RuntimeJob

    with sqlite3.connect(state / "jobs.sqlite") as conn:                 # every row, by plain SQL
        rows = {job_id: {"status": status, "error": error}
                for job_id, status, error in conn.execute("SELECT job_id, status, error FROM jobs")}
    conn.close()
    with rig.service("admin", timeout=30) as admin:
        echoes: dict[str, int] = {}
        for entry in submitted:
            row = rows.get(entry.job_id)
            if row is None or row["status"] not in ("DONE", "ERROR", "CANCELLED"):
                figures.lost += 1
                continue
            if row["status"] == "DONE":
                figures.done += 1
                result = RuntimeJob(admin, entry.job_id).result(timeout=30)
                if entry.kind == "sleep":
                    figures.wrong_result += result.get("echo") != entry.echo
                    echoes[entry.echo] = echoes.get(entry.echo, 0) + 1
                else:
                    figures.wrong_result += not result
                    figures.pulse_done += 1
            else:
                figures.error += 1
                figures.unreasoned_errors += not row.get("error")
        figures.duplicated = sum(n - 1 for n in echoes.values()) + len(submitted) - len({s.job_id for s in submitted})
        mine = {s.job_id for s in submitted}
        figures.orphans_not_final = sum(1 for j, row in rows.items() if j not in mine
                                        and row["status"] not in ("DONE", "ERROR", "CANCELLED"))
    rig.daemon.stop()
    figures.unsafe = _unsafe(rig)


def _unsafe(rig: Rig) -> dict[str, str]:
    """What is left on, read from the virtual instruments' own state (not from any driver)."""
    from qubitlab.drivers.mock.awg5208 import Awg5208Emulation
    from qubitlab.drivers.mock.sgs100a import Sgs100aEmulation

    found = {}
    for name, inst in rig.virtual.instruments.items():
        if isinstance(inst, Awg5208Emulation):
            on = [ch for ch in range(1, 9) if inst.output_on(ch)]
            if inst.run_state != "stopped" or on:
                found[name] = f"run state {inst.run_state}, outputs on {on}"
        elif isinstance(inst, Sgs100aEmulation) and inst.output:
            found[name] = "RF on"
    return found


def run_stress(folder: Path, *, clients: int = 4, jobs: int = 10, duration: float = 30.0,
               chaos: tuple[float, float] | None = (1.0, 4.0), seed: int = 0, pulse_every: int = 5) -> Figures:
    """Run the chaos (``chaos``: seconds between kills, None: a plain load run) and return the figures."""
    random.seed(seed)
    rig = Rig(folder, clients)
    figures = Figures(clients, duration)
    try:
        rig.start()
        with rig.service("admin", timeout=120) as admin:
            admin.submit("sleep", {"seconds": 0.0}).result(timeout=120)       # the worker is up
        rss0, fds0 = _proc(rig.daemon.pid)
        first_pid = rig.daemon.pid
        end = time.monotonic() + duration
        submitted: list[Submitted] = []
        unacked: list[str] = []
        stop = threading.Event()
        threads = [threading.Thread(target=_client, args=(rig, f"c{i}", jobs, end, submitted, unacked,
                                                                 pulse_every))
                   for i in range(clients)]
        if chaos is not None:
            threads.append(threading.Thread(target=_chaos, args=(rig, stop, chaos, figures, seed)))
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads[:clients]:
            thread.join()
        stop.set()
        for thread in threads[clients:]:
            thread.join()
        elapsed = time.perf_counter() - began
        with rig.lock:
            rss1, fds1 = _proc(rig.daemon.pid)
        figures.rss_mib, figures.fds = (round(rss0, 1), round(rss1, 1)), (fds0, fds1)
        if rig.daemon.pid != first_pid:
            figures.rss_mib = (figures.rss_mib[0], round(rss1, 1))       # a restarted daemon: not a drift
        figures.accepted, figures.unacked = len(submitted), len(unacked)
        figures.ack_ms = _percentiles([s.ack_s for s in submitted])
        figures.result_ms = _percentiles([s.result_s for s in submitted if s.result_s is not None])
        figures.throughput_per_s = round(sum(1 for s in submitted if s.status == "DONE") / elapsed, 1)
        _verify(rig, submitted, figures)
    finally:
        rig.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks stress", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs per client at most")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of submitting at most")
    parser.add_argument("--no-chaos", action="store_true", help="a plain load run: no kills")
    parser.add_argument("--kill-gap", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pulse-every", type=int, default=5, help="every k-th job a pulse program (0: none)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qubitlab-stress-") as folder:
        figures = run_stress(Path(folder), clients=args.clients, jobs=args.jobs, duration=args.duration,
                             chaos=None if args.no_chaos else tuple(args.kill_gap), seed=args.seed,
                             pulse_every=args.pulse_every)
    report = {**asdict(figures), "ok": figures.ok}
    for key, value in report.items():
        print(f"{key:>20}  {value}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if figures.ok else 1
