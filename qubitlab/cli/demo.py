"""``qubitlab demo`` (the main job: bring-up + H2 VQE through the daemon), ``qubitlab rabi-demo`` and
``qubitlab pulse-demo``, as commands (the work is in ``qubitlab/main_job.py``, ``lab_demo.py`` and ``demo.py``,
imported when the command runs)."""

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
@click.option("--resilience-level", type=click.IntRange(0, 2), default=2, show_default=True,
              help="EstimatorV2 resilience level (1: readout mitigation; 2: also ZNE by gate folding).")
@click.option("--maxiter", type=click.IntRange(5, 1000), default=60, show_default=True,
              help="COBYLA iterations at most.")
def demo(out_dir: str, resilience_level: int, maxiter: int) -> None:
    """The main job: bring the virtual lab up, then an H2 VQE through the daemon in a session, with a report."""
    from qubitlab.main_job import run_main_job

    for line in run_main_job(out_dir, resilience_level=resilience_level, maxiter=maxiter):
        click.echo(line, nl=True)


@click.command("rabi-demo")
@_OUT
def rabi_demo(out_dir: str) -> None:
    """A Rabi experiment on the virtual lab, through QCoDeS drivers over real sockets."""
    from qubitlab.lab_demo import run_lab_demo

    for line in run_lab_demo(out_dir):
        click.echo(line)
