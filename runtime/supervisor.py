"""The daemon's side of the worker process: start it, talk to it, notice it dying, stop it in escalating steps.

As ARTIQ's master does with its workers: a stop is graceful first (``stop`` message, the worker closes the
instruments), then ``SIGTERM``, then ``SIGKILL``, each after a bounded wait. Each worker gets a fresh PAIR socket
on an ephemeral 127.0.0.1 port, so nothing a dead worker sent can reach its successor.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import zmq

from qubitlab.runtime.protocol import pack, unpack

log = logging.getLogger("qubitlab.runtime.supervisor")


class WorkerHandle:
    """One worker process and its socket; :meth:`start` again after it died."""

    def __init__(self, context: zmq.Context[Any], lab_file: Path, *, env: dict[str, str] | None = None,
                 log_file: Path | None = None) -> None:
        self.context = context
        self.lab_file = lab_file
        self.env = env
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self.socket: zmq.Socket[bytes] | None = None
        self.ready = False
        self.last_heard = 0.0
        self.started_at = 0.0
        self.restarts = -1
        self.broken: dict[str, str] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        self._close_socket()
        self.socket = self.context.socket(zmq.PAIR)
        self.socket.setsockopt(zmq.LINGER, 0)
        port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        command = [sys.executable, "-m", "qubitlab.runtime.worker", "--lab", str(self.lab_file),
                   "--endpoint", f"tcp://127.0.0.1:{port}", "--parent", str(os.getpid())]
        output: IO[bytes] | None = open(self.log_file, "ab") if self.log_file is not None else None  # noqa: SIM115
        try:
            self.process = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=output if output is not None else subprocess.DEVNULL,
                                            stderr=subprocess.STDOUT)
        finally:
            if output is not None:
                output.close()
        self.ready = False
        self.broken = None
        self.last_heard = self.started_at = time.monotonic()
        self.restarts += 1
        log.info("worker started, pid %s", self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_description(self) -> str:
        if self.process is None:
            return "no worker"
        code = self.process.poll()
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exited with code {code}"

    def send(self, message: dict[str, Any]) -> None:
        assert self.socket is not None
        self.socket.send(pack(message), zmq.NOBLOCK)

    def receive(self) -> dict[str, Any] | None:
        """One message if one is waiting (non-blocking)."""
        assert self.socket is not None
        try:
            data = self.socket.recv(zmq.NOBLOCK)
        except zmq.Again:
            return None
        self.last_heard = time.monotonic()
        message = unpack(data)
        return message if isinstance(message, dict) else None

    def stop(self, grace: float = 10.0, term_wait: float = 5.0) -> str:
        """``stop`` message, then SIGTERM, then SIGKILL; returns which step ended it."""
        if self.process is None:
            return "not started"
        step = "already exited"
        if self.process.poll() is None:
            try:
                self.send({"type": "stop"})
            except zmq.ZMQError:
                pass
            step = "stopped"
            if not _wait(self.process, grace):
                step = "terminated"
                self.process.terminate()
                if not _wait(self.process, term_wait):
                    step = "killed"
                    self.process.kill()
                    self.process.wait(timeout=10)
        self._close_socket()
        log.info("worker pid %s %s", self.process.pid, step)
        return step

    def kill(self) -> None:
        """SIGTERM then SIGKILL at once (a job over its time limit, a hung worker)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            if not _wait(self.process, 2.0):
                self.process.kill()
                self.process.wait(timeout=10)
        self.ready = False

    def _close_socket(self) -> None:
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None


def _wait(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def worker_env() -> dict[str, str]:
    """The daemon's environment for the worker, with matplotlib kept off the screen."""
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    return env
