"""The ``LocalOscillator`` role over QCoDeS' own, unmodified ``RohdeSchwarzSGS100A`` driver.

Frequency, power and RF output state are written only when they differ from the driver's cached values, so
an unchanged LO costs nothing per run. Ranges are checked by the driver's validators and the lab file's
limits before anything is sent; a refused value raises, it is never clipped.
"""

from __future__ import annotations

from qcodes.instrument_drivers.rohde_schwarz import RohdeSchwarzSGS100A

from qubitlab.drivers.payloads import LoSettings
from qubitlab.drivers.visa import instrument_errors, reopen


class Sgs100a:
    """``LocalOscillator`` for an R&S SGS100A."""

    def __init__(self, name: str, instrument: RohdeSchwarzSGS100A, visalib: str | None = None) -> None:
        self.name = name
        self.instrument = instrument
        self.visalib = visalib

    def reconnect(self) -> None:
        with instrument_errors(self.name, "reconnecting"):
            reopen(self.instrument, self.visalib)
        for parameter in (self.instrument.frequency, self.instrument.power, self.instrument.status):
            parameter.cache.invalidate()

    def configure(self, settings: LoSettings) -> None:
        lo = self.instrument
        state = "on" if settings.output else "off"
        with instrument_errors(self.name, f"setting {settings.frequency:.9g} Hz, {settings.power:g} dBm, RF {state}"):
            if lo.frequency.cache.get(get_if_invalid=False) != settings.frequency:
                lo.frequency(settings.frequency)
            if lo.power.cache.get(get_if_invalid=False) != settings.power:
                lo.power(settings.power)
            if lo.status.cache.get(get_if_invalid=False) != settings.output:
                lo.status(settings.output)

    def outputs_off(self) -> None:
        with instrument_errors(self.name, "switching RF off"):
            self.instrument.status(False)
