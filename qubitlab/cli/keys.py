"""``qubitlab keys new|allow|revoke|list``: who may connect to a lab's daemon.

A client makes its CURVE key pair once (``keys new``); the lab's operator copies the public half into the
daemon's allow-list (``keys allow``, ``--admin`` for a key that sees and cancels every job), and can take it out
again (``keys revoke``, effective from the client's next message, no restart). ``keys list`` shows the names,
the admin flag and the first 8 characters of each Z85 public key -- never a secret. The daemon's key folder is
``--keys DIR``, else the running daemon's (from its lock file), else ``<store>/keys``. Every file written is
0600; bad input is refused with nothing written (exit status 2).
"""

from __future__ import annotations

from pathlib import Path

import click

from qubitlab.cli.runtime import LAB_FILE, _json, _table, keys_folder

KEYS_DIR = click.Path(file_okay=False, path_type=Path)


@click.group("keys")
def keys_group() -> None:
    """Make client key pairs, allow, revoke and list the keys a lab's daemon lets in."""


def _folder(lab_file: Path | None, keys_dir: Path | None) -> Path:
    from qubitlab.errors import ConfigError

    if keys_dir is not None:
        return keys_dir
    if lab_file is None:
        raise ConfigError("name the daemon's key folder: --lab LAB (its <store>/keys, or the running daemon's) "
                          "or --keys DIR")
    return keys_folder(lab_file)


@keys_group.command("new")
@click.argument("name")
@click.option("--dir", "folder", type=KEYS_DIR, default=Path("."), show_default=True,
              help="Where to write NAME.key and NAME.key_secret.")
def keys_new(name: str, folder: Path) -> None:
    """Write a CURVE key pair NAME.key (public, to hand to the lab) and NAME.key_secret (yours; 0600)."""
    from qubitlab.errors import AuthenticationError
    from qubitlab.runtime import keys as keyfiles

    keyfiles.check_name(name)
    if folder.exists() and not folder.is_dir():
        raise AuthenticationError(f"--dir {folder} is a file, not a folder")
    public, secret = keyfiles.new_keypair(folder, name)
    click.echo(f"public key: {public}\nsecret key: {secret} (keep it to yourself)\n"
               f"next: 'qubitlab keys allow {public} --lab LAB' on the lab's control PC")


@keys_group.command("allow")
@click.argument("public_key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lab", "lab_file", type=LAB_FILE, default=None, help="The lab whose daemon lets this key in.")
@click.option("--keys", "keys_dir", type=KEYS_DIR, default=None, help="The daemon's key folder instead of --lab's.")
@click.option("--name", default=None, help="The client's name (its jobs' owner); default the file's stem.")
@click.option("--admin", is_flag=True, help="This key sees and cancels every client's jobs.")
def keys_allow(public_key_file: Path, lab_file: Path | None, keys_dir: Path | None, name: str | None,
               admin: bool) -> None:
    """Let the holder of PUBLIC_KEY_FILE's secret connect (takes effect without a restart)."""
    from qubitlab.errors import AuthenticationError
    from qubitlab.runtime import keys as keyfiles

    folder = _folder(lab_file, keys_dir)
    pair = keyfiles.load(public_key_file)
    if pair.secret is not None:
        raise AuthenticationError(f"{public_key_file} holds a secret key; allow its public half (the .key file "
                                  "next to it) and keep the secret where it is")
    client = keyfiles.check_name(name or public_key_file.name.split(".key")[0])
    for known in _entries(folder):
        if known[0] == client and known[1] != pair.public.decode():
            raise AuthenticationError(f"a different key is already allowed as {client!r} in {folder}; revoke it "
                                      f"first ('qubitlab keys revoke {client}') or choose another --name")
        if known[0] != client and known[1] == pair.public.decode():
            raise AuthenticationError(f"this key is already allowed as {known[0]!r} in {folder}; one name per key")
    target = keyfiles.allow(folder, public_key_file, name=client, admin=admin)
    click.echo(f"allowed {client!r}{' (admin)' if admin else ''}: {target}")


@keys_group.command("revoke")
@click.argument("name")
@click.option("--lab", "lab_file", type=LAB_FILE, default=None, help="The lab whose daemon lets this key in.")
@click.option("--keys", "keys_dir", type=KEYS_DIR, default=None, help="The daemon's key folder instead of --lab's.")
def keys_revoke(name: str, lab_file: Path | None, keys_dir: Path | None) -> None:
    """Take NAME off the allow-list; a running daemon refuses it from its next message on."""
    from qubitlab.runtime import keys as keyfiles

    removed = keyfiles.revoke(_folder(lab_file, keys_dir), name)
    click.echo(f"revoked {name!r}: removed " + ", ".join(str(p) for p in removed))


def _entries(folder: Path) -> list[tuple[str, str, bool]]:
    """(name, Z85 public key, admin) of every allowed key file in ``folder``, by name."""
    from qubitlab.runtime import keys as keyfiles

    found: dict[str, tuple[str, str, bool]] = {}
    for sub, admin in (("allowed", False), ("admins", True)):
        for path in sorted((folder / sub).glob("*.key")) if (folder / sub).is_dir() else []:
            public = keyfiles.load(path).public.decode()
            found[path.stem] = (path.stem, public, admin or found.get(path.stem, ("", "", False))[2])
    return [found[name] for name in sorted(found)]


@keys_group.command("list")
@click.option("--lab", "lab_file", type=LAB_FILE, default=None, help="The lab whose daemon's keys to list.")
@click.option("--keys", "keys_dir", type=KEYS_DIR, default=None, help="The daemon's key folder instead of --lab's.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def keys_list(lab_file: Path | None, keys_dir: Path | None, as_json: bool) -> None:
    """The allowed clients: name, admin flag, the start of the public key's Z85 text (never a secret)."""
    from qubitlab.runtime import keys as keyfiles

    folder = _folder(lab_file, keys_dir)
    entries = _entries(folder)
    server = folder / "server.key"
    server_print = keyfiles.load(server).public.decode()[:8] if server.is_file() else None
    if as_json:
        _json({"folder": str(folder), "server": server_print,
               "clients": [{"name": n, "admin": admin, "fingerprint": public[:8]} for n, public, admin in entries]})
        return
    _table(f"keys in {folder} (server {server_print or 'not made yet'})", ["name", "admin", "fingerprint"],
           [[n, "yes" if admin else "", public[:8]] for n, public, admin in entries])
