"""Input ``qubitlab cal set|import|export`` must refuse, each through the real command in its own interpreter on
a real SQLite store: hex numbers and stray suffixes (never read as a unit), duplicate JSON keys, NaN, absurd
nesting, size and object count in an imported file; and the mode of an exported file (the umask's).

Every refusal is asserted on its one-line message and on the store's file being byte-for-byte unchanged.
The limits are the documented ones (4 MiB, 8 levels, 50000 objects and arrays), written here by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_run import LAB, QUBITLAB

Cal = Callable[..., subprocess.CompletedProcess[str]]
LIMIT_BYTES = 4 * 2**20
LIMIT_DEPTH = 8
LIMIT_CONTAINERS = 50_000


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    copy = tmp_path / "lab" / "virtual_2q.yaml"
    copy.parent.mkdir()
    shutil.copy(LAB, copy)
    return copy


@pytest.fixture
def cal(lab_file: Path, tmp_path: Path) -> Iterator[Cal]:
    def run(command: str, *rest: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "400"}
        return subprocess.run([*QUBITLAB, "cal", command, "--lab", str(lab_file), *rest], capture_output=True,
                              text=True, timeout=60, env=env, cwd=tmp_path)

    yield run


def store_file(lab_file: Path) -> Path:
    return lab_file.parent / ".qubitlab" / "calibration.sqlite"


def current(lab_file: Path) -> dict[str, float]:
    """The store's current values, read with plain SQL (the entries nothing superseded)."""
    with sqlite3.connect(store_file(lab_file)) as conn:
        rows = conn.execute("SELECT key, value FROM entries WHERE superseded_by IS NULL AND value IS NOT NULL")
        return dict(rows.fetchall())


def refused(cal: Cal, lab_file: Path, args: tuple[str, ...], message: str) -> str:
    """Run ``cal *args``; assert exit 2, ``message`` in a one-line error and an untouched store file."""
    before = store_file(lab_file).read_bytes()
    done = cal(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert store_file(lab_file).read_bytes() == before
    return done.stderr


@pytest.fixture
def seeded(cal: Cal, lab_file: Path) -> dict[str, float]:
    """A store holding q0.frequency = 4.997 GHz and q0.x_amp = 0.3."""
    assert cal("set", "q0.frequency", "4.997e9", "--reason", "seed").returncode == 0
    assert cal("set", "q0.x_amp", "0.3", "--reason", "seed").returncode == 0
    return current(lab_file)


HZ_UNITS = "valid after the number: nothing (the number is in Hz) or one of Hz, kHz, MHz, GHz"


@pytest.mark.parametrize(("args", "message"), [
    (("q0.frequency", "0x10"), "q0.frequency: value '0x10' is a hexadecimal number; write it in decimal"),
    (("q0.frequency", "-0X1F"), "value '-0X1F' is a hexadecimal number"),
    (("q0.x_amp", "0x1"), "q0.x_amp: value '0x1' is a hexadecimal number"),
    (("q0.x_amp", "0o17"), "value '0o17' is an octal number"),
    (("q0.x_amp", "0b11"), "value '0b11' is a binary number"),
    (("q0.frequency", "5.0q"), f"q0.frequency: value '5.0q' has the stray suffix 'q' after the number 5.0, which is "
                               f"not a unit of q0.frequency; {HZ_UNITS}"),
    (("q0.frequency", "5e9Hzz"), "stray suffix 'Hzz' after the number 5e9"),
    (("q0.frequency", "5e"), "stray suffix 'e' after the number 5,"),
    (("q0.frequency", "4_997e6"), "stray suffix '_997e6' after the number 4,"),
    (("q0.frequency", "5 GHz x"), "stray suffix 'GHz x'"),
    (("q0.t1", "60usec"), "stray suffix 'usec' after the number 60, which is not a unit of q0.t1; valid after the "
                          "number: nothing (the number is in s) or one of s, ms, us, ns"),
    (("q0.x_amp", "0.3m"), "stray suffix 'm' after the number 0.3, which is not a unit of q0.x_amp; valid after the "
                           "number: no unit (x_amp is dimensionless, e.g. 0.31)"),
    (("q0.x_amp", "\uff10.3"), "q0.x_amp: value '\uff10.3' is not a number; valid: a decimal number"),
    (("q0.x_amp", "0.3", "--stderr", "0x10"), "q0.x_amp: --stderr: '0x10' is a hexadecimal number"),
    (("q0.x_amp", "0.3", "--stderr", "1_0"), "q0.x_amp: --stderr: '1_0' is not a number"),
    (("q0.frequency", "5e9", "--stderr", "1e5Hz"), "q0.frequency: --stderr: '1e5Hz' is not a number"),
    (("q0.x_amp", "0.3", "--stderr", "nan"), "q0.x_amp: standard error nan must be a finite number >= 0"),
])
def test_set_refuses_hex_and_stray_suffixes(cal: Cal, lab_file: Path, seeded: dict[str, float],
                                           args: tuple[str, ...], message: str) -> None:
    stderr = refused(cal, lab_file, ("set", *args, "--reason", "typo"), message)
    assert "got unit" not in stderr and "does not fit" not in stderr      # never read as a unit
    assert current(lab_file) == seeded


@pytest.mark.parametrize(("key", "value", "si"), [
    ("q0.frequency", "5e9Hz", 5e9),
    ("q0.frequency", "4.9971GHz", 4.9971e9),
    ("q0.frequency", " 4997.2 MHz ", 4.9972e9),
    ("q0.t1", "60us", 60e-6),
    ("q0.x_amp", "+.25", 0.25),
])
def test_set_accepts_a_number_followed_by_a_unit_of_the_key(cal: Cal, lab_file: Path, key: str, value: str,
                                                           si: float) -> None:
    done = cal("set", key, value, "--reason", "by hand")
    assert done.returncode == 0, done.stderr
    assert current(lab_file)[key] == pytest.approx(si, rel=1e-15)


def exported(cal: Cal, tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "export.json"
    assert cal("export", str(out)).returncode == 0
    document: dict[str, object] = json.loads(out.read_text())
    return document


def write_import(tmp_path: Path, text: str | bytes, name: str = "import.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def entry_text(document: dict[str, object], key: str) -> str:
    entries = document["entries"]
    assert isinstance(entries, dict)
    return json.dumps(entries[key])


def test_import_refuses_a_key_repeated_anywhere(cal: Cal, lab_file: Path, tmp_path: Path,
                                                seeded: dict[str, float]) -> None:
    document = exported(cal, tmp_path)
    frequency = entry_text(document, "q0.frequency")
    other = frequency.replace("4997000000.0", "5100000000.0")
    assert other != frequency
    body = json.dumps({k: v for k, v in document.items() if k != "entries"})[:-1]
    twice = write_import(tmp_path, body + ', "entries": {"q0.frequency": ' + frequency + ', "q0.frequency": '
                         + other + "}}")
    refused(cal, lab_file, ("import", str(twice)),
            f"calibration file {twice}: key 'q0.frequency' appears more than once in entries; each key may appear once")

    inner = write_import(tmp_path, body + ', "entries": {"q0.frequency": ' + frequency[:-1] + ', "value": 5.1e9}}}',
                         "inner.json")
    refused(cal, lab_file, ("import", str(inner)), "key 'value' appears more than once in entries.q0.frequency")

    top = write_import(tmp_path, json.dumps(document)[:-1] + ', "format": "qubitlab-calibration-snapshot"}',
                       "top.json")
    refused(cal, lab_file, ("import", str(top)), "key 'format' appears more than once at the top level")
    assert current(lab_file) == seeded


def nested(levels: int) -> str:
    """A JSON value whose arrays nest ``levels`` deep."""
    return "[" * levels + "0" + "]" * levels


def test_import_limits_nesting_to_8_levels(cal: Cal, lab_file: Path, tmp_path: Path,
                                           seeded: dict[str, float]) -> None:
    document = exported(cal, tmp_path)
    head = json.dumps(document)[:-1]
    # the document is level 1, so a top-level "notes" of 7 arrays reaches 8 levels: read (unknown keys are ignored)
    ok = write_import(tmp_path, head + f', "notes": {nested(LIMIT_DEPTH - 1)}}}', "ok.json")
    assert cal("import", str(ok)).returncode == 0
    for levels, name in ((LIMIT_DEPTH, "deep.json"), (100_000, "absurd.json")):
        deep = write_import(tmp_path, head + f', "notes": {nested(levels)}}}', name)
        refused(cal, lab_file, ("import", str(deep)),
                f"calibration file {deep} nests objects or arrays deeper than 8 levels")
    assert current(lab_file) == seeded


def test_import_limits_the_file_to_4_mib(cal: Cal, lab_file: Path, tmp_path: Path,
                                          seeded: dict[str, float]) -> None:
    text = json.dumps(exported(cal, tmp_path))
    at_limit = write_import(tmp_path, text + " " * (LIMIT_BYTES - len(text)), "at_limit.json")
    assert at_limit.stat().st_size == LIMIT_BYTES
    assert cal("import", str(at_limit)).returncode == 0
    over = write_import(tmp_path, text + " " * (LIMIT_BYTES + 1 - len(text)), "over.json")
    refused(cal, lab_file, ("import", str(over)), f"calibration file {over} is larger than 4 MiB")
    assert current(lab_file) == seeded


def containers(value: object) -> int:
    """How many objects and arrays ``value`` holds, itself included."""
    if isinstance(value, dict):
        return 1 + sum(containers(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(containers(v) for v in value)
    return 0


def test_import_limits_the_objects_and_arrays_to_50000(cal: Cal, lab_file: Path, tmp_path: Path,
                                                       seeded: dict[str, float]) -> None:
    document = exported(cal, tmp_path)
    room = LIMIT_CONTAINERS - containers(document) - 1     # the "notes" array itself is one more
    at_limit = write_import(tmp_path, json.dumps({**document, "notes": [[]] * room}), "at_limit.json")
    assert containers(json.loads(at_limit.read_text())) == LIMIT_CONTAINERS
    assert cal("import", str(at_limit)).returncode == 0
    over = write_import(tmp_path, json.dumps({**document, "notes": [{}] * (room + 1)}), "over.json")
    refused(cal, lab_file, ("import", str(over)), f"calibration file {over} holds 50001 objects and arrays; at most "
                                                  "50000 are read")
    assert current(lab_file) == seeded


PEAK = ("import resource, sys, time\nfrom qubitlab.cli import main\nstart = time.perf_counter()\ntry:\n"
        "    main(sys.argv[1:])\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start)")


def peak(lab_file: Path, file: Path) -> tuple[int, float, float]:
    """``qubitlab cal import`` of ``file`` in a child: exit code, peak resident memory (MiB), seconds."""
    done = subprocess.run([sys.executable, "-c", PEAK, "cal", "import", "--lab", str(lab_file), str(file)],
                          capture_output=True, text=True, timeout=120)
    code, kib, seconds = done.stdout.split()[-3:]
    return int(code), int(kib) / 1024, float(seconds)


def test_a_hostile_file_costs_no_more_memory_or_time_than_a_normal_import(
        cal: Cal, lab_file: Path, tmp_path: Path, seeded: dict[str, float]) -> None:
    normal = tmp_path / "normal.json"
    assert cal("export", str(normal)).returncode == 0
    code, reference_mib, reference_s = peak(lab_file, normal)          # the reference, measured in this run
    assert code == 0
    head = normal.read_text().rstrip()[:-1]
    budget = LIMIT_BYTES - len(head) - 20
    hostile = {"objects": head + ', "n": [' + ",".join(['{"a":0}'] * (budget // 8)) + "]}",
               "deep": head + ', "n": ' + "[" * budget + "}",
               "strings": head + ', "n": "' + "\\\"" * (budget // 2) + "}"}
    for name, text in hostile.items():
        file = write_import(tmp_path, text, f"{name}.json")
        assert file.stat().st_size <= LIMIT_BYTES
        code, mib, seconds = peak(lab_file, file)
        assert code == 2, name
        # bounded by the 4 MiB cap (16 x the file at most); without the checks a 4 MiB file of objects took ~400 MiB
        assert mib < reference_mib + 64, f"{name}: {mib:.0f} MiB, a normal import {reference_mib:.0f} MiB"
        assert seconds < reference_s + 3.0, f"{name}: {seconds:.2f} s, a normal import {reference_s:.2f} s"


@pytest.mark.parametrize(("replace", "message"), [
    (("4997000000.0", "NaN"), "is not readable JSON: NaN is not a JSON number"),
    (("4997000000.0", "-Infinity"), "is not readable JSON: -Infinity is not a JSON number"),
    (("4997000000.0", "1" + "0" * 400), "entries.q0.frequency.value must be a finite number"),
    (("4997000000.0", "1e400"), "entries.q0.frequency.value must be a finite number"),
    (('"fit_quality": {}', '"fit_quality": {"r2": 1e999}'), "entries.q0.frequency.fit_quality.r2 must be a finite"),
])
def test_import_refuses_numbers_json_does_not_have(cal: Cal, lab_file: Path, tmp_path: Path,
                                                   seeded: dict[str, float], replace: tuple[str, str],
                                                   message: str) -> None:
    text = json.dumps(exported(cal, tmp_path))
    assert replace[0] in text
    bad = write_import(tmp_path, text.replace(replace[0], replace[1], 1))
    refused(cal, lab_file, ("import", str(bad)), f"{bad}")
    refused(cal, lab_file, ("import", str(bad)), message)
    assert current(lab_file) == seeded


def test_import_refuses_bytes_that_are_not_utf8(cal: Cal, lab_file: Path, tmp_path: Path,
                                                seeded: dict[str, float]) -> None:
    bad = write_import(tmp_path, b'{"format": "\xff\xfe"}')
    refused(cal, lab_file, ("import", str(bad)), f"calibration file {bad} is not UTF-8 text (invalid start byte at "
                                                 "byte 12)")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002, 0o027])
def test_export_gives_the_file_the_mode_the_umask_allows(cal: Cal, lab_file: Path, tmp_path: Path,
                                                         seeded: dict[str, float], umask: int) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "snapshot.json"
    target.write_text("old")
    target.chmod(0o600)                                     # an older file's mode is not kept: the file is new
    old = os.umask(umask)                                   # the child process inherits it
    try:
        done = cal("export", str(target))
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert json.loads(target.read_text())["entries"]["q0.x_amp"]["value"] == 0.3
    assert [p.name for p in out.iterdir()] == ["snapshot.json"]        # the temporary file was renamed, not left


def test_export_into_a_missing_folder_writes_nothing(cal: Cal, lab_file: Path, tmp_path: Path,
                                                     seeded: dict[str, float]) -> None:
    target = tmp_path / "missing" / "snapshot.json"
    done = cal("export", str(target))
    assert done.returncode == 2 and f"folder {target.parent} does not exist" in done.stderr, done.stderr
    assert not target.parent.exists()
