"""``qubitlab pulse-demo`` and ``qubitlab demo``: the two demonstrations, as commands (the work is in
``qubitlab/demo.py`` and ``qubitlab/lab_demo.py``, imported when the command runs)."""

from __future__ import annotations

import click

_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, writable=True), default="out",
                    show_default=True, help="Folder for what the demo writes (created when missing).")


@click.command("pulse-demo")
@_OUT
def pulse_demo(out_dir: str) -> None:
    """Build a Rabi-plus-readout schedule, render it, plot it and save it as JSON (no instruments)."""
    from qubitlab.demo import run_pulse_demo

    for line in run_pulse_demo(out_dir):
        click.echo(line)


@click.command("demo")
@_OUT
def demo(out_dir: str) -> None:
    """The main job: a Rabi experiment on the virtual lab, through QCoDeS drivers over real sockets."""
    from qubitlab.lab_demo import run_lab_demo

    for line in run_lab_demo(out_dir):
        click.echo(line)
