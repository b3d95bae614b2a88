"""The client side: ``QubitlabService`` (shaped like qiskit-ibm-runtime's ``QiskitRuntimeService``), job
handles, and ``Session`` / ``Batch`` context managers.

One DEALER socket per service, guarded by a lock (ZeroMQ sockets are not thread-safe); every request waits for
the reply that names it as parent, so replies never cross. With keys, the socket is a CURVE client of the
daemon's public key: ``QubitlabService(address, key="alice.key_secret", server_key="server.key")``. Arguments left
out are read from ``QUBITLAB_DAEMON``, ``QUBITLAB_KEY`` and ``QUBITLAB_SERVER_KEY`` (as ``QiskitRuntimeService()``
reads a saved account), so a Qiskit Runtime script's ``QiskitRuntimeService()`` line needs no arguments.

On the daemon's own machine an encrypted service moves to the daemon's local channel after its first request
(:mod:`~qubitlab.runtime.local_channel`: the key still identifies the client, the bytes skip CURVE);
``local=False`` keeps everything on CURVE.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import zmq

from qubitlab.errors import AuthenticationError, JobError, ProtocolError
from qubitlab.runtime import keys as keyfiles
from qubitlab.runtime.jobstore import JobStatus
from qubitlab.runtime.local_channel import reachable
from qubitlab.runtime.protocol import MAX_MESSAGE_BYTES, Message, MsgType, decode, encode


class QubitlabService:
    """A connection to one lab's daemon."""

    def __init__(self, address: str | None = None, *, key: str | Path | None = None,
                 server_key: str | Path | None = None, timeout: float = 30.0,
                 max_message: int = MAX_MESSAGE_BYTES, local: bool = True) -> None:
        # like QiskitRuntimeService's saved account: arguments left out come from the environment
        address = address or os.environ.get("QUBITLAB_DAEMON") or "tcp://127.0.0.1:5555"
        key = key if key is not None else os.environ.get("QUBITLAB_KEY") or None
        server_key = server_key if server_key is not None else os.environ.get("QUBITLAB_SERVER_KEY") or None
        self.address = address
        self.timeout = timeout
        self.max_message = max_message
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._local_wanted = False
        """Ask for the local channel at the next request (only an encrypted service has a use for it)."""
        self._local: tuple[zmq.Socket[Any], zmq.Poller, bytes] | None = None
        if key is not None or server_key is not None:
            if key is None or server_key is None:
                raise AuthenticationError("give both key= (your .key_secret) and server_key= (the "
                                                   "daemon's server.key) for an encrypted connection")
            mine, theirs = keyfiles.load(key), keyfiles.load(server_key)
            if mine.secret is None:
                raise AuthenticationError(f"{key} holds no secret key; pass your .key_secret file")
            self._socket.curve_secretkey = mine.secret
            self._socket.curve_publickey = mine.public
            self._socket.curve_serverkey = theirs.public
            self._local_wanted = local
        self._curve = key is not None
        self._socket.connect(address)
        self._poller = zmq.Poller()              # one for the socket's life: Socket.poll builds one per call
        self._poller.register(self._socket, zmq.POLLIN)
        self._lock = threading.Lock()
        self._closed = False

    # -- plumbing -------------------------------------------------------------------------------------------------
    def request(self, msg_type: MsgType, content: Mapping[str, Any] | None = None, *, session: str | None = None,
                timeout: float | None = None) -> Message:
        """Send one request and wait for its reply; a daemon error is raised as the qubitlab error it names."""
        message = Message(msg_type, dict(content or {}), session=session)
        wait = self.timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                raise JobError("this service is closed")
            for _ in range(2):                   # a restarted daemon's "unknown token": hello again, then repeat
                local = self._open_local(wait) if self._local_wanted else self._local
                if local is None:
                    return self._exchange(self._socket, self._poller, message, wait).raise_for_error()
                socket, poller, token = local
                try:
                    reply = self._exchange(socket, poller, message, wait, token)
                except TimeoutError:
                    self._drop_local()           # the daemon may have moved: CURVE (and a new hello) next time
                    raise
                if reply.msg_type is not MsgType.ERROR or reply.content.get("local_token") != "unknown":
                    break
                self._drop_local()               # the daemon ran nothing
            return reply.raise_for_error()

    def _exchange(self, socket: zmq.Socket[Any], poller: zmq.Poller, message: Message, wait: float,
                  token: bytes | None = None) -> Message:
        """Send ``message`` on ``socket`` (after the local channel's ``token``) and return its reply, an error
        reply not raised yet."""
        socket.send_multipart([*([token] if token is not None else []), *encode(message)], copy=False)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(int(left * 1000) + 1):
                raise TimeoutError(f"no reply from the daemon at {self.address} within {wait:g} s "
                                   "(is it running, and is your key allowed?)")
            reply = decode(socket.recv_multipart(copy=False), self.max_message)
            if reply.parent_id == message.msg_id or (reply.msg_type is MsgType.ERROR and reply.parent_id is None):
                return reply

    def _open_local(self, wait: float) -> tuple[zmq.Socket[Any], zmq.Poller, bytes] | None:
        """Say hello over CURVE asking for the local channel, and use it when this process can reach it."""
        hello = self._exchange(self._socket, self._poller, Message(MsgType.HELLO, {"local": True}), wait)
        hello.raise_for_error()
        self._local_wanted = False
        offer = hello.content.get("local")
        path = reachable(offer.get("endpoint")) if isinstance(offer, dict) else None
        if path is None or not isinstance(offer, dict) or not isinstance(offer.get("token"), bytes):
            return None
        socket = self._context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(f"ipc://{path}")
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        self._local = (socket, poller, offer["token"])
        return self._local

    def _drop_local(self) -> None:
        if self._local is not None:
            self._local[0].close(linger=0)
            self._local = None
        self._local_wanted = True

    @property
    def channel(self) -> str:
        """``"local"`` when requests go over the daemon's Unix socket, else ``"curve"`` or ``"plain"``."""
        if self._local is not None:
            return "local"
        return "curve" if self._curve else "plain"

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._local is not None:
                    self._local[0].close(linger=0)
                self._socket.close(linger=0)
                self._context.term()

    def __enter__(self) -> QubitlabService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the service's API ----------------------------------------------------------------------------------------
    def hello(self) -> dict[str, Any]:
        return dict(self.request(MsgType.HELLO).content)

    def backend(self, name: str | None = None) -> Backend:
        """The lab behind the daemon: qubits, couplings, native gates, dt, the current snapshot id, queue.
        A daemon serves one lab; ``name``, when given, must be its name."""
        backend = Backend(self, self.request(MsgType.BACKEND).content)
        if name is not None and name != backend.name:
            raise JobError(f"this daemon serves lab {backend.name!r}, not {name!r}")
        return backend

    def backends(self, **filters: Any) -> list[Backend]:
        """The daemon's one lab (qiskit-ibm-runtime's filters such as ``operational=True`` are accepted)."""
        return [self.backend()]

    def least_busy(self, **filters: Any) -> Backend:
        """The daemon's one lab, as ``QiskitRuntimeService.least_busy`` would pick it."""
        return self.backend()

    def submit(self, kind: str, inputs: Mapping[str, Any], *, priority: int = 0, session: str | None = None,
               max_execution_time: float | None = None) -> RuntimeJob:
        content: dict[str, Any] = {"kind": kind, "inputs": dict(inputs), "priority": priority}
        if max_execution_time is not None:
            content["max_execution_time"] = max_execution_time
        reply = self.request(MsgType.SUBMIT, content, session=session)
        return RuntimeJob(self, str(reply.content["job_id"]))

    def run_program(self, name: str, inputs: Mapping[str, Any], options: Mapping[str, Any] | None = None, *,
                    session: Session | str | None = None) -> RuntimeJob:
        """Run the server-side program ``name`` (``vqe``, ``qaoa``, ``sweep``: :mod:`qubitlab.runtime.programs`)
        on ``inputs`` (plain data; a :class:`~qubitlab.circuits.Circuit` under ``ansatz``/``circuit`` is sent as
        its document). ``options``: ``max_execution_time`` (s), ``priority``, ``estimator`` (EstimatorV2 wire
        options, as the input ``estimator_options``). ``job.stream()`` yields its iterations as they happen."""
        from qubitlab.circuits import Circuit
        from qubitlab.circuits.serialize import circuit_to_dict

        options = dict(options or {})
        unknown = set(options) - {"max_execution_time", "priority", "estimator"}
        if unknown:
            raise JobError(f"run_program({name!r}): unknown options {sorted(unknown)}; valid: max_execution_time, "
                           "priority, estimator")
        sent = {k: circuit_to_dict(v) if isinstance(v, Circuit) else v for k, v in inputs.items()}
        if "estimator" in options:
            sent["estimator_options"] = {**dict(sent.get("estimator_options") or {}), **dict(options["estimator"])}
        session_id = session.session_id if isinstance(session, Session) else session
        return self.submit(name, sent, priority=int(options.get("priority", 0)), session=session_id,
                           max_execution_time=options.get("max_execution_time"))

    def run_qobj(self, document: Mapping[str, Any], *, session: str | None = None, priority: int = 0,
                 max_execution_time: float | None = None) -> RuntimeJob:
        """Submit a Qiskit 1.x PulseQobj document (``assemble(...).to_dict()`` or its JSON) as a ``pulse_qobj``
        job; ``.result()`` is the dict Qiskit 1.x's ``Result.to_dict()`` had."""
        return self.submit("pulse_qobj", {"qobj": dict(document)}, priority=priority, session=session,
                           max_execution_time=max_execution_time)

    def job(self, job_id: str) -> RuntimeJob:
        self.request(MsgType.STATUS, {"job_id": job_id})          # raises when it is not there (or not yours)
        return RuntimeJob(self, job_id)

    def jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(self.request(MsgType.JOBS, {"limit": limit}).content["jobs"])

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.request(MsgType.SESSIONS).content["sessions"])


class Backend(dict[str, Any]):
    """The daemon's description of its lab (a dict, as the wire sends it) that also knows its service, so
    ``Session(backend=backend)`` and ``SamplerV2(mode=backend)`` work as with qiskit-ibm-runtime."""

    def __init__(self, service: QubitlabService, content: Mapping[str, Any]) -> None:
        super().__init__(content)
        self.service = service

    @property
    def name(self) -> str:
        return str(self.get("name"))

    @property
    def num_qubits(self) -> int:
        return len(self.get("qubits") or [])

    @property
    def coupling_map(self) -> list[list[int]]:
        return [list(c) for c in self.get("couplings") or []]

    def __repr__(self) -> str:
        return f"<Backend {self.name!r}: {self.num_qubits} qubits, snapshot {self.get('snapshot_id')}>"


class RuntimeJob:
    """A submitted job (as qiskit-ibm-runtime's ``RuntimeJobV2``)."""

    def __init__(self, service: QubitlabService, job_id: str) -> None:
        self.service = service
        self._job_id = job_id
        self._final: dict[str, Any] | None = None

    def job_id(self) -> str:
        return self._job_id

    def details(self) -> dict[str, Any]:
        if self._final is not None:
            return dict(self._final["job"])
        return dict(self.service.request(MsgType.STATUS, {"job_id": self._job_id}).content["job"])

    def status(self) -> JobStatus:
        return JobStatus(self.details()["status"])

    def done(self) -> bool:
        return self.status().final

    def cancel(self) -> JobStatus:
        return JobStatus(self.service.request(MsgType.CANCEL, {"job_id": self._job_id}).content["job"]["status"])

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the job ends (``timeout`` seconds at most, None: forever); the final reply's content."""
        if self._final is not None:
            return self._final
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chunk = 60.0 if deadline is None else max(0.0, min(60.0, deadline - time.monotonic()))
            reply = self.service.request(MsgType.RESULT, {"job_id": self._job_id, "timeout": chunk},
                                         timeout=chunk + self.service.timeout)
            content = dict(reply.content)
            if JobStatus(content["job"]["status"]).final:
                self._final = content
                return content
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self._job_id} is still {content['job']['status']} after {timeout:g} s")

    def stream(self, timeout: float | None = None, *, after: int = 0) -> Iterator[dict[str, Any]]:
        """The job's interim results (a program's iterations) in order, each as soon as the daemon has it, from
        the one after number ``after``; ends when the job has ended and everything it published was yielded
        (also after a cancel or a daemon restart: the history is stored). ``timeout``: seconds in all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            chunk = 30.0 if deadline is None else max(0.0, min(30.0, deadline - time.monotonic()))
            reply = self.service.request(MsgType.STREAM, {"job_id": self._job_id, "after": after, "timeout": chunk},
                                         timeout=chunk + self.service.timeout)
            records = list(reply.content["records"])
            yield from records
            after = int(reply.content["last"])
            if not records and JobStatus(reply.content["job"]["status"]).final:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self._job_id} is still {reply.content['job']['status']} after {timeout:g} s")

    def result(self, timeout: float | None = None) -> Any:
        """The job's result; a :class:`JobError` (or the error it ended with) when it did not end DONE."""
        content = self.wait(timeout)
        job = content["job"]
        status = JobStatus(job["status"])
        if status is JobStatus.DONE:
            return content.get("result")
        if status is JobStatus.CANCELLED:
            raise JobError(f"job {self._job_id} was cancelled: {job.get('error') or ''}".rstrip(": "))
        from qubitlab.errors import error_from_wire

        raise error_from_wire(job.get("error_type") or "JobError", f"job {self._job_id} failed: {job.get('error')}")

    def metrics(self) -> dict[str, Any]:
        """Timestamps per state, queue time, and the execution split into its stages (seconds)."""
        job = self.details()
        created, started, finished = job["created"], job["started"], job["finished"]
        return {"timestamps": {"created": created, "running": started, "finished": finished},
                "queue_time": (started - created) if started else None,
                "execution_time": (finished - started) if started and finished else None,
                "timings": job["timings"], "snapshot_id": job["snapshot_id"], "attempts": job["attempts"]}


class Session:
    """Jobs submitted in a session run back to back; nothing else runs on the device while it is active.

    ``with Session(service, max_time=600) as session: ...`` closes it on exit (queued jobs still run);
    :meth:`cancel` ends it at once. ``max_time`` counts from its first job's start; after ``interactive_ttl``
    seconds with nothing queued or running it ends by itself."""

    mode = "session"

    def __init__(self, service: QubitlabService | None = None, *, backend: Any = None, max_time: float | str = 8 * 3600,
                 interactive_ttl: float = 60.0) -> None:
        service = service if service is not None else getattr(backend, "service", None)
        if service is None:
            raise JobError("a Session needs a QubitlabService (or a backend from one)")
        self.service = service
        reply = service.request(MsgType.SESSION_OPEN, {"mode": self.mode, "max_time": _seconds(max_time),
                                                       "interactive_ttl": float(interactive_ttl)})
        self._details = dict(reply.content["session"])
        self.session_id: str = self._details["session_id"]

    def submit(self, kind: str, inputs: Mapping[str, Any], *, priority: int = 0,
               max_execution_time: float | None = None) -> RuntimeJob:
        return self.service.submit(kind, inputs, priority=priority, session=self.session_id,
                                   max_execution_time=max_execution_time)

    def details(self) -> dict[str, Any]:
        return dict(self.service.request(MsgType.SESSION_DETAILS, {"session_id": self.session_id})
                    .content["session"])

    def close(self) -> None:
        self.service.request(MsgType.SESSION_CLOSE, {"session_id": self.session_id})

    def cancel(self) -> None:
        self.service.request(MsgType.SESSION_CANCEL, {"session_id": self.session_id})

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Batch(Session):
    """Jobs grouped without exclusivity: they take their turn with everyone else's, in submission order."""

    mode = "batch"


def _seconds(value: float | str) -> float:
    """``600``, ``"10m"``, ``"1h"``, ``"90s"`` -> seconds (qiskit-ibm-runtime accepts strings like these)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        for suffix, factor in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
            if text.endswith(suffix) and text[:-1].replace(".", "", 1).isdigit():
                return float(text[:-1]) * factor
        if text.replace(".", "", 1).isdigit():
            return float(text)
    raise ProtocolError(f"max_time {value!r} must be seconds or a string like '90s', '10m', '1h'")
