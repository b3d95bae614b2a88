"""``qubitlab cal`` as operators run it: a child process per command, on a copy of virtual_2q in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_run import QUBITLAB

Cal = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cal(lab_file: Path, tmp_path: Path) -> Iterator[Cal]:
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command, rest = args[0], args[1:]
        env = {**os.environ, "COLUMNS": "200", "HOME": str(home)}
        return subprocess.run([*QUBITLAB, "cal", command, "--lab", str(lab_file), *rest], capture_output=True,
                              text=True, timeout=60, env=env, cwd=tmp_path)

    yield run
    assert list(home.iterdir()) == [], "the cal commands wrote into the home directory"


def db(lab_file: Path) -> Path:
    return lab_file.parent / ".qubitlab" / "calibration.sqlite"


def counts(lab_file: Path) -> tuple[int, int]:
    with sqlite3.connect(db(lab_file)) as conn:
        return (conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_set_show_and_history(cal: Cal, lab_file: Path) -> None:
    empty = cal("show")
    assert empty.returncode == 0 and "no calibrated values" in empty.stdout
    done = cal("set", "q0.frequency", "5.0012", "--unit", "GHz", "--reason", "spectroscopy by eye")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("q0.frequency = 5.0012 GHz (was unset); run ")
    assert cal("set", "q0.frequency", "5.0013 GHz", "--reason", "second look").returncode == 0
    assert cal("set", "q0.anharmonicity", "-330e6", "--stderr", "1e5", "--reason", "design").returncode == 0
    assert cal("set", "q0.t1", "60", "--unit", "us", "--reason", "T1 fit").returncode == 0

    show = cal("show")
    assert show.returncode == 0, show.stderr
    lines = {line.split()[1]: line for line in show.stdout.splitlines() if line.startswith("│ q")}
    assert set(lines) == {"q0.anharmonicity", "q0.frequency", "q0.t1"}
    assert "5.0013 GHz" in lines["q0.frequency"] and "operator" in lines["q0.frequency"]
    assert "-330 MHz" in lines["q0.anharmonicity"] and "100 kHz" in lines["q0.anharmonicity"]
    assert "60 us" in lines["q0.t1"]

    history = cal("history", "q0.frequency")
    assert history.returncode == 0, history.stderr
    rows = [line for line in history.stdout.splitlines() if line.startswith("│ 2")]
    assert len(rows) == 2
    assert "5.0013 GHz" in rows[0] and "current" in rows[0] and "second look" in rows[0]
    assert "5.0012 GHz" in rows[1] and "superseded" in rows[1] and "spectroscopy by eye" in rows[1]
    assert counts(lab_file) == (4, 4)


@pytest.mark.parametrize(("args", "message"), [
    (("set", "q0.x_ampl", "0.3", "--reason", "r"), "error: unknown parameter 'x_ampl' for qubit 0; known: "),
    (("set", "q5.frequency", "5e9", "--reason", "r"), "error: no qubit 5 in 'q5.frequency'; qubits: 0, 1"),
    (("set", "q0.frequency", "5", "--unit", "V", "--reason", "r"), "error: q0.frequency: unit 'V' does not fit"),
    (("set", "q0.frequency", "5", "--reason", "r"), "error: q0.frequency: 5 Hz is outside the physical bounds"),
    (("set", "q0.frequency", "nan", "--reason", "r"), "not finite"),
    (("set", "q0.frequency", "5 GHz", "--unit", "MHz", "--reason", "r"), "carries a unit and --unit MHz"),
    (("history", "q0.frequncy"), "error: unknown parameter 'frequncy'"),
    (("diff", "yesterday"), "is neither a snapshot id"),
    (("rollback", "0123456789abcdef"), "error: no snapshot '0123456789abcdef'"),
    (("show", "--at", "noon"), "is neither a snapshot id"),
])
def test_errors_print_one_line_exit_non_zero_and_write_nothing(cal: Cal, lab_file: Path, args: tuple[str, ...],
                                                               message: str) -> None:
    assert cal("set", "q0.frequency", "5e9", "--reason", "start").returncode == 0
    before = db(lab_file).read_bytes(), counts(lab_file)
    done = cal(*args)
    assert done.returncode != 0
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (db(lab_file).read_bytes(), counts(lab_file)) == before


def test_set_needs_a_reason(cal: Cal, lab_file: Path) -> None:
    done = cal("set", "q0.frequency", "5e9")
    assert done.returncode == 2 and "Missing option '--reason'" in done.stderr
    assert not db(lab_file).exists()                         # refused before the store was even created


def test_diff_and_rollback_by_id_and_by_time(cal: Cal, lab_file: Path) -> None:
    first = cal("set", "q0.x_amp", "0.30", "--reason", "rabi by hand")
    good_id = first.stdout.rsplit("snapshot ", 1)[1].strip()
    assert cal("set", "q0.x_amp", "0.35", "--reason", "oops").returncode == 0
    assert cal("set", "q1.x_amp", "0.28", "--reason", "q1").returncode == 0

    diff = cal("diff", good_id, "now")
    assert diff.returncode == 0, diff.stderr
    assert "2 changes" in diff.stdout
    x_amp = next(line for line in diff.stdout.splitlines() if "q0.x_amp" in line)
    assert "changed" in x_amp and "0.3 " in x_amp and "0.35" in x_amp
    assert "added" in next(line for line in diff.stdout.splitlines() if "q1.x_amp" in line)
    assert "no differences" in cal("diff", "now", "now").stdout

    back = cal("rollback", good_id, "--reason", "the 0.35 was a typo")
    assert back.returncode == 0, back.stderr
    assert f"rolled back to snapshot {good_id}: 2 keys written (q0.x_amp, q1.x_amp)" in back.stdout
    assert back.stdout.strip().endswith(f"current snapshot {good_id}")
    assert "no differences" in cal("diff", good_id).stdout
    history = cal("history", "q1.x_amp").stdout
    assert "removed" in history and "superseded" in history
    assert counts(lab_file) == (5, 4)                        # 3 sets + 2 rollback entries; nothing deleted

    empty = cal("rollback", "2000-01-01T00:00:00")           # a time before anything was set
    assert empty.returncode == 0, empty.stderr
    assert "no calibrated values" in cal("show").stdout
    before = cal("show", "--at", "2000-01-01")               # a time without a zone is UTC
    assert before.stdout.strip().endswith("at 2000-01-01T00:00:00+00:00")


def test_export_and_import_through_the_command_line(cal: Cal, lab_file: Path, tmp_path: Path) -> None:
    assert cal("set", "q0.frequency", "4.997 GHz", "--stderr", "0.002", "--reason", "a").returncode == 0
    assert cal("set", "q0-q1.cr_amp", "0.21", "--reason", "b").returncode == 0
    out = tmp_path / "export.json"
    done = cal("export", str(out))
    assert done.returncode == 0, done.stderr
    exported_id = json.loads(out.read_text())["snapshot_id"]
    assert done.stdout.startswith(f"exported snapshot {exported_id} (2 values)")
    assert json.loads(out.read_text())["entries"]["q0.frequency"]["stderr"] == 2e6

    assert cal("set", "q0-q1.cr_amp", "0.5", "--reason", "c").returncode == 0
    back = cal("import", str(out))
    assert back.returncode == 0, back.stderr
    assert "1 keys written" in back.stdout and back.stdout.strip().endswith(f"current snapshot {exported_id}")

    bad = tmp_path / "bad.json"
    bad.write_text(out.read_text().replace('"q0-q1.cr_amp"', '"q0-q7.cr_amp"'))
    before = db(lab_file).read_bytes(), counts(lab_file)
    refused = cal("import", str(bad))
    assert refused.returncode == 2 and "error: no qubit 7" in refused.stderr
    assert (db(lab_file).read_bytes(), counts(lab_file)) == before
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert "not readable JSON" in cal("import", str(garbage)).stderr
