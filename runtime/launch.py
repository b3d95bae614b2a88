"""Start a daemon as a child process on an ephemeral loopback port, and stop it again by its own pid.

What ``qubitlab demo``, the benchmarks and the tests share: the daemon runs exactly as ``qubitlab daemon start``
runs it (its own process, its own worker), on ``tcp://127.0.0.1:*``; its first line of output names the port.
:meth:`DaemonProcess.stop` sends SIGTERM (a clean shutdown: the running job finishes or is requeued, the worker
and the instruments are closed), then SIGKILL after a bounded wait; :meth:`DaemonProcess.kill` is ``kill -9``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from qubitlab.errors import JobError
from qubitlab.runtime import keys as keyfiles

_LISTENING = re.compile(r"listening on (tcp://127\.0\.0\.1:\d+)")


@dataclass
class DaemonProcess:
    process: subprocess.Popen[str]
    address: str
    keys_dir: Path | None
    log: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def __post_init__(self) -> None:
        # keep reading the daemon's output, so a full pipe can never block it
        self._reader = threading.Thread(target=self._drain, name=f"daemon-{self.pid}-output", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip())

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def server_key(self) -> Path | None:
        return self.keys_dir / "server.key" if self.keys_dir is not None else None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reap_output()
        return int(self.process.returncode)

    def kill(self) -> None:
        """``kill -9`` of the daemon; its worker notices that its parent is gone, finishes its job and exits."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reap_output()

    def _reap_output(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_daemon(lab_file: Path, *, curve: bool = True, keys_dir: Path | None = None, state_dir: Path | None = None,
                 timeout: float = 60.0, extra: list[str] | None = None, env: dict[str, str] | None = None
                 ) -> DaemonProcess:
    """A daemon for ``lab_file`` listening on an ephemeral loopback port; keys made in ``keys_dir`` (or the
    lab's store folder) when ``curve``."""
    command = [sys.executable, "-m", "qubitlab.runtime.daemon", "--lab", str(lab_file),
               "--bind", "tcp://127.0.0.1:*", *([] if curve else ["--insecure"])]
    if keys_dir is not None:
        command += ["--keys", str(keys_dir)]
    if state_dir is not None:
        command += ["--state", str(state_dir)]
    command += extra or []
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env or dict(os.environ))
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        match = _LISTENING.search(line)
        if match:
            if curve and keys_dir is None:
                from qubitlab.config.loader import load_lab

                keys_dir = (state_dir or load_lab(lab_file).store_path()) / "keys"
            return DaemonProcess(process, match[1], keys_dir if curve else None, lines)
    process.kill()
    process.wait(timeout=10)
    raise JobError(f"the daemon for {lab_file} did not start within {timeout:g} s: " + " | ".join(lines[-5:]))


def client_key(keys_dir: Path, name: str, *, admin: bool = False, folder: Path | None = None) -> Path:
    """Make a key pair for client ``name`` (in ``folder``, default ``keys_dir/clients``) and allow it; the
    secret file to hand to :class:`~qubitlab.runtime.client.QubitlabService`."""
    where = folder or keys_dir / "clients"
    public, secret = keyfiles.new_keypair(where, name)
    keyfiles.allow(keys_dir, public, name=name, admin=admin)
    return secret
