"""Security on the wire and at rest, beyond test_security.py: a captured CURVE conversation replayed (on a new
connection, and duplicated inside the live one) runs nothing; a key revoked in the middle of a session is cut
off; no secret key appears in the logs, the job store or the worker log; the runtime never deserialises code.

The capture is a byte-level TCP proxy this test starts on 127.0.0.1 (a thread; closed by the test).
"""

from __future__ import annotations

import ast
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_lab import ROOT, Lab

from qubitlab.errors import AuthenticationError
from qubitlab.runtime import keys as keyfiles
from qubitlab.runtime.client import QubitlabService, Session
from qubitlab.runtime.launch import client_key
from qubitlab.runtime.protocol import MsgType


class Proxy:
    """127.0.0.1:<port> -> the daemon, recording every chunk the client sends; can resend chunks upstream."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent: list[bytes] = []
        self.upstream: socket.socket | None = None
        self.client: socket.socket | None = None
        self.closed_by_daemon = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        self.client = client
        self.upstream = socket.create_connection(self.target)
        threading.Thread(target=self._pump, args=(client, self.upstream, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while chunk := source.recv(1 << 16):
                if record:
                    self.sent.append(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        if not record:
            self.closed_by_daemon.set()

    def close(self) -> None:
        self.listener.close()
        for conn in (self.upstream, self.client):
            if conn is not None:
                conn.close()


def address(lab: Lab) -> tuple[str, int]:
    host, port = lab.daemon.address.removeprefix("tcp://").rsplit(":", 1)
    return host, int(port)


@pytest.fixture
def proxy(lab: Lab) -> Iterator[Proxy]:
    running = Proxy(address(lab))
    yield running
    running.close()


def job_count(lab: Lab) -> int:
    with lab.service("admin") as admin:
        return len(admin.jobs(limit=10_000))


def through(lab: Lab, proxy: Proxy) -> QubitlabService:
    assert lab.daemon.server_key is not None
    # local=False: these tests read what crosses the TCP wire, and on the daemon's own machine the client would
    # otherwise move to the daemon's Unix socket after its first request
    return QubitlabService(f"tcp://127.0.0.1:{proxy.port}", key=lab.keys["alice"],
                           server_key=lab.daemon.server_key, timeout=20, local=False)


def test_a_captured_conversation_replayed_on_a_new_connection_runs_nothing(lab: Lab, proxy: Proxy) -> None:
    with through(lab, proxy) as service:
        service.submit("sleep", {"seconds": 0.0, "echo": "once"}).result(timeout=60)
    before = job_count(lab)
    captured = b"".join(proxy.sent)
    assert len(captured) > 200                                   # the handshake and two requests
    with socket.create_connection(address(lab), timeout=5) as replay:
        replay.sendall(captured)                                 # the same bytes, a new connection
        answer = b""
        try:
            while chunk := replay.recv(4096):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    time.sleep(0.5)
    assert job_count(lab) == before, "a replayed submit was run"
    assert len(answer) < 400, "the daemon got past the handshake of a replayed conversation"  # greeting + WELCOME


def test_a_message_duplicated_inside_the_live_connection_is_dropped(lab: Lab, proxy: Proxy) -> None:
    with through(lab, proxy) as service:
        assert service.hello()["client"] == "alice"
        before, mark = job_count(lab), len(proxy.sent)
        service.submit("sleep", {"seconds": 0.0, "echo": "dup"}).result(timeout=60)
        submit_bytes = proxy.sent[mark]                          # the submit request, as it crossed the wire
        assert proxy.upstream is not None
        proxy.upstream.sendall(submit_bytes)                     # replayed: its CURVE nonce is used up
        assert proxy.closed_by_daemon.wait(10), "the daemon kept a connection that replayed a nonce"
    assert job_count(lab) == before + 1


def test_a_key_revoked_mid_session_is_cut_off(lab: Lab, tmp_path: Path) -> None:
    assert lab.daemon.keys_dir is not None and lab.daemon.server_key is not None
    secret = client_key(lab.daemon.keys_dir, "dave", folder=tmp_path)
    with QubitlabService(lab.daemon.address, key=secret, server_key=lab.daemon.server_key, timeout=10) as dave:
        session = Session(dave, max_time=120)
        first = session.submit("sleep", {"seconds": 0.0, "echo": 1})
        assert first.result(timeout=60)["echo"] == 1
        keyfiles.revoke(lab.daemon.keys_dir, "dave")
        for attempt in (lambda: session.submit("sleep", {"seconds": 0.0}), dave.jobs, session.details,
                        lambda: dave.request(MsgType.STATUS, {"job_id": first.job_id()})):
            with pytest.raises(AuthenticationError, match="revoked"):    # every request, on the open connection
                attempt()
    with lab.service("admin") as admin:
        assert len([j for j in admin.jobs(limit=10_000) if j["owner"] == "dave"]) == 1
        admin.request(MsgType.SESSION_CANCEL, {"session_id": session.session_id})   # free the device


def secrets(lab: Lab) -> list[bytes]:
    assert lab.daemon.keys_dir is not None
    found = []
    for path in [lab.daemon.keys_dir / "server.key_secret", *lab.keys.values()]:
        secret = keyfiles.load(path).secret
        assert secret is not None
        found.append(secret)
    return found


def test_no_secret_key_in_logs_job_records_or_stores(lab: Lab) -> None:
    with lab.service("bob") as service:                          # leave some records behind
        service.submit("sleep", {"seconds": 0.0, "echo": "records"}).result(timeout=60)
    state = lab.lab_file.parent / ".qubitlab"
    files = [p for p in state.rglob("*") if p.is_file() and "keys" not in p.parts]
    assert any(p.name == "jobs.sqlite" for p in files) and any(p.name == "worker.log" for p in files)
    log = "\n".join(lab.daemon.log).encode()
    for secret in secrets(lab):
        for form in (secret, keyfiles_z85_decoded(secret)):
            assert form not in log
            for path in files:
                assert form not in path.read_bytes(), f"secret key material in {path}"


def keyfiles_z85_decoded(secret: bytes) -> bytes:
    import zmq.utils.z85

    return zmq.utils.z85.decode(secret)                          # the raw 32 bytes, in case anything stored them


FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_METHODS = {"import_module", "recv_pyobj", "send_pyobj", "recv_serialized", "send_serialized"}


def test_the_runtime_never_deserialises_code() -> None:
    offences = []
    for path in sorted((ROOT / "runtime").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offences += [f"{path.name}: import {a.name}" for a in node.names
                             if a.name.split(".")[0] in FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                offences.append(f"{path.name}: from {node.module} import")
            elif isinstance(node, ast.Call):
                builtin = isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_BUILTINS - imported
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if builtin or (isinstance(node.func, ast.Attribute) and name in FORBIDDEN_METHODS):
                    offences.append(f"{path.name}:{node.lineno}: {name}(...)")
    assert not offences, offences
    assert len(list((ROOT / "runtime").rglob("*.py"))) >= 10     # the walk saw the runtime
