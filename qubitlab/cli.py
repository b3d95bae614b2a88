"""The ``qubitlab`` command line: one tool for operators, grown issue by issue.

Built on click (a well-kept CLI library) with rich for tables and progress. Each layer adds its subcommands
here as it lands (``lab``, ``calibrate``, ``cal``, ``daemon``, ``jobs``, ...). Every command validates its input
first and says what is wrong and what would be valid.
"""

from __future__ import annotations

import sys

import click

from qubitlab import __version__
from qubitlab.errors import QubitlabError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="qubitlab")
def cli() -> None:
    """qubitlab: pulses, calibration and a runtime for your own superconducting-qubit lab.

    Layers available today: the Qiskit-Pulse-compatible pulse model (``from qubitlab import pulse``).
    """


@cli.command("pulse-demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, writable=True),
    default="out",
    show_default=True,
    help="Folder for the rendered plot and the JSON schedule.",
)
def pulse_demo(out_dir: str) -> None:
    """Build a Rabi-plus-readout schedule, render it, plot it and save it as JSON."""
    from qubitlab.demo import run_pulse_demo

    for line in run_pulse_demo(out_dir):
        click.echo(line)


@cli.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, writable=True), default="out", show_default=True,
              help="Folder for the plot and the run record.")
def demo(out_dir: str) -> None:
    """The main job: a Rabi experiment on the virtual lab, through QCoDeS drivers over real sockets."""
    from qubitlab.lab_demo import run_lab_demo

    for line in run_lab_demo(out_dir):
        click.echo(line)


def _register() -> None:
    from qubitlab.cal_cli import cal_group
    from qubitlab.calibrate_cli import calibrate_group
    from qubitlab.lab_cli import lab_group

    cli.add_command(lab_group)
    cli.add_command(cal_group)
    cli.add_command(calibrate_group)


_register()


def main() -> None:
    """Entry point of the ``qubitlab`` script: QubitlabErrors print as one clear line, exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except QubitlabError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
