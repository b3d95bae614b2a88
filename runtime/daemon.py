"""The runtime daemon: one per control PC, owning a lab's instruments through its worker, serving clients.

It listens on a ZeroMQ ROUTER socket (CURVE-encrypted with an allow-list of client keys by default, and always
beyond loopback), keeps every job in the durable :class:`~qubitlab.runtime.jobstore.JobStore`, asks the pure
:mod:`~qubitlab.runtime.scheduler` what runs next, and hands jobs to the worker process
(:mod:`~qubitlab.runtime.supervisor`). One thread runs the loop; a handler table maps each message type to one
method; a reply to ``result`` can wait (long poll) until the job ends, so a client learns of a result the
moment it is on disk.

``main()`` only wires these parts together (``qubitlab daemon start`` calls it).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import signal
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from qubitlab.config.loader import load_lab
from qubitlab.errors import AuthenticationError, ConfigError, JobError, ProtocolError, QubitlabError
from qubitlab.runtime import scheduler
from qubitlab.runtime.jobs import JOB_KINDS, PROGRAM_KINDS
from qubitlab.runtime.jobstore import JOBS_FILE, JobRow, JobStatus, JobStore, SessionMode, SessionRow, SessionState
from qubitlab.runtime.keys import AllowList, Client, server_keys, start_authenticator
from qubitlab.runtime.local_channel import UNKNOWN_TOKEN, LocalChannel
from qubitlab.runtime.protocol import (
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    Message,
    MsgType,
    Packed,
    decode,
    encode,
    pack,
)
from qubitlab.runtime.supervisor import WorkerHandle, worker_env

log = logging.getLogger("qubitlab.runtime.daemon")
LOCAL = Client("local", admin=True)
LOCK_FILE = "daemon.lock"


@functools.cache
def qubitlab_version() -> str:
    """The installed qubitlab's version, read once (importlib.metadata parses the package's METADATA file each
    call: 0.2 ms, which was most of a submit's acknowledgement)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qubitlab")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class DaemonConfig:
    lab_file: Path
    bind: str = "tcp://127.0.0.1:5555"
    curve: bool = True
    keys_dir: Path | None = None
    """Default: ``<store folder>/keys``."""
    state_dir: Path | None = None
    """Job store and lock file; default: the lab's store folder."""
    max_message: int = MAX_MESSAGE_BYTES
    local_channel: bool = True
    """With CURVE: offer clients on this machine the Unix-socket channel (:mod:`~qubitlab.runtime.local_channel`)."""
    retries: int = 1
    """How often a job interrupted by a daemon crash is run again before it ends ERROR."""
    default_max_execution_time: float = 3600.0
    abort_grace: float = 5.0
    """Seconds a job has to reach a safe point after cancel or its time limit, before the worker is killed."""
    heartbeat_timeout: float = 15.0
    worker_start_timeout: float = 120.0
    shutdown_grace: float = 30.0


Peer = tuple[zmq.Socket[Any], bytes]
"""Where a reply goes: the socket a request came in on and the client's ROUTER identity there."""


@dataclass
class Waiter:
    peer: Peer
    request: Message
    deadline: float


@dataclass
class Running:
    job: JobRow
    started: float
    deadline: float
    abort_sent: float | None = None
    cancel: bool = False
    reason: str = ""


def _is_loopback(bind: str) -> bool:
    parsed = urllib.parse.urlsplit(bind)
    if parsed.scheme == "ipc":
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False               # '*', an interface name or a host name: treat as beyond loopback


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.lab = load_lab(config.lab_file)
        folder = config.state_dir or self.lab.store_path()
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        if not config.curve and not _is_loopback(config.bind):
            raise ConfigError(f"refusing to listen on {config.bind} without CURVE: beyond loopback the daemon needs "
                              "its keys (drop --insecure, and allow clients with 'qubitlab keys allow')")
        self._take_lock()
        self.store = JobStore(folder / JOBS_FILE)
        self.store.start_checkpointer()                 # no WAL checkpoint inside a client's submit
        for line in self.store.recover(config.retries, not_retried=frozenset(PROGRAM_KINDS)):
            log.warning("recovered %s", line)
        self.queue = scheduler.Queue(self.store.queued())
        self.context = zmq.Context()
        self.allow_list: AllowList | None = None
        self.authenticator = None
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, config.max_message + 2**20)
        if config.curve:
            keys_dir = config.keys_dir or folder / "keys"
            self.allow_list = AllowList(keys_dir)
            self.authenticator = start_authenticator(self.context, self.allow_list)
            pair = server_keys(keys_dir)
            self.socket.curve_secretkey = pair.secret
            self.socket.curve_publickey = pair.public
            self.socket.curve_server = True
            self.server_public_key = pair.public
        self.socket.bind(config.bind)
        self.address = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.local: LocalChannel | None = None
        if config.curve and config.local_channel:
            try:
                self.local = LocalChannel(self.context, folder, max_message=config.max_message)
            except (OSError, zmq.ZMQError) as exc:
                log.warning("no local channel (clients on this machine use CURVE for everything): %s", exc)
        self._write_lock()
        self.worker = WorkerHandle(self.context, config.lab_file, env=worker_env(), log_file=folder / "worker.log")
        self.running: Running | None = None
        self.waiters: dict[str, list[Waiter]] = {}
        self.stopping = False
        self.handlers: dict[MsgType, Callable[[Client, Message], Message | None]] = {
            MsgType.HELLO: self._hello, MsgType.SUBMIT: self._submit, MsgType.STATUS: self._status,
            MsgType.RESULT: self._result, MsgType.CANCEL: self._cancel, MsgType.JOBS: self._jobs,
            MsgType.SESSION_OPEN: self._session_open, MsgType.SESSION_CLOSE: self._session_close,
            MsgType.SESSION_CANCEL: self._session_cancel, MsgType.SESSION_DETAILS: self._session_details,
            MsgType.SESSIONS: self._sessions, MsgType.BACKEND: self._backend, MsgType.STREAM: self._stream,
        }
        self._peer: Peer = (self.socket, b"")
        self._user: bytes | None = None
        """The current request's client key (Z85), whichever channel it came on."""
        self._dirty = True
        """Something the scheduler looks at changed (a job, a session, the worker): decide again."""
        self._session_deadline: float | None = None

    # -- lock file: one daemon per lab ---------------------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        """Always in the lab's store folder (whatever ``state_dir`` says), where ``qubitlab calibrate`` looks."""
        return self.lab.store_path() / LOCK_FILE

    def _take_lock(self) -> None:
        self.lab.store_path().mkdir(parents=True, exist_ok=True)
        holder = read_lock(self.lab.store_path())
        if holder is not None:
            raise ConfigError(f"a daemon (pid {holder['pid']}, {holder['address']}) already owns lab "
                              f"{self.lab.name!r}; stop it first (its lock: {self.lock_path})")

    def _write_lock(self) -> None:
        keys = str(self.allow_list.folder) if self.allow_list is not None else None
        self.lock_path.write_text(json.dumps({"pid": os.getpid(), "address": self.address, "lab": self.lab.name,
                                              "started": time.time(), "curve": keys is not None, "keys": keys}))

    # -- the loop -------------------------------------------------------------------------------------------------
    def serve_forever(self, stop_after: float | None = None) -> None:
        """Serve until SIGINT/SIGTERM (or ``stop_after`` seconds); then shut down cleanly."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        end = time.monotonic() + stop_after if stop_after is not None else None
        self.worker.start()
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        if self.local is not None:
            poller.register(self.local.socket, zmq.POLLIN)
        try:
            while not self.stopping or self.running is not None:
                if end is not None and time.monotonic() >= end:
                    self.stopping = True
                if self.worker.socket is not None and self.worker.socket not in dict(poller.sockets):
                    poller.register(self.worker.socket, zmq.POLLIN)
                ready = dict(poller.poll(self._poll_ms()))
                if self.socket in ready or (self.local is not None and self.local.socket in ready):
                    self._drain_clients()
                if self.worker.socket is not None and self.worker.socket in ready:
                    self._drain_worker()
                if self.stopping and self.running is not None and \
                        time.monotonic() - self.running.started > self.config.shutdown_grace:
                    self._requeue_running("the daemon was shut down while it ran")
                self._tick(poller)
        finally:
            self.close()

    def _request_stop(self, *_: Any) -> None:
        self.stopping = True

    def _poll_ms(self) -> int:
        now = time.time()
        if self._dirty:
            return 0
        deadlines = [w.deadline for ws in self.waiters.values() for w in ws]
        if self._session_deadline is not None:
            deadlines.append(self._session_deadline)
        soonest = min(deadlines, default=now + 0.2)
        return max(1, min(200, int((soonest - now) * 1000) + 1))

    def _drain_clients(self) -> None:
        sockets = (self.socket,) if self.local is None else (self.socket, self.local.socket)
        for socket in sockets:
            while True:
                try:
                    frames = socket.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                if socket is self.socket:
                    user = str(frames[1].get("User-Id")).encode() if self.allow_list is not None and \
                        len(frames) > 1 else None
                    self._handle((socket, frames[0].bytes), user, frames[1:])
                else:
                    self._handle_local(frames)

    def _handle_local(self, frames: list[Any]) -> None:
        """A request on the local channel: ``[identity, token, header, buffers...]``."""
        assert self.local is not None
        peer = (self.local.socket, frames[0].bytes)
        user = self.local.public_key(frames[1].bytes) if len(frames) > 2 else None
        if user is None:                  # the client says hello over CURVE again and repeats the request
            self._send(peer, Message(MsgType.ERROR, {"error": {
                "type": "AuthenticationError", "message": f"{UNKNOWN_TOKEN}: say hello over CURVE again"},
                "local_token": "unknown"}))
            return
        self._handle(peer, user, frames[2:])

    def _handle(self, peer: Peer, user: bytes | None, frames: list[Any]) -> None:
        client = LOCAL
        if self.allow_list is not None:
            known = self.allow_list.client(user) if user else None
            if known is None:
                self._send(peer, Message(MsgType.ERROR, {"error": {
                    "type": "AuthenticationError", "message": "this client's key is no longer allowed (revoked)"}}))
                return
            client = known
        try:
            request = decode(frames, self.config.max_message)
        except ProtocolError as exc:
            self._send(peer, Message(MsgType.ERROR, {"error": {"type": "ProtocolError", "message": str(exc)}}))
            return
        except Exception as exc:                            # a decoder bug must not take the daemon down either
            log.exception("decoding a request failed")
            self._send(peer, Message(MsgType.ERROR, {"error": {
                "type": "ProtocolError", "message": f"the request could not be decoded ({type(exc).__name__})"}}))
            return
        handler = self.handlers.get(request.msg_type)
        try:
            if handler is None:
                raise ProtocolError(f"{request.msg_type.value!r} is not a request the daemon takes")
            self._peer = peer
            self._user = user
            reply = handler(client, request)
        except QubitlabError as exc:
            reply = request.error_reply(exc)
        except Exception as exc:                            # a bug here must not take the daemon down
            log.exception("handler for %s failed", request.msg_type.value)
            reply = request.error_reply(exc)
        if reply is not None:
            self._send(peer, reply)

    def _send(self, peer: Peer, message: Message) -> None:
        socket, identity = peer
        try:
            socket.send_multipart([identity, *encode(message)], copy=False)
        except zmq.ZMQError as exc:
            log.warning("could not reply to a client: %s", exc)

    # -- handlers -------------------------------------------------------------------------------------------------
    def _hello(self, client: Client, request: Message) -> Message:
        content = {"protocol_version": PROTOCOL_VERSION, "version": qubitlab_version(),
                   "lab": self.lab.name, "client": client.name, "admin": client.admin}
        if request.content.get("local") and self.local is not None and self._user is not None:
            content["local"] = {"endpoint": self.local.endpoint, "token": self.local.issue(self._user)}
        return request.reply(content)

    def _submit(self, client: Client, request: Message) -> Message:
        if self.stopping:
            raise JobError("the daemon is shutting down and accepts no new jobs; submit again after it restarts")
        content = request.content
        kind = content.get("kind")
        if kind not in JOB_KINDS:
            raise JobError(f"unknown job kind {kind!r}; this daemon runs: {', '.join(sorted(JOB_KINDS))}")
        priority = content.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
            raise JobError(f"priority must be an integer in [-1000, 1000], got {priority!r}")
        limit = content.get("max_execution_time", self.config.default_max_execution_time)
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or not 0 < limit <= 86400:
            raise JobError(f"max_execution_time must be a number of seconds in (0, 86400], got {limit!r}")
        session_id = request.session
        if session_id is not None:
            session = self._own_session(client, session_id)
            if not session.state.accepts:
                raise JobError(f"session {session_id} is {session.state.value} ({session.reason or 'closed'}); "
                               "it accepts no more jobs: open a new one")
        self._dirty = True
        job = self.store.add(owner=client.name, kind=str(kind), inputs=pack(content.get("inputs", {})),
                             priority=priority, session_id=session_id, max_execution_time=float(limit),
                             version=qubitlab_version())
        self.queue.add(job)
        return request.reply({"job_id": job.job_id, "status": job.status.value})

    def _job(self, client: Client, job_id: Any) -> JobRow:
        if not isinstance(job_id, str):
            raise JobError(f"job_id must be a string, got {job_id!r}")
        job = self.store.job(job_id)
        if job.owner != client.name and not client.admin:
            raise JobError(f"no job {job_id!r} of yours")          # the same answer as for a missing job
        return job

    def _status(self, client: Client, request: Message) -> Message:
        return request.reply({"job": self._job(client, request.content.get("job_id")).summary()})

    def _result(self, client: Client, request: Message) -> Message | None:
        job = self._job(client, request.content.get("job_id"))
        wait = request.content.get("timeout", 0.0)
        if not job.status.final and isinstance(wait, (int, float)) and wait > 0:
            self.waiters.setdefault(job.job_id, []).append(Waiter(self._peer, request,
                                                                  time.time() + min(float(wait), 3600.0)))
            return None
        return self._result_reply(request, job)

    def _result_reply(self, request: Message, job: JobRow) -> Message:
        content: dict[str, Any] = {"job": job.summary()}
        if job.status is JobStatus.DONE:
            blob = self.store.result(job.job_id)
            content["result"] = Packed(blob) if blob is not None else None
        return request.reply(content)

    def _stream(self, client: Client, request: Message) -> Message | None:
        """A job's interim results after ``after``; waits up to ``timeout`` s for one (or for the job's end)."""
        job = self._job(client, request.content.get("job_id"))
        after, wait = request.content.get("after", 0), request.content.get("timeout", 0.0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise JobError(f"stream: 'after' must be a sequence number >= 0, got {after!r}")
        if not job.status.final and isinstance(wait, (int, float)) and wait > 0 and \
                not self.store.progress(job.job_id, after, limit=1):
            self.waiters.setdefault(job.job_id, []).append(Waiter(self._peer, request,
                                                                  time.time() + min(float(wait), 3600.0)))
            return None
        return self._stream_reply(request, job)

    def _stream_reply(self, request: Message, job: JobRow) -> Message:
        records = self.store.progress(job.job_id, int(request.content.get("after", 0)))
        return request.reply({"job": job.summary(), "records": [Packed(blob) for _, blob in records],
                              "last": records[-1][0] if records else int(request.content.get("after", 0))})

    def _waiter_reply(self, request: Message, job: JobRow) -> Message:
        if request.msg_type is MsgType.STREAM:
            return self._stream_reply(request, job)
        return self._result_reply(request, job)

    def _progressed(self, message: dict[str, Any]) -> None:
        """The running program's interim result: on disk first, then to whoever streams it."""
        assert self.running is not None
        job_id = self.running.job.job_id
        self.store.add_progress(job_id, bytes(message["record"]))
        streaming = [w for w in self.waiters.get(job_id, []) if w.request.msg_type is MsgType.STREAM]
        if streaming:
            self.waiters[job_id] = [w for w in self.waiters[job_id] if w.request.msg_type is not MsgType.STREAM]
            if not self.waiters[job_id]:
                del self.waiters[job_id]
            job = self.store.job(job_id)
            for waiter in streaming:
                self._send(waiter.peer, self._stream_reply(waiter.request, job))

    def _cancel(self, client: Client, request: Message) -> Message:
        self._dirty = True
        job = self._job(client, request.content.get("job_id"))
        if job.status is JobStatus.QUEUED:
            self.store.fail(job.job_id, "JobError", "cancelled before it ran", status=JobStatus.CANCELLED)
            self.queue.remove(job.job_id)
        elif job.status is JobStatus.RUNNING and self.running is not None and self.running.job.job_id == job.job_id:
            self._abort_running("cancelled by its owner" if job.owner == client.name else "cancelled by an admin",
                                cancel=True)
        self._notify(job.job_id)
        return request.reply({"job": self.store.job(job.job_id).summary()})

    def _jobs(self, client: Client, request: Message) -> Message:
        limit = request.content.get("limit", 100)
        if not isinstance(limit, int) or not 0 < limit <= 10_000:
            raise JobError(f"limit must be an integer in 1..10000, got {limit!r}")
        owner = None if client.admin and request.content.get("all", True) else client.name
        return request.reply({"jobs": [j.summary() for j in self.store.jobs(owner=owner, limit=limit)]})

    def _own_session(self, client: Client, session_id: str) -> SessionRow:
        session = self.store.session(session_id)
        if session.owner != client.name and not client.admin:
            raise JobError(f"no session {session_id!r} of yours")
        return session

    def _session_open(self, client: Client, request: Message) -> Message:
        content = request.content
        try:
            mode = SessionMode(content.get("mode", "session"))
        except ValueError:
            raise JobError(f"mode must be 'session' or 'batch', got {content.get('mode')!r}") from None
        values = []
        for name, default in (("max_time", 8 * 3600.0), ("interactive_ttl", 60.0)):
            value = content.get(name, default)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 7 * 86400:
                raise JobError(f"{name} must be a number of seconds in (0, 604800], got {value!r}")
            values.append(float(value))
        self._dirty = True
        session = self.store.add_session(owner=client.name, mode=mode, max_time=values[0], interactive_ttl=values[1])
        return request.reply({"session": session.summary()})

    def _session_close(self, client: Client, request: Message) -> Message:
        session = self._own_session(client, str(request.content.get("session_id")))
        self._dirty = True
        if session.state is not SessionState.CLOSED:
            session = self.store.update_session(session.session_id, state=SessionState.CLOSING)
        return request.reply({"session": session.summary()})

    def _session_cancel(self, client: Client, request: Message) -> Message:
        session = self._own_session(client, str(request.content.get("session_id")))
        self._dirty = True
        self._end_session(scheduler.SessionEnd(session.session_id, "cancelled by its client", True))
        if self.running is not None and self.running.job.session_id == session.session_id:
            self._abort_running("its session was cancelled", cancel=True)
        return request.reply({"session": self.store.session(session.session_id).summary()})

    def _session_details(self, client: Client, request: Message) -> Message:
        return request.reply({"session": self._own_session(client, str(request.content.get("session_id"))).summary()})

    def _sessions(self, client: Client, request: Message) -> Message:
        owner = None if client.admin else client.name
        return request.reply({"sessions": [s.summary() for s in self.store.sessions(owner=owner)]})

    def _backend(self, client: Client, request: Message) -> Message:
        from qubitlab.calibration import CalibrationStore
        from qubitlab.runtime.properties import backend_properties

        with CalibrationStore.for_lab(self.lab) as calibration:
            snapshot = calibration.snapshot()
        return request.reply({
            "name": self.lab.name, "qubits": list(self.lab.topology.qubits),
            "couplings": [list(c) for c in self.lab.topology.couplings],
            "native_gates": list(self.lab.topology.native_gates), "dt": self.lab.dt, "snapshot_id": snapshot.id,
            "version": qubitlab_version(), "queued": len(self.queue),
            "properties": backend_properties(self.lab, snapshot),  # what a Qiskit Target needs (the bridge)
            "worker": {"pid": self.worker.pid, "ready": self.worker.ready, "restarts": self.worker.restarts}})

    # -- the worker ------------------------------------------------------------------------------------------------
    def _drain_worker(self) -> None:
        """The worker's messages; after each one, requests that came in meanwhile are answered first (a job's
        end commits to the store: no acknowledgement waits behind a row of them)."""
        while (message := self.worker.receive()) is not None:
            kind = message.get("type")
            if kind == "ready":
                self.worker.ready = True
                self._dirty = True
            elif kind == "broken":
                self.worker.broken = message.get("error")
                log.error("the worker cannot open the lab: %s", self.worker.broken)
            elif kind == "progress" and self.running is not None and message.get("job_id") == self.running.job.job_id:
                self._progressed(message)
            elif kind in ("done", "failed") and self.running is not None and \
                    message.get("job_id") == self.running.job.job_id:
                self._finished(message)
                self._drain_clients()

    def _finished(self, message: dict[str, Any]) -> None:
        assert self.running is not None
        running, self.running = self.running, None
        self._dirty = True
        job_id = running.job.job_id
        timings = dict(message.get("timings") or {})
        timings["daemon_run"] = time.time() - running.started
        if message["type"] == "done":
            self.store.finish(job_id, bytes(message["result"]), timings=timings,
                              snapshot_id=message.get("snapshot_id"), station_snapshot=message.get("station_snapshot"))
        elif running.cancel and message.get("aborted"):
            self.store.fail(job_id, "JobError", running.reason, status=JobStatus.CANCELLED, timings=timings)
        else:
            error = message.get("error") or {}
            text = str(error.get("message", "failed"))
            if message.get("aborted") and running.reason:
                text = running.reason
            self.store.fail(job_id, str(error.get("type", "JobError")), text, timings=timings)
        self._touch_session(running.job)
        self._notify(job_id)

    def _abort_running(self, reason: str, *, cancel: bool) -> None:
        assert self.running is not None
        self.running.reason, self.running.cancel = reason, cancel
        self.running.abort_sent = time.monotonic()
        try:
            self.worker.send({"type": "abort", "job_id": self.running.job.job_id, "reason": reason})
        except zmq.ZMQError:
            pass

    def _requeue_running(self, note: str) -> None:
        assert self.running is not None
        self.worker.kill()
        self.store.requeue(self.running.job.job_id, note)
        self.queue.add(self.store.job(self.running.job.job_id))
        self.running = None
        self._dirty = True

    def _worker_lost(self, why: str) -> None:
        """The worker died or hung: the job it ran fails with the reason; a new worker starts."""
        self._dirty = True
        if self.running is not None:
            running, self.running = self.running, None
            status = JobStatus.CANCELLED if running.cancel else JobStatus.ERROR
            text = running.reason if running.abort_sent is not None and running.reason else why
            self.store.fail(running.job.job_id, "JobError", f"{text} (the worker process {why})", status=status)
            self._touch_session(running.job)
            self._notify(running.job.job_id)
        if not self.stopping:
            self.worker.start()

    # -- scheduling and timers -------------------------------------------------------------------------------------
    def _tick(self, poller: zmq.Poller) -> None:
        now = time.time()
        self._expire_waiters(now)
        old_socket = self.worker.socket
        if not self.worker.alive():
            self._worker_lost(self.worker.exit_description())
        elif time.monotonic() - self.worker.last_heard > self.config.heartbeat_timeout:
            self.worker.kill()
            self._worker_lost(f"stopped answering for {self.config.heartbeat_timeout:g} s and was killed")
        elif not self.worker.ready and time.monotonic() - self.worker.started_at > self.config.worker_start_timeout:
            self.worker.kill()
            self._worker_lost(f"did not open the lab within {self.config.worker_start_timeout:g} s")
        if old_socket is not None and old_socket is not self.worker.socket:
            poller.unregister(old_socket)
        if self.running is not None:
            self._police_running()
        if self._dirty or (self._session_deadline is not None and now >= self._session_deadline):
            self._drain_clients()          # what arrived meanwhile is acknowledged before a job starts
            self._dirty = False
            self._schedule(now)

    def _schedule(self, now: float) -> None:
        """End the sessions that are over, then start the next job if the worker is free."""
        sessions = self.store.sessions(live=True)
        counts = self.queue.count_by_session()
        running_session = self.running.job.session_id if self.running is not None else None
        ended = scheduler.session_ends(sessions, counts, running_session, now)
        for end in ended:
            self._end_session(end)
        if ended:
            sessions = self.store.sessions(live=True)
        self._session_deadline = scheduler.next_deadline(sessions, now)
        if self.running is None and self.worker.ready and not self.stopping:
            by_id: dict[str, SessionRow] = {s.session_id: s for s in sessions}
            chosen = scheduler.pick(self.queue, by_id)
            if chosen is not None:
                self._start(chosen.job_id, by_id)
                self._session_deadline = scheduler.next_deadline(self.store.sessions(live=True), now)

    def _police_running(self) -> None:
        assert self.running is not None
        now = time.monotonic()
        if self.running.abort_sent is None and now > self.running.deadline:
            limit = self.running.job.max_execution_time
            self._abort_running(f"exceeded its max_execution_time of {limit:g} s", cancel=False)
        elif self.running.abort_sent is not None and now - self.running.abort_sent > self.config.abort_grace:
            self.worker.kill()
            self._worker_lost(f"was stopped: the job did not reach a safe point within {self.config.abort_grace:g} s")

    def _start(self, job_id: str, sessions: dict[str, SessionRow]) -> None:
        self.queue.remove(job_id)
        job = self.store.start(job_id)
        now = time.time()
        if job.session_id and job.session_id in sessions:
            session = sessions[job.session_id]
            if session.started is None:
                self.store.update_session(session.session_id, started=now, last_activity=now,
                                          state=SessionState.ACTIVE if session.state is SessionState.OPEN
                                          else session.state)
        limit = job.max_execution_time or self.config.default_max_execution_time
        self.running = Running(job, now, time.monotonic() + limit)
        self.worker.send({"type": "run", "job_id": job.job_id, "kind": job.kind,
                          "inputs": self.store.inputs(job.job_id)})

    def _touch_session(self, job: JobRow) -> None:
        if job.session_id:
            session = self.store.session(job.session_id)
            used = session.usage + (time.time() - (self.store.job(job.job_id).started or time.time()))
            self.store.update_session(job.session_id, last_activity=time.time(), usage=used)

    def _end_session(self, end: scheduler.SessionEnd) -> None:
        self.store.update_session(end.session_id, state=SessionState.CLOSED, closed=time.time(), reason=end.reason)
        if end.cancel_queued:
            for job in self.store.jobs(session_id=end.session_id, status=JobStatus.QUEUED):
                self.store.fail(job.job_id, "JobError", f"not run: its session ended ({end.reason})",
                                status=JobStatus.CANCELLED)
                self.queue.remove(job.job_id)
                self._notify(job.job_id)

    def _notify(self, job_id: str) -> None:
        waiters = self.waiters.pop(job_id, [])
        if waiters:
            job = self.store.job(job_id)
            for waiter in waiters:
                self._send(waiter.peer, self._waiter_reply(waiter.request, job))

    def _expire_waiters(self, now: float) -> None:
        for job_id in [j for j, ws in self.waiters.items() if any(w.deadline <= now for w in ws)]:
            due = [w for w in self.waiters[job_id] if w.deadline <= now]
            self.waiters[job_id] = [w for w in self.waiters[job_id] if w.deadline > now]
            if not self.waiters[job_id]:
                del self.waiters[job_id]
            job = self.store.job(job_id)
            for waiter in due:
                self._send(waiter.peer, self._waiter_reply(waiter.request, job))

    # -- shutdown ---------------------------------------------------------------------------------------------------
    def close(self) -> None:
        step = self.worker.stop()
        log.info("worker %s; closing", step)
        if self.authenticator is not None:
            self.authenticator.stop()
        self.socket.close(linger=0)
        if self.local is not None:
            self.local.close()
        self.context.term()
        self.store.close()
        try:
            holder = read_lock(self.lab.store_path(), check_alive=False)
            if holder is not None and holder.get("pid") == os.getpid():
                self.lock_path.unlink()
        except OSError:
            pass


def read_lock(folder: Path, *, check_alive: bool = True) -> dict[str, Any] | None:
    """The running daemon's lock of the lab whose store folder is ``folder`` (None when no live daemon)."""
    path = folder / LOCK_FILE
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return None
    if check_alive:
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return None                    # a daemon that died without cleaning up
        except PermissionError:
            pass
    return holder


def main(argv: list[str] | None = None) -> int:
    """``python -m qubitlab.runtime.daemon --lab LAB [--bind ADDR] [--insecure]``: serve until a signal."""
    import argparse

    parser = argparse.ArgumentParser(prog="qubitlab daemon start", description="Run the lab's runtime daemon.")
    parser.add_argument("--lab", required=True, type=Path)
    parser.add_argument("--bind", default="tcp://127.0.0.1:5555")
    parser.add_argument("--insecure", action="store_true", help="no CURVE (allowed on loopback only)")
    parser.add_argument("--keys", type=Path, default=None, help="key folder (default <store>/keys)")
    parser.add_argument("--state", type=Path, default=None, help="job store folder (default the lab's store)")
    parser.add_argument("--stop-after", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--max-message", type=int, default=MAX_MESSAGE_BYTES)
    parser.add_argument("--no-local-channel", action="store_true",
                        help="clients on this machine stay on CURVE (no Unix-socket channel)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        daemon = Daemon(DaemonConfig(args.lab, args.bind, not args.insecure, args.keys, args.state, args.max_message,
                                     local_channel=not args.no_local_channel))
    except (QubitlabError, zmq.ZMQError) as exc:
        print(f"qubitlab daemon: {exc}", flush=True)
        return 2
    print(f"qubitlab daemon for lab {daemon.lab.name!r} listening on {daemon.address}"
          + (f" (CURVE, keys in {daemon.allow_list.folder})" if daemon.allow_list is not None else " (no CURVE)")
          + (f"; local channel {daemon.local.endpoint}" if daemon.local is not None else ""),
          flush=True)
    daemon.serve_forever(args.stop_after)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
