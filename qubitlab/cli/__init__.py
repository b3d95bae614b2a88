"""The ``qubitlab`` command line: the root group, the entry point, and the wiring of one module per command group.

Built on click with rich for tables and progress. This package is wiring only: each command parses and checks
its input, calls one function of a layer, and prints the result. Command modules import click (and nothing of
the layers) at import time; the layers are imported inside the commands, so ``qubitlab --help`` stays fast.

    lab        qubitlab/cli/lab.py        run a virtual lab, check a lab's instruments, make a virtual device drift
    cal        qubitlab/cli/cal.py        the calibration store: show, history, set, diff, rollback, export, import
    calibrate  qubitlab/cli/calibrate.py  bring-up, drift check, report
    demo, rabi-demo, pulse-demo  qubitlab/cli/demo.py  the main job (bring-up + H2 VQE via the daemon), demos
    daemon, jobs, sessions  qubitlab/cli/runtime.py  the runtime daemon: start, status; its jobs and sessions
    keys       qubitlab/cli/keys.py       who may connect to a lab's daemon
"""

from __future__ import annotations

import sys

import click

from qubitlab import __version__
from qubitlab.cli.cal import cal_group
from qubitlab.cli.calibrate import calibrate_group
from qubitlab.cli.demo import demo, pulse_demo, rabi_demo
from qubitlab.cli.keys import keys_group
from qubitlab.cli.lab import lab_group
from qubitlab.cli.runtime import daemon_group, jobs_group, sessions_group
from qubitlab.errors import QubitlabError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="qubitlab")
def cli() -> None:
    """qubitlab: pulses, calibration and instruments for your own superconducting-qubit lab.

    A lab is described by a lab file (YAML; the virtual labs ship in lab_configs/). Start with
    'qubitlab lab check LAB.yaml', bring the device up with 'qubitlab calibrate all --lab LAB.yaml', and read or
    edit the calibrated values with 'qubitlab cal show --lab LAB.yaml'. Errors print one line and exit with
    status 2; a command that finds a failing instrument or experiment exits with status 1.
    """


cli.add_command(lab_group)
cli.add_command(cal_group)
cli.add_command(calibrate_group)
cli.add_command(demo)
cli.add_command(pulse_demo)
cli.add_command(rabi_demo)
cli.add_command(daemon_group)
cli.add_command(jobs_group)
cli.add_command(sessions_group)
cli.add_command(keys_group)


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``qubitlab`` script and ``python -m qubitlab``: a QubitlabError prints as one line
    (``error: ...``) with exit status 2; Ctrl-C prints ``aborted`` with status 130."""
    try:
        code = cli.main(args, prog_name="qubitlab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except QubitlabError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["cli", "main"]
