"""``qubitlab daemon|jobs|sessions|keys``: run a lab's runtime daemon and talk to it from the shell.

An operator starts the daemon in the foreground (``daemon start``), asks whether it runs (``daemon status``),
looks at and cancels jobs (``jobs list|show|cancel``), lists sessions, and manages who may connect (``keys``).

Every command that talks to a daemon names it either by ``--address`` (with ``--key``, the client's
``.key_secret`` file, and ``--server-key``, the daemon's ``server.key``; neither for a daemon started with
``--insecure``) or by ``--lab LAB``: the address then comes from the lab's lock file
(``<store>/daemon.lock``), the server key from the daemon's key folder (``<store>/keys`` unless the daemon was
started with ``--keys``), and the client key defaults to ``<keys>/clients/<user>.key_secret`` (``<user>`` is
your login name) when that file exists. Input is checked before anything is written; errors print one line
and exit with status 2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from qubitlab.runtime.client import QubitlabService

F = TypeVar("F", bound=Callable[..., Any])
LAB_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
KEY_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


# -- finding the daemon --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    """How to reach one daemon."""

    address: str
    key: Path | None
    server_key: Path | None
    lab_file: Path | None = None
    pid: int | None = None


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def keys_folder(lab_file: Path, explicit: Path | None = None) -> Path:
    """The key folder of ``lab_file``'s daemon: ``explicit``, else the running daemon's, else ``<store>/keys``."""
    if explicit is not None:
        return explicit
    from qubitlab.config.loader import load_lab
    from qubitlab.runtime.daemon import read_lock

    folder = load_lab(lab_file).store_path()
    holder = read_lock(folder) or {}
    return Path(holder["keys"]) if isinstance(holder.get("keys"), str) else folder / "keys"


def default_key(keys_dir: Path) -> Path:
    return keys_dir / "clients" / f"{_user() or 'USER'}.key_secret"


def how_to_get_a_key(lab_file: Path, keys_dir: Path) -> str:
    name = _user() or "NAME"
    return (f"make one with 'qubitlab keys new {name} --dir {keys_dir / 'clients'}' and allow it with "
            f"'qubitlab keys allow {keys_dir / 'clients' / (name + '.key')} --lab {lab_file}' (then it is found "
            "by default), or pass --key YOUR.key_secret")


def lab_link(lab_file: Path, key: Path | None = None, server_key: Path | None = None) -> Link | None:
    """The live daemon of ``lab_file`` (None when none runs), with the keys to reach it, checked: a
    :class:`~qubitlab.errors.AuthenticationError` says how to get a key when there is no usable one."""
    from qubitlab.config.loader import load_lab
    from qubitlab.errors import AuthenticationError
    from qubitlab.runtime import keys as keyfiles
    from qubitlab.runtime.daemon import read_lock

    lab = load_lab(lab_file)
    holder = read_lock(lab.store_path())
    if holder is None:
        return None
    address, pid = str(holder["address"]), int(holder["pid"])
    if not holder.get("curve", True):
        return Link(address, None, None, lab_file, pid)          # a daemon started with --insecure: no keys
    keys_dir = Path(holder["keys"]) if isinstance(holder.get("keys"), str) else lab.store_path() / "keys"
    server_key = server_key or keys_dir / "server.key"
    if not server_key.is_file():
        raise AuthenticationError(f"the daemon of lab {lab.name!r} (pid {pid}) uses CURVE but its public key "
                                  f"{server_key} is missing; pass --server-key SERVER.key")
    key = key or default_key(keys_dir)
    if not key.is_file():
        raise AuthenticationError(f"a daemon (pid {pid}, {address}) owns lab {lab.name!r} and needs a client key; "
                                  f"no {key}: {how_to_get_a_key(lab_file, keys_dir)}")
    pair = keyfiles.load(key)
    if pair.secret is None:
        raise AuthenticationError(f"{key} is a public key; pass your .key_secret file with --key")
    if _unknown(keys_dir, pair.public):
        raise AuthenticationError(f"your key {key} is not on the allow-list of the daemon of lab {lab.name!r} "
                                  f"({keys_dir}); allow it with 'qubitlab keys allow {_public_half(key)} "
                                  f"--lab {lab_file}'")
    return Link(address, key, server_key, lab_file, pid)


def _unknown(keys_dir: Path, public: bytes) -> bool:
    """Whether the daemon's allow-list, when this user can read it, lacks ``public``."""
    from qubitlab.runtime.keys import AllowList

    try:
        return keys_dir.is_dir() and AllowList(keys_dir).client(public) is None
    except OSError:                                  # not ours to read: the daemon decides (no reply if unknown)
        return False


def _public_half(secret: Path) -> Path:
    return secret.with_name(secret.name.removesuffix("_secret"))


def resolve(lab_file: Path | None, address: str | None, key: Path | None, server_key: Path | None) -> Link:
    from qubitlab.config.loader import load_lab
    from qubitlab.errors import ConfigError

    if (lab_file is None) == (address is None):
        raise ConfigError("name the daemon with --lab LAB (found through its lock file) or with --address "
                          "tcp://HOST:PORT, one of the two")
    if address is not None:
        if (key is None) != (server_key is None):
            raise ConfigError("--key (your .key_secret) and --server-key (the daemon's server.key) go together; "
                              "give both, or neither for a daemon started with --insecure")
        return Link(address, key, server_key)
    assert lab_file is not None
    link = lab_link(lab_file, key, server_key)
    if link is None:
        lab = load_lab(lab_file)
        raise ConfigError(f"no daemon runs for lab {lab.name!r} (no live lock file in {lab.store_path()}); start "
                          f"one with 'qubitlab daemon start --lab {lab_file}'")
    return link


@contextmanager
def service(link: Link, timeout: float) -> Iterator[QubitlabService]:
    """A connected service; no reply within ``timeout`` becomes a one-line error."""
    import zmq

    from qubitlab.errors import ConfigError, JobError, QubitlabError
    from qubitlab.runtime.client import QubitlabService

    try:
        client = QubitlabService(link.address, key=link.key, server_key=link.server_key, timeout=timeout)
    except zmq.ZMQError as exc:
        raise ConfigError(f"cannot connect to {link.address!r}: {exc}; give an address like "
                          "tcp://127.0.0.1:5555") from None
    try:
        yield client
    except TimeoutError as exc:
        if isinstance(exc, QubitlabError):            # an instrument timeout a job ended with: not ours to rename
            raise
        raise JobError(f"no reply from the daemon at {link.address} within {timeout:g} s: is it running, and is "
                       "your key allowed ('qubitlab keys list --lab LAB')?") from None
    finally:
        client.close()


def connection_options(function: F) -> F:
    options = [
        click.option("--lab", "lab_file", type=LAB_FILE, default=None, help="Find the daemon by its lab's lock file."),
        click.option("--address", default=None, help="The daemon's address, e.g. tcp://127.0.0.1:5555."),
        click.option("--key", type=KEY_FILE, default=None,
                     help="Your .key_secret file (with --lab: default <keys>/clients/<user>.key_secret)."),
        click.option("--server-key", type=KEY_FILE, default=None, help="The daemon's server.key."),
        click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True,
                     help="Seconds to wait for each reply."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


# -- printing ------------------------------------------------------------------------------------------------------
def _console() -> Console:
    from rich.console import Console

    return Console()


def _when(stamp: float | None) -> str:
    return "" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _span(start: float | None, end: float | None) -> str:
    return "" if start is None or end is None else f"{end - start:.3f}"


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    _console().print(table)


def _json(data: Any) -> None:
    def plain(value: Any) -> Any:
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is not None and dtype is not None:
            return f"<array shape={list(shape)} dtype={dtype}>"
        return str(value)

    click.echo(json.dumps(data, indent=2, default=plain))


# -- daemon --------------------------------------------------------------------------------------------------------
@click.group("daemon")
def daemon_group() -> None:
    """Run a lab's runtime daemon, or ask whether one runs."""


@daemon_group.command("start")
@click.option("--lab", "lab_file", type=LAB_FILE, required=True, help="The lab file.")
@click.option("--bind", default="tcp://127.0.0.1:5555", show_default=True, help="Where to listen (ZeroMQ).")
@click.option("--insecure", is_flag=True, help="No CURVE encryption and no allow-list (loopback only).")
@click.option("--keys", "keys_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Key folder (default <store>/keys).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Job store and lock file folder (default the lab's store; 'qubitlab ... --lab' looks there).")
@click.option("--no-local-channel", "no_local", is_flag=True,
              help="Clients on this machine use CURVE for everything too (default: after a CURVE hello they move "
                   "to a private Unix socket; the key still identifies them).")
@click.option("--stop-after", type=click.FloatRange(0, min_open=True), default=None, hidden=True)
@click.pass_context
def daemon_start(ctx: click.Context, lab_file: Path, bind: str, insecure: bool, keys_dir: Path | None,
                 state_dir: Path | None, no_local: bool, stop_after: float | None) -> None:
    """Serve LAB in the foreground until Ctrl-C or SIGTERM (a clean shutdown: the running job finishes or is
    requeued, the instruments are closed)."""
    from qubitlab.runtime.daemon import main

    argv = ["--lab", str(lab_file), "--bind", bind, *(["--insecure"] if insecure else [])]
    argv += [*(["--keys", str(keys_dir)] if keys_dir else []), *(["--state", str(state_dir)] if state_dir else [])]
    argv += ["--stop-after", str(stop_after)] if stop_after is not None else []
    argv += ["--no-local-channel"] if no_local else []
    ctx.exit(main(argv))


@daemon_group.command("status")
@click.option("--lab", "lab_file", type=LAB_FILE, required=True, help="The lab file.")
@click.option("--key", type=KEY_FILE, default=None, help="Your .key_secret: also ask the daemon for its queue.")
@click.option("--server-key", type=KEY_FILE, default=None, help="The daemon's server.key (default from the lab).")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True)
@click.pass_context
def daemon_status(ctx: click.Context, lab_file: Path, key: Path | None, server_key: Path | None,
                  timeout: float) -> None:
    """Whether a daemon runs for LAB (its pid and address, from the lock file); exit status 1 when none does."""
    from qubitlab.config.loader import load_lab
    from qubitlab.runtime.daemon import LOCK_FILE, read_lock

    lab = load_lab(lab_file)
    holder = read_lock(lab.store_path())
    if holder is None:
        stale = read_lock(lab.store_path(), check_alive=False)
        note = f" (a stale lock of pid {stale['pid']} remains in {lab.store_path() / LOCK_FILE})" if stale else ""
        click.echo(f"daemon of lab {lab.name!r}: not running{note}")
        ctx.exit(1)
    security = "CURVE" if holder.get("curve", True) else "no CURVE"
    click.echo(f"daemon of lab {lab.name!r}: running (pid {holder['pid']}, {holder['address']}, {security}, "
               f"since {_when(holder.get('started'))})")
    if key is None and holder.get("curve", True):
        return
    link = lab_link(lab_file, key, server_key)
    assert link is not None
    with service(link, timeout) as client:
        backend = client.backend()
    worker = backend["worker"]
    click.echo(f"queued jobs: {backend['queued']}; worker: pid {worker['pid']}, "
               f"{'ready' if worker['ready'] else 'starting'}, {worker['restarts']} restarts; "
               f"snapshot {backend['snapshot_id']}; qubitlab {backend['version']}")


# -- jobs and sessions ---------------------------------------------------------------------------------------------
@click.group("jobs")
def jobs_group() -> None:
    """List, show and cancel a daemon's jobs (yours; an admin key sees everyone's)."""


@jobs_group.command("list")
@connection_options
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def jobs_list(lab_file: Path | None, address: str | None, key: Path | None, server_key: Path | None,
              timeout: float, limit: int, as_json: bool) -> None:
    """The newest jobs first."""
    link = resolve(lab_file, address, key, server_key)
    with service(link, timeout) as client:
        jobs = client.jobs(limit=limit)
    if as_json:
        _json(jobs)
        return
    rows = [[j["job_id"], j["kind"], j["status"], str(j["priority"]), j["owner"], _when(j["created"]),
             _span(j["created"], j["started"]), _span(j["started"], j["finished"]), j["error"] or j["note"] or ""]
            for j in jobs]
    _table(f"{len(jobs)} jobs at {link.address}", ["job", "kind", "status", "priority", "owner", "created",
                                                   "queued s", "ran s", "error / note"], rows)


@jobs_group.command("show")
@click.argument("job_id")
@connection_options
@click.option("--result", "with_result", is_flag=True, help="Also print the result of a finished job.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def jobs_show(job_id: str, lab_file: Path | None, address: str | None, key: Path | None, server_key: Path | None,
              timeout: float, with_result: bool, as_json: bool) -> None:
    """One job: its state, times, timings, snapshot and error; a program's iterations so far."""
    from qubitlab.runtime.jobs import PROGRAM_KINDS

    link = resolve(lab_file, address, key, server_key)
    with service(link, timeout) as client:
        job = client.job(job_id)
        details = job.details()
        result = job.wait(timeout=0.0).get("result") if with_result and details["status"] == "DONE" else None
        progress = _progress(client, job_id) if details["kind"] in PROGRAM_KINDS else None
    if as_json:
        _json({"job": details, **({"result": result} if with_result else {}),
               **({"progress": progress} if progress is not None else {})})
        return
    shown = {name: _when(value) if name in ("created", "started", "finished") else value
             for name, value in details.items() if name != "timings"}
    shown["queued s"], shown["ran s"] = _span(details["created"], details["started"]), \
        _span(details["started"], details["finished"])
    rows = [[name, "" if value is None else str(value)] for name, value in shown.items()]
    rows += [[f"timings.{name}", f"{seconds:.6f}"] for name, seconds in sorted((details["timings"] or {}).items())]
    _table(f"job {job_id}", ["field", "value"], rows)
    if progress:
        _table(f"program progress: {len(progress)} iterations (the last {min(len(progress), 10)})",
               ["iteration", "energy", "std", "parameters", "ms"],
               [[str(r.get("iteration")), f"{r.get('energy', float('nan')):.6f}", f"{r.get('std', float('nan')):.6f}",
                 "[" + ", ".join(f"{v:.4f}" for v in r.get("parameters", [])) + "]",
                 f"{1e3 * r.get('seconds', 0.0):.1f}"] for r in progress[-10:]])
    if with_result:
        _json(result)


def _progress(client: QubitlabService, job_id: str) -> list[dict[str, Any]]:
    """A program's stored iterations so far (no waiting), pages of up to 1000 at a time."""
    from qubitlab.runtime.protocol import MsgType

    records: list[dict[str, Any]] = []
    while True:
        reply = client.request(MsgType.STREAM, {"job_id": job_id, "after": len(records)})
        page = list(reply.content["records"])
        records += page
        if len(page) < 1000:
            return records


@jobs_group.command("cancel")
@click.argument("job_id")
@connection_options
@click.option("--wait", type=click.FloatRange(0, 3600), default=30.0, show_default=True,
              help="Seconds to wait for a running job to stop at its next safe point.")
def jobs_cancel(job_id: str, lab_file: Path | None, address: str | None, key: Path | None, server_key: Path | None,
                timeout: float, wait: float) -> None:
    """Cancel a queued job, or stop a running one at its next safe point; exit status 1 when it had ended."""
    link = resolve(lab_file, address, key, server_key)
    with service(link, timeout) as client:
        job = client.job(job_id)
        before = job.details()["status"]
        if before in ("DONE", "ERROR", "CANCELLED"):
            raise click.ClickException(f"job {job_id} had already ended {before}: nothing to cancel")
        job.cancel()
        try:
            final = job.wait(timeout=wait)["job"]
        except TimeoutError:
            final = job.details()
    click.echo(f"job {job_id}: {final['status']}" + (f" ({final['error']})" if final.get("error") else ""))


@click.group("sessions")
def sessions_group() -> None:
    """A daemon's sessions and batches."""


@sessions_group.command("list")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sessions_list(lab_file: Path | None, address: str | None, key: Path | None, server_key: Path | None,
                  timeout: float, as_json: bool) -> None:
    """Sessions and batches, yours (an admin key sees everyone's)."""
    link = resolve(lab_file, address, key, server_key)
    with service(link, timeout) as client:
        sessions = client.sessions()
    if as_json:
        _json(sessions)
        return
    rows = [[s["session_id"], s["mode"], s["state"], s["owner"], _when(s["created"]), _when(s["started"]),
             _when(s["last_activity"]), f"{s['usage']:.3f}", f"{s['max_time']:g}", f"{s['interactive_ttl']:g}",
             s["reason"] or ""] for s in sessions]
    _table(f"{len(sessions)} sessions at {link.address}", ["session", "mode", "state", "owner", "created", "started",
                                                            "last activity", "usage s", "max_time s", "ttl s",
                                                            "reason"], rows)
