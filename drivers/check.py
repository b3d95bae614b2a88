"""``qubitlab lab check``: reach every instrument of a lab, ask ``*IDN?``, time the round trip.

It talks plain VISA (pyvisa-py, TCP_NODELAY) rather than through the QCoDeS drivers, so a check still tells
which instrument is unreachable, silent or slow when a driver could not even be constructed.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from qubitlab.config.models import LabConfig
from qubitlab.drivers.station import DEFAULT_VISALIB, open_resource
from qubitlab.drivers.visa import instrument_errors
from qubitlab.errors import QubitlabError

ROUND_TRIPS = 5


@dataclass(frozen=True)
class CheckRow:
    name: str
    driver: str
    address: str
    idn: str = ""
    round_trip: float | None = None
    """Median ``*IDN?`` round trip, seconds."""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def check_instrument(name: str, lab: LabConfig) -> CheckRow:
    spec = lab.instruments[name]
    if spec.address is None:
        return CheckRow(name, spec.driver, "-", error="no address in the lab file")
    timeout = float(spec.options.get("timeout", 5.0))
    visalib = str(spec.options.get("visalib", DEFAULT_VISALIB))
    try:
        with instrument_errors(name, f"asking *IDN? at {spec.address}", timeout):
            resource = open_resource(spec.address, visalib, timeout)
            try:
                resource.timeout = timeout * 1000
                resource.read_termination = resource.write_termination = "\n"
                times, idn = [], ""
                for _ in range(ROUND_TRIPS):
                    start = time.perf_counter()
                    idn = resource.query("*IDN?").strip()
                    times.append(time.perf_counter() - start)
            finally:
                resource.close()
    except QubitlabError as exc:
        return CheckRow(name, spec.driver, spec.address, error=str(exc))
    return CheckRow(name, spec.driver, spec.address, idn, statistics.median(times))


def check_lab(lab: LabConfig) -> list[CheckRow]:
    """One row per instrument, in the lab file's order."""
    return [check_instrument(name, lab) for name in lab.instruments]
