"""Who may talk to the daemon: CURVE key pairs, an allow-list of client public keys, and the ZAP check.

A daemon's key folder (default ``<store folder>/keys``) holds::

    server.key, server.key_secret       the daemon's key pair (ZeroMQ certificate files)
    allowed/<name>.key                  public keys of the clients it serves
    admins/<name>.key                   public keys of clients that see and cancel every job

Secret files are written 0600. A client is known by its *name* (the file's stem), which becomes the owner of
its jobs. Revoking deletes the public key; the daemon re-reads the folders whenever they change, so a revoked
key is refused from its next handshake and its next message on, with no restart. An unknown key fails the
CURVE handshake inside ZeroMQ's ZAP exchange: its client gets no reply at all.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from qubitlab.errors import AuthenticationError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class KeyPair:
    public: bytes
    secret: bytes | None


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AuthenticationError(f"key name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting "
                                  "with a letter or digit")
    return name


def new_keypair(folder: Path, name: str) -> tuple[Path, Path]:
    """Write ``<folder>/<name>.key`` and ``<name>.key_secret`` (0600); refuses to overwrite."""
    check_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = folder / f"{name}.key", folder / f"{name}.key_secret"
    if public.exists() or secret.exists():
        raise AuthenticationError(f"{public} or {secret} already exists; choose another name or delete them")
    previous = os.umask(0o077)
    try:
        public_file, secret_file = zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(previous)
    os.chmod(secret_file, 0o600)
    os.chmod(public_file, 0o600)
    return Path(public_file), Path(secret_file)


def load(path: str | Path) -> KeyPair:
    """A certificate file: public only (``.key``) or both halves (``.key_secret``)."""
    path = Path(path)
    if not path.is_file():
        raise AuthenticationError(f"key file {path} does not exist; make one with 'qubitlab keys new NAME'")
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (ValueError, OSError) as exc:
        raise AuthenticationError(f"{path} is not a ZeroMQ CURVE certificate: {exc}") from None
    return KeyPair(public, secret)


@dataclass(frozen=True)
class Client:
    name: str
    admin: bool


RECENT = 0.1
"""Seconds within which a folder's modification time is not trusted to tell changes apart: the file system
stamps with a coarse clock (a few ms on ext4), so a key revoked in the same tick as the last read would keep
the old stamp. A folder changed that recently is read again on every look."""


class AllowList:
    """The public keys in ``allowed/`` and ``admins/``, re-read when either folder changes.

    The daemon asks on every message (so a revocation holds from the next message on): the check is one
    ``stat`` per folder, and the key files are read only when a folder's stamp moved or is too recent to trust.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[int, int], ...] = ()
        self._clients: dict[bytes, Client] = {}
        self._paths = tuple(os.fspath(f) for f in self._folders())

    def _folders(self) -> tuple[Path, Path]:
        return self.folder / "allowed", self.folder / "admins"

    def _refresh(self) -> None:
        stamps = []
        for folder_path in self._paths:
            try:
                info = os.stat(folder_path)
            except FileNotFoundError:
                stamps.append((0, 0))
                continue
            if time.time() - info.st_mtime < RECENT:
                stamps.append((-1, -1))                    # too recent to compare: read the keys again
            else:
                stamps.append((info.st_mtime_ns, info.st_ino))
        stamp = tuple(stamps)
        if stamp == self._stamp and (-1, -1) not in stamp:
            return
        folders = self._folders()
        clients: dict[bytes, Client] = {}
        for folder, admin in zip(folders, (False, True)):
            if folder.is_dir():
                for path in sorted(folder.glob("*.key")):
                    public, _ = zmq.auth.load_certificate(str(path))
                    clients[public] = Client(path.stem, admin or clients.get(public, Client("", False)).admin)
        self._clients, self._stamp = clients, stamp

    def client(self, public_key_z85: bytes | str) -> Client | None:
        """The allowed client with this public key (Z85 text), or None."""
        key = public_key_z85.encode() if isinstance(public_key_z85, str) else public_key_z85
        with self._lock:
            self._refresh()
            return self._clients.get(key)

    def clients(self) -> dict[bytes, Client]:
        with self._lock:
            self._refresh()
            return dict(self._clients)

    # the ZAP credentials provider interface of pyzmq's authenticator (``key``: the client's Z85 public key)
    def callback(self, domain: str, key: bytes) -> bool:
        return self.client(key) is not None


def allow(folder: Path, public_key_file: Path, *, name: str | None = None, admin: bool = False) -> Path:
    """Copy a client's public key into the allow-list (as ``<name>.key``)."""
    keypair = load(public_key_file)
    target_name = check_name(name or public_key_file.name.split(".key")[0])
    target = folder / ("admins" if admin else "allowed") / f"{target_name}.key"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = ("#   ZeroMQ CURVE public certificate, allowed by qubitlab keys allow\n"
            f"metadata\ncurve\n    public-key = \"{keypair.public.decode()}\"\n")
    # written beside it, then renamed over it: the rename changes the folder's stamp, so a running daemon reads
    # the list again even when a name's key is replaced (a rewrite in place left the folder's stamp alone)
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(partial, target)
    return target


def revoke(folder: Path, name: str) -> list[Path]:
    removed = []
    for sub in ("allowed", "admins"):
        path = folder / sub / f"{check_name(name)}.key"
        if path.exists():
            path.unlink()
            removed.append(path)
    if not removed:
        raise AuthenticationError(f"no allowed key named {name!r} in {folder}; 'qubitlab keys list' shows them")
    return removed


def server_keys(folder: Path) -> KeyPair:
    """The daemon's key pair in ``folder``, made on first use."""
    secret = folder / "server.key_secret"
    if not secret.exists():
        new_keypair(folder, "server")
    return load(secret)


def start_authenticator(context: zmq.Context[Any], allow_list: AllowList) -> ThreadAuthenticator:
    """A ZAP handler in a thread: CURVE clients are let in only when their key is on ``allow_list``."""
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve_callback(domain="*", credentials_provider=allow_list)
    return authenticator
