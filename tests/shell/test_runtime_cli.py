"""``qubitlab keys|daemon|jobs|sessions`` as an operator runs them: each command in its own interpreter, against
a real daemon process (its own worker, real CURVE keys, real SQLite) on an ephemeral loopback port, found
through the lab's lock file. The keys are made and allowed with the commands under test; the expected key
texts are read from the certificate files with a regular expression, not through the code under test. Every
daemon started here is stopped by its own pid."""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_run import ROOT, qubitlab
from daemon_lab import lab_copy

from qubitlab.runtime.client import QubitlabService, Session
from qubitlab.runtime.launch import DaemonProcess, start_daemon

USER = getpass.getuser()          # what the commands (same environment) take as the login name


def z85(path: Path, which: str) -> str:
    """A certificate file's ``public-key`` or ``secret-key`` (ZeroMQ's text format)."""
    found = re.search(rf'{which}-key = "(.{{40}})"', path.read_text())
    assert found, path.read_text()
    return found.group(1)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    text = " ".join((done.stdout + done.stderr).split())
    assert "Traceback" not in text
    for word in words:
        assert word in text, text


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Running:
    lab_file: Path
    store: Path
    daemon: DaemonProcess
    mine: Path
    """The default client key, <store>/keys/clients/<user>.key_secret."""
    bob: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("runtime_cli")
    lab_file = lab_copy(folder)
    store = folder / ".qubitlab"
    clients = store / "keys" / "clients"
    ok(qubitlab("keys", "new", USER, "--dir", str(clients)))
    ok(qubitlab("keys", "allow", str(clients / f"{USER}.key"), "--lab", str(lab_file)))
    ok(qubitlab("keys", "new", "bob", "--dir", str(folder / "bob")))
    ok(qubitlab("keys", "allow", str(folder / "bob" / "bob.key"), "--lab", str(lab_file)))
    daemon = start_daemon(lab_file)
    try:
        lab = Running(lab_file, store, daemon, clients / f"{USER}.key_secret", folder / "bob" / "bob.key_secret")
        wait_ready(lab)
        yield lab
    finally:
        daemon.stop()


def service(running: Running, key: Path) -> QubitlabService:
    return QubitlabService(running.daemon.address, key=key, server_key=running.store / "keys" / "server.key")


def wait_ready(running: Running, timeout: float = 60.0) -> None:
    """Until the daemon's worker has opened the lab."""
    deadline = time.monotonic() + timeout
    with service(running, running.mine) as client:
        while not client.backend()["worker"]["ready"]:
            assert time.monotonic() < deadline, "the worker did not open the lab in time"
            time.sleep(0.1)


# -- keys ----------------------------------------------------------------------------------------------------------
def test_keys_new_writes_a_0600_pair_and_never_overwrites(tmp_path: Path) -> None:
    out = ok(qubitlab("keys", "new", "carol", "--dir", str(tmp_path)))
    public, secret = tmp_path / "carol.key", tmp_path / "carol.key_secret"
    assert str(public) in out and str(secret) in out
    assert (public.stat().st_mode & 0o777, secret.stat().st_mode & 0o777) == (0o600, 0o600)
    assert "secret-key" not in public.read_text()
    assert z85(secret, "public") == z85(public, "public")
    before = snapshot(tmp_path)
    refused(qubitlab("keys", "new", "carol", "--dir", str(tmp_path)), "already exists")
    refused(qubitlab("keys", "new", "../escape", "--dir", str(tmp_path)), "'../escape'", "letters, digits")
    refused(qubitlab("keys", "new", "dave", "--dir", str(public)), "is a file")
    assert snapshot(tmp_path) == before
    assert not (tmp_path.parent / "escape.key").exists()


def test_keys_allow_list_revoke_in_a_key_folder(tmp_path: Path) -> None:
    keys = tmp_path / "daemon_keys"
    for name in ("erin", "frank", "other"):
        ok(qubitlab("keys", "new", name, "--dir", str(tmp_path)))
    ok(qubitlab("keys", "allow", str(tmp_path / "erin.key"), "--keys", str(keys)))
    ok(qubitlab("keys", "allow", str(tmp_path / "frank.key"), "--keys", str(keys), "--name", "boss", "--admin"))
    allowed = keys / "allowed" / "erin.key"
    assert allowed.stat().st_mode & 0o777 == 0o600 and "secret" not in allowed.read_text()
    assert (keys / "admins" / "boss.key").exists()

    listing = json.loads(ok(qubitlab("keys", "list", "--keys", str(keys), "--json")))
    assert listing["clients"] == [
        {"name": "boss", "admin": True, "fingerprint": z85(tmp_path / "frank.key", "public")[:8]},
        {"name": "erin", "admin": False, "fingerprint": z85(tmp_path / "erin.key", "public")[:8]}]
    table = ok(qubitlab("keys", "list", "--keys", str(keys)))
    assert "erin" in table and "boss" in table and "yes" in table
    for name in ("erin", "frank"):
        assert z85(tmp_path / f"{name}.key_secret", "secret") not in table + json.dumps(listing)

    before = snapshot(keys)
    refused(qubitlab("keys", "allow", str(tmp_path / "other.key"), "--keys", str(keys), "--name", "erin"),
            "different key is already allowed as 'erin'", "qubitlab keys revoke erin")
    refused(qubitlab("keys", "allow", str(tmp_path / "erin.key"), "--keys", str(keys), "--name", "erin2"),
            "already allowed as 'erin'")
    refused(qubitlab("keys", "allow", str(tmp_path / "other.key_secret"), "--keys", str(keys)), "holds a secret key")
    (tmp_path / "junk.key").write_text("not a certificate\n")
    refused(qubitlab("keys", "allow", str(tmp_path / "junk.key"), "--keys", str(keys)), "junk.key")
    refused(qubitlab("keys", "allow", str(tmp_path / "other.key")), "--lab LAB", "--keys DIR")
    refused(qubitlab("keys", "revoke", "nobody", "--keys", str(keys)), "no allowed key named 'nobody'")
    assert snapshot(keys) == before

    ok(qubitlab("keys", "revoke", "erin", "--keys", str(keys)))
    assert not allowed.exists()
    names = [c["name"] for c in json.loads(ok(qubitlab("keys", "list", "--keys", str(keys), "--json")))["clients"]]
    assert names == ["boss"]


def test_keys_list_through_the_lab_shows_the_daemons_folder(running: Running) -> None:
    listing = json.loads(ok(qubitlab("keys", "list", "--lab", str(running.lab_file), "--json")))
    assert Path(listing["folder"]) == running.store / "keys"
    assert listing["server"] == z85(running.store / "keys" / "server.key", "public")[:8]
    assert sorted(c["name"] for c in listing["clients"]) == sorted({USER, "bob"})


# -- daemon --------------------------------------------------------------------------------------------------------
def test_daemon_status_running_and_its_queue(running: Running) -> None:
    out = ok(qubitlab("daemon", "status", "--lab", str(running.lab_file)))
    assert f"running (pid {running.daemon.pid}, {running.daemon.address}, CURVE" in out
    assert "queued jobs" not in out                          # without --key it only reads the lock file
    out = ok(qubitlab("daemon", "status", "--lab", str(running.lab_file), "--key", str(running.mine)))
    found = re.search(r"queued jobs: (\d+); worker: pid (\d+), ready", out)
    assert found, out
    assert int(found.group(2)) not in (running.daemon.pid, os.getpid())   # the worker is its own process


def test_daemon_status_not_running_and_a_stale_lock(tmp_path: Path) -> None:
    lab_file = lab_copy(tmp_path)
    done = qubitlab("daemon", "status", "--lab", str(lab_file))
    assert done.returncode == 1 and "not running" in done.stdout and "stale" not in done.stdout, done.stdout
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".qubitlab" / "daemon.lock").write_text(json.dumps({"pid": dead.pid, "address": "tcp://x:1"}))
    done = qubitlab("daemon", "status", "--lab", str(lab_file))
    assert done.returncode == 1 and f"stale lock of pid {dead.pid}" in done.stdout, done.stdout
    refused(qubitlab("jobs", "list", "--lab", str(lab_file)), "no daemon runs", "qubitlab daemon start --lab")


def test_daemon_start_serves_until_sigterm_and_refuses_an_open_bind(tmp_path: Path) -> None:
    lab_file = lab_copy(tmp_path)
    refused(qubitlab("daemon", "start", "--lab", str(lab_file), "--bind", "tcp://0.0.0.0:5999", "--insecure"),
            "refusing to listen on tcp://0.0.0.0:5999 without CURVE")
    assert not (tmp_path / ".qubitlab" / "daemon.lock").exists()
    process = subprocess.Popen([sys.executable, "-m", "qubitlab", "daemon", "start", "--lab", str(lab_file),
                                "--bind", "tcp://127.0.0.1:*", "--insecure"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert process.stdout is not None
    first = process.stdout.readline()
    found = re.search(r"listening on (tcp://127\.0\.0\.1:\d+) \(no CURVE\)", first)
    daemon = DaemonProcess(process, found.group(1) if found else "", None)
    try:
        assert found, first
        out = ok(qubitlab("daemon", "status", "--lab", str(lab_file)))
        assert f"running (pid {process.pid}, {daemon.address}, no CURVE" in out and "queued jobs: 0" in out
        assert json.loads(ok(qubitlab("jobs", "list", "--lab", str(lab_file), "--json"))) == []
    finally:
        code = daemon.stop()
    assert code == 0
    assert not (tmp_path / ".qubitlab" / "daemon.lock").exists()
    assert qubitlab("daemon", "status", "--lab", str(lab_file)).returncode == 1


# -- jobs and sessions ---------------------------------------------------------------------------------------------
def test_jobs_list_show_and_cancel_real_jobs(running: Running) -> None:
    lab = str(running.lab_file)
    with service(running, running.mine) as mine, service(running, running.bob) as bob:
        done = mine.submit("sleep", {"seconds": 0.0, "echo": "hello"})
        others = bob.submit("sleep", {"seconds": 0.0})
        others.result(timeout=60)
        done.result(timeout=60)
        long = mine.submit("sleep", {"seconds": 60.0}, priority=3)

        listed = {j["job_id"]: j for j in json.loads(ok(qubitlab("jobs", "list", "--lab", lab, "--json")))}
        assert done.job_id() in listed and long.job_id() in listed
        assert others.job_id() not in listed                        # bob's job is not ours to see
        assert listed[long.job_id()]["priority"] == 3 and listed[done.job_id()]["status"] == "DONE"
        table = ok(qubitlab("jobs", "list", "--lab", lab))
        assert done.job_id() in table and "sleep" in table

        shown = json.loads(ok(qubitlab("jobs", "show", done.job_id(), "--lab", lab, "--json", "--result")))
        assert shown["job"]["status"] == "DONE" and shown["result"] == {"slept": 0.0, "echo": "hello"}
        assert done.job_id() in ok(qubitlab("jobs", "show", done.job_id(), "--lab", lab))
        refused(qubitlab("jobs", "show", others.job_id(), "--lab", lab), f"no job {others.job_id()!r} of yours")

        out = ok(qubitlab("jobs", "cancel", long.job_id(), "--lab", lab))
        assert f"job {long.job_id()}: CANCELLED" in out
        assert long.status().value == "CANCELLED"
        again = qubitlab("jobs", "cancel", long.job_id(), "--lab", lab)
        assert again.returncode == 1 and "already ended CANCELLED" in again.stderr
        refused(qubitlab("jobs", "cancel", others.job_id(), "--lab", lab), "of yours")
        assert others.status().value == "DONE"


def test_jobs_by_address_and_keys_and_the_bad_ways_to_name_a_daemon(running: Running, tmp_path: Path) -> None:
    server = str(running.store / "keys" / "server.key")
    listed = json.loads(ok(qubitlab("jobs", "list", "--address", running.daemon.address, "--key", str(running.bob),
                                    "--server-key", server, "--json")))
    assert {j["owner"] for j in listed} <= {"bob"}
    refused(qubitlab("jobs", "list"), "--lab LAB", "--address")
    refused(qubitlab("jobs", "list", "--lab", str(running.lab_file), "--address", running.daemon.address), "one of")
    refused(qubitlab("jobs", "list", "--address", running.daemon.address, "--key", str(running.bob)),
            "--server-key")
    refused(qubitlab("jobs", "list", "--address", "nonsense"), "'nonsense'", "tcp://127.0.0.1:5555")
    ok(qubitlab("keys", "new", "stranger", "--dir", str(tmp_path)))
    stranger = str(tmp_path / "stranger.key_secret")
    refused(qubitlab("jobs", "list", "--lab", str(running.lab_file), "--key", stranger),
            "not on the allow-list", "qubitlab keys allow")
    # by address nothing local can tell: the daemon never answers an unknown key, and the command says so
    refused(qubitlab("jobs", "list", "--address", running.daemon.address, "--key", stranger, "--server-key", server,
                     "--timeout", "1"), "no reply from the daemon", "within 1 s")
    refused(qubitlab("jobs", "list", "--lab", str(running.lab_file), "--key", str(tmp_path / "stranger.key")),
            "public key", ".key_secret")


def test_sessions_list_shows_an_open_session_and_its_state(running: Running) -> None:
    with service(running, running.mine) as mine:
        session = Session(mine, max_time=120, interactive_ttl=30)
        rows = json.loads(ok(qubitlab("sessions", "list", "--lab", str(running.lab_file), "--json")))
        row = {s["session_id"]: s for s in rows}[session.session_id]
        assert (row["mode"], row["state"], row["owner"], row["max_time"]) == ("session", "open", USER, 120.0)
        assert session.session_id in ok(qubitlab("sessions", "list", "--lab", str(running.lab_file)))
        session.cancel()
        rows = json.loads(ok(qubitlab("sessions", "list", "--lab", str(running.lab_file), "--json")))
        assert {s["session_id"]: s for s in rows}[session.session_id]["state"] == "closed"
    with service(running, running.bob) as bob:
        assert session.session_id not in {s["session_id"] for s in bob.sessions()}
