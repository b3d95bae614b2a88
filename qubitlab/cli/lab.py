"""``qubitlab lab start|check|drift``: run a virtual lab in the foreground, check that a lab's instruments answer,
or make a running virtual lab's device drift.

``lab start`` serves every instrument of a virtual lab on 127.0.0.1, prints their VISA addresses, and can write
a copy of the lab file with those addresses filled in (``--write-lab``) for other processes to connect to. It
runs until Ctrl-C, SIGTERM, or ``--timeout`` seconds. ``lab check`` connects to every instrument of a lab file
-- starting the virtual lab in-process first when the file is virtual and has no addresses -- and prints one
row per instrument; it exits with status 1 when any instrument fails. ``lab drift`` sends a frequency shift
and a drive scale for one qubit to a running virtual lab (to rehearse ``qubitlab calibrate check``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from qubitlab.cli.values import strict_float

if TYPE_CHECKING:
    from qubitlab.config.models import LabConfig


@click.group("lab")
def lab_group() -> None:
    """Run a virtual lab, check a lab's instruments, or make a running virtual lab's device drift."""


@lab_group.command("start")
@click.argument("lab_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--port-base", type=click.IntRange(1024, 65000), default=None,
              help="Serve instrument k on port BASE + k (lab file order); default: ephemeral ports.")
@click.option("--write-lab", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a copy of the lab file with the instruments' addresses filled in.")
@click.option("--timeout", callback=strict_float(0, low_open=True), default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: run until Ctrl-C or SIGTERM).")
@click.option("--seed", type=int, default=None, help="Seed of the physics device's noise (default: the lab file's).")
def start(lab_file: Path, port_base: int | None, write_lab: Path | None, timeout: float | None,
          seed: int | None) -> None:
    """Serve the virtual lab LAB_FILE on 127.0.0.1 in the foreground."""
    import asyncio

    from qubitlab.config.loader import load_lab
    from qubitlab.drivers.mock.lab import VirtualLab

    lab = load_lab(lab_file)
    ports = {name: port_base + k for k, name in enumerate(lab.instruments)} if port_base is not None else None
    virtual = VirtualLab(lab, seed=seed, ports=ports)
    asyncio.run(_serve(virtual, write_lab, timeout))


async def _serve(virtual: object, write_lab: Path | None, timeout: float | None) -> None:
    import asyncio
    import signal

    from rich.console import Console
    from rich.table import Table

    from qubitlab.drivers.mock.lab import VirtualLab

    assert isinstance(virtual, VirtualLab)
    await virtual.start()
    try:
        table = Table(title=f"virtual lab {virtual.lab.name}: listening on 127.0.0.1")
        for column in ("instrument", "driver", "VISA address"):
            table.add_column(column)
        for name, address in virtual.addresses.items():
            table.add_row(name, virtual.lab.instruments[name].driver, address)
        Console().print(table)
        if write_lab is not None:
            write_lab_file(virtual.lab_config(), write_lab)
            click.echo(f"lab file with addresses: {write_lab}")
        click.echo("serving; Ctrl-C stops" + (f" (stops by itself after {timeout:g} s)" if timeout else ""), err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), timeout)
        except TimeoutError:
            pass
    finally:
        await virtual.stop()
        click.echo("virtual lab stopped", err=True)


def write_lab_file(lab: LabConfig, path: Path) -> None:
    """``lab`` as a lab file (what ``load_lab`` reads back)."""
    import yaml

    data = lab.model_dump(mode="json", exclude_none=True)
    path.write_text(f"# written by qubitlab lab start for lab {lab.name!r}\n" + yaml.safe_dump(data, sort_keys=False))


@lab_group.command("drift")
@click.argument("lab_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--qubit", type=int, required=True, help="Which qubit drifts.")
@click.option("--frequency-shift", callback=strict_float(), default="0", show_default=True, metavar="HZ",
              help="Hz added to its frequency.")
@click.option("--amplitude-scale", callback=strict_float(), default="1", show_default=True, metavar="FACTOR",
              help="Factor on the drive it feels per volt.")
def drift(lab_file: Path, qubit: int, frequency_shift: float, amplitude_scale: float) -> None:
    """Make a running virtual lab's device drift (for tests and demos of `qubitlab calibrate check`).

    LAB_FILE is the file `qubitlab lab start --write-lab` wrote; the command goes to its virtual digitizer.
    """
    from qubitlab.config.loader import load_lab
    from qubitlab.drivers.station import DEFAULT_VISALIB, open_resource
    from qubitlab.drivers.visa import instrument_errors

    lab = load_lab(lab_file)
    digitizers = [(n, s) for n, s in lab.instruments.items() if s.driver == "qubitlab_virtual_digitizer" and s.address]
    if lab.kind != "virtual" or not digitizers:
        raise click.ClickException(f"{lab_file} is not a running virtual lab (no virtual digitizer with an address); "
                                   "start one with `qubitlab lab start LAB --write-lab FILE` and pass FILE")
    name, spec = digitizers[0]
    assert spec.address is not None
    with instrument_errors(name, "sending VIRTual:DRIFt"):
        resource = open_resource(spec.address, str(spec.options.get("visalib", DEFAULT_VISALIB)))
        try:
            resource.read_termination = resource.write_termination = "\n"
            resource.write(f"VIRTual:DRIFt {qubit},{frequency_shift!r},{amplitude_scale!r}")
            error = resource.query("SYSTem:ERRor?").strip()
        finally:
            resource.close()
    if not error.startswith("0,"):
        raise click.ClickException(f"the virtual lab refused the drift: {error}")
    click.echo(f"qubit {qubit}: frequency {frequency_shift:+g} Hz, drive x {amplitude_scale:g}")


@lab_group.command("check")
@click.argument("lab_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(lab_file: Path) -> None:
    """Connect to every instrument of LAB_FILE, ask *IDN? and time the round trip; exit status 1 if any fails.

    A virtual lab file without addresses is started in this process first.
    """
    from rich.console import Console
    from rich.table import Table

    from qubitlab.config.loader import load_lab
    from qubitlab.drivers.check import check_lab
    from qubitlab.drivers.mock.lab import VirtualLab

    lab = load_lab(lab_file)
    needs_virtual = lab.kind == "virtual" and any(spec.address is None for spec in lab.instruments.values())
    if needs_virtual:
        click.echo(f"{lab_file} is a virtual lab without addresses: starting it in this process", err=True)
        with VirtualLab(lab) as virtual:
            rows = check_lab(virtual.lab_config())
    else:
        rows = check_lab(lab)
    table = Table(title=f"lab {lab.name}: instruments")
    for column in ("instrument", "address", "*IDN?", "round trip", "status"):
        table.add_column(column)
    for row in rows:
        rtt = f"{row.round_trip * 1e3:.2f} ms" if row.round_trip is not None else "-"
        table.add_row(row.name, row.address, row.idn or "-", rtt, "ok" if row.ok else f"FAILED: {row.error}")
    Console(width=160).print(table)
    failed = [row.name for row in rows if not row.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(rows)} instruments failed: {', '.join(failed)}")
