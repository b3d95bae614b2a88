"""Adding a driver for a new instrument model: a small QCoDeS driver and the SCPI emulation it talks to.

What it shows: the two halves every instrument in qubitlab has, for a made-up flux-bias current source, the
"Acme FX20" (a DC source feeding a qubit's flux line, which has a few ohms of wiring in series):

* the driver (``AcmeFX20``): a QCoDeS ``VisaInstrument`` that is a short declarative list of
  ``add_parameter`` calls with SCPI commands, units, validators and parsers -- as ``drivers/virtual_digitizer.py``;
* the emulation (``AcmeFX20Emulation``): an :class:`~qubitlab.drivers.mock.scpi.ScpiInstrument` with the
  instrument's command set, served on 127.0.0.1 by :class:`~qubitlab.drivers.mock.scpi.ScpiServer` exactly as
  the virtual lab serves its AWG, sources and digitizer; it range-checks like firmware (``-222``).

On top, ``FluxBias`` is the lab's safety limit: a current beyond it is refused with a
:class:`~qubitlab.errors.DriverError` naming the instrument and the limit, never clipped. The script sweeps the
current, reads the voltage back and fits Ohm's law. To make it part of a lab, follow "Adding an instrument
model" in docs/architecture.md (config entry, ``DRIVERS`` registry, ``EMULATIONS``).

Run it: ``python examples/new_instrument_driver.py`` (about 2 s). The last line is
``RESULT load_resistance_ohm=<ohm>``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qcodes import validators as vals
from qcodes.instrument import VisaInstrument
from qcodes.parameters import create_on_off_val_mapping

from qubitlab.drivers.mock.scpi import ScpiInstrument, ScpiServer
from qubitlab.errors import DriverError

R_LOAD = 2.7
"""Ohms the emulated flux line presents (bond wires, filters, the on-chip line), what Ohm's law must find."""
# The fit below recovers R_LOAD from 21 readings with 1 uV noise over +-5 mA (13.5 mV): to far better than 1 %.
EXPECT = {"load_resistance_ohm": (2.67, 2.73)}

HARDWARE_RANGE = (-0.02, 0.02)
"""What the FX20 itself can source, amperes; beyond it the firmware answers -222."""
LAB_LIMIT = 0.01
"""The largest current this lab lets through the flux line (heating of the mixing chamber), amperes."""


@dataclass
class AcmeFX20Emulation(ScpiInstrument):
    """The FX20's firmware: current setpoint, output relay, a voltage measurement across the load."""

    idn: str = "ACME,FX20,000042,1.0.3"
    settings: dict[str, str] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))

    def __post_init__(self) -> None:
        super().__post_init__()
        c, s = self.commands, self.settings
        c.setting("SOURce:CURRent", s, "0.0", lambda call: repr(call.number(*HARDWARE_RANGE)))
        c.setting("OUTPut:STATe", s, "0", lambda call: "1" if call.boolean() else "0")
        c.add("MEASure:VOLTage", lambda call: repr(self.voltage()), query=True)

    def reset(self) -> None:
        self.settings.clear()

    def voltage(self) -> float:
        on = self.settings.get("OUTPut:STATe", "0") == "1"
        current = float(self.settings.get("SOURce:CURRent", "0.0")) if on else 0.0
        return current * R_LOAD + float(self.rng.normal(0.0, 1e-6))


class AcmeFX20(VisaInstrument):
    """QCoDeS driver of the Acme FX20 flux-bias source."""

    default_terminator = "\n"
    default_timeout = 5.0

    def __init__(self, name: str, address: str, **kwargs: Any) -> None:
        super().__init__(name, address, **kwargs)
        self.current = self.add_parameter(
            "current", label="Current", unit="A", get_cmd="SOURce:CURRent?", set_cmd="SOURce:CURRent {:.9g}",
            get_parser=float, vals=vals.Numbers(*HARDWARE_RANGE))
        self.output = self.add_parameter(
            "output", label="Output", get_cmd="OUTPut:STATe?", set_cmd="OUTPut:STATe {}",
            val_mapping=create_on_off_val_mapping(on_val="1", off_val="0"))
        self.voltage = self.add_parameter(
            "voltage", label="Voltage across the load", unit="V", get_cmd="MEASure:VOLTage?", get_parser=float)
        self.connect_message()


class FluxBias:
    """The lab's view of the source: its safety limit, refused (not clipped), and a read-back check."""

    def __init__(self, name: str, instrument: AcmeFX20, limit: float = LAB_LIMIT) -> None:
        self.name, self.instrument, self.limit = name, instrument, limit

    def set_current(self, amperes: float) -> None:
        if not abs(amperes) <= self.limit:
            raise DriverError(f"{self.name}: {amperes * 1e3:g} mA is beyond this lab's flux-line limit of "
                              f"+-{self.limit * 1e3:g} mA (lab safety limit; set a current inside it)")
        self.instrument.current(amperes)
        error = self.instrument.ask("SYSTem:ERRor?")
        if not error.startswith("0,"):
            raise DriverError(f"{self.name}: setting the current to {amperes:g} A failed: {error}")


@contextmanager
def served(instrument: ScpiInstrument) -> Iterator[str]:
    """Serve ``instrument`` on 127.0.0.1 from an event loop in a thread; yield its VISA address."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fx20-emulation", daemon=True)
    thread.start()
    server = ScpiServer(instrument)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    try:
        yield server.address
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def main() -> None:
    with served(AcmeFX20Emulation()) as address:
        fx20 = AcmeFX20("flux_q0", address, visalib="@py")
        try:
            bias = FluxBias("flux_q0", fx20)
            fx20.output("on")
            currents = np.linspace(-0.005, 0.005, 21)
            volts = []
            for current in currents:
                bias.set_current(float(current))
                volts.append(fx20.voltage())
            try:
                bias.set_current(0.015)
            except DriverError as exc:
                print(f"refused: {exc}")
            fx20.write("SOURce:CURRent 0.05")          # past the driver, straight to the firmware: -222
            print("firmware says:", fx20.ask("SYSTem:ERRor?"), "| current still", fx20.current(), "A")
            fx20.output("off")
        finally:
            fx20.close()
    slope, offset = np.polyfit(currents, np.asarray(volts), 1)
    print(f"I-V over +-5 mA: {slope:.5f} V/A, offset {offset * 1e6:.2f} uV")
    print(f"RESULT load_resistance_ohm={slope:.5f}")


if __name__ == "__main__":
    main()
