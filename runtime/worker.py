"""The worker: a separate process that owns the instrument connections and runs one job at a time.

The daemon starts it (``python -m qubitlab.runtime.worker --lab LAB --endpoint tcp://127.0.0.1:PORT``), and it
connects back over a ZeroMQ PAIR socket on loopback. It opens the lab through the shared composition root
(:func:`qubitlab.drivers.open.open_lab`), says ``ready``, then answers each ``run`` with ``done`` or ``failed``.
A crash or a hang here costs the job, never the daemon: the daemon sees the process die (or miss its deadline),
fails or requeues the job, and starts a new worker. ``abort`` (cancel, time limit) sets a flag the job checks at
its safe points -- between the executor's stages and every 50 ms of a digitizer wait (:func:`interruptible`) --
after which the executor leaves the instruments safe; ``stop`` closes the instruments and exits.

Messages are :func:`qubitlab.runtime.protocol.pack` documents (plain data and arrays, never pickles).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq

from qubitlab.errors import InstrumentTimeout
from qubitlab.runtime.jobs import JOB_KINDS, PROGRAM_KINDS, WorkContext
from qubitlab.runtime.protocol import error_to_wire, pack, unpack

log = logging.getLogger("qubitlab.runtime.worker")
HEARTBEAT = 1.0
"""Seconds between heartbeats while idle or busy (the daemon's liveness check)."""


class Worker:
    def __init__(self, lab_file: Path, endpoint: str, parent: int | None = None) -> None:
        self.lab_file = lab_file
        self.endpoint = endpoint
        self.parent = parent if parent is not None else os.getppid()
        """The daemon's pid: when it is no longer our parent, the daemon has died and the worker stops."""
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.PAIR)      # owned by the receiving thread
        self.socket.setsockopt(zmq.LINGER, 1000)
        self.socket.connect(endpoint)
        self._outbox_in = self.context.socket(zmq.PAIR)   # the receiving thread's end of the outbox
        self._outbox_in.bind(f"inproc://outbox-{id(self)}")
        self._outbox = self.context.socket(zmq.PAIR)      # the job thread's end: what it sends goes through
        self._outbox.connect(f"inproc://outbox-{id(self)}")
        self._running: str | None = None
        self._kind: str | None = None
        self._work: WorkContext | None = None
        self._stop = threading.Event()
        self._receiver: threading.Thread | None = None
        self._inbox: list[dict[str, Any]] = []
        self._inbox_ready = threading.Condition()

    def send(self, message: dict[str, Any]) -> None:
        """Send from the job thread (ZeroMQ sockets are not thread-safe: the receiver forwards it)."""
        self._outbox.send(pack(message))

    def _publish(self, record: Any) -> None:
        """A program's interim result, to the daemon (which stores it for ``job.stream()``)."""
        self.send({"type": "progress", "job_id": self._running, "record": pack(record)})

    def serve(self) -> int:
        from qubitlab.calibration import CalibrationStore
        from qubitlab.drivers.open import open_lab

        try:
            opened_cm = open_lab(self.lab_file)
            opened = opened_cm.__enter__()
        except Exception as exc:                           # report why, then exit: the daemon decides
            self.socket.send(pack({"type": "broken", "error": error_to_wire(exc)}))
            return 2
        try:
            store = CalibrationStore.for_lab(opened.lab)
            self._work = WorkContext(opened, store, publish=self._publish)
            interruptible(opened.executor, self._work)
            # the lab, its drivers and every import live as long as the worker: out of the collector's sight, a
            # full collection during a job walks only what jobs made (tens of ms every ~20 iterations otherwise)
            gc.collect()
            gc.freeze()
            self._receiver = threading.Thread(target=self._receive, name="worker-receive", daemon=True)
            self._receiver.start()
            self.send({"type": "ready", "pid": os.getpid(), "lab": opened.lab.name})
            self._loop()
            store.close()
        finally:
            for problem in opened.executor.make_safe():    # leave nothing on: AWG outputs, LO RF, digitizer
                log.error("on exit: %s", problem)
            opened_cm.__exit__(None, None, None)
        return 0

    def _receive(self) -> None:
        """The one thread on the daemon's socket: forwards the job thread's messages, sends heartbeats, and
        takes control messages (``abort`` acts at once, the rest queue for the job thread)."""
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self._outbox_in, zmq.POLLIN)
        last_beat = 0.0
        parent = self.parent                      # given by the daemon: a daemon killed while the worker was
        while not self._stop.is_set():            # still opening the lab is noticed too (ppid is 1 by then)
            if os.getppid() != parent:            # the daemon died (kill -9): finish the job, close, exit
                log.warning("the daemon (pid %s) is gone; stopping", parent)
                if self._work is not None and self._kind in PROGRAM_KINDS:   # nobody to stream to: stop it
                    self._work.abort_reason = "the daemon stopped during the program"
                    self._work.abort.set()
                with self._inbox_ready:
                    self._inbox.append({"type": "stop"})
                    self._inbox_ready.notify()
                return
            if time.monotonic() - last_beat >= HEARTBEAT:
                self.socket.send(pack({"type": "heartbeat", "job_id": self._running}))
                last_beat = time.monotonic()
            ready = dict(poller.poll(int(HEARTBEAT * 1000 / 2)))
            if self._outbox_in in ready:
                self.socket.send(self._outbox_in.recv(copy=False))
            if self.socket not in ready:
                continue
            message = unpack(self.socket.recv())
            if message.get("type") == "abort" and self._work is not None and message.get("job_id") == self._running:
                self._work.abort_reason = str(message.get("reason", "cancelled"))
                self._work.abort.set()
                continue
            with self._inbox_ready:
                self._inbox.append(message)
                self._inbox_ready.notify()

    def _loop(self) -> None:
        while True:
            with self._inbox_ready:
                while not self._inbox:
                    self._inbox_ready.wait(0.5)
                message = self._inbox.pop(0)
            kind = message.get("type")
            if kind == "stop":
                self._stop.set()
                if self._receiver is not None and self._receiver is not threading.current_thread():
                    self._receiver.join(timeout=2 * HEARTBEAT)
                return
            if kind == "run":
                self._run(message)

    def _run(self, message: dict[str, Any]) -> None:
        assert self._work is not None
        job_id = str(message["job_id"])
        self._work.abort.clear()
        self._work.abort_reason = ""
        self._running = job_id
        self._kind = str(message.get("kind"))
        started = time.perf_counter()
        try:
            handler = JOB_KINDS.get(str(message.get("kind")))
            if handler is None:
                raise KeyError(f"unknown job kind {message.get('kind')!r}; known: {', '.join(JOB_KINDS)}")
            inputs = unpack(message["inputs"])
            outcome = handler(self._work, inputs)
            outcome.timings["worker_total"] = time.perf_counter() - started
            self.send({"type": "done", "job_id": job_id, "result": pack(outcome.result),
                       "timings": outcome.timings, "snapshot_id": outcome.snapshot_id,
                       "station_snapshot": outcome.station_snapshot})
        except Exception as exc:
            log.info("job %s failed: %s", job_id, exc)
            wire = error_to_wire(exc)
            if isinstance(exc, KeyError):
                wire = {"type": "JobError", "message": str(exc.args[0])}
            self.send({"type": "failed", "job_id": job_id, "error": wire,
                       "aborted": self._work.abort.is_set(),
                       "timings": {"worker_total": time.perf_counter() - started}})
        finally:
            self._running = self._kind = None


WAIT_SLICE = 0.05
"""Seconds of a digitizer wait between two looks at the abort flag (a cancel takes effect within about this)."""


def interruptible(executor: Any, work: WorkContext) -> None:
    """Make a cancel or a time limit stop a run at its next stage or within :data:`WAIT_SLICE` of a digitizer
    wait: :class:`Aborted` is raised there, and the executor's failure path leaves every instrument safe (AWGs
    stopped, outputs off, digitizers aborted, LOs off), each step confirmed by a query."""
    previous = executor.on_stage

    def on_stage(stage: Any) -> None:
        work.check()
        if previous is not None:
            previous(stage)

    executor.on_stage = on_stage
    for digitizer in executor.roles.digitizers.values():
        digitizer.wait = _sliced_wait(digitizer.wait, str(getattr(digitizer, "name", "digitizer")), work)


def _sliced_wait(wait: Callable[[float], None], name: str, work: WorkContext) -> Callable[[float], None]:
    """The driver's own ``wait`` called for short slices, the abort flag checked between them; the driver's
    errors pass through, and its "not complete" timeout counts only once the whole ``timeout`` is spent."""

    def sliced(timeout: float) -> None:
        start = time.monotonic()
        while True:
            work.check()
            left = timeout - (time.monotonic() - start)
            try:
                wait(max(min(WAIT_SLICE, left), 0.0))
                return
            except InstrumentTimeout as exc:
                if exc.__cause__ is not None:          # the digitizer went silent (a VISA timeout): a real fault
                    raise
                if time.monotonic() - start >= timeout:
                    raise InstrumentTimeout(f"digitizer {name!r}: acquisition not complete after "
                                            f"{time.monotonic() - start:.2f} s (limit {timeout:g} s); is the trigger "
                                            "reaching it and the AWG running?") from None

    return sliced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qubitlab.runtime.worker", description=__doc__)
    parser.add_argument("--lab", required=True, type=Path)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--parent", type=int, default=None, help="the daemon's pid (default: the parent's)")
    args = parser.parse_args(argv)
    if not args.endpoint.startswith(("tcp://127.0.0.1:", "ipc://")):
        parser.error("the worker connects only to the daemon on this machine (tcp://127.0.0.1:PORT or ipc://)")
    logging.basicConfig(level=logging.WARNING, format="worker %(levelname)s %(message)s")
    worker = Worker(args.lab, args.endpoint, args.parent)
    try:
        return worker.serve()
    finally:
        for socket in (worker._outbox, worker._outbox_in, worker.socket):
            socket.close()
        worker.context.term()


if __name__ == "__main__":
    sys.exit(main())
