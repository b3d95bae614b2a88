"""Running ``qubitlab`` commands from the tests as an operator would: each in its own interpreter, and
``qubitlab lab start`` as a child process that the test stops by its own PID."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab_configs" / "virtual_2q.yaml"
QUBITLAB = [sys.executable, "-m", "qubitlab"]


def qubitlab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run one command to completion (wide terminal, so rich does not wrap paths)."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*QUBITLAB, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def start_lab(written: Path, timeout: float) -> subprocess.Popen[str]:
    """``qubitlab lab start`` on virtual_2q in a child process, serving for at most ``timeout`` seconds; returns
    once it has written its addresses to ``written``. The caller terminates it."""
    server = subprocess.Popen([*QUBITLAB, "lab", "start", str(LAB), "--write-lab", str(written), "--timeout",
                               str(timeout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 30
    while not written.exists() and time.monotonic() < deadline and server.poll() is None:
        time.sleep(0.05)
    if not written.exists():
        server.kill()
        _, err = server.communicate(timeout=10)
        raise AssertionError(f"lab did not start in 30 s: {err}")
    return server
