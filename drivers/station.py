"""The driver registry and ``build_station``: from a lab file to connected QCoDeS instruments and their roles.

A lab file names each instrument's driver by key; :data:`DRIVERS` maps the key to the QCoDeS class and the role
adapter that puts it behind the executor's contract -- an explicit table, no dotted import strings. Each
connection is opened with pyvisa-py and gets ``TCP_NODELAY`` before the driver's first command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyvisa
from qcodes.instrument import VisaInstrument
from qcodes.instrument_drivers.rohde_schwarz import RohdeSchwarzSGS100A
from qcodes.instrument_drivers.tektronix import TektronixAWG5208
from qcodes.station import Station

from qubitlab.config.instruments import Role
from qubitlab.config.models import LabConfig
from qubitlab.drivers.base import Awg, Digitizer, Instrument, LocalOscillator
from qubitlab.drivers.rohde_schwarz import Sgs100a
from qubitlab.drivers.tektronix import Awg5208
from qubitlab.drivers.virtual_digitizer import QubitlabVirtualDigitizer, VirtualDigitizer
from qubitlab.drivers.visa import fast_session, instrument_errors
from qubitlab.errors import ConfigError, DriverError

DEFAULT_VISALIB = "@py"


@dataclass(frozen=True)
class DriverSpec:
    """A driver key's QCoDeS class and the role adapter around it."""

    driver: type[VisaInstrument]
    adapter: Callable[[str, Any, str | None], Instrument]


DRIVERS: dict[str, DriverSpec] = {
    "tektronix_awg5208": DriverSpec(TektronixAWG5208, Awg5208),
    "rs_sgs100a": DriverSpec(RohdeSchwarzSGS100A, Sgs100a),
    "qubitlab_virtual_digitizer": DriverSpec(QubitlabVirtualDigitizer, VirtualDigitizer),
}
"""Driver key (as in ``qubitlab.config.INSTRUMENT_MODELS``) -> QCoDeS class and role adapter."""


@cache
def _resource_manager(visalib: str) -> pyvisa.ResourceManager:
    return pyvisa.ResourceManager(visalib)


def open_resource(address: str, visalib: str = DEFAULT_VISALIB, timeout: float = 5.0
                  ) -> pyvisa.resources.MessageBasedResource:
    """A VISA session to ``address`` with Nagle's algorithm off (when it is a pyvisa-py socket)."""
    manager = _resource_manager(visalib)
    resource = manager.open_resource(address, open_timeout=int(timeout * 1000))
    if not isinstance(resource, pyvisa.resources.MessageBasedResource):
        resource.close()
        raise DriverError(f"{address} is not a message-based VISA resource")
    fast_session(resource)
    return resource


def connect(name: str, lab: LabConfig) -> VisaInstrument:
    """Open the QCoDeS instrument ``name`` of ``lab`` at its configured address."""
    spec = lab.instruments.get(name)
    if spec is None:
        raise ConfigError(f"lab {lab.name!r} has no instrument {name!r}; instruments: {', '.join(lab.instruments)}")
    if spec.address is None:
        raise ConfigError(f"instruments.{name}.address is not set in lab {lab.name!r}: give a VISA address, or start "
                          "the virtual lab (qubitlab lab start) and use the lab file it writes")
    driver = DRIVERS[spec.driver].driver
    options = dict(spec.options)
    visalib = str(options.pop("visalib", DEFAULT_VISALIB))
    timeout = float(options.pop("timeout", driver.default_timeout or 5.0))
    if VisaInstrument.exist(name):
        raise DriverError(f"an instrument named {name!r} is already open in this process; close the previous "
                          "station first (qubitlab.drivers.station.close_station)")
    with instrument_errors(name, f"connecting to {spec.address}", timeout):
        # QCoDeS' Tektronix drivers take an address, not an open resource, so Nagle's algorithm is switched
        # off right after the driver's own first commands.
        instrument = driver(name, spec.address, visalib=visalib, timeout=timeout, **options)
    fast_session(instrument)
    return instrument


def build_station(lab: LabConfig) -> Station:
    """Connect every instrument of ``lab`` and return them as a QCoDeS ``Station`` (closing all on failure)."""
    station = Station()
    try:
        for name in lab.instruments:
            station.add_component(connect(name, lab), update_snapshot=False)
    except BaseException:
        close_station(station)
        raise
    return station


def close_station(station: Station) -> None:
    """Close every instrument of ``station`` (their VISA sessions too)."""
    for name in list(station.components):
        component = station.components[name]
        if isinstance(component, VisaInstrument):
            component.close()
        station.remove_component(name)


@dataclass(frozen=True)
class Roles:
    """The role adapters of a station, by instrument name."""

    awgs: Mapping[str, Awg]
    digitizers: Mapping[str, Digitizer]
    los: Mapping[str, LocalOscillator]

    def all(self) -> dict[str, Instrument]:
        return {**self.awgs, **self.digitizers, **self.los}


def roles(station: Station, lab: LabConfig) -> Roles:
    """Wrap each of ``lab``'s instruments in ``station`` in its role adapter."""
    awgs: dict[str, Awg] = {}
    digitizers: dict[str, Digitizer] = {}
    los: dict[str, LocalOscillator] = {}
    for name, spec in lab.instruments.items():
        if name not in station.components:
            raise DriverError(f"station has no instrument {name!r} of lab {lab.name!r}; build it with build_station")
        visalib = str(spec.options.get("visalib", DEFAULT_VISALIB))
        adapter = DRIVERS[spec.driver].adapter(name, station.components[name], visalib)
        role = spec.model.role
        if role is Role.AWG and isinstance(adapter, Awg):
            awgs[name] = adapter
        elif role is Role.DIGITIZER and isinstance(adapter, Digitizer):
            digitizers[name] = adapter
        elif role is Role.LO and isinstance(adapter, LocalOscillator):
            los[name] = adapter
        else:
            raise DriverError(f"driver {spec.driver!r} of {name!r} does not implement the {role.value} role")
    return Roles(awgs, digitizers, los)
