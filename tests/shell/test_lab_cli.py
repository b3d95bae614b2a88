"""``qubitlab lab start`` in a child process (stopped by its own PID) and ``qubitlab lab check`` against it."""

from __future__ import annotations

from pathlib import Path

import yaml
from cli_run import LAB, qubitlab, start_lab


def test_lab_check_starts_a_virtual_lab_without_addresses_and_reports_every_instrument() -> None:
    done = qubitlab("lab", "check", str(LAB))
    assert done.returncode == 0, done.stderr
    for name in ("awg", "lo_q0", "lo_q1", "lo_ro", "digitizer"):
        assert name in done.stdout
    assert done.stdout.count(" ok ") == 5
    assert "TEKTRONIX,AWG5208" in done.stdout and "Rohde&Schwarz,SGS100A" in done.stdout


def test_lab_start_serves_until_stopped_and_lab_check_connects_to_it(tmp_path: Path) -> None:
    written = tmp_path / "running_lab.yaml"
    server = start_lab(written, timeout=60)
    try:
        addresses = {name: spec["address"] for name, spec in yaml.safe_load(written.read_text())["instruments"].items()}
        assert all(a.startswith("TCPIP0::127.0.0.1::") and a.endswith("::SOCKET") for a in addresses.values())
        done = qubitlab("lab", "check", str(written))
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count(" ok ") == 5
        for address in addresses.values():
            assert address.split("::")[2] in done.stdout
        drifted = qubitlab("lab", "drift", str(written), "--qubit", "0", "--frequency-shift", "2e5")
        assert drifted.returncode == 0, drifted.stderr
        refused = qubitlab("lab", "drift", str(written), "--qubit", "7", "--frequency-shift", "2e5")
        assert refused.returncode != 0 and "no qubit 7" in refused.stderr
    finally:
        server.terminate()                      # our own child, by its PID
        out, err = server.communicate(timeout=10)
    assert server.returncode == 0, err
    assert "virtual lab stopped" in err
    for address in addresses.values():          # the start command printed every address
        assert address.split("::")[2] in out
    # nothing listens any more: every instrument fails, the command says which and exits non-zero
    done = qubitlab("lab", "check", str(written))
    assert done.returncode != 0
    assert "5 of 5 instruments failed" in done.stderr
