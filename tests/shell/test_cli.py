"""The ``qubitlab`` command as a package of command groups: the script and ``python -m`` both run it, the
version it prints is the installed distribution's, the command tree is the one written here by hand, every
``qubitlab ...`` a help text mentions exists, and ``--help`` imports none of the layers (it stays fast)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_run import ROOT, qubitlab

from qubitlab.cli import cli

TREE = {
    "lab": {"start", "check", "drift"},
    "cal": {"show", "history", "set", "diff", "rollback", "export", "import"},
    "calibrate": {"all", "stretch", "check", "report"},
    "demo": set(),
    "pulse-demo": set(),
    "rabi-demo": set(),
    "daemon": {"start", "status"},
    "jobs": {"list", "show", "cancel"},
    "sessions": {"list"},
    "keys": {"new", "allow", "revoke", "list"},
}
HEAVY = ("qubitlab.drivers", "qubitlab.pulse", "qubitlab.circuits", "qubitlab.calibration", "qubitlab.runtime",
         "qubitlab.config", "numpy", "pydantic", "rich", "yaml", "qcodes", "asyncio")


def script() -> Path:
    path = Path(sys.executable).parent / "qubitlab"
    assert path.exists(), f"the console script is not installed next to {sys.executable}: pip install -e ."
    return path


@pytest.mark.parametrize("command", [[str(Path(sys.executable).parent / "qubitlab")],
                                     [sys.executable, "-m", "qubitlab"],
                                     [sys.executable, "-m", "qubitlab.cli"]], ids=["script", "-m qubitlab",
                                                                                   "-m qubitlab.cli"])
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_the_installed_distributions(command: list[str], flag: str) -> None:
    script()
    done = subprocess.run([*command, flag], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"qubitlab, version {importlib.metadata.version('qubitlab')}"


def test_the_command_tree_is_the_one_documented() -> None:
    done = qubitlab("--help")
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  ([a-z-]+)  ", done.stdout.split("Commands:")[1], re.MULTILINE)
    assert sorted(listed) == sorted(TREE)
    for group, commands in TREE.items():
        if commands:
            sub = qubitlab(group, "--help")
            assert sub.returncode == 0, sub.stderr
            assert sorted(re.findall(r"^  ([a-z-]+)  ", sub.stdout.split("Commands:")[1], re.MULTILINE)) == \
                sorted(commands)


def helps() -> dict[str, str]:
    """Every command's and group's help text, by its command line."""
    texts: dict[str, str] = {}

    def walk(command: click.Command, ctx: click.Context, path: str) -> None:
        texts[path] = command.get_help(ctx)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, click.Context(sub, info_name=name, parent=ctx), f"{path} {name}")

    walk(cli, click.Context(cli, info_name="qubitlab"), "qubitlab")
    return texts


def test_every_command_a_help_text_mentions_exists() -> None:
    mentioned = 0
    for where, text in helps().items():
        for group, sub in re.findall(r"qubitlab ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", " ".join(text.split())):
            assert group in TREE, f"help of '{where}' mentions 'qubitlab {group}', which does not exist"
            if TREE[group] and sub:
                assert sub in TREE[group], f"help of '{where}' mentions 'qubitlab {group} {sub}': no such command"
            mentioned += 1
    assert mentioned >= 4                                   # the root help and lab drift point at real commands


def test_help_imports_none_of_the_layers() -> None:
    code = ("import sys\nfrom qubitlab.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as e:\n"
            "    assert e.code == 0, e.code\n"
            "print('imported:', *sorted(m for m in sys.modules if m.startswith(" + repr(HEAVY) + ")))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout
    assert done.stdout.splitlines()[-1] == "imported:"


def test_an_unknown_command_is_a_usage_error_naming_it() -> None:
    done = qubitlab("calibrat")
    assert done.returncode == 2
    assert "No such command 'calibrat'" in done.stderr
