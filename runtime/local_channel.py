"""The local channel: a client on the daemon's own machine talks to it over a Unix socket, not through CURVE.

CURVE encrypts every byte, and on this class of machine encrypting and decrypting a megabyte costs 1.1-3 ms,
several times what moving it costs (a 1 MiB answer over a plain ZeroMQ round trip: 0.26 ms). On loopback that
encryption protects nothing the kernel does not already protect, but CURVE is also how the daemon knows who a
client is, and that must not be given up. So the key still decides, and only the bytes take the short way:

1. the client says ``hello`` over CURVE, asking for the local channel;
2. the daemon answers with the channel's endpoint, ``ipc://<state>/local/daemon.sock`` (a socket file in a
   directory only the daemon's user may enter), and a fresh 256-bit token bound to that client's public key;
3. the client, if it can reach that file (it runs as the daemon's user on the same machine), sends every further
   request there, prefixed by the token. The daemon maps the token back to the key and asks the allow-list on
   every message, as it does for CURVE, so a revoked key is refused on the next message either way.

A token is only ever sent over CURVE or over the private socket; a daemon restart forgets them all (the client
is told so, says hello again and repeats the request, which the daemon had not run). A remote client, another
user's client or a daemon started with ``--no-local-channel`` keeps using CURVE for everything. This is the
trust model of ssh-agent's or Docker's socket: the file system's permissions guard the transport, the key guards
the identity.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import zmq

log = logging.getLogger("qubitlab.runtime.local_channel")
SOCKET_NAME = "daemon.sock"
MAX_TOKENS = 4096
"""Tokens kept (one per ``hello`` that asked); the oldest is forgotten first, and its client says hello again."""
MAX_SOCKET_PATH = 100
"""A Unix socket's path must fit ``sun_path`` (108 bytes on Linux, 104 on macOS); longer state folders use a
private folder under the temporary directory instead."""
UNKNOWN_TOKEN = "unknown local-channel token"


class LocalChannel:
    """The daemon's side: a ROUTER on a private Unix socket and the tokens it has handed out."""

    def __init__(self, context: zmq.Context[Any], state_folder: Path, *, max_message: int) -> None:
        self.folder = private_folder(state_folder)
        self.path = self.folder / SOCKET_NAME
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, max_message + 2**20)
        self.path.unlink(missing_ok=True)                 # a killed daemon's socket file
        self.socket.bind(f"ipc://{self.path}")
        os.chmod(self.path, 0o600)
        self.endpoint = f"ipc://{self.path}"
        self._tokens: OrderedDict[bytes, bytes] = OrderedDict()

    def issue(self, public_key: bytes) -> bytes:
        """A new token for the client with this (Z85) public key."""
        token = os.urandom(32)
        self._tokens[token] = public_key
        while len(self._tokens) > MAX_TOKENS:
            self._tokens.popitem(last=False)
        return token

    def public_key(self, token: bytes) -> bytes | None:
        """The key a token was issued to (None: not one of this daemon's)."""
        return self._tokens.get(token)

    def close(self) -> None:
        self.socket.close(linger=0)
        try:
            self.path.unlink(missing_ok=True)
            self.folder.rmdir()
        except OSError:
            pass


def private_folder(state_folder: Path) -> Path:
    """``<state>/local``, created 0700 and checked to be ours and private; a short folder under the temporary
    directory (named after the state folder, so a restarted daemon is found at the same address) when that path
    is too long for a socket. Raises :class:`PermissionError` when the folder exists and is not private to us."""
    folder = state_folder / "local"
    if len(os.fsencode(folder / SOCKET_NAME)) > MAX_SOCKET_PATH:
        digest = hashlib.sha256(os.fsencode(state_folder.resolve())).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"qubitlab-{os.getuid()}-{digest}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(f"{folder} must be a directory owned by this user with mode 0700 (it is "
                              f"{stat.filemode(info.st_mode)}, uid {info.st_uid}); remove it and start again")
    return folder


def reachable(endpoint: object) -> str | None:
    """The socket path of an ``ipc://`` endpoint this process may connect to, or None (another machine,
    another user, or not the local channel's form)."""
    if not isinstance(endpoint, str) or not endpoint.startswith("ipc:///"):
        return None
    path = endpoint[len("ipc://"):]
    try:
        return path if stat.S_ISSOCK(os.stat(path).st_mode) and os.access(path, os.R_OK | os.W_OK) else None
    except OSError:
        return None
