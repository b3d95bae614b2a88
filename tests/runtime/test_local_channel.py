"""The local channel: a client on the daemon's machine moves from CURVE to a private Unix socket after its hello;
its key still decides what it may do (revocation, ownership), a token nobody was given runs nothing, and a
restarted daemon's clients carry on."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import msgpack
import numpy as np
import pytest
import zmq
from daemon_lab import Lab, started

from qubitlab.errors import AuthenticationError, JobError
from qubitlab.runtime import keys as keyfiles
from qubitlab.runtime.client import QubitlabService
from qubitlab.runtime.launch import client_key, start_daemon
from qubitlab.runtime.local_channel import MAX_SOCKET_PATH, private_folder
from qubitlab.runtime.protocol import Message, MsgType, encode


def job_rows(lab: Lab) -> int:
    with sqlite3.connect(lab.lab_file.parent / ".qubitlab" / "jobs.sqlite") as conn:
        count = int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    conn.close()
    return count


def endpoint(service: QubitlabService) -> str:
    assert service._local is not None
    return str(service._local[0].getsockopt_string(zmq.LAST_ENDPOINT))


def test_a_client_on_the_daemons_machine_moves_to_the_private_socket(lab: Lab) -> None:
    big = np.random.default_rng(7).normal(size=2**17) + 1j * np.random.default_rng(8).normal(size=2**17)
    with lab.service() as service:
        assert service.channel == "curve"                       # nothing said yet
        assert service.hello()["client"] == "alice"             # the hello went over CURVE, the next ones do not
        assert service.channel == "local"
        result = service.submit("sleep", {"seconds": 0.0, "echo": big}).result(timeout=60)
        assert result["echo"].dtype == np.complex128 and np.array_equal(result["echo"], big)
        path = Path(endpoint(service)[len("ipc://"):])
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700    # only the daemon's user may enter
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with lab.service(local=False) as remote:
        remote.hello()
        assert remote.channel == "curve"                        # a client may decline it


def test_the_key_still_decides_on_the_local_channel(lab: Lab, tmp_path: Path) -> None:
    assert lab.daemon.keys_dir is not None and lab.daemon.server_key is not None
    carol = client_key(lab.daemon.keys_dir, "carol", folder=tmp_path)
    with lab.service("bob") as bob, QubitlabService(lab.daemon.address, key=carol,
                                                    server_key=lab.daemon.server_key, timeout=10) as service:
        job = service.submit("sleep", {"seconds": 0.0, "echo": "carol's"})
        assert service.channel == "local"
        assert job.result(timeout=60) ["echo"] == "carol's"
        bob.hello()
        assert bob.channel == "local"
        with pytest.raises(JobError, match="no job"):               # another client's job, over the local channel
            bob.job(job.job_id())
        keyfiles.revoke(lab.daemon.keys_dir, "carol")
        with pytest.raises(AuthenticationError, match="revoked"):   # the next message, no restart
            service.submit("sleep", {"seconds": 0.0})


def test_a_token_nobody_was_given_runs_nothing(lab: Lab) -> None:
    with lab.service() as service:
        service.hello()
        where = endpoint(service)
    before = job_rows(lab)
    context = zmq.Context()
    try:
        forger = context.socket(zmq.DEALER)
        forger.setsockopt(zmq.LINGER, 0)
        forger.connect(where)
        submit = Message(MsgType.SUBMIT, {"kind": "sleep", "inputs": {"seconds": 0.0}})
        for prefix in ([os.urandom(32)], []):                  # a guessed token; no token at all
            forger.send_multipart([*prefix, *encode(submit)])
            assert forger.poll(10_000), "the daemon should answer a forged request with an error"
            reply = msgpack.unpackb(forger.recv_multipart()[0], raw=False)
            assert reply["msg_type"] == "error"
            assert reply["content"]["error"]["type"] == "AuthenticationError"
        forger.close()
    finally:
        context.term()
    assert job_rows(lab) == before
    with lab.service() as service:                             # and the daemon serves everyone else
        assert service.submit("sleep", {"seconds": 0.0, "echo": 1}).result(timeout=60)["echo"] == 1


def test_a_restarted_daemons_clients_say_hello_again_and_repeat_nothing(tmp_path: Path) -> None:
    lab = started(tmp_path)
    restarted = None
    try:
        with lab.service() as service:
            assert service.submit("sleep", {"seconds": 0.0, "echo": "before"}).result(timeout=60)
            assert service.channel == "local"
            old_token = service._local[2] if service._local is not None else None
            lab.daemon.kill()                                  # kill -9: its tokens are gone with it
            restarted = start_daemon(lab.lab_file, keys_dir=lab.daemon.keys_dir,
                                     extra=["--bind", lab.daemon.address])      # the same address, as a lab's is
            before = job_rows(lab)
            job = service.submit("sleep", {"seconds": 0.0, "echo": "after"})
            assert job.result(timeout=60)["echo"] == "after"
            assert service.channel == "local" and service._local is not None and service._local[2] != old_token
        assert job_rows(lab) == before + 1                     # the repeated submit ran once
    finally:
        (restarted or lab.daemon).stop()


def test_the_private_folder_is_refused_when_others_may_enter_it(tmp_path: Path) -> None:
    state = tmp_path / "s"
    state.mkdir()
    folder = private_folder(state)
    assert folder == state / "local" and stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    os.chmod(folder, 0o755)
    with pytest.raises(PermissionError, match="mode 0700"):
        private_folder(state)
    deep = tmp_path / ("d" * (MAX_SOCKET_PATH + 10))          # too long for a socket's path
    deep.mkdir()
    short = private_folder(deep)
    try:
        assert len(os.fsencode(short / "daemon.sock")) <= MAX_SOCKET_PATH
        assert short == private_folder(deep)                   # a restarted daemon is found at the same place
    finally:
        short.rmdir()
