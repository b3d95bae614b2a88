"""Two processes writing to one store at the same moment (as the daemon and an operator's CLI do)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from qubitlab.calibration import CalibrationStore

WRITES = 200
WRITER = """
import sys, time
from pathlib import Path
from qubitlab.calibration import CalibrationStore

path, key, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
with CalibrationStore(path) as store:
    (go.parent / ("ready-" + key)).touch()
    while not go.exists():
        time.sleep(0.001)
    start = time.time()
    for i in range({writes}):
        store.set(key, 1e-5 + i * 1e-7, reason=f"write {{i}} of {{key}}")
        if i % 50 == 0:
            store.snapshot()                      # reads interleave with the other process's writes
    print(start, time.time())
""".format(writes=WRITES)


def test_two_processes_setting_values_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "calibration.sqlite"
    CalibrationStore(path).close()
    go = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), key, str(go)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for key in ("q0.t1", "q1.t1")]
    deadline = time.monotonic() + 60              # start both at once, when both have opened the store
    while not all((tmp_path / f"ready-{key}").exists() for key in ("q0.t1", "q1.t1")):
        assert time.monotonic() < deadline and all(child.poll() is None for child in children), "writers not ready"
        time.sleep(0.01)
    go.touch()
    results = [child.communicate(timeout=120) for child in children]
    spans = []
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        start, end = map(float, out.split())
        spans.append((start, end))
    assert max(s for s, _ in spans) < min(e for _, e in spans), f"the writers did not run at the same time: {spans}"

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 2 * WRITES
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2 * WRITES
        assert conn.execute("SELECT COUNT(*) FROM entries WHERE superseded_by IS NULL").fetchone()[0] == 2
    with CalibrationStore(path) as store:
        for key in ("q0.t1", "q1.t1"):
            values = [r.value for r in store.history(key)]
            assert values == [1e-5 + i * 1e-7 for i in reversed(range(WRITES))]
        assert store.snapshot().value("q0.t1") == 1e-5 + (WRITES - 1) * 1e-7
