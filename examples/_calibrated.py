"""Shared by the examples that need a calibrated device and a daemon (not an example itself: its name starts
with ``_``, so tests/test_examples.py does not run it).

:func:`calibrated_lab` puts ``virtual_2q.yaml`` and a calibrated store into the output folder: a copy of an
already calibrated lab when ``QUBITLAB_EXAMPLES_CALIBRATED`` names one (the test suite passes the lab it brought
up once), else the real bring-up, ``qubitlab calibrate all`` (about 40 s). :func:`daemon` starts a daemon on
that lab (CURVE keys in the folder, a client key allowed) and stops it, by its pid, when the block ends.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def output_folder() -> Path:
    out = Path(os.environ.get("QUBITLAB_EXAMPLES_OUT") or tempfile.mkdtemp(prefix="qubitlab-example-"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def calibrated_lab(out: Path) -> Path:
    lab_file = out / "virtual_2q.yaml"
    given = os.environ.get("QUBITLAB_EXAMPLES_CALIBRATED")
    if given:
        source = Path(given)
        shutil.copy(source, lab_file)
        (out / ".qubitlab").mkdir(exist_ok=True)
        with sqlite3.connect(source.parent / ".qubitlab" / "calibration.sqlite") as src, \
                sqlite3.connect(out / ".qubitlab" / "calibration.sqlite") as dst:
            src.backup(dst)                                   # consistent even while another reader has it open
        return lab_file
    shutil.copy(ROOT / "lab_configs" / "virtual_2q.yaml", lab_file)
    print("bringing the virtual two-qubit device up (qubitlab calibrate all, ~40 s) ...", flush=True)
    subprocess.run([sys.executable, "-m", "qubitlab", "calibrate", "all", "--lab", str(lab_file)], check=True,
                   stdout=subprocess.DEVNULL)
    return lab_file


@contextmanager
def daemon(lab_file: Path) -> Iterator[object]:
    """A QubitlabService connected (CURVE) to a daemon serving ``lab_file``; the daemon is stopped afterwards."""
    from qubitlab.runtime import QubitlabService
    from qubitlab.runtime.keys import server_keys
    from qubitlab.runtime.launch import client_key, start_daemon

    keys = lab_file.parent / "keys"
    server_keys(keys)
    secret = client_key(keys, "example", folder=lab_file.parent / "client_keys")
    process = start_daemon(lab_file, keys_dir=keys)
    try:
        assert process.server_key is not None
        with QubitlabService(process.address, key=secret, server_key=process.server_key, timeout=120) as service:
            yield service
    finally:
        process.stop()
