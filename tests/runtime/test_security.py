"""Who gets in, and what they may touch: CURVE with an allow-list, revocation without a restart, owners."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from daemon_lab import Lab

from qubitlab.errors import AuthenticationError, ConfigError, JobError
from qubitlab.runtime import keys as keyfiles
from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.daemon import Daemon, DaemonConfig
from qubitlab.runtime.launch import client_key


def test_an_unknown_key_gets_no_reply_at_all(lab: Lab, tmp_path: Path) -> None:
    _, secret = keyfiles.new_keypair(tmp_path, "stranger")          # made, never allowed
    assert lab.daemon.server_key is not None
    with QubitlabService(lab.daemon.address, key=secret, server_key=lab.daemon.server_key, timeout=1.5) as service:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            service.hello()
        assert time.monotonic() - start >= 1.4
    with lab.service("alice") as service:                          # and the daemon goes on serving others
        assert service.hello()["client"] == "alice"


def test_a_revoked_key_is_refused_without_a_restart(lab: Lab, tmp_path: Path) -> None:
    assert lab.daemon.keys_dir is not None and lab.daemon.server_key is not None
    secret = client_key(lab.daemon.keys_dir, "carol", folder=tmp_path)
    connected = QubitlabService(lab.daemon.address, key=secret, server_key=lab.daemon.server_key, timeout=3)
    try:
        assert connected.hello()["client"] == "carol"
        keyfiles.revoke(lab.daemon.keys_dir, "carol")
        with pytest.raises(AuthenticationError, match="revoked"):     # the open connection, next message
            connected.hello()
    finally:
        connected.close()
    with QubitlabService(lab.daemon.address, key=secret, server_key=lab.daemon.server_key, timeout=1.5) as fresh:
        with pytest.raises(TimeoutError):                            # a new handshake fails
            fresh.hello()


def test_a_client_reads_and_cancels_only_its_own_jobs(lab: Lab) -> None:
    with lab.service("alice") as alice, lab.service("bob") as bob, lab.service("admin") as admin:
        job = alice.submit("sleep", {"seconds": 0.0, "echo": "alice's"})
        with pytest.raises(JobError, match="no job .* of yours"):
            bob.job(job.job_id())
        from qubitlab.runtime.client import RuntimeJob

        with pytest.raises(JobError, match="of yours"):
            RuntimeJob(bob, job.job_id()).cancel()
        with pytest.raises(JobError, match="of yours"):
            RuntimeJob(bob, job.job_id()).result(timeout=5)
        assert job.result(timeout=30)["echo"] == "alice's"
        assert RuntimeJob(admin, job.job_id()).result(timeout=5)["echo"] == "alice's"
        assert job.job_id() not in {j["job_id"] for j in bob.jobs()}
        assert job.job_id() in {j["job_id"] for j in admin.jobs()}
        assert all(j["owner"] == "alice" for j in alice.jobs())


def test_binding_beyond_loopback_without_curve_is_refused_before_binding(tmp_path: Path) -> None:
    from daemon_lab import lab_copy

    lab_file = lab_copy(tmp_path)
    for bind in ("tcp://0.0.0.0:*", "tcp://192.0.2.1:5555", "tcp://*:5555"):
        with pytest.raises(ConfigError, match="without CURVE"):
            Daemon(DaemonConfig(lab_file, bind=bind, curve=False))


def test_key_and_store_files_are_private(lab: Lab) -> None:
    assert lab.daemon.keys_dir is not None
    secret = lab.daemon.keys_dir / "server.key_secret"
    for path in (secret, *lab.keys.values(), lab.lab_file.parent / ".qubitlab" / "jobs.sqlite"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    # the daemon's log names no secret key
    secret_text = keyfiles.load(secret).secret
    assert secret_text is not None
    assert not any(secret_text.decode() in line for line in lab.daemon.log)


def test_the_allow_list_sees_a_revocation_made_in_the_same_clock_tick(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    public, _ = keyfiles.new_keypair(tmp_path / "clients", "dave")
    keyfiles.allow(keys_dir, public, name="dave")
    allowed = keyfiles.AllowList(keys_dir)
    key = keyfiles.load(public).public
    assert allowed.client(key) == keyfiles.Client("dave", admin=False)
    keyfiles.revoke(keys_dir, "dave")          # microseconds later: the folder's coarse mtime may not have moved
    assert allowed.client(key) is None
    keyfiles.allow(keys_dir, public, name="dave", admin=True)
    assert allowed.client(key) == keyfiles.Client("dave", admin=True)


def test_a_key_replaced_under_the_same_name_is_seen_without_a_restart(tmp_path: Path) -> None:
    """Rotation: `keys allow` of a new key under an allowed name; the old key is refused from the next look on,
    although the folder's file names did not change (the list was read long enough ago to trust its stamp)."""
    keys_dir = tmp_path / "keys"
    old, _ = keyfiles.new_keypair(tmp_path / "old", "erin")
    new, _ = keyfiles.new_keypair(tmp_path / "new", "erin")
    keyfiles.allow(keys_dir, old, name="erin")
    time.sleep(2 * keyfiles.RECENT)
    allowed = keyfiles.AllowList(keys_dir)
    assert allowed.client(keyfiles.load(old).public) == keyfiles.Client("erin", admin=False)
    time.sleep(2 * keyfiles.RECENT)                       # the stamp read is now trusted: only a change rereads
    path = keyfiles.allow(keys_dir, new, name="erin")
    assert allowed.client(keyfiles.load(old).public) is None
    assert allowed.client(keyfiles.load(new).public) == keyfiles.Client("erin", admin=False)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and sorted(p.name for p in path.parent.iterdir()) == ["erin.key"]
