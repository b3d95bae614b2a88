"""The ``LocalOscillator`` role over QCoDeS' own, unmodified ``RohdeSchwarzSGS100A`` driver.

Frequency, power and RF output state are written only when they differ from the driver's cached values, so
an unchanged LO costs one query per run: its RF state, read before the run (a liveness check that also
notices an LO reset behind the driver's back) and after it (the LO was still there while the data were taken).
Both are two-phase exchanges (:func:`~qubitlab.drivers.visa.overlapped`): the executor sends every LO's query
before reading any answer. Ranges are checked by the driver's validators and the lab file's limits before
anything is sent; a refused value raises, it is never clipped.
"""

from __future__ import annotations

from qcodes.instrument_drivers.rohde_schwarz import RohdeSchwarzSGS100A

from qubitlab.drivers.payloads import LoSettings
from qubitlab.drivers.visa import Exchange, differs, instrument_errors, overlapped, parsed, reopen
from qubitlab.errors import DriverError


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
        """Read the RF state (liveness), write what differs from the cache, then read it back: a refused or
        lost setting is an error, not a run at the wrong frequency."""
        overlapped([self.configuring(settings)])

    def configuring(self, settings: LoSettings) -> Exchange:
        """:meth:`configure` as an exchange: the liveness query is sent, the rest done when it is read."""
        lo = self.instrument
        state = "on" if settings.output else "off"
        action = "checking that it answers (:OUTP:STAT?)"
        with instrument_errors(self.name, action):
            lo.visa_handle.write(":OUTP:STAT?")
        yield
        with instrument_errors(self.name, action):
            cached = lo.status.cache.get(get_if_invalid=False) if lo.status.cache.valid else None
            if parsed(lo.status, lo.visa_handle.read()) != cached:  # reset or changed by hand: trust no cache
                lo.frequency.cache.invalidate()
                lo.power.cache.invalidate()
        wanted = ((lo.frequency, settings.frequency), (lo.power, settings.power), (lo.status, settings.output))
        with instrument_errors(self.name, f"setting {settings.frequency:.9g} Hz, {settings.power:g} dBm, RF {state}"):
            changed = [(p, v) for p, v in wanted if differs(p, v)]
            for parameter, value in changed:
                parameter(value)
            for parameter, value in changed:
                read = parameter.get()
                if read != value and not (isinstance(value, float) and abs(read - value) <= 1e-9 * abs(value)):
                    parameter.cache.invalidate()
                    raise DriverError(f"LO {self.name!r} reads back {parameter.name} = {read!r} after being set to "
                                      f"{value!r}; its error queue says: {lo.ask('SYSTem:ERRor?')}")

    def confirm(self, settings: LoSettings) -> None:
        overlapped([self.confirming(settings)])

    def confirming(self, settings: LoSettings) -> Exchange:
        """After a run, as an exchange: the RF state query is sent, and checked when read."""
        action = "confirming its RF state after the run (:OUTP:STAT?)"
        handle = self.instrument.visa_handle
        with instrument_errors(self.name, action):
            handle.write(":OUTP:STAT?")
        yield
        with instrument_errors(self.name, action):
            live = parsed(self.instrument.status, handle.read())
        if live != settings.output:
            raise DriverError(f"LO {self.name!r} reads RF {'on' if live else 'off'} after the run, set "
                              f"{'on' if settings.output else 'off'} before it: the data were not taken as programmed "
                              "(was it reset?); run again")

    def outputs_off(self) -> None:
        """RF off, confirmed by reading ``:OUTP:STAT?`` back."""
        with instrument_errors(self.name, "switching RF off (confirmed by :OUTP:STAT?)"):
            self.instrument.status(False)
            live = self.instrument.status.get()
        if live is not False:
            raise DriverError(f"LO {self.name!r} reads RF {live!r} after :OUTP:STAT 0; switch it off by hand")
